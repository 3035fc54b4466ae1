// QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger as onnxruntime computes
// them: the integer offsets (x − x_zero)·(w − w_zero) summed exactly (the float
// reference Conv / MatMul on float64 offsets: integers below 2^53 are exact), the
// int32 bias added, then for the QLinear ops the accumulator requantized in float
// as onnxruntime's MlasRequantizeOutput does: round_half_even(f32(acc)·f32(x_scale·w_scale / y_scale)) + y_zero, saturated.
import type { Node } from '../graph.js';
import { QUANT_RANGES, roundHalfEven } from '../quant.js';
import { Tensor, type DType } from '../tensor.js';
import { input, nodeFail } from '../util.js';
import { CONV_KERNELS } from './conv.js';
import { GEMM_KERNELS } from './gemm.js';
import type { NumArray, RefKernel } from './operands.js';

/** One value per index along `count` positions: a scalar broadcast or a per-channel vector. */
function perIndex(t: Tensor | undefined, count: number, dflt = 0): Float64Array {
  const out = new Float64Array(count).fill(dflt);
  if (!t) return out;
  const d = t.data as NumArray;
  for (let i = 0; i < count; i++) out[i] = Number(d[d.length === 1 ? 0 : i]);
  return out;
}

/**
 * t − zero as a float64 tensor; zero is one value per index of `axis` (or one in all),
 * where the axis index of element i is floor(i / inner) mod count.
 */
function offsets(t: Tensor, zero: Float64Array, inner: number): Tensor<'float64'> {
  const d = t.data as NumArray, out = new Float64Array(d.length), count = zero.length;
  for (let i = 0; i < d.length; i++) out[i] = d[i] - zero[Math.floor(i / inner) % count];
  return new Tensor('float64', t.shape, out);
}

const innerOf = (shape: readonly number[], axis: number): number => shape.slice(axis + 1).reduce((p, v) => p * v, 1);

/** The exact integer conv of offsets (+ int32 bias), float64. */
function convAcc(node: Node, x: Tensor, xz: Tensor | undefined, w: Tensor, wz: Tensor | undefined, b?: Tensor): Tensor {
  const M = w.shape[0];
  const xo = offsets(x, perIndex(xz, 1), x.size || 1);
  const wo = offsets(w, perIndex(wz, M), innerOf(w.shape, 0));
  const bias = b && new Tensor('float64', b.shape, Float64Array.from(b.data as Int32Array));
  return CONV_KERNELS.Conv(node, [xo, wo, bias])[0];
}

/** The exact integer product of offsets (a zero point per row of A, per column of B), float64. */
function matmulAcc(node: Node, a: Tensor, az: Tensor | undefined, b: Tensor, bz: Tensor | undefined): Tensor {
  const rows = a.shape.length >= 2 ? a.shape[a.shape.length - 2] : 1;
  const ao = offsets(a, perIndex(az, rows), a.shape.length >= 2 ? a.shape[a.shape.length - 1] : a.size || 1);
  const bo = offsets(b, perIndex(bz, b.shape[1]), 1);
  return GEMM_KERNELS.MatMul(node, [ao, bo])[0];
}

/**
 * acc (float64 integers) → y: round_half_even(f32(acc)·scale[c]) + zero, saturated to
 * y's type; scale[c] = f32(f32(in_scale[r]·w_scale[c]) / y_scale) per channel c
 * (along `inner` runs) and, for QLinearMatMul, per row r of A.
 */
function requantize(node: Node, acc: Tensor, yType: DType, yZero: number, scale: (i: number) => number): Tensor {
  const range = QUANT_RANGES[yType];
  if (!range || (yType !== 'int8' && yType !== 'uint8')) nodeFail(node, `y_zero_point type ${yType} is not int8 or uint8`);
  const [lo, hi] = range;
  const src = acc.data as Float64Array, y = new Tensor(yType, acc.shape), out = y.data as NumArray;
  for (let i = 0; i < src.length; i++) {
    const q = roundHalfEven(Math.fround(Math.fround(src[i]) * scale(i))) + yZero;
    out[i] = q < lo ? lo : q > hi ? hi : q;
  }
  return y;
}

const f32Scale = (s1: number, s2: number, sy: number): number => Math.fround(Math.fround(s1 * s2) / sy);

const qlinearConv: RefKernel = (node, inputs) => {
  const w = input(node, inputs, 3, 'w'), yz = inputs[7];
  const acc = convAcc(node, input(node, inputs, 0, 'x'), inputs[2], w, inputs[5], inputs[8]);
  const M = w.shape[0], P = innerOf(acc.shape, 1);
  const sx = perIndex(input(node, inputs, 1, 'x_scale'), 1)[0], sw = perIndex(input(node, inputs, 4, 'w_scale'), M);
  const sy = perIndex(input(node, inputs, 6, 'y_scale'), 1)[0];
  const scales = Float64Array.from(sw, (s) => f32Scale(sx, s, sy));
  return [requantize(node, acc, yz?.dtype ?? 'uint8', perIndex(yz, 1)[0], (i) => scales[Math.floor(i / P) % M])];
};

const qlinearMatMul: RefKernel = (node, inputs) => {
  const a = input(node, inputs, 0, 'a'), b = input(node, inputs, 3, 'b');
  const acc = matmulAcc(node, a, inputs[2], b, inputs[5]);
  const [M, N] = acc.shape;
  const sa = perIndex(input(node, inputs, 1, 'a_scale'), M), sb = perIndex(input(node, inputs, 4, 'b_scale'), N);
  const sy = perIndex(input(node, inputs, 6, 'y_scale'), 1)[0];
  const yz = inputs[7];
  return [requantize(node, acc, yz?.dtype ?? 'uint8', perIndex(yz, 1)[0], (i) => f32Scale(sa[Math.floor(i / N)], sb[i % N], sy))];
};

function toInt32(acc: Tensor): Tensor {
  return new Tensor('int32', acc.shape, Int32Array.from(acc.data as Float64Array, (v) => v | 0));
}

export const QLINEAR_KERNELS: Record<string, RefKernel> = {
  QLinearConv: qlinearConv,
  QLinearMatMul: qlinearMatMul,
  ConvInteger: (node, inputs) => [toInt32(convAcc(node, input(node, inputs, 0, 'x'), inputs[2], input(node, inputs, 1, 'w'), inputs[3]))],
  MatMulInteger: (node, inputs) => [toInt32(matmulAcc(node, input(node, inputs, 0, 'A'), inputs[2], input(node, inputs, 1, 'B'), inputs[3]))],
};
