// Whole-model timings: nnzip vs onnxruntime-node, onnxruntime-web (wasm) and
// TF.js (wasm) on the reference models, batch-1 latency and batch-64 throughput.
// ort-web and tfjs-wasm fix their thread count once per process, so each thread
// setting runs in its own child process; inside it every peer is timed side by side
// (bench/harness.ts), and every ratio in a row comes from one process.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NnzipError } from '../src/ir/errors.js';
import type { Graph } from '../src/ir/graph.js';
import { Rng } from '../src/ir/random.js';
import { f32 } from '../src/ir/tensor.js';
import { loadOnnxFile } from '../src/onnx/load.js';
import { contender, measure } from './harness.js';
import { watchForeignLoad } from './harness_node.js';
import { createNnzipPeer } from './peers/nnzip.js';
import { createOrtNodePeer } from './peers/ort_node.js';
import { createOrtWebPeer } from './peers/ort_web.js';
import type { Feeds, Peer } from './peers/peer.js';
import { createTfjsWasmPeer } from './peers/tfjs/wasm.js';
import { formatSig, formatRatio, formatTable } from './table.js';
import { patternVggs } from './pattern_model.js';

export interface ModelSpec {
  key: string;
  name: string;
  file: string;
  /** C, H, W of one input image. */
  image: number[];
  batches: number[];
  /**
   * The model nnzip runs when it is not `file` (the peers run `file`): the pattern-pruned
   * VGG-S against the peers on the dense one. nnzip's outputs are then checked against
   * ort-node on nnzip's own model exported to ONNX.
   */
  nnzipModel?: () => { graph: Graph; source: string };
}

export const MODELS: readonly ModelSpec[] = [
  { key: 'lenet300', name: 'LeNet-300-100', file: 'lenet300_dense.onnx', image: [1, 28, 28], batches: [1, 64] },
  { key: 'lenet5', name: 'LeNet-5', file: 'lenet5_dense.onnx', image: [1, 28, 28], batches: [1, 64] },
  { key: 'vggs', name: 'VGG-S', file: 'vggs_fmnist_dense.onnx', image: [1, 28, 28], batches: [1, 64] },
  { key: 'squeezenet', name: 'SqueezeNet 1.1', file: 'squeezenet1_1_random.onnx', image: [3, 224, 224], batches: [1] },
  {
    key: 'vggs-pattern', name: 'VGG-S pattern (peers: dense)', file: 'vggs_fmnist_dense.onnx', image: [1, 28, 28], batches: [1, 64],
    nnzipModel: () => patternVggs(),
  },
];

/** Table columns, in order; 'nnzip' first, then nnzip without Winograd (every conv direct: im2col or sparse). */
export const PEERS = ['nnzip', 'nnzip-direct', 'ort-node', 'ort-web', 'tfjs-wasm'] as const;

export interface BenchOptions {
  threads: number[];
  /** Model keys (default: all). */
  models?: string[];
  /** Timed rounds per row (≥ 5). */
  rounds?: number;
  /** Only these batch sizes (of each model's own list; default all). */
  batches?: number[];
}

export interface PeerResult {
  /** Median ms per run. */
  ms?: number;
  samples?: number[];
  /** Threads the peer really ran. */
  threads?: number;
  /** max |peer − ort-node| / max |ort-node| over the outputs, checked before timing. */
  maxRel?: number;
  error?: string;
}

export interface ModelRow {
  model: string;
  batch: number;
  threads: number;
  peers: Partial<Record<string, PeerResult>>;
}

export interface ModelsReport {
  rows: ModelRow[];
  notes: string[];
  /** Cores other processes kept busy during each thread setting (by thread count; Linux only). */
  foreignLoad?: Record<number, number>;
}

/** Idle time before each sample: onnxruntime's pool threads spin a while after a run and would slow the next contender. */
const PAUSE_MS = 30;

/** Outputs further than this from onnxruntime-node (relative to the output scale) are flagged. */
export const MAX_REL = 1e-3;

const FIXTURES = fileURLToPath(new URL('../../fixtures/models/', import.meta.url));

function selectModels(keys: string[] | undefined): ModelSpec[] {
  if (!keys?.length) return [...MODELS];
  return keys.map((k) => MODELS.find((m) => m.key === k) ?? fail(`unknown model "${k}"; choose from ${MODELS.map((m) => m.key).join(', ')}`));
}

function fail(message: string): never {
  throw new NnzipError(`bench: ${message}`);
}

function maxRel(a: Feeds, b: Feeds): number {
  let worst = 0;
  for (const [name, ref] of Object.entries(b)) {
    const x = a[name]?.data as Float32Array | undefined;
    if (!x || x.length !== ref.size) return Infinity;
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < x.length; i++) {
      diff = Math.max(diff, Math.abs(x[i] - (ref.data[i] as number)));
      scale = Math.max(scale, Math.abs(ref.data[i] as number));
    }
    worst = Math.max(worst, scale > 0 ? diff / scale : diff);
  }
  return worst;
}

type Factory = (file: string, graph: Graph, threads: number) => Promise<Peer>;

const FACTORIES: Record<(typeof PEERS)[number], Factory> = {
  nnzip: (_, graph, threads) => createNnzipPeer(graph, { threads }),
  'nnzip-direct': (_, graph, threads) => createNnzipPeer(graph, { threads, winograd: 'off' }),
  'ort-node': (file, _, threads) => createOrtNodePeer(file, { threads }),
  'ort-web': (file, _, threads) => createOrtWebPeer(file, { threads }),
  'tfjs-wasm': (_, graph, threads) => createTfjsWasmPeer(graph, { threads }),
};

async function createPeers(spec: ModelSpec, threads: number, notes: Set<string>): Promise<{ peers: Peer[]; errors: Map<string, string>; nnzipOracle?: Peer }> {
  const file = FIXTURES + spec.file;
  const graph = loadOnnxFile(file);
  const own = spec.nnzipModel?.();
  if (own) notes.add(`${spec.name}: nnzip runs ${own.source}; the peers run ${spec.file}`);
  const peers: Peer[] = [];
  const errors = new Map<string, string>();
  const nnzipOracle = own ? await createOrtNodePeer(own.graph, { threads: 1 }) : undefined;
  for (const name of PEERS) {
    try {
      const peer = await FACTORIES[name](file, name === 'nnzip' && own ? own.graph : graph, threads);
      peers.push(peer);
      if (peer.note) notes.add(peer.note);
    } catch (e) {
      errors.set(name, (e as Error).message);
      notes.add(`${spec.name}: ${name} unavailable: ${(e as Error).message}`);
    }
  }
  return { peers, errors, nnzipOracle };
}

/** Same seeded inputs for every peer: pixels in [0, 1), as the models expect. */
function feedsFor(spec: ModelSpec, batch: number): Feeds {
  const shape = [batch, ...spec.image];
  return { input: f32(shape, new Rng(batch).floats(shape.reduce((a, b) => a * b, 1), 0, 1)) };
}

async function benchRow(spec: ModelSpec, batch: number, threads: number, peers: Peer[], rounds: number, nnzipOracle?: Peer): Promise<ModelRow> {
  const feeds = feedsFor(spec, batch);
  const row: ModelRow = { model: spec.name, batch, threads, peers: {} };
  const oracle = peers.find((p) => p.name === 'ort-node');
  const expected = oracle ? await oracle.run(feeds) : undefined;
  const expectedNnzip = nnzipOracle ? await nnzipOracle.run(feeds) : expected;
  const ok: Peer[] = [];
  for (const p of peers) {
    try {
      const got = await p.run(feeds);
      const want = p.name === 'nnzip' ? expectedNnzip : expected;
      row.peers[p.name] = { threads: p.threads, maxRel: want ? maxRel(got, want) : undefined };
      ok.push(p);
    } catch (e) {
      row.peers[p.name] = { error: (e as Error).message };
    }
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  const timings = await measure(ok.map((p) => contender(p.name, () => p.run(feeds))), { rounds, between: gc, pauseMs: PAUSE_MS });
  for (const t of timings) Object.assign(row.peers[t.name]!, { ms: t.ms, samples: t.samples });
  return row;
}

/** One thread setting, in this process. */
export async function benchSetting(threads: number, opts: BenchOptions): Promise<ModelsReport> {
  const rows: ModelRow[] = [];
  const notes = new Set<string>();
  const foreign = watchForeignLoad();
  for (const spec of selectModels(opts.models)) {
    const { peers, nnzipOracle } = await createPeers(spec, threads, notes);
    for (const batch of spec.batches.filter((b) => !opts.batches?.length || opts.batches.includes(b))) {
      process.stderr.write(`bench: ${spec.name}, batch ${batch}, ${threads} thread(s)\n`);
      const row = await benchRow(spec, batch, threads, peers, opts.rounds ?? 5, nnzipOracle);
      for (const [name, r] of Object.entries(row.peers)) {
        if (r?.maxRel !== undefined && r.maxRel > MAX_REL) notes.add(`${spec.name} batch ${batch}: ${name} differs from ort-node by ${r.maxRel.toExponential(2)} (relative); marked !`);
        if (r?.error) notes.add(`${spec.name} batch ${batch}: ${name} failed: ${r.error}`);
      }
      rows.push(row);
    }
    for (const p of peers) await p.dispose();
    await nnzipOracle?.dispose();
  }
  const load = foreign();
  return { rows, notes: [...notes], foreignLoad: load === undefined ? undefined : { [threads]: load } };
}

function runChild(threads: number, opts: BenchOptions): Promise<ModelsReport> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', JSON.stringify({ ...opts, threads: [threads] })], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let report: ModelsReport | undefined;
    child.on('message', (m) => (report = m as ModelsReport));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (report) resolve(report);
      else reject(new NnzipError(`bench: the ${threads}-thread run exited with code ${code} before reporting`, 1));
    });
  });
}

/** Every thread setting, each in a fresh child process. */
export async function benchModels(opts: BenchOptions): Promise<ModelsReport> {
  selectModels(opts.models); // bad keys fail here, before any child starts
  if (opts.rounds !== undefined && (!Number.isInteger(opts.rounds) || opts.rounds < 5)) fail(`rounds=${opts.rounds}; give an integer >= 5`);
  for (const t of opts.threads) if (!Number.isInteger(t) || t < 1) fail(`threads=${t}; give integers >= 1`);
  const all: ModelsReport = { rows: [], notes: [], foreignLoad: {} };
  for (const threads of opts.threads) {
    const r = await runChild(threads, opts);
    all.rows.push(...r.rows);
    Object.assign(all.foreignLoad!, r.foreignLoad);
    for (const n of r.notes) if (!all.notes.includes(n)) all.notes.push(n);
  }
  return all;
}

function cell(r: PeerResult | undefined, threads: number): string {
  if (!r || r.ms === undefined) return '-';
  const fewer = r.threads !== undefined && r.threads < threads ? '*' : '';
  const wrong = r.maxRel !== undefined && r.maxRel > MAX_REL ? '!' : '';
  return formatSig(r.ms) + fewer + wrong;
}

export const TABLE_HEADER = [
  'model', 'batch', 'threads', 'nnzip ms', 'direct ms', 'ort-node ms', 'ort-web ms', 'tfjs-wasm ms', 'direct/nnzip', 'nnzip/ort-web', 'nnzip/tfjs', 'nnzip/ort-node',
];

/** One table per thread setting; ratios > 1 mean nnzip is slower. */
export function formatModelTables(report: ModelsReport): string {
  const out: string[] = [];
  const settings = [...new Set(report.rows.map((r) => r.threads))];
  for (const threads of settings) {
    const rows = report.rows.filter((r) => r.threads === threads).map((r) => {
      const ms = (p: string) => r.peers[p]?.ms;
      return [
        r.model, String(r.batch), String(threads), ...PEERS.map((p) => cell(r.peers[p], threads)),
        formatRatio(ms('nnzip-direct'), ms('nnzip')), formatRatio(ms('nnzip'), ms('ort-web')), formatRatio(ms('nnzip'), ms('tfjs-wasm')), formatRatio(ms('nnzip'), ms('ort-node')),
      ];
    });
    const load = report.foreignLoad?.[threads];
    const busy = load === undefined ? '' : `; other processes kept ${load.toFixed(2)} cores busy meanwhile (0 = quiet machine)`;
    out.push(`${threads} thread${threads > 1 ? 's' : ''}: ms per run (a batch-64 row times the whole batch), median of interleaved rounds; ratio > 1 = nnzip slower; ` +
      `direct = nnzip with winograd: 'off'${busy}`);
    out.push(formatTable(TABLE_HEADER, rows), '');
  }
  out.push('* ran with fewer threads than the setting (see notes)   ! output differs from ort-node (see notes)');
  for (const n of report.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

// Child mode: `node dist/bench/models.js --child '{"threads":[2],...}'` reports one setting over IPC.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--child') {
  const opts = JSON.parse(process.argv[3]) as BenchOptions;
  benchSetting(opts.threads[0], opts).then(
    (report) => process.send!(report, () => process.exit(0)),
    (e) => {
      process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
