// Plain-TypeScript GEMM: C (+)= op(A)·op(B). Blocked over K and N so a block of B
// stays in L2, A packed into 4-row panels, and a 4×4 register tile in the inner
// loop (16 accumulators as JS numbers). ~5 GFLOP/s on one core in V8, which is
// what the training engine gets when no WASM backend is plugged in.
import type { GemmCall } from './backend.js';

const KB = 256; // K block: a packed A panel (4×KB) stays in L1
const NB = 256; // N block: a KB×NB block of B stays in L2

const aPack = new Float32Array(4 * KB);
const bPack = new Float32Array(KB * NB);

/** C (+)= op(A)·op(B) (+ bias) with strides and offsets (see GemmCall in backend.ts). */
export function sgemmStrided(g: GemmCall): void {
  const { M, N, K, a, aOff, lda, transA, b, bOff, ldb, transB, c, cOff, ldc } = g;
  if (!g.accumulate) for (let i = 0; i < M; i++) c.fill(0, cOff + i * ldc, cOff + i * ldc + N);
  if (M > 0 && N > 0 && K > 0) {
    for (let k0 = 0; k0 < K; k0 += KB) {
      const kl = Math.min(KB, K - k0);
      for (let j0 = 0; j0 < N; j0 += NB) {
        const nl = Math.min(NB, N - j0);
        // B block as rows of stride `bs`, starting at `bo` in `bb`.
        let bb = b;
        let bo = bOff + k0 * ldb + j0;
        let bs = ldb;
        if (transB) {
          packBT(b, bOff, ldb, k0, kl, j0, nl);
          bb = bPack;
          bo = 0;
          bs = nl;
        }
        for (let i0 = 0; i0 < M; i0 += 4) {
          const rows = Math.min(4, M - i0);
          packA(a, aOff, lda, transA, i0, rows, k0, kl);
          block(kl, nl, bb, bo, bs, c, cOff + i0 * ldc + j0, ldc, rows);
        }
      }
    }
  }
  if (g.bias) addBias(g);
}

function addBias(g: GemmCall): void {
  const { M, N, c, cOff, ldc, biasOff } = g;
  const bias = g.bias!;
  for (let i = 0; i < M; i++) {
    const o = cOff + i * ldc;
    if (g.biasPer === 'row') {
      const v = bias[biasOff + i];
      for (let j = 0; j < N; j++) c[o + j] += v;
    } else {
      for (let j = 0; j < N; j++) c[o + j] += bias[biasOff + j];
    }
  }
}

/** Dense, unstrided form (tests, callers outside tapes). */
export function sgemmTs(
  M: number, N: number, K: number,
  a: Float32Array, transA: boolean,
  b: Float32Array, transB: boolean,
  c: Float32Array, accumulate: boolean,
): void {
  sgemmStrided({
    M, N, K, a, aOff: 0, lda: transA ? M : K, transA, b, bOff: 0, ldb: transB ? K : N, transB,
    c, cOff: 0, ldc: N, accumulate, reuseA: false, bias: null, biasOff: 0, biasPer: 'row',
  });
}

/** bPack[k][j] = B(k0+k, j0+j) where B is stored N×K (transB). */
function packBT(b: Float32Array, bOff: number, ldb: number, k0: number, kl: number, j0: number, nl: number): void {
  for (let j = 0; j < nl; j++) {
    const src = bOff + (j0 + j) * ldb + k0;
    for (let k = 0; k < kl; k++) bPack[k * nl + j] = b[src + k];
  }
}

/** aPack[4k + r] = A(i0+r, k0+k), zero for rows past M. */
function packA(a: Float32Array, aOff: number, lda: number, transA: boolean, i0: number, rows: number, k0: number, kl: number): void {
  for (let r = 0; r < 4; r++) {
    if (r >= rows) {
      for (let k = 0; k < kl; k++) aPack[4 * k + r] = 0;
    } else if (transA) {
      for (let k = 0; k < kl; k++) aPack[4 * k + r] = a[aOff + (k0 + k) * lda + i0 + r];
    } else {
      const src = aOff + (i0 + r) * lda + k0;
      for (let k = 0; k < kl; k++) aPack[4 * k + r] = a[src + k];
    }
  }
}

/** C[4×nl] += aPack[4×kl] · B[kl×nl]; only the first `rows` rows of C are written. */
function block(kl: number, nl: number, b: Float32Array, bo: number, bs: number, c: Float32Array, co: number, cs: number, rows: number): void {
  const ap = aPack;
  let j = 0;
  for (; j + 4 <= nl; j += 4) {
    let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
    let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
    let p = bo + j;
    for (let k = 0; k < 4 * kl; k += 4) {
      const b0 = b[p], b1 = b[p + 1], b2 = b[p + 2], b3 = b[p + 3];
      p += bs;
      const a0 = ap[k], a1 = ap[k + 1], a2 = ap[k + 2], a3 = ap[k + 3];
      c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
      c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
      c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
      c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    }
    let o = co + j;
    c[o] += c00; c[o + 1] += c01; c[o + 2] += c02; c[o + 3] += c03;
    if (rows < 2) continue;
    o += cs;
    c[o] += c10; c[o + 1] += c11; c[o + 2] += c12; c[o + 3] += c13;
    if (rows < 3) continue;
    o += cs;
    c[o] += c20; c[o + 1] += c21; c[o + 2] += c22; c[o + 3] += c23;
    if (rows < 4) continue;
    o += cs;
    c[o] += c30; c[o + 1] += c31; c[o + 2] += c32; c[o + 3] += c33;
  }
  for (; j < nl; j++) tailColumn(kl, b, bo + j, bs, c, co + j, cs, rows);
}

/** One leftover column (N not a multiple of 4). */
function tailColumn(kl: number, b: Float32Array, p: number, bs: number, c: Float32Array, o: number, cs: number, rows: number): void {
  const ap = aPack;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let k = 0; k < 4 * kl; k += 4) {
    const bv = b[p];
    p += bs;
    s0 += ap[k] * bv; s1 += ap[k + 1] * bv; s2 += ap[k + 2] * bv; s3 += ap[k + 3] * bv;
  }
  c[o] += s0;
  if (rows > 1) c[o + cs] += s1;
  if (rows > 2) c[o + 2 * cs] += s2;
  if (rows > 3) c[o + 3 * cs] += s3;
}

/** The textbook triple loop (float64 accumulation): the oracle for tests. */
export function sgemmNaive(
  M: number, N: number, K: number,
  a: Float32Array, transA: boolean,
  b: Float32Array, transB: boolean,
  c: Float32Array, accumulate: boolean,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = accumulate ? c[i * N + j] : 0;
      for (let k = 0; k < K; k++) s += (transA ? a[k * M + i] : a[i * K + k]) * (transB ? b[j * K + k] : b[k * N + j]);
      c[i * N + j] = s;
    }
  }
}
