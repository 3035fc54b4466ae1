// Integer inference against float, and against onnxruntime on the same QDQ model,
// side by side in one process per thread setting (ort-web's thread count is
// process-wide), interleaved rounds (bench/harness.ts):
//   - GEMM 256³: nnzip's int8 GEMM (i32x4.dot_i16x8_s, requantized) vs its f32 GEMM;
//   - LeNet-5 and VGG-S, batch 1 and 64: nnzip f32 (the float model), nnzip int8
//     (onnxruntime's quantize_static QDQ model, fixtures/models/*_int8_qdq.onnx; each conv
//     on int8 im2col or the integer Winograd, whichever the planner estimates faster, or
//     float Winograd between its Q and DQ when that is), the same with every conv on int8
//     im2col (winograd 'off'),
//     onnxruntime-web and onnxruntime-node on that same QDQ model, and
//     onnxruntime-node on the float model.
//   - per 3×3 conv of VGG-S: f32 Winograd, int8 im2col, int8 Winograd F(2,3) and F(4,3), the planner's pick.
// --cpu: each figure is the process's CPU time per run (the fastest of 15 interleaved rounds)
// instead of the median wall time: on a shared machine a descheduled run costs wall time but no
// CPU time (1-thread rows; a 2-thread row's CPU time is both threads' work, spinning included).
// Run: `npm run bench` (included) or `node dist/bench/quant.js [--threads 1,2] [--cpu]`.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requantMultipliers } from '../src/ir/quant.js';
import { NnzipError } from '../src/ir/errors.js';
import { Rng } from '../src/ir/random.js';
import { f32 } from '../src/ir/tensor.js';
import { WasmArena } from '../src/kernels/wasm/arena.js';
import { WasmGemm } from '../src/kernels/wasm/gemm.js';
import { epilogueBlock, WasmQGemm } from '../src/kernels/wasm/qgemm.js';
import { NodeThreadPool } from '../src/kernels/wasm/thread_pool_node.js';
import { loadOnnxFile } from '../src/onnx/load.js';
import { createNodeSession } from '../src/runtime/session_node.js';
import type { ConvStep, WinogradMode } from '../src/compile/plan_types.js';
import { contender, measure, type Contender, type Timing } from './harness.js';
import { foreignLoadLine, watchForeignLoad } from './harness_node.js';
import { createNnzipPeer } from './peers/nnzip.js';
import { createOrtNodePeer } from './peers/ort_node.js';
import { createOrtWebPeer } from './peers/ort_web.js';
import type { Peer } from './peers/peer.js';
import { formatRatio, formatSig, formatTable } from './table.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/models/', import.meta.url));

const CASES = [
  { name: 'LeNet-5', dense: 'lenet5_dense.onnx', qdq: 'lenet5_int8_qdq.onnx', image: [1, 28, 28] },
  { name: 'VGG-S', dense: 'vggs_fmnist_dense.onnx', qdq: 'vggs_fmnist_int8_qdq.onnx', image: [1, 28, 28] },
];

const GEMM = 256;

/** The figure of one contender: median wall ms, or with --cpu the fastest round's CPU ms. */
type Figure = (t: Timing) => number;
const figureOf = (cpu: boolean): Figure => (cpu ? (t) => Math.min(...t.cpu) : (t) => t.ms);
const roundsOf = (cpu: boolean, wall: number): number => (cpu ? 15 : wall);

/** f32 and int8 GEMM 256³ on the offset API (B packed once, A packed per call), on `threads` threads. */
async function gemmRow(threads: number, cpu: boolean): Promise<string[]> {
  const pool = threads > 1 ? new NodeThreadPool(new WasmArena({ shared: true, maximumBytes: 1 << 28 }), threads) : undefined;
  const arena = pool?.arena ?? new WasmArena({ maximumBytes: 1 << 28 });
  const n = GEMM, rng = new Rng(1);
  const g = new WasmGemm({ arena, threads: pool });
  const a = arena.allocF32(n * n), b = arena.allocF32(n * n), c = arena.allocF32(n * n), pa = arena.alloc(g.packedASize(n, n)), pb = arena.alloc(g.packedBSize(n, n));
  arena.f32(a, n * n).set(rng.floats(n * n));
  arena.f32(b, n * n).set(rng.floats(n * n));
  g.packB(b, n, false, n, n, pb);
  const q = new WasmQGemm({ arena, threads: pool });
  const ints = () => Int8Array.from({ length: n * n }, () => rng.int(255) - 127);
  const qa = q.upload(ints()), qpa = arena.alloc(q.packedASize(n, n)), qpb = q.prepackB(ints(), n, n, true), qc = arena.alloc(n * n);
  const { mult, shift } = requantMultipliers(new Array(n).fill(1e-4));
  const e = { mult, shift, zero: 0, lo: -128, hi: 127, out: 'int8' as const };
  const args = { pa: qpa, pb: qpb, c: qc, ldc: n, M: n, N: n, K: n, bias: q.upload(new Int32Array(n)), mult: q.upload(mult), ep: q.upload(epilogueBlock(e, false)) };
  const contenders: Contender[] = [
    contender('f32', () => { g.packA(a, n, false, n, n, pa); g.gemmPacked(n, n, n, pa, pb, c); }),
    contender('int8', () => { q.exports.packA(qa, n, n, n, qpa, 0); q.run(args, false, 1); }),
  ];
  const t = (await measure(contenders, { rounds: roundsOf(cpu, 9) })).map(figureOf(cpu));
  await pool?.close();
  const gops = (ms: number) => (2 * n ** 3 / ms / 1e6).toFixed(1);
  return [`GEMM ${n}³`, '-', String(threads), formatSig(t[0]), formatSig(t[1]), formatRatio(t[0], t[1]), `${gops(t[0])} / ${gops(t[1])} GOP/s`, ...Array(7).fill('-')];
}

interface Contenders { list: Contender[]; peers: Peer[] }

async function modelContenders(c: (typeof CASES)[number], threads: number, batch: number): Promise<Contenders> {
  const shape = [batch, ...c.image];
  const feeds = { input: f32(shape, new Rng(batch).floats(shape.reduce((p, d) => p * d, 1), 0, 1)) };
  const [dense, qdq] = [FIXTURES + c.dense, FIXTURES + c.qdq];
  const peers: [string, Peer | undefined][] = [
    ['nnzip f32', await createNnzipPeer(loadOnnxFile(dense), { threads })],
    ['nnzip int8', await createNnzipPeer(loadOnnxFile(qdq), { threads })],
    ['nnzip int8 only', await createNnzipPeer(loadOnnxFile(qdq), { threads, winograd: 'off' })],
    ['ort-web int8', await createOrtWebPeer(qdq, { threads }).catch(() => undefined)],
    ['ort-node int8', await createOrtNodePeer(qdq, { threads })],
    ['ort-node f32', await createOrtNodePeer(dense, { threads })],
  ];
  const live = peers.filter((p): p is [string, Peer] => p[1] !== undefined);
  return { list: live.map(([name, p]) => contender(name, () => p.run(feeds))), peers: live.map(([, p]) => p) };
}

export const QUANT_HEADER = [
  'model', 'batch', 'threads', 'nnzip f32 ms', 'nnzip int8 ms', 'int8 speed-up', 'note', 'int8-only ms', 'int8-only speed-up', 'ort-web int8', 'nnzip/ort-web', 'ort-node int8', 'nnzip/ort-node int8', 'ort-node f32',
];

export const LAYER_HEADER = ['VGG-S 3×3 conv', 'batch', 'threads', 'f32 Winograd ms', 'int8 im2col ms', 'int8 F(2,3) ms', 'int8 F(4,3) ms', 'planner int8 pick', 'pick ms', 'f32 / pick'];

/**
 * Per 3×3 conv of VGG-S: the step each plan runs, timed alone and interleaved: nnzip f32 (the
 * float planner's Winograd tile), and on the QDQ model int8 im2col (winograd 'off'), int8
 * Winograd F(2,3) and F(4,3) (winograd 2 / 4), and the planner's own int8 pick.
 */
async function layerRows(threads: number, cpu: boolean): Promise<string[][]> {
  const c = CASES[1], rows: string[][] = [];
  for (const batch of [1, 64]) {
    process.stderr.write(`bench/quant: VGG-S layers, batch ${batch}, ${threads} thread(s)\n`);
    const shape = [batch, ...c.image];
    const feeds = { input: f32(shape, new Rng(batch).floats(shape.reduce((p, d) => p * d, 1), 0, 1)) };
    const sessions = await Promise.all([[c.dense, 'auto'], [c.qdq, 'off'], [c.qdq, 2], [c.qdq, 4], [c.qdq, 'auto']].map(([file, winograd]) =>
      createNodeSession(loadOnnxFile(FIXTURES + file), { threads, batch, winograd: winograd as WinogradMode })));
    const convs = sessions.map((s) => s.boundSteps(feeds).filter((b) => b.step.op === 'Conv'));
    for (let i = 0; i < convs[0].length; i++) {
      const st = convs[0][i].step as ConvStep;
      if (st.win.kh !== 3 || st.win.sh !== 1) continue;
      const t = (await measure(convs.map((list, k) => contender(String(k), list[i].run)), { rounds: roundsOf(cpu, 9), pauseMs: 10 })).map(figureOf(cpu));
      const pick = convs[4][i].step;
      rows.push([`${st.C}→${st.M} ${st.H}×${st.W}`, String(batch), String(threads), `${formatSig(t[0])} (${st.impl === 'winograd' ? `F(${st.tile},3)` : st.impl})`,
        ...t.slice(1, 4).map((x) => formatSig(x)), pick.kernel.replace(/^qconv /, ''), formatSig(t[4]), formatRatio(t[0], t[4])]);
    }
    for (const s of sessions) await s.dispose();
  }
  return rows;
}

/** One thread setting, in this process: the model rows, then the per-layer rows. */
export async function benchQuantSetting(threads: number, cpu = false): Promise<{ models: string[][]; layers: string[][] }> {
  const rows = [await gemmRow(threads, cpu)];
  for (const c of CASES) {
    for (const batch of [1, 64]) {
      process.stderr.write(`bench/quant: ${c.name}, batch ${batch}, ${threads} thread(s)\n`);
      const made = await modelContenders(c, threads, batch);
      // nnzip's contenders in their rounds, the peers in theirs: onnxruntime's intra-op threads spin after each
      // run, and a spinning peer holds the core nnzip's worker needs right after it (batch 1 at 2 threads timed 2–3× slow)
      const ours = made.list.filter((x) => x.name.startsWith('nnzip')), peers = made.list.filter((x) => !x.name.startsWith('nnzip'));
      const timed = [...await measure(ours, { rounds: roundsOf(cpu, 7), pauseMs: 30 }), ...await measure(peers, { rounds: roundsOf(cpu, 7), pauseMs: 30 })];
      const t = new Map(timed.map((x) => [x.name, figureOf(cpu)(x)]));
      for (const p of made.peers) await p.dispose();
      const [nf, ni, w, o] = ['nnzip f32', 'nnzip int8', 'ort-web int8', 'ort-node int8'].map((k) => t.get(k));
      const only = t.get('nnzip int8 only');
      rows.push([c.name, String(batch), String(threads), formatSig(nf), formatSig(ni), formatRatio(nf, ni), 'same QDQ model', formatSig(only), formatRatio(nf, only),
        formatSig(w), formatRatio(ni, w), formatSig(o), formatRatio(ni, o), formatSig(t.get('ort-node f32'))]);
    }
  }
  return { models: rows, layers: await layerRows(threads, cpu) };
}

type SettingRows = Awaited<ReturnType<typeof benchQuantSetting>>;

function child(threads: number, cpu: boolean): Promise<SettingRows> {
  return new Promise((resolve, reject) => {
    const p = fork(fileURLToPath(import.meta.url), ['--child', String(threads), ...(cpu ? ['--cpu'] : [])], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let rows: SettingRows | undefined;
    p.on('message', (m) => (rows = m as SettingRows));
    p.on('error', reject);
    p.on('exit', (code) => (rows ? resolve(rows) : reject(new NnzipError(`bench/quant: the ${threads}-thread run exited with code ${code}`, 1))));
  });
}

async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf('--threads');
  const threads = i >= 0 ? (argv[i + 1] ?? '').split(',').map(Number) : [1, 2];
  if (threads.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) throw new NnzipError(`bench/quant: --threads ${argv[i + 1]}; give thread counts such as 1,2`);
  const cpu = argv.includes('--cpu');
  const foreign = watchForeignLoad();
  const rows: string[][] = [], layers: string[][] = [];
  for (const n of threads) {
    const r = await child(n, cpu);
    rows.push(...r.models);
    layers.push(...r.layers);
  }
  const what = cpu ? "CPU ms per run, the process's CPU time, fastest of 15 interleaved rounds" : 'ms per run, median of interleaved rounds';
  console.log(`Integer vs float (${what}; speed-up > 1 = int8 faster; nnzip/peer < 1 = nnzip faster;`);
  console.log("int8: each conv on the integer kernel the planner picks (im2col or integer Winograd), or float Winograd between its Q and DQ when");
  console.log("estimated faster; int8-only: winograd 'off', every conv on int8 im2col)\n");
  console.log(formatTable(QUANT_HEADER, rows));
  console.log(`\nPer layer (each step alone, ${what}; the same weights: VGG-S float and its QDQ model)\n`);
  console.log(formatTable(LAYER_HEADER, layers));
  const line = foreignLoadLine(foreign());
  if (line) console.log(`\n${line}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const run = process.argv[2] === '--child'
    ? benchQuantSetting(Number(process.argv[3]), process.argv.includes('--cpu')).then((rows) => new Promise<void>((res) => process.send!(rows, () => res())))
    : main(process.argv.slice(2));
  run.then(() => process.exit(0), (e) => {
    process.stderr.write(e instanceof NnzipError ? `nnzip: error: ${e.message}\n` : `${(e as Error).stack ?? e}\n`);
    process.exit(e instanceof NnzipError ? e.exitCode : 1);
  });
}
