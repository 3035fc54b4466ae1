// Fully connected steps: the dense packed GEMM (weights packed once as B panels,
// the activations packed as A per call, bias + clamp in the epilogue), and the
// sparse CSR / CSC kernels running the compressed weights as stored (shared among
// the session's threads when the layer is big enough, sparse_split.ts).
import type { FcStep, PlanStep, PlanWeight } from '../../compile/plan_types.js';
import { codebookUsable } from '../../compile/cost.js';
import { csrFromCodebook, csrFromDense, transposeCsr, type CsrMatrix } from '../../kernels/csr.js';
import { gemmArgs, splitGemm } from '../../kernels/wasm/gemm.js';
import type { SparseFcLayer, UploadedCsr } from '../../kernels/wasm/sparse.js';
import { SPARSE_EXPORTS } from '../../kernels/wasm/sparse_codegen.js';
import { csrRows, ROW_COST, rowRanges, sampleBands, spmmCall, spmvCall } from '../../kernels/wasm/sparse_split.js';
import type { PoolCall } from '../../kernels/wasm/thread_pool.js';
import { at, dynamicRunner, poolRunner, prepared, scratchAt, type BindEnv, type StepExecutor } from './env.js';

/** The CSR matrix of a weight in [rows × cols] layout: codebook codes when the kernel can take them, else f32 values. */
export function csrOf(w: PlanWeight, rows: number, cols: number, where: string): CsrMatrix {
  if (codebookUsable(w) && w.format?.kind === 'codebook') return csrFromCodebook(w.format.centroids, w.format.indices, rows, cols, where);
  return csrFromDense(w.data, rows, cols, where);
}

/** Clamp bounds in the arena (the spmm and depthwise kernels read them from memory); 0 = none unless `always`. */
export function clampBounds(env: BindEnv, s: PlanStep & { clamp?: [number, number] }, always = false): number {
  const c = s.clamp ?? (always ? [-Infinity, Infinity] : undefined);
  if (!c) return 0;
  return prepared(env, s, `clamp ${c[0]},${c[1]}`, () => env.kernels.upload(Float32Array.of(c[0], c[1])));
}

export function bindDenseFc(s: FcStep, env: BindEnv): StepExecutor {
  const k = env.kernels, gemm = k.gemm, e = gemm.exports;
  const w = prepared(env, s, 'dense', () => ({
    b: gemm.prepackB(s.weight.data, s.K, s.N, true).offset, bias: s.bias ? k.upload(s.bias) : 0,
  }));
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]), pa = scratchAt(env, s);
  const { M, N, K } = s, transA = s.transA ? 1 : 0, lda = s.transA ? M : K;
  const g = gemmArgs(M, N, K, pa, w.b, y, { bias: w.bias, biasPer: 'col', clamp: s.clamp });
  if (s.split > 1 && env.pool) {
    const parts = splitGemm(g, gemm.variant, s.split).map((part, t) => [gemm.call(part, t)]);
    const runParts = poolRunner(env.pool, parts);
    return { run: () => { e.packA(x, lda, transA, M, K, pa); runParts(); } };
  }
  const gs = k.gemmScratch;
  return {
    run: () => {
      e.packA(x, lda, transA, M, K, pa);
      e.gemm(g.pa, g.pb, g.c, g.ldc, g.M, g.N, g.K, g.bias, g.mode, 0, g.clamp, g.lo, g.hi, gs);
    },
  };
}

/** Threads the session's steps may share work among (1 without a pool). */
export function sessionThreads(env: BindEnv): number {
  return env.pool && env.pool.size > 1 ? Math.min(env.plan.threads, env.pool.size) : 1;
}

/** The parts a step splits in: its planned split when the session has the threads (its scratch holds that many parts' buffers), else 1. */
export function plannedParts(s: { split: number }, env: BindEnv): number {
  return s.split > 1 && sessionThreads(env) >= s.split ? s.split : 1;
}

/** Rows of an uploaded CSR cut into parts of even work, read back from the arena (bind time only). */
export function csrRowRanges(env: BindEnv, w: UploadedCsr, from: number, to: number, parts: number, rowCost: number): [number, number][] {
  const rowPtr = new Int32Array(env.kernels.arena.memory.buffer, w.rowPtr, w.rows + 1);
  return rowRanges(rowPtr, from, to, parts, rowCost);
}

/**
 * Sparse FC. Batch > 1: Xᵀ then CSR × Xᵀ, shared out by samples when the layer
 * is big enough (sparse_split.ts). Batch 1: the CSR rows (shared out in parts of
 * even work), or, when the input has enough zeros, the CSC scatter. With threads
 * the CSC is uploaded in bands of output rows (one band when not shared out).
 */
export function bindSparseFc(s: FcStep, env: BindEnv): StepExecutor {
  const batch1 = s.impl === 'sparse-auto' ? 'auto' : s.impl === 'csc' ? 'csc' : 'csr';
  const threads = sessionThreads(env), whole = threads > 1 ? 'csr' : batch1;
  const layer: SparseFcLayer = prepared(env, s, `sparse ${whole}`, () =>
    env.kernels.sparse.prepareFc(csrOf(s.weight, s.N, s.K, whereOf(s)), { bias: s.bias, batch1: whole }));
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]);
  const parts = threads > 1 ? s.split : 1, by = s.splitBy ?? 'samples';
  if (s.M > 1) return batchedFc(s, env, layer, x, y, parts, by);
  const [lo, hi] = s.clamp ?? [-Infinity, Infinity];
  const { csr, bias } = layer, e = csr.exports;
  let runCsr = () => e.spmv(csr.rowPtr, csr.colIdx, csr.vals, csr.table, x, y, bias, layer.out, lo, hi);
  if (parts > 1) runCsr = onPool(env, csrRowRanges(env, csr, 0, layer.out, parts, ROW_COST.spmv).map(([r0, r1]) => spmvCall(csr, r0, r1, x, y, bias, lo, hi)));
  if (batch1 === 'csr') return { run: runCsr };
  let runCsc: () => void;
  if (threads > 1) runCsc = scatterBands(s, env, parts, x, y, bias, lo, hi);
  else {
    const csc = layer.csc!, t = csc.exports;
    runCsc = () => t.spmvT(csc.rowPtr, csc.colIdx, csc.vals, csc.table, x, y, bias, layer.in, layer.out, lo, hi);
  }
  if (batch1 === 'csc') return { run: runCsc };
  // the switch does not move with threads: CSC and CSR sum in different orders, and results must not depend on threads
  const from = layer.cscFromZeros, inDim = layer.in;
  return { run: () => (e.zeros(x, inDim) >= from ? runCsc() : runCsr()) };
}

const whereOf = (s: FcStep): string => `node "${s.name}": weight "${s.weight.name}"`;

/** Items run on the pool, dynamically. */
const onPool = (env: BindEnv, items: (PoolCall | PoolCall[])[]): (() => void) => dynamicRunner(env.pool!, [items]);

/**
 * The batch-1 CSC scatter in bands of output rows of even work, each band a CSC of
 * its own (W's rows r0..r1 transposed, uploaded once per session): a band's outputs
 * get the same sums, in the same order (by input), as from the whole CSC.
 */
function scatterBands(s: FcStep, env: BindEnv, parts: number, x: number, y: number, bias: number, lo: number, hi: number): () => void {
  const bands = prepared(env, s, `csc bands ${parts}`, () => {
    const m = csrOf(s.weight, s.N, s.K, whereOf(s));
    return rowRanges(m.rowPtr, 0, m.rows, parts, ROW_COST.spmvT).map(([r0, r1]) => ({
      r0, r1, w: env.kernels.sparse.upload(transposeCsr(csrRows(m, r0, r1)), `${whereOf(s)} (rows ${r0}..${r1 - 1}, transposed)`),
    }));
  });
  const items = bands.map(({ r0, r1, w }): PoolCall => ({
    key: w.key, fn: SPARSE_EXPORTS.spmvT, args: [w.rowPtr, w.colIdx, w.vals, w.table, x, y + r0 * 4, bias && bias + r0 * 4, s.K, r1 - r0, lo, hi],
  }));
  if (items.length > 1) return onPool(env, items);
  const { w } = bands[0], t = w.exports;
  return () => t.spmvT(w.rowPtr, w.colIdx, w.vals, w.table, x, y, bias, s.K, s.N, lo, hi);
}

/**
 * Y[M×N] = X·Wᵀ: Xᵀ into the scratch, then CSR × Xᵀ stored transposed. Shared out
 * by samples: each thread transposes its band of X's rows into its own part of
 * the scratch and multiplies it (the weights, read by every thread, stay in each
 * core's cache from run to run; no thread waits for a transpose or shares a line
 * of Y). Or by rows of the weights, after Xᵀ on this thread (see fcSplit).
 */
function batchedFc(s: FcStep, env: BindEnv, layer: SparseFcLayer, x: number, y: number, parts: number, by: 'samples' | 'rows'): StepExecutor {
  const xt = scratchAt(env, s), clampAt = clampBounds(env, s, true);
  const { M, N, K } = s, { csr, bias } = layer, e = csr.exports;
  if (parts > 1 && by === 'samples') {
    const items = sampleBands(M, parts).map(([n0, n1]): PoolCall[] => {
      const nb = n1 - n0, xb = xt + n0 * K * 4;
      return [
        { key: csr.key, fn: SPARSE_EXPORTS.transpose, args: [x + n0 * K * 4, nb, K, xb] },
        spmmCall(csr, 0, N, { b: xb, ldb: nb, c: y + n0 * N * 4, ldc: N, bias, width: nb, transposed: true, clampAt }),
      ];
    });
    return { run: onPool(env, items) };
  }
  if (parts > 1) {
    const a = { b: xt, ldb: M, c: y, ldc: N, bias, width: M, transposed: true, clampAt };
    const runRows = onPool(env, csrRowRanges(env, csr, 0, N, parts, ROW_COST.spmm).map(([r0, r1]) => spmmCall(csr, r0, r1, a)));
    return { run: () => { e.transpose(x, M, K, xt); runRows(); } };
  }
  return {
    run: () => {
      e.transpose(x, M, K, xt);
      e.spmm(csr.rowPtr, csr.colIdx, csr.vals, csr.table, xt, M, y, N, bias, N, M, 1, clampAt);
    },
  };
}

