// The reference GEMM, the one plain-TypeScript GEMM: the oracle of every WASM
// GEMM, the core of the reference Conv, Gemm and MatMul, and what the trainer's
// TypeScript backend runs. Products are summed in float64 (the reference is the
// more exact side) by plain loops shaped so V8 runs them at a useful speed: four
// output rows share each loaded input value, and K is unrolled by four so every
// accumulator is loaded and stored once per sixteen products.
import type { FloatArray } from './operands.js';

/**
 * One GEMM: C[M×N] (+)= op(A)·op(B) (+ bias), then clamped; row-major with row
 * strides (ld = the stored matrix's row length, default dense) and element
 * offsets. op(A) is M×K, stored K×M when transA; op(B) is K×N, stored N×K when
 * transB. bias has M values (per row) or N (per column, the default).
 */
export interface GemmRefCall {
  M: number; N: number; K: number;
  a: FloatArray; aOff?: number; lda?: number; transA?: boolean;
  b: FloatArray; bOff?: number; ldb?: number; transB?: boolean;
  c: FloatArray; cOff?: number; ldc?: number;
  accumulate?: boolean;
  bias?: FloatArray | null; biasOff?: number; biasPer?: 'row' | 'col';
  clamp?: readonly [lo: number, hi: number];
}

/** Packing and accumulator space, grown on demand (the trainer calls this once per GEMM of every step). */
const space = { a: new Float64Array(0), b: new Float64Array(0), acc: new Float64Array(0) };

function room(key: keyof typeof space, n: number): Float64Array {
  if (space[key].length < n) space[key] = new Float64Array(n);
  return space[key];
}

export function gemmRef(g: GemmRefCall): void {
  const { M, N, K, a, b, c } = g;
  if (M <= 0 || N <= 0) return;
  const transA = g.transA ?? false, transB = g.transB ?? false;
  const aOff = g.aOff ?? 0, bOff = g.bOff ?? 0, cOff = g.cOff ?? 0, ldc = g.ldc ?? N;
  const lda = g.lda ?? (transA ? M : K), ldb = g.ldb ?? (transB ? K : N);
  // op(A) as M rows of length K, op(B) as K rows of stride ld: transposed or strided operands are copied
  let w: FloatArray = a, wOff = aOff;
  if (transA || lda !== K) {
    w = room('a', M * K);
    wOff = 0;
    for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) w[i * K + k] = transA ? a[aOff + k * lda + i] : a[aOff + i * lda + k];
  }
  let src: FloatArray = b, sOff = bOff, ld = ldb;
  if (transB) {
    src = room('b', K * N);
    sOff = 0;
    ld = N;
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) src[k * N + j] = b[bOff + j * ldb + k];
  }
  const acc = room('acc', 4 * N);
  const { bias, clamp } = g;
  const biasOff = g.biasOff ?? 0, perRow = g.biasPer === 'row';
  for (let i0 = 0; i0 < M; i0 += 4) {
    const rows = Math.min(4, M - i0);
    for (let r = 0; r < rows; r++) {
      const o = cOff + (i0 + r) * ldc;
      for (let j = 0; j < N; j++) acc[r * N + j] = g.accumulate ? c[o + j] : 0;
    }
    if (K > 0) accumulate(acc, rows, N, w, wOff + i0 * K, K, src, sOff, ld);
    for (let r = 0; r < rows; r++) {
      const o = cOff + (i0 + r) * ldc;
      for (let j = 0; j < N; j++) {
        let v = acc[r * N + j];
        if (bias) v += bias[biasOff + (perRow ? i0 + r : j)];
        if (clamp) v = Math.min(Math.max(v, clamp[0]), clamp[1]);
        c[o + j] = v;
      }
    }
  }
}

/**
 * acc[r·n + j] += Σ_k w[wOff + r·K + k] · src[sOff + k·ld + j] for r < rows, j < n:
 * `rows` rows of a row-major weight matrix (row length K) times a K×n panel of
 * `src` with row stride ld. Rows go four at a time; all-zero weight groups are
 * skipped, so pruned weights cost (almost) nothing.
 */
export function accumulate(acc: Float64Array, rows: number, n: number, w: FloatArray, wOff: number, K: number, src: FloatArray, sOff: number, ld: number): void {
  let r = 0;
  for (; r + 4 <= rows; r += 4) accumulate4(acc, r * n, n, w, wOff + r * K, K, src, sOff, ld);
  for (; r < rows; r++) accumulate1(acc, r * n, n, w, wOff + r * K, K, src, sOff, ld);
}

function accumulate4(acc: Float64Array, a: number, n: number, w: FloatArray, o: number, K: number, src: FloatArray, sOff: number, ld: number): void {
  const a1 = a + n;
  const a2 = a1 + n;
  const a3 = a2 + n;
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const p = o + k;
    const w00 = w[p], w01 = w[p + 1], w02 = w[p + 2], w03 = w[p + 3];
    const w10 = w[p + K], w11 = w[p + K + 1], w12 = w[p + K + 2], w13 = w[p + K + 3];
    const w20 = w[p + 2 * K], w21 = w[p + 2 * K + 1], w22 = w[p + 2 * K + 2], w23 = w[p + 2 * K + 3];
    const w30 = w[p + 3 * K], w31 = w[p + 3 * K + 1], w32 = w[p + 3 * K + 2], w33 = w[p + 3 * K + 3];
    if (w00 === 0 && w01 === 0 && w02 === 0 && w03 === 0 && w10 === 0 && w11 === 0 && w12 === 0 && w13 === 0 &&
        w20 === 0 && w21 === 0 && w22 === 0 && w23 === 0 && w30 === 0 && w31 === 0 && w32 === 0 && w33 === 0) continue;
    const s0 = sOff + k * ld;
    const s1 = s0 + ld;
    const s2 = s1 + ld;
    const s3 = s2 + ld;
    for (let j = 0; j < n; j++) {
      const x0 = src[s0 + j], x1 = src[s1 + j], x2 = src[s2 + j], x3 = src[s3 + j];
      acc[a + j] += w00 * x0 + w01 * x1 + w02 * x2 + w03 * x3;
      acc[a1 + j] += w10 * x0 + w11 * x1 + w12 * x2 + w13 * x3;
      acc[a2 + j] += w20 * x0 + w21 * x1 + w22 * x2 + w23 * x3;
      acc[a3 + j] += w30 * x0 + w31 * x1 + w32 * x2 + w33 * x3;
    }
  }
  for (; k < K; k++) {
    const p = o + k;
    const w0 = w[p], w1 = w[p + K], w2 = w[p + 2 * K], w3 = w[p + 3 * K];
    const s = sOff + k * ld;
    for (let j = 0; j < n; j++) {
      const x = src[s + j];
      acc[a + j] += w0 * x;
      acc[a1 + j] += w1 * x;
      acc[a2 + j] += w2 * x;
      acc[a3 + j] += w3 * x;
    }
  }
}

function accumulate1(acc: Float64Array, a: number, n: number, w: FloatArray, o: number, K: number, src: FloatArray, sOff: number, ld: number): void {
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const w0 = w[o + k], w1 = w[o + k + 1], w2 = w[o + k + 2], w3 = w[o + k + 3];
    if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0) continue;
    const s0 = sOff + k * ld;
    const s1 = s0 + ld;
    const s2 = s1 + ld;
    const s3 = s2 + ld;
    for (let j = 0; j < n; j++) acc[a + j] += w0 * src[s0 + j] + w1 * src[s1 + j] + w2 * src[s2 + j] + w3 * src[s3 + j];
  }
  for (; k < K; k++) {
    const wv = w[o + k];
    if (wv === 0) continue;
    const s = sOff + k * ld;
    for (let j = 0; j < n; j++) acc[a + j] += wv * src[s + j];
  }
}
