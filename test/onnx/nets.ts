// Small torchvision-style graphs built in the IR, shared by the export tests and the fuzz seeds:
// they cover the ops and attribute forms of the ONNX op table.
import type { Graph } from '../../src/ir/graph.js';
import { Tensor, f32, fromNumbers, i64 } from '../../src/ir/tensor.js';
import { GraphBuilder } from './graph_builder.js';

/** Conv+BN+ReLU, depthwise conv, residual Add, fire-style Concat, Splits, pools, Flatten+Gemm, Softmax. */
export function convNet(opset: number): Graph {
  const b = new GraphBuilder(7);
  const x = b.input('x', ['N', 3, 16, 16]);
  const c1 = b.op1('Conv', [x, b.weight('w1', [8, 3, 3, 3]), b.weight('b1', [8])], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] });
  const bn = b.op1('BatchNormalization', [c1, b.weight('s', [8], 1.5, 0.5), b.weight('bb', [8]), b.weight('m', [8]), b.weight('v', [8], 2, 0.5)], { epsilon: 1e-5 });
  const r1 = b.op1('Relu', [bn]);
  const dw = b.op1('Conv', [r1, b.weight('wd', [8, 1, 3, 3])], { group: 8, strides: [2, 2], pads: [1, 1, 1, 1] });
  const r2 = b.op1('Relu', [dw]);
  const pw = b.op1('Conv', [r2, b.weight('wp', [8, 8, 1, 1])], {});
  const r3 = b.op1('Relu', [b.op1('Add', [pw, r2])]);
  const e1 = b.op1('Conv', [r3, b.weight('we1', [4, 8, 1, 1])]);
  const e3 = b.op1('Conv', [r3, b.weight('we3', [4, 8, 3, 3])], { auto_pad: 'SAME_UPPER' });
  const cat = b.op1('Concat', [e1, e3], { axis: 1 });
  const [s1] = b.op('Split', [cat], { axis: 1, split: [3, 5] }, 2);
  const h = b.op('Split', [cat], { axis: 1 }, 2);
  const t = b.op('Split', [cat], { axis: 1 }, 4);
  const mp = b.op1('MaxPool', [cat], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 });
  const ap = b.op1('AveragePool', [cat], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 });
  const gap = b.op1('GlobalAveragePool', [mp]);
  const fc = b.op1('Gemm', [b.op1('Flatten', [gap], { axis: 1 }), b.weight('wf', [10, 8]), b.weight('bf', [10])], { transB: 1 });
  const sm = b.op1('Softmax', [fc], { axis: 1 });
  return b.build([sm, s1, h[1], t[2], ap, cat], opset, 'N');
}

/** Shape arithmetic and the remaining ops: Transpose, MatMul, (Un)Squeeze, ReduceMean, Clip both forms, ... */
export function miscNet(opset: number): Graph {
  const b = new GraphBuilder(11);
  const x = b.input('x', [2, 4, 6]);
  const mm = b.op1('MatMul', [b.op1('Transpose', [x], { perm: [0, 2, 1] }), b.weight('wm', [4, 5])]);
  const u = b.op1('Unsqueeze', [mm], { axes: [1] });
  const rm = b.op1('ReduceMean', [b.op1('Squeeze', [u], { axes: [1] })], { axes: [2], keepdims: 0 });
  const cl = b.op1('Clip', [rm], { min: -0.1, max: 0.3 });
  const cl2 = b.op1('Clip', [x, b.constant('lo', f32([], [0.2])), b.constant('hi', f32([], [0.7]))]);
  const act = b.op1('Tanh', [b.op1('Sigmoid', [b.op1('LeakyRelu', [mm], { alpha: 0.2 })])]);
  const arith = b.op1('Div', [b.op1('Mul', [b.op1('Sub', [act, b.weight('c5', [5])]), b.weight('c1', [1])]), b.constant('two', f32([], [2]))]);
  const dim0 = b.op1('Unsqueeze', [b.op1('Gather', [b.op1('Shape', [x]), b.constant('zero', i64([], [0]))])], { axes: [0] });
  const rs = b.op1('Reshape', [x, b.op1('Concat', [dim0, b.constant('minus1', i64([1], [-1]))], { axis: 0 })]);
  const cast = b.op1('Cast', [b.op1('Mul', [x, b.constant('ten', f32([], [10]))])], { to: 6 });
  const ga = b.op1('Gather', [x, b.constant('idx', i64([2], [2, 0]))], { axis: 1 });
  const id = b.op1('Identity', [b.op1('Dropout', [x])]);
  const x4 = b.op1('Reshape', [x, b.constant('s4', i64([4], [2, 4, 2, 3]))]);
  const ct = b.op1('ConvTranspose', [x4, b.weight('wt', [4, 3, 3, 3]), b.weight('bt', [3])], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] });
  const all = b.op1('ReduceMean', [x], {});
  return b.build([cl, cl2, arith, rs, cast, ga, id, ct, all, u], opset);
}

/** Slice with negative, clamped and stepped ranges (no reference kernel yet: checked by hand). */
export function sliceNet(opset: number): Graph {
  const b = new GraphBuilder(12);
  const x = b.input('x', [2, 4, 6]);
  const c = (name: string, v: number[]) => b.constant(name, i64([v.length], v));
  const s1 = b.op1('Slice', [x, c('st', [1]), c('en', [5]), c('ax', [2]), c('sp', [2])]);
  const s2 = b.op1('Slice', [x, c('st2', [-1, 0]), c('en2', [-100, 99]), c('ax2', [1, -1]), c('sp2', [-2, 3])]);
  return b.build([s1, s2], opset);
}

/** QDQ: per-tensor activations, per-axis int8 weights (opset ≥ 13). */
export function quantNet(opset: number): Graph {
  const b = new GraphBuilder(13);
  const x = b.input('x', [2, 4, 3, 3]);
  const scale = b.constant('xs', f32([], [0.02]));
  const zp = b.constant('xz', fromNumbers('uint8', [], [128]));
  const q = b.op1('QuantizeLinear', [x, scale, zp]);
  const dq = b.op1('DequantizeLinear', [q, scale, zp]);
  const wq = b.constant('wq', fromNumbers('int8', [4, 4, 1, 1], Array.from({ length: 16 }, (_, i) => (i * 37) % 255 - 127)));
  const w = b.op1('DequantizeLinear', [wq, b.constant('ws', f32([4], [0.01, 0.02, 0.005, 0.03])), b.constant('wz', new Tensor('int8', [4]))], { axis: 0 });
  const y = b.op1('Conv', [dq, w]);
  return b.build([y, q], opset);
}
