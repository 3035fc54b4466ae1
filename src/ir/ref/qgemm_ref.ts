// The reference integer GEMM: the oracle of the WASM integer kernels (i8×i8 → i32,
// then requantized with a fixed-point multiplier and shift, ir/quant.ts). The
// products of the integer offsets (a − za)(b − zb) are summed exactly by the
// reference GEMM in float64 (|sum| < 2^53), then the bias is added, and either the
// int32 accumulator is kept (wrapping as int32 arithmetic does) or it is
// requantized, offset by the output zero point and clamped.
import { requantizeValue } from '../quant.js';
import { gemmRef } from './gemm_ref.js';
import type { NumArray } from './operands.js';

/** How an int32 accumulator becomes an output integer: round(acc·mult·2^−shift) + zero, clamped to [lo, hi]. */
export interface Requant {
  /** One multiplier (per tensor) or one per channel (rows or columns, as `per`). */
  mult: ArrayLike<number>;
  per?: 'row' | 'col';
  shift: number;
  zero: number;
  lo: number;
  hi: number;
}

/**
 * C[M×N] = requant(Σ_k (A[i,k] − aZero)·(B[k,j] − bZero_j) + bias), A row-major M×K,
 * B K×N (N×K when transB). bZero: one value or one per column.
 */
export interface QGemmRefCall {
  M: number; N: number; K: number;
  a: NumArray; aOff?: number; lda?: number; aZero?: number;
  b: NumArray; bOff?: number; ldb?: number; transB?: boolean; bZero?: number | ArrayLike<number>;
  bias?: Int32Array | null; biasPer?: 'row' | 'col';
  /** Absent: C holds the int32 accumulators. */
  requant?: Requant;
  c: NumArray; cOff?: number; ldc?: number;
}

/** The exact integer products: Σ_k (A − aZero)(B − bZero) as float64, M×N. */
export function integerProducts(g: QGemmRefCall): Float64Array {
  const { M, N, K, a, b } = g;
  const aOff = g.aOff ?? 0, lda = g.lda ?? K, bOff = g.bOff ?? 0, transB = g.transB ?? false, ldb = g.ldb ?? (transB ? K : N);
  const az = g.aZero ?? 0;
  const bz = (j: number) => (typeof g.bZero === 'number' ? g.bZero : g.bZero ? g.bZero[j] : 0);
  const A = new Float64Array(M * K), B = new Float64Array(K * N);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) A[i * K + k] = a[aOff + i * lda + k] - az;
  for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) B[k * N + j] = b[bOff + (transB ? j * ldb + k : k * ldb + j)] - bz(j);
  const out = new Float64Array(M * N);
  gemmRef({ M, N, K, a: A, b: B, c: out });
  return out;
}

export function qgemmRef(g: QGemmRefCall): void {
  const { M, N, c } = g;
  const acc = integerProducts(g);
  const cOff = g.cOff ?? 0, ldc = g.ldc ?? N, perRow = g.biasPer === 'row', q = g.requant;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let v = acc[i * N + j] + (g.bias ? g.bias[perRow ? i : j] : 0);
      if (q) {
        const m = q.mult.length === 1 ? q.mult[0] : q.mult[q.per === 'row' ? i : j];
        v = Math.min(q.hi, Math.max(q.lo, requantizeValue(v, m, q.shift) + q.zero));
      } else {
        v |= 0; // int32 wrap-around, as the kernels' accumulators
      }
      c[cOff + i * ldc + j] = v;
    }
  }
}
