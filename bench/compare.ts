// One comparison on an op (bench/op.ts): nnzip's kernel against onnxruntime-node,
// onnxruntime-web and tfjs-wasm, on 1 and 2 threads, timed side by side in one process
// run (harness.ts); prints the table. ort-web and tfjs-wasm fix their thread count
// once per process, so each of them runs in a worker thread of its own.
// Shared by bench/gemm.ts and bench/conv.ts.
import { f32 } from '../src/ir/tensor.js';
import { WasmArena } from '../src/kernels/wasm/arena.js';
import { wasmFeatures } from '../src/kernels/wasm/features.js';
import { NodeThreadPool } from '../src/kernels/wasm/thread_pool_node.js';
import { contender, measure, type Contender } from './harness.js';
import { foreignLoadLine, watchForeignLoad, workerContender } from './harness_node.js';
import { opData, opFlops, opGraph, opName, type OpTask } from './op.js';
import { createOrtNodePeer } from './peers/ort_node.js';
import { createOrtWebPeer } from './peers/ort_web.js';
import { tfjsOpContender } from './peers/tfjs/op.js';
import { formatSig, formatTable } from './table.js';

export type OpPeer = 'ort-node' | 'ort-web' | 'tfjs-wasm';

/**
 * A peer running the op, in this thread. The ONNX peers run the one-node graph with
 * spinning pool threads off, so that they cannot slow the next contender down.
 */
export async function opContender(peer: OpPeer, t: OpTask, threads: number): Promise<Contender> {
  if (peer === 'tfjs-wasm') return tfjsOpContender(t, threads);
  const p = await (peer === 'ort-node' ? createOrtNodePeer : createOrtWebPeer)(opGraph(t), { threads, spinning: false });
  const d = opData(t);
  const feeds = { X: f32(d.xDims, d.x) };
  return contender(peer, () => p.run(feeds), { threads: p.threads, close: () => p.dispose() });
}

/** The same in a worker thread of its own (for the peers whose thread count is process-wide). */
const inWorker = (peer: OpPeer, t: OpTask, threads: number) => workerContender(new URL(import.meta.url), 'opContender', peer, t, threads);

const TFJS_NO_THREADS = 'tfjs-wasm ×2: tfjs-backend-wasm turns threads off under Node (WASM_HAS_MULTITHREAD_SUPPORT is false there, tfjs#3830)';

export interface Row {
  peer: string;
  threads: number;
  ms: number;
  gflops: number;
  /** Cores this process kept busy during the row's samples (shows spinning or idle threads). */
  cores?: number;
}

export interface CompareOptions {
  /** Row labels to keep (prefix match), e.g. ['nnzip', 'ort-node']. */
  only?: string[];
  rounds?: number;
  /** Extra nnzip rows (e.g. the copying array API), single-threaded. */
  extra?: [string, () => Contender][];
}

/** A table of rows: ms per op, GFLOP/s, how many times faster `reference` is at the same thread count. */
export function formatRows(rows: Row[], reference: string): string {
  const ref = new Map(rows.filter((r) => r.peer === reference).map((r) => [r.threads, r]));
  return formatTable(['peer', 'threads', 'ms/op', 'GFLOP/s', `${reference} is ×`, 'cores busy'], rows.map((r) => {
    const same = ref.get(r.threads);
    return [r.peer, String(r.threads), formatSig(r.ms), r.gflops.toFixed(1), same ? (same.gflops / r.gflops).toFixed(2) : '-', r.cores?.toFixed(2) ?? '-'];
  }));
}

/** Measures nnzip (made by `nnzip(pool?)`, named 'nnzip-wasm') against the peers on `task`; prints and returns the rows. */
export async function compare(task: OpTask, nnzip: (pool?: NodeThreadPool) => Contender, o: CompareOptions = {}): Promise<Row[]> {
  const pool = new NodeThreadPool(new WasmArena({ shared: true, maximumBytes: 1 << 30 }), 2);
  const candidates: [string, () => Contender | Promise<Contender>][] = [
    ['nnzip ×1', () => nnzip()],
    ...(o.extra ?? []),
    ['tfjs-wasm ×1', () => inWorker('tfjs-wasm', task, 1)],
    ['ort-node ×1', () => opContender('ort-node', task, 1)],
    ['ort-web ×1', () => inWorker('ort-web', task, 1)],
    ['nnzip ×2', () => nnzip(pool)],
    ['ort-node ×2', () => opContender('ort-node', task, 2)],
    ['ort-web ×2', () => inWorker('ort-web', task, 2)],
  ];
  const made: { label: string; c: Contender }[] = [];
  const skipped = [TFJS_NO_THREADS];
  for (const [label, make] of candidates) {
    if (o.only && !o.only.some((p) => label.startsWith(p))) continue;
    try {
      made.push({ label, c: await make() });
    } catch (e) {
      skipped.push(`${label}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const rounds = o.rounds ?? 21;
  const foreign = watchForeignLoad();
  // contenders are named by label: the same peer appears at two thread counts
  const timings = await measure(made.map(({ label, c }) => ({ ...c, name: label })), { rounds, warmupMs: 1500, minSampleMs: 60, pauseMs: 40 });
  const load = foreign();
  for (const { c } of made) await c.close?.();
  await pool.close();
  const flops = opFlops(task);
  const rows = timings.map((t, i): Row => {
    const c = made[i].c;
    return { peer: c.name, threads: c.threads ?? 1, ms: t.ms, gflops: flops / t.ms / 1e6, cores: t.cores };
  });
  const f = wasmFeatures();
  console.log(`\n${opName(task)} (f32): median of ${rounds} interleaved rounds, after a warm-up of at least 1.5 s per peer`);
  console.log(`engine: Node ${process.version}, wasm SIMD ${f.simd}, relaxed SIMD ${f.relaxedSimd}, wasm threads ${f.threads}`);
  console.log(formatRows(rows, 'nnzip-wasm'));
  const line = foreignLoadLine(load);
  if (line) console.log(line);
  for (const s of skipped) console.log(`not measured: ${s}`);
  return rows;
}

/** `--only=a,b` and positional numbers from argv. */
export function parseArgs(argv: string[]): { only?: string[]; numbers: number[] } {
  const only = argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
  return { only, numbers: argv.filter((a) => !a.startsWith('--')).map(Number) };
}
