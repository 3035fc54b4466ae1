// The multiply-accumulate core shared by Conv, Gemm and MatMul, in float64.
// Plain loops, shaped so V8 runs them at a useful speed: four output rows share
// each loaded input value, and K is unrolled by four so every accumulator is
// loaded and stored once per sixteen products.
import type { FloatArray } from './operands.js';

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
