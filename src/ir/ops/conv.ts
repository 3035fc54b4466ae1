// Convolutions: Conv (incl. grouped and depthwise) and ConvTranspose.
// X is [N, C, spatial...]; Conv W is [M, C/group, k...]; ConvTranspose W is [C, M/group, k...].
import { attrInt, attrInts, type Node } from '../graph.js';
import { registerOp, type ValueType } from '../ops.js';
import { input, nodeFail, shapeStr } from '../util.js';
import { transposeWindow, windowOf, windowOutput } from '../window.js';

const WINDOW_ATTRS = { auto_pad: 'string', dilations: 'ints', kernel_shape: 'ints', pads: 'ints', strides: 'ints' } as const;

/** Common checks of X, W and group; returns the group count. */
function checkConvInputs(node: Node, x: ValueType, w: ValueType): number {
  if (x.shape.length < 3) nodeFail(node, `input ${shapeStr(x.shape)} must be [N, C, spatial...] (rank ≥ 3)`);
  if (w.shape.length !== x.shape.length) {
    nodeFail(node, `weight ${shapeStr(w.shape)} must have the input's rank ${x.shape.length}`);
  }
  const group = attrInt(node, 'group', 1);
  if (!Number.isInteger(group) || group < 1) nodeFail(node, `group=${group} must be a positive integer`);
  if (x.shape[1] % group !== 0) nodeFail(node, `group=${group} does not divide ${x.shape[1]} input channels`);
  return group;
}

/** kernel_shape, when given, must match the weight's spatial dims. */
function kernelOf(node: Node, w: ValueType): number[] {
  const k = w.shape.slice(2);
  const attr = attrInts(node, 'kernel_shape');
  if (attr && shapeStr(attr) !== shapeStr(k)) {
    nodeFail(node, `kernel_shape ${shapeStr(attr)} does not match weight ${shapeStr(w.shape)}`);
  }
  return k;
}

function checkBias(node: Node, b: ValueType | undefined, channels: number): void {
  if (b && (b.shape.length !== 1 || b.shape[0] !== channels)) {
    nodeFail(node, `bias ${shapeStr(b.shape)} must be [${channels}] (one per output channel)`);
  }
}

registerOp({
  op: 'Conv',
  attrs: { ...WINDOW_ATTRS, group: 'int' },
  inputs: [2, 3],
  types: { float: [0, 1, 2], same: [0, 1, 2] },
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    const w = input(node, inputs, 1);
    const group = checkConvInputs(node, x, w);
    const [n, c] = x.shape;
    const m = w.shape[0];
    if (w.shape[1] * group !== c) {
      nodeFail(node, `weight ${shapeStr(w.shape)} expects ${w.shape[1] * group} input channels (${w.shape[1]} × group ${group}), input has ${c}`);
    }
    if (m % group !== 0) nodeFail(node, `group=${group} does not divide ${m} output channels`);
    checkBias(node, inputs[2], m);
    const win = windowOf(node, x.shape.length - 2, kernelOf(node, w));
    return [{ dtype: x.dtype, shape: [n, m, ...windowOutput(node, x.shape.slice(2), win)] }];
  },
});

registerOp({
  op: 'ConvTranspose',
  attrs: { ...WINDOW_ATTRS, group: 'int', output_padding: 'ints', output_shape: 'ints' },
  inputs: [2, 3],
  types: { float: [0, 1, 2], same: [0, 1, 2] },
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    const w = input(node, inputs, 1);
    const group = checkConvInputs(node, x, w);
    const [n, c] = x.shape;
    if (w.shape[0] !== c) nodeFail(node, `weight ${shapeStr(w.shape)} must start with the ${c} input channels`);
    const m = w.shape[1] * group;
    checkBias(node, inputs[2], m);
    const win = windowOf(node, x.shape.length - 2, kernelOf(node, w));
    return [{ dtype: x.dtype, shape: [n, m, ...transposeWindow(node, x.shape.slice(2), win).out] }];
  },
});
