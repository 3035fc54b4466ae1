// Pooling: MaxPool, AveragePool (window attrs, ceil_mode, count_include_pad) and
// the global pools (one value per channel).
import type { Node } from '../graph.js';
import { registerOp, type ValueType } from '../ops.js';
import { input, nodeFail, shapeStr } from '../util.js';
import { kernelAttr, windowOf, windowOutput } from '../window.js';

function poolInput(node: Node, inputs: (ValueType | undefined)[]): ValueType {
  const x = input(node, inputs, 0);
  if (x.shape.length < 3) nodeFail(node, `input ${shapeStr(x.shape)} must be [N, C, spatial...] (rank ≥ 3)`);
  return x;
}

function poolShape(node: Node, x: ValueType): number[] {
  const rank = x.shape.length - 2;
  const win = windowOf(node, rank, kernelAttr(node, rank));
  return [x.shape[0], x.shape[1], ...windowOutput(node, x.shape.slice(2), win)];
}

registerOp({
  op: 'MaxPool',
  attrs: {
    auto_pad: 'string', ceil_mode: 'bool', dilations: 'ints', kernel_shape: 'ints', pads: 'ints',
    storage_order: 'bool', strides: 'ints',
  },
  inputs: [1, 1],
  outputs: [1, 2],
  types: { float: [0] },
  infer(node, inputs) {
    const x = poolInput(node, inputs);
    const shape = poolShape(node, x);
    // the optional second output holds flat indices of the maxima
    return [{ dtype: x.dtype, shape }, { dtype: 'int64', shape: [...shape] }];
  },
});

registerOp({
  op: 'AveragePool',
  attrs: { auto_pad: 'string', ceil_mode: 'bool', count_include_pad: 'bool', kernel_shape: 'ints', pads: 'ints', strides: 'ints' },
  inputs: [1, 1],
  types: { float: [0] },
  outputs: [1, 1],
  infer(node, inputs) {
    const x = poolInput(node, inputs);
    return [{ dtype: x.dtype, shape: poolShape(node, x) }];
  },
});

for (const op of ['GlobalAveragePool', 'GlobalMaxPool']) {
  registerOp({
    op,
    attrs: {},
    inputs: [1, 1],
    outputs: [1, 1],
    types: { float: [0] },
    infer(node, inputs) {
      const x = poolInput(node, inputs);
      return [{ dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...x.shape.slice(2).map(() => 1)] }];
    },
  });
}
