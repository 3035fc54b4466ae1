// Test helpers for the WASM kernels: a closeness check whose failure message
// names the case, the shape and the first bad index, the tile-edge sizes, and the
// reference GEMM, conv and pool (src/ir/ref) on the kernels' parameter objects
// (the sparse kernels' reference: the dense one on the decoded weights).
import assert from 'node:assert/strict';
import { conv2d } from '../../../src/ir/ref/conv.js';
import { gemmRef } from '../../../src/ir/ref/gemm_ref.js';
import { avgPool2d, maxPool2d } from '../../../src/ir/ref/pool.js';
import { checkWindow2d, outHW } from '../../../src/ir/window.js';
import { clip } from '../../../src/kernels/ts/activation.js';
import { csrToDense, type CsrMatrix } from '../../../src/kernels/csr.js';
import { checkConv, type Conv2dParams } from '../../../src/kernels/wasm/conv_params.js';
import { clampRange, type GemmOptions } from '../../../src/kernels/wasm/gemm.js';
import type { Pool2dParams } from '../../../src/kernels/wasm/pool.js';
import { epilogueRange, type SparseEpilogue } from '../../../src/kernels/wasm/sparse.js';

/** Asserts |actual - expected| <= tol(expected) everywhere; `where(i)` renders an index (e.g. "(row 3, col 7)"). */
export function assertClose(actual: Float32Array, expected: ArrayLike<number>, tol: (expected: number) => number, what: string,
  where: (i: number) => string = (i) => `[${i}]`): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i], a = actual[i];
    if (!(Math.abs(a - e) <= tol(e)) && !(Number.isNaN(a) && Number.isNaN(e)) && a !== e) {
      assert.fail(`${what}: at ${where(i)} got ${a}, expected ${e} (diff ${Math.abs(a - e)}, tolerance ${tol(e)})`);
    }
  }
}

/** Row-major matrix index renderer. */
export function rc(cols: number): (i: number) => string {
  return (i) => `(row ${Math.floor(i / cols)}, col ${i % cols})`;
}

/** NCHW index renderer. */
export function nchw(C: number, H: number, W: number): (i: number) => string {
  return (i) => {
    const w = i % W, h = Math.floor(i / W) % H, c = Math.floor(i / (W * H)) % C, n = Math.floor(i / (W * H * C));
    return `(n ${n}, c ${c}, h ${h}, w ${w})`;
  };
}

/** Sizes around a tile: 1, t-1, t, t+1, 2t+3 (deduplicated, positive). */
export function edgeSizes(t: number): number[] {
  return [...new Set([1, t - 1, t, t + 1, 2 * t + 3])].filter((s) => s >= 1);
}

/** The reference conv (src/ir/ref) on a kernel's parameter object, then the clamp. */
export function refConv(p: Conv2dParams, N: number, H: number, W: number, x: Float32Array, w: Float32Array, bias?: Float32Array,
  clamp?: readonly [number, number]): Float32Array {
  const { group, win } = checkConv('refConv', p);
  const [OH, OW] = outHW('refConv', H, W, win);
  const y = new Float32Array(N * p.M * OH * OW);
  conv2d({ N, C: p.C, H, W, M: p.M, OH, OW, win, group }, x, w, bias, y);
  if (clamp) clip(y, y, clamp[0], clamp[1]);
  return y;
}

/** The reference pool (src/ir/ref) on a kernel's parameter object. */
export function refPool(p: Pool2dParams, N: number, C: number, H: number, W: number, x: Float32Array): Float32Array {
  const win = checkWindow2d('refPool', p);
  const [OH, OW] = outHW('refPool', H, W, win, p.ceil);
  const y = new Float32Array(N * C * OH * OW);
  const g = { planes: N * C, H, W, OH, OW, win };
  if (p.kind === 'max') maxPool2d(g, x, y);
  else avgPool2d(g, x, y, p.countIncludePad ?? false);
  return y;
}

/** The reference GEMM (src/ir/ref) with the WASM GEMM's options. */
export function refGemm(M: number, N: number, K: number, a: Float32Array, b: Float32Array, c: Float32Array, o: GemmOptions = {}): void {
  gemmRef({ M, N, K, a, b, c, transA: o.transA, transB: o.transB, accumulate: o.accumulate, bias: o.bias, biasPer: o.biasPer, clamp: clampRange(o) });
}

/** y[batch×out] = x[batch×in]·Wᵀ + bias, clamped: the dense reference on the decoded CSR weight. */
export function refSparseFc(w: CsrMatrix, batch: number, x: Float32Array, y: Float32Array, o: SparseEpilogue = {}): void {
  gemmRef({ M: batch, N: w.rows, K: w.cols, a: x, b: csrToDense(w), transB: true, c: y, bias: o.bias, clamp: epilogueRange(o) });
}

/** The conv of a CSR weight [M × C/group·kh·kw] (OIHW flattened), clamped: the dense reference on the decoded weight. */
export function refSparseConv(w: CsrMatrix, p: Conv2dParams, N: number, H: number, W: number, x: Float32Array, y: Float32Array,
  o: SparseEpilogue = {}): void {
  y.set(refConv(p, N, H, W, x, csrToDense(w), o.bias, epilogueRange(o)));
}
