// Sharing the sparse kernels' work among the threads of a pool (thread_pool.ts).
// Work is cut only between outputs (rows of the weights, samples, images, bands of
// output pixels), never inside a sum, so every output value is the same sum, in the
// same order, as on one thread: results are bit-identical. Rows are cut where the
// work (stored weights + a per-row cost) is even, not the row count: pruning
// leaves rows of very different lengths.
import type { CsrMatrix } from '../csr.js';
import { SPARSE_EXPORTS } from './sparse_codegen.js';
import type { UploadedCsr } from './sparse.js';
import { share, type PoolCall } from './thread_pool.js';

/**
 * Smallest estimated one-thread time (ns, the cost model in sparse.ts) worth
 * sharing out. Measured on the reference machine (2-core EPYC, Node 20, 2 threads,
 * runs back to back; the benchmark at real-time priority beside a 2-thread training
 * job, so close to a quiet machine): an empty dynamic run costs ~4 µs; spmv split
 * in 2, est 22 µs (512² at 25%) 1.07×, 34 µs 1.37×, 48 µs 1.45×, while LeNet-300's
 * fc1 (est 7 µs) split made the whole net 0.78×; a conv cut into 2 bands of rows,
 * est (spmm + im2col) 47 µs 1.0×, 63 µs 1.13×, 120 µs 1.23×, 220 µs 1.7× (± ~0.3 from
 * run to run). Under load (the same job at equal priority) every split was slower, 0.2–0.8×.
 */
export const SPARSE_SPLIT_NS = 40_000;

/**
 * What an output row costs besides its stored weights, in stored weights (the cost
 * model in sparse.ts): spmv 5 ns per row vs 0.3 per weight; spmvT 0.3 vs 0.5 (rounded up);
 * spmm 4.2 per row and 16-column tile vs 16 · 0.08.
 */
export const ROW_COST = { spmv: 16, spmvT: 1, spmm: 3 } as const;

/** Threads to share work estimated at `estNs` on one thread: all of them from `minNs` (default SPARSE_SPLIT_NS) on, else 1. */
export function sparseParts(estNs: number, threads: number, minNs = SPARSE_SPLIT_NS): number {
  return threads > 1 && estNs >= minNs ? threads : 1;
}

/**
 * Rows [from, to) of a CSR matrix (rowPtr as uploaded) cut into at most `parts`
 * non-empty ranges of about equal work: stored weights + rows · rowCost.
 */
export function rowRanges(rowPtr: ArrayLike<number>, from: number, to: number, parts: number, rowCost: number): [number, number][] {
  const work = (r: number): number => rowPtr[r] - rowPtr[from] + (r - from) * rowCost;
  const total = work(to), out: [number, number][] = [];
  let r0 = from;
  for (let t = 1; t <= parts && r0 < to; t++) {
    let r1 = r0 + 1;
    if (t === parts) r1 = to;
    else while (r1 < to && work(r1) < (total * t) / parts) r1++;
    out.push([r0, r1]);
    r0 = r1;
  }
  return out;
}

/** Where an spmm's rows r0.. start: the weight rows, the bias and the output (rows of C, or its columns when transposed). */
export interface SpmmArgs {
  b: number; ldb: number; c: number; ldc: number; bias: number; width: number; transposed: boolean; clampAt: number;
}

/** One spmm call over rows [r0, r1) of `w` (r0 counts from the matrix's first row). */
export function spmmCall(w: UploadedCsr, r0: number, r1: number, a: SpmmArgs): PoolCall {
  const cAt = a.c + (a.transposed ? r0 * 4 : r0 * a.ldc * 4);
  return {
    key: w.key, fn: SPARSE_EXPORTS.spmm,
    args: [w.rowPtr + r0 * 4, w.colIdx, w.vals, w.table, a.b, a.ldb, cAt, a.ldc, a.bias && a.bias + r0 * 4, r1 - r0, a.width, a.transposed ? 1 : 0, a.clampAt],
  };
}

/** One spmv call over rows [r0, r1): y[r0..r1) from the whole x. */
export function spmvCall(w: UploadedCsr, r0: number, r1: number, x: number, y: number, bias: number, lo: number, hi: number): PoolCall {
  return {
    key: w.key, fn: SPARSE_EXPORTS.spmv,
    args: [w.rowPtr + r0 * 4, w.colIdx, w.vals, w.table, x, y + r0 * 4, bias && bias + r0 * 4, r1 - r0, lo, hi],
  };
}

/** Rows [r0, r1) of a CSR matrix as one of their own (the arrays are views; row pointers rebased). */
export function csrRows(m: CsrMatrix, r0: number, r1: number): CsrMatrix {
  const a = m.rowPtr[r0], b = m.rowPtr[r1];
  const rowPtr = Int32Array.from(m.rowPtr.subarray(r0, r1 + 1), (p) => p - a);
  const data: CsrMatrix['data'] = m.data.kind === 'f32'
    ? { kind: 'f32', values: m.data.values.subarray(a, b) }
    : { kind: 'codebook', codes: m.data.codes.subarray(a, b), centroids: m.data.centroids };
  return { rows: r1 - r0, cols: m.cols, rowPtr, colIdx: m.colIdx.subarray(a, b), data };
}

/** Samples [n0, n1) per thread, in whole 16-column tiles of the spmm when there are enough, else 4-column ones. */
export function sampleBands(M: number, parts: number): [number, number][] {
  const unit = M >= 16 * parts ? 16 : 4, units = Math.ceil(M / unit), out: [number, number][] = [];
  for (let t = 0; t < parts; t++) {
    const [u0, u1] = share(units, parts, t);
    if (u1 > u0) out.push([u0 * unit, Math.min(M, u1 * unit)]);
  }
  return out;
}
