// Every reference kernel against onnxruntime-node on seeded random inputs, one-node
// graphs, with the awkward cases: odd strides, asymmetric pads, group = channels,
// dilation 2, ceil_mode, auto_pad, broadcasting, per-axis quantization.
import { test } from 'node:test';
import { Tensor, f32, i64, fromNumbers } from '../../../src/ir/tensor.js';
import { Rng } from '../../../src/ir/random.js';
import { compareWithOrt, type OrtCase } from './ort_helpers.js';

const rng = new Rng(2024);
const r = (shape: number[], lo = -1, hi = 1): Tensor<'float32'> => f32(shape, rng.floats(shape.reduce((p, d) => p * d, 1), lo, hi));
const ints = (dtype: 'int8' | 'uint8' | 'int32', shape: number[], lo: number, hi: number): Tensor =>
  fromNumbers(dtype, shape, Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => lo + rng.int(hi - lo + 1)));

const conv = (name: string, x: number[], w: number[], attrs: OrtCase['attrs'], bias = true): OrtCase => ({
  name, op: 'Conv', inputs: [r(x), r(w), bias ? r([w[0]]) : undefined], consts: [1, 2], attrs,
});
const convT = (name: string, x: number[], w: number[], group: number, attrs: OrtCase['attrs']): OrtCase => ({
  name, op: 'ConvTranspose', inputs: [r(x), r(w), r([w[1] * group])], consts: [1, 2], attrs: { ...attrs, group },
});

const CONV_CASES: OrtCase[] = [
  conv('3x3 pad 1', [2, 3, 9, 9], [8, 3, 3, 3], { pads: [1, 1, 1, 1] }),
  conv('stride 3, asymmetric pads', [1, 4, 11, 10], [5, 4, 3, 2], { strides: [3, 2], pads: [0, 1, 2, 0] }),
  conv('dilation 2', [1, 3, 12, 11], [4, 3, 3, 3], { dilations: [2, 2], pads: [2, 2, 2, 2] }),
  conv('group 2, no bias', [2, 6, 7, 7], [4, 3, 3, 3], { group: 2, pads: [1, 1, 1, 1] }, false),
  conv('depthwise stride 2', [1, 8, 9, 9], [8, 1, 3, 3], { group: 8, strides: [2, 2], pads: [1, 1, 1, 1] }),
  conv('depthwise multiplier 2', [1, 4, 6, 6], [8, 1, 3, 3], { group: 4 }),
  conv('1x1', [2, 16, 5, 7], [10, 16, 1, 1], {}),
  conv('SAME_UPPER stride 2, even kernel', [1, 3, 7, 8], [4, 3, 4, 2], { auto_pad: 'SAME_UPPER', strides: [2, 2] }),
  conv('SAME_LOWER even kernel', [1, 3, 7, 8], [4, 3, 4, 2], { auto_pad: 'SAME_LOWER' }),
  conv('VALID stride 2', [1, 3, 9, 8], [4, 3, 3, 3], { auto_pad: 'VALID', strides: [2, 2] }),
  conv('large output (column blocks)', [1, 3, 30, 31], [6, 3, 5, 5], { pads: [2, 2, 2, 2] }),
  conv('1-D', [2, 3, 17], [4, 3, 5], { strides: [2], pads: [1, 3], dilations: [2] }),
  convT('stride 2 pads', [1, 3, 4, 5], [3, 2, 3, 3], 1, { strides: [2, 2], pads: [1, 0, 1, 2] }),
  convT('output_padding', [1, 2, 3, 3], [2, 3, 3, 2], 1, { strides: [2, 3], output_padding: [1, 2] }),
  convT('dilation 2', [2, 2, 4, 4], [2, 2, 3, 3], 1, { dilations: [2, 2], pads: [1, 1, 1, 1] }),
  convT('group 2', [1, 4, 3, 4], [4, 3, 2, 2], 2, { strides: [2, 2] }),
  convT('output_shape', [1, 2, 3, 3], [2, 2, 3, 3], 1, { strides: [2, 2], output_shape: [6, 5] }),
  convT('SAME_UPPER', [1, 2, 3, 4], [2, 2, 3, 3], 1, { strides: [2, 2], auto_pad: 'SAME_UPPER' }),
  convT('SAME_LOWER', [1, 2, 3, 4], [2, 2, 3, 3], 1, { strides: [2, 2], auto_pad: 'SAME_LOWER' }),
  convT('1-D', [2, 3, 5], [3, 2, 3], 1, { strides: [2], pads: [1, 0], output_padding: [1] }),
];

const gemm = (transA: number, transB: number, c: number[] | undefined): OrtCase => ({
  name: `transA=${transA} transB=${transB} C=${c ? `[${c}]` : 'none'}`, op: 'Gemm',
  inputs: [r(transA ? [13, 7] : [7, 13]), r(transB ? [5, 13] : [13, 5]), c ? r(c) : undefined],
  consts: [1, 2], attrs: { transA, transB, alpha: 0.75, beta: 1.5 },
});

const LINALG_CASES: OrtCase[] = [
  ...[[0, 0], [0, 1], [1, 0], [1, 1]].map(([a, b]) => gemm(a, b, [5])),
  gemm(0, 1, [1, 5]), gemm(0, 1, [7, 1]), gemm(0, 1, []), gemm(0, 1, [7, 5]), gemm(1, 1, undefined),
  { name: 'batched broadcast', op: 'MatMul', inputs: [r([2, 1, 3, 4]), r([3, 4, 5])] },
  { name: '1-D left', op: 'MatMul', inputs: [r([6]), r([2, 6, 3])] },
  { name: '1-D right', op: 'MatMul', inputs: [r([2, 5, 6]), r([6])] },
  { name: '1-D both', op: 'MatMul', inputs: [r([6]), r([6])] },
];

const ELEMENTWISE_CASES: OrtCase[] = [
  ...['Add', 'Sub', 'Mul', 'Div'].map((op) => ({ name: 'broadcast NCHW + C11', op, inputs: [r([2, 3, 4, 5]), r([3, 1, 1], 0.5, 2)] })),
  { name: 'broadcast both ways', op: 'Add', inputs: [r([4, 1, 3]), r([2, 1])] },
  { name: 'int32 truncation', op: 'Div', inputs: [ints('int32', [20], -50, 50), fromNumbers('int32', [20], Array.from({ length: 20 }, (_, i) => (i % 2 ? -1 : 1) * (1 + (i % 7))))] },
  { name: 'int64 shapes', op: 'Mul', inputs: [i64([3], [1, -1, 28]), i64([1], [4])] },
  { name: 'relu', op: 'Relu', inputs: [r([3, 17])] },
  { name: 'leaky', op: 'LeakyRelu', inputs: [r([3, 17])], attrs: { alpha: 0.2 } },
  { name: 'sigmoid', op: 'Sigmoid', inputs: [r([64], -12, 12)] },
  { name: 'tanh', op: 'Tanh', inputs: [r([64], -6, 6)] },
  { name: 'clip both', op: 'Clip', inputs: [r([40], -3, 3), f32([], [-0.5]), f32([], [6])] },
  { name: 'clip max only', op: 'Clip', inputs: [r([40], -3, 3), undefined, f32([], [0.25])] },
  { name: 'clip none', op: 'Clip', inputs: [r([10])] },
];

const pool = (op: string, name: string, x: number[], attrs: OrtCase['attrs'], outputs = 1): OrtCase => ({ name, op, inputs: [r(x)], attrs, outputs });

const POOL_CASES: OrtCase[] = [
  pool('MaxPool', '3x3 s2 ceil (SqueezeNet)', [1, 4, 13, 13], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }),
  pool('MaxPool', 'ceil with pads, odd size', [1, 2, 10, 7], { kernel_shape: [3, 2], strides: [3, 2], pads: [1, 0, 2, 1], ceil_mode: 1 }),
  pool('MaxPool', 'ceil drops a window in the end pad', [1, 1, 1, 6], { kernel_shape: [1, 2], strides: [1, 2], pads: [0, 0, 0, 1], ceil_mode: 1 }),
  pool('MaxPool', 'dilation 2', [1, 2, 11, 11], { kernel_shape: [3, 3], dilations: [2, 2], strides: [2, 2], pads: [2, 2, 2, 2] }),
  pool('MaxPool', 'SAME_UPPER', [1, 2, 8, 8], { kernel_shape: [3, 3], auto_pad: 'SAME_UPPER', strides: [2, 2] }),
  pool('MaxPool', 'with Indices', [2, 3, 6, 7], { kernel_shape: [2, 3], strides: [2, 2] }, 2),
  pool('MaxPool', '1-D', [2, 3, 11], { kernel_shape: [3], strides: [2], pads: [1, 1] }),
  pool('AveragePool', 'exclude pad', [1, 3, 9, 9], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
  pool('AveragePool', 'include pad', [1, 3, 9, 9], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }),
  pool('AveragePool', 'ceil + pads, include pad', [1, 2, 10, 7], { kernel_shape: [3, 2], strides: [3, 2], pads: [1, 0, 1, 1], ceil_mode: 1, count_include_pad: 1 }),
  pool('AveragePool', 'ceil, exclude pad', [1, 2, 10, 7], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }),
  pool('AveragePool', 'SAME_LOWER', [1, 2, 7, 8], { kernel_shape: [2, 3], auto_pad: 'SAME_LOWER' }),
  pool('GlobalAveragePool', 'global avg', [2, 5, 7, 3], {}),
];

const REDUCE_CASES: OrtCase[] = [
  { name: 'attr axes (opset 17)', op: 'ReduceMean', inputs: [r([2, 3, 4, 5])], attrs: { axes: [2, 3] } },
  { name: 'input axes (opset 18)', op: 'ReduceMean', inputs: [r([2, 3, 4, 5]), i64([2], [-1, 1])], consts: [1], opset: 18, attrs: { keepdims: 0 } },
  { name: 'all axes', op: 'ReduceMean', inputs: [r([3, 4])] },
  { name: 'softmax last', op: 'Softmax', inputs: [r([3, 10], -5, 5)] },
  { name: 'softmax axis 1 of 3-D', op: 'Softmax', inputs: [r([2, 5, 3], -5, 5)], attrs: { axis: 1 } },
  {
    name: 'batchnorm', op: 'BatchNormalization', inputs: [r([2, 4, 3, 3]), r([4]), r([4]), r([4]), r([4], 0.2, 2)],
    consts: [1, 2, 3, 4], attrs: { epsilon: 1e-3 },
  },
];

const SHAPE_CASES: OrtCase[] = [
  { name: 'flatten axis 2', op: 'Flatten', inputs: [r([2, 3, 4, 5])], attrs: { axis: 2 } },
  { name: 'reshape 0 -1', op: 'Reshape', inputs: [r([2, 3, 4]), i64([2], [0, -1])], consts: [1] },
  { name: 'transpose', op: 'Transpose', inputs: [r([2, 3, 4, 5])], attrs: { perm: [0, 2, 3, 1] } },
  { name: 'concat axis 1', op: 'Concat', inputs: [r([2, 3, 4]), r([2, 1, 4]), r([2, 2, 4])], attrs: { axis: 1 } },
  { name: 'split sizes (opset 17)', op: 'Split', inputs: [r([2, 7]), i64([3], [2, 4, 1])], consts: [1], attrs: { axis: 1 }, outputs: 3 },
  { name: 'split num_outputs uneven (opset 18)', op: 'Split', inputs: [r([7, 2])], attrs: { num_outputs: 3 }, outputs: 3, opset: 18 },
  { name: 'squeeze', op: 'Squeeze', inputs: [r([1, 3, 1, 2]), i64([1], [2])], consts: [1] },
  { name: 'unsqueeze', op: 'Unsqueeze', inputs: [r([3, 2]), i64([2], [0, -1])], consts: [1] },
  { name: 'shape start/end', op: 'Shape', inputs: [r([2, 3, 4, 5])], attrs: { start: 1, end: -1 } },
  { name: 'gather axis 1 negative indices', op: 'Gather', inputs: [r([3, 5, 2]), i64([2, 2], [0, -1, 3, -5])], consts: [1], attrs: { axis: 1 } },
  { name: 'cast float → int32', op: 'Cast', inputs: [r([20], -100, 100)], attrs: { to: 6 } },
  { name: 'cast int64 → float', op: 'Cast', inputs: [i64([3], [-5, 0, 123456789])], attrs: { to: 1 } },
  { name: 'identity', op: 'Identity', inputs: [r([3])] },
  { name: 'dropout', op: 'Dropout', inputs: [r([3, 4])] },
];

// Values on exact .5 steps test the ties; some saturate.
const qx = f32([2, 3, 4], Array.from({ length: 24 }, (_, i) => (i - 11) * 0.25 + (i % 5 === 0 ? 30 : 0)));
const QUANT_CASES: OrtCase[] = [
  { name: 'per tensor uint8', op: 'QuantizeLinear', inputs: [qx, f32([], [0.5]), fromNumbers('uint8', [], [100])], consts: [1, 2] },
  { name: 'per tensor int8, no rounding ties lost', op: 'QuantizeLinear', inputs: [r([50], -3, 3), f32([], [0.05]), fromNumbers('int8', [], [-2])], consts: [1, 2] },
  { name: 'per axis int8 (axis 1)', op: 'QuantizeLinear', inputs: [qx, f32([3], [0.5, 0.25, 0.1]), fromNumbers('int8', [3], [0, 3, -4])], consts: [1, 2] },
  { name: 'per axis int8 (axis 2)', op: 'QuantizeLinear', inputs: [qx, f32([4], [0.5, 0.25, 0.1, 1]), fromNumbers('int8', [4], [0, 0, 0, 0])], consts: [1, 2], attrs: { axis: 2 } },
  { name: 'dequant per tensor uint8', op: 'DequantizeLinear', inputs: [ints('uint8', [30], 0, 255), f32([], [0.02]), fromNumbers('uint8', [], [128])], consts: [1, 2] },
  { name: 'dequant per axis int8', op: 'DequantizeLinear', inputs: [ints('int8', [4, 3, 2, 2], -128, 127), f32([4], [0.1, 0.01, 0.5, 0.003]), fromNumbers('int8', [4], [0, 0, 0, 0])], consts: [1, 2], attrs: { axis: 0 } },
  { name: 'dequant int32 bias', op: 'DequantizeLinear', inputs: [ints('int32', [10], -100000, 100000), f32([], [0.0003])], consts: [1] },
];

// The QOperator ops: int8 / uint8 operands, scalar and per-channel weight scales and zero points, int32 bias.
const s = (v: number): Tensor => f32([], [v]);
const z = (dtype: 'int8' | 'uint8', v: number | number[]): Tensor => (typeof v === 'number' ? fromNumbers(dtype, [], [v]) : fromNumbers(dtype, [v.length], v));
const qconv = (name: string, xt: 'int8' | 'uint8', x: number[], w: number[], attrs: OrtCase['attrs'], perChannel: boolean, bias: boolean): OrtCase => ({
  name, op: 'QLinearConv', consts: [1, 2, 3, 4, 5, 6, 7, 8], attrs,
  inputs: [
    ints(xt, x, xt === 'int8' ? -128 : 0, xt === 'int8' ? 127 : 255), s(0.02), z(xt, xt === 'int8' ? -5 : 130),
    ints('int8', w, -127, 127), perChannel ? f32([w[0]], Array.from({ length: w[0] }, (_, i) => 0.002 + 0.001 * i)) : s(0.003),
    perChannel ? z('int8', new Array<number>(w[0]).fill(0)) : z('int8', 0), s(0.05), z(xt, xt === 'int8' ? 3 : 120),
    bias ? ints('int32', [w[0]], -3000, 3000) : undefined,
  ],
});
const QLINEAR_CASES: OrtCase[] = [
  qconv('uint8 x, per-channel int8 w, bias, pad 1', 'uint8', [2, 3, 7, 7], [5, 3, 3, 3], { pads: [1, 1, 1, 1] }, true, true),
  qconv('int8 x, per-tensor w, stride 2, no bias', 'int8', [1, 4, 9, 8], [6, 4, 3, 2], { strides: [2, 2], pads: [0, 1, 1, 0] }, false, false),
  qconv('int8 grouped', 'int8', [1, 4, 6, 6], [4, 2, 3, 3], { group: 2 }, true, true),
  {
    name: 'int8, per-column b', op: 'QLinearMatMul', consts: [1, 2, 3, 4, 5, 6, 7],
    inputs: [ints('int8', [5, 20], -128, 127), s(0.05), z('int8', 4), ints('int8', [20, 7], -127, 127), f32([7], [0.01, 0.02, 0.005, 0.01, 0.03, 0.002, 0.01]), z('int8', [0, 0, 0, 0, 0, 0, 0]), s(0.2), z('int8', -10)],
  },
  {
    name: 'uint8', op: 'QLinearMatMul', consts: [1, 2, 3, 4, 5, 6, 7],
    inputs: [ints('uint8', [3, 9], 0, 255), s(0.05), z('uint8', 120), ints('uint8', [9, 4], 0, 255), s(0.01), z('uint8', 128), s(0.3), z('uint8', 100)],
  },
  { name: 'uint8 with zero points', op: 'ConvInteger', inputs: [ints('uint8', [1, 3, 6, 5], 0, 255), ints('uint8', [4, 3, 3, 3], 0, 255), z('uint8', 7), z('uint8', 130)], consts: [1, 2, 3], attrs: { pads: [1, 1, 1, 1] } },
  { name: 'uint8 × int8', op: 'MatMulInteger', inputs: [ints('uint8', [4, 11], 0, 255), ints('int8', [11, 6], -128, 127), z('uint8', 128)], consts: [1, 2] },
];

const GROUPS: Record<string, OrtCase[]> = {
  conv: CONV_CASES, linalg: LINALG_CASES, elementwise: ELEMENTWISE_CASES, pool: POOL_CASES,
  reduce: REDUCE_CASES, shape: SHAPE_CASES, quantize: QUANT_CASES, qlinear: QLINEAR_CASES,
};

for (const [group, cases] of Object.entries(GROUPS)) {
  test(`reference kernels match onnxruntime: ${group}`, async () => {
    for (const c of cases) await compareWithOrt(c);
  });
}
