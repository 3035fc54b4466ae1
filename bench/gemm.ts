// GEMM benchmark: nnzip's WASM GEMM against onnxruntime-node, onnxruntime-web and
// tfjs-wasm, side by side in one process run (bench/compare.ts).
// Run: npx tsc -p . && node dist/bench/gemm.js [M N K] [--only=nnzip,ort-node,...] [--runs=N] [--tiles]
//      node --experimental-wasm-relaxed-simd dist/bench/gemm.js   (fused multiply-add kernel)
import { gemmTiles, WasmGemm } from '../src/kernels/wasm/gemm.js';
import type { GemmVariant } from '../src/kernels/wasm/gemm_codegen.js';
import type { NodeThreadPool } from '../src/kernels/wasm/thread_pool_node.js';
import { compare, formatRows, parseArgs, type Row } from './compare.js';
import { contender, measure, type Contender } from './harness.js';
import { opData, opFlops, type OpTask } from './op.js';

type MatMul = Extract<OpTask, { kind: 'matmul' }>;

/** nnzip on the offset API: B packed once (constant weights), A packed per call, no copies. */
function nnzipGemm(t: MatMul, pool?: NodeThreadPool, variant?: Partial<GemmVariant>, name = 'nnzip-wasm'): Contender {
  const g = new WasmGemm({ threads: pool, variant });
  const { M, N, K } = t;
  const d = opData(t);
  const ar = g.arena;
  const a = ar.allocF32(M * K), b = ar.allocF32(K * N), c = ar.allocF32(M * N);
  const pa = ar.alloc(g.packedASize(M, K)), pb = ar.alloc(g.packedBSize(K, N));
  ar.f32(a, M * K).set(d.x);
  ar.f32(b, K * N).set(d.w);
  g.packB(b, N, false, K, N, pb);
  return contender(name, () => { g.packA(a, K, false, M, K, pa); g.gemmPacked(M, N, K, pa, pb, c); }, { threads: pool?.size ?? 1 });
}

/** nnzip's array API: copies A, B in and C out and packs both every call (training-style use). */
function nnzipSgemm(t: MatMul): Contender {
  const g = new WasmGemm();
  const d = opData(t);
  const c = new Float32Array(t.M * t.N);
  return contender('nnzip-wasm sgemm()', () => g.sgemm(t.M, t.N, t.K, d.x, d.w, c), { threads: 1 });
}

const TARGETS: [peer: string, min: number][] = [['tfjs-wasm', 1.3], ['ort-node', 0.27]];

/** nnzip's speed over each target peer's, single thread, in one run. */
function ratios(rows: Row[]): (number | undefined)[] {
  const one = (name: string): Row | undefined => rows.find((r) => r.peer === name && r.threads === 1);
  const nz = one('nnzip-wasm');
  return TARGETS.map(([peer]) => { const p = one(peer); return nz && p ? nz.gflops / p.gflops : undefined; });
}

function printTargets(runs: (number | undefined)[][]): void {
  TARGETS.forEach(([peer, min], i) => {
    const r = runs.map((x) => x[i]).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    if (r.length === 0) return;
    const med = r[r.length >> 1];
    const range = r.length > 1 ? ` (runs: ${r.map((x) => x.toFixed(2)).join(', ')})` : '';
    console.log(`target nnzip/${peer} (1 thread) >= ${min.toFixed(2)}: ${med.toFixed(2)}${range} ${med >= min ? 'met' : 'MISSED'}`);
  });
}

/** --tiles: nnzip alone over the tuning space (every tile of gemmTiles()), interleaved. */
async function sweepTiles(t: MatMul): Promise<void> {
  const contenders = gemmTiles().map(({ mr, nr }) => nnzipGemm(t, undefined, { mr, nr }, `nnzip-wasm ${mr}×${nr}`));
  const res = await measure(contenders, { warmupMs: 300, rounds: 5, minSampleMs: 60, pauseMs: 40 });
  console.log(formatRows(res.map((r) => ({ peer: r.name, threads: 1, ms: r.ms, gflops: opFlops(t) / r.ms / 1e6, cores: r.cores })), 'nnzip-wasm 4×8'));
}

const argv = process.argv.slice(2);
const { only, numbers } = parseArgs(argv);
const [M, N, K] = numbers.length === 3 ? numbers : [256, 256, 256];
const task: MatMul = { kind: 'matmul', M, N, K };
if (argv.includes('--tiles')) {
  await sweepTiles(task);
} else {
  // --runs=N repeats the whole comparison (each run self-contained) and reports the target ratios' median
  const runs = Number(argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 1);
  const all: (number | undefined)[][] = [];
  for (let r = 0; r < runs; r++) {
    all.push(ratios(await compare(task, (pool) => nnzipGemm(task, pool), { only, extra: [['nnzip sgemm ×1', () => nnzipSgemm(task)]] })));
  }
  console.log('');
  printTargets(all);
}
