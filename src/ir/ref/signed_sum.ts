// The oracle of the add/subtract kernels (kernels/wasm/addsub*.ts): binary or ternary
// weights (ir/binary.ts SignRows) on float inputs, without a multiplication per
// weight: per output, P = the sum of the inputs whose weight is +1 and Q = the sum of
// those whose weight is −1, then y = pos·P − neg·Q + bias (float32), clamped (clampOut). Binary
// rows take Q = (the sum of all inputs) − P. The sums run in the kernels' order, so
// the kernels match this bit for bit: the K inputs (rows of a [K × P] operand) in
// groups of ADDSUB_GROUP, K padded with zeros to whole pairs of groups; a group's
// selected inputs are added in ascending order (the kernel's table entry), then the
// groups' sums to the accumulator in ascending order.
import type { SignRows } from '../binary.js';
import type { Window2d } from '../window.js';
import { clampOut, type BinaryEpilogue } from './binary_layer.js';
import { im2col } from './im2col.js';

/** Inputs per table lookup (a nibble of weight bits). */
export const ADDSUB_GROUP = 4;

/** K padded to whole pairs of groups (a byte of weight bits). */
export const addsubRows = (K: number): number => Math.ceil(K / (2 * ADDSUB_GROUP)) * 2 * ADDSUB_GROUP;

const f = Math.fround;

/** The sum of inputs k0 + i for the set bits i of `mask`, in ascending order (0 for none). */
function groupSum(x: Float32Array, K: number, P: number, k0: number, p: number, mask: number): number {
  let s: number | undefined;
  for (let i = 0; i < ADDSUB_GROUP; i++) {
    if (!((mask >> i) & 1)) continue;
    const v = k0 + i < K ? x[(k0 + i) * P + p] : 0;
    s = s === undefined ? v : f(s + v);
  }
  return s ?? 0;
}

/** The nibble of row m's weights in group g that equal `t` (1: +1, 2: −1; 3: every input). */
function nibble(w: SignRows, K: number, m: number, g: number, t: number): number {
  let n = 0;
  for (let i = 0; i < ADDSUB_GROUP; i++) {
    const k = g * ADDSUB_GROUP + i;
    if (k < K && (t === 3 || w.trits[m * K + k] === t)) n |= 1 << i;
  }
  return t === 3 ? (1 << ADDSUB_GROUP) - 1 : n;
}

/** y [M × P] from x [K × P] (row-major) and weight rows [M × K]. */
export function signedSumRef(x: Float32Array, K: number, P: number, M: number, w: SignRows, e: BinaryEpilogue = {}): Float32Array {
  const y = new Float32Array(M * P), G = addsubRows(K) / ADDSUB_GROUP;
  const sum = (m: number, p: number, t: number) => {
    let acc = 0;
    for (let g = 0; g < G; g++) acc = f(acc + groupSum(x, K, P, g * ADDSUB_GROUP, p, nibble(w, K, m, g, t)));
    return acc;
  };
  for (let m = 0; m < M; m++) {
    for (let p = 0; p < P; p++) {
      const pos = sum(m, p, 1), neg = w.kind === 'ternary' ? sum(m, p, 2) : f(sum(m, p, 3) - pos);
      const v = f(f(f(w.pos[m] * pos) - f(w.neg[m] * neg)) + (e.bias ? e.bias[m] : 0));
      y[m * P + p] = clampOut(v, e.clamp);
    }
  }
  return y;
}

/** y [N, M, OH, OW] from x [N, C, H, W] and weights [M, C, kh, kw] (ungrouped): im2col, then signedSumRef. */
export function signedSumConvRef(x: Float32Array, N: number, C: number, H: number, W: number, M: number, win: Window2d,
  OH: number, OW: number, w: SignRows, e: BinaryEpilogue = {}): Float32Array {
  const P = OH * OW, K = C * win.kh * win.kw, cols = new Float32Array(K * P), y = new Float32Array(N * M * P);
  for (let n = 0; n < N; n++) {
    im2col(x, n * C * H * W, { C, H, W, OH, OW, win }, cols, 0);
    y.set(signedSumRef(cols, K, P, M, w, e), n * M * P);
  }
  return y;
}

/** y [N, M] from x [N, K] and weights [M, K] (the Gemm transB=1 layout). */
export function signedSumFcRef(x: Float32Array, N: number, K: number, M: number, w: SignRows, e: BinaryEpilogue = {}): Float32Array {
  const xt = new Float32Array(K * N), y = new Float32Array(N * M);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) xt[k * N + n] = x[n * K + k];
  const yt = signedSumRef(xt, K, N, M, w, e);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) y[n * M + m] = yt[m * N + n];
  return y;
}
