// Convolutions: Conv (incl. grouped and depthwise) and ConvTranspose.
// X is [N, C, spatial...]; Conv W is [M, C/group, k...]; ConvTranspose W is [C, M/group, k...].
import type { Node } from '../graph.js';
import { registerOp, type ValueType } from '../ops.js';
import { input, intAttr, intsAttr, nodeFail, optInput, shapeStr } from './util.js';
import { windowOf, windowOutput, type Window } from './window.js';

const WINDOW_ATTRS = { auto_pad: 'string', dilations: 'ints', kernel_shape: 'ints', pads: 'ints', strides: 'ints' } as const;

/** Common checks of X, W and group; returns the group count. */
function checkConvInputs(node: Node, x: ValueType, w: ValueType): number {
  if (x.shape.length < 3) nodeFail(node, `input ${shapeStr(x.shape)} must be [N, C, spatial...] (rank ≥ 3)`);
  if (w.shape.length !== x.shape.length) {
    nodeFail(node, `weight ${shapeStr(w.shape)} must have the input's rank ${x.shape.length}`);
  }
  const group = intAttr(node, 'group', 1);
  if (!Number.isInteger(group) || group < 1) nodeFail(node, `group=${group} must be a positive integer`);
  if (x.shape[1] % group !== 0) nodeFail(node, `group=${group} does not divide ${x.shape[1]} input channels`);
  return group;
}

/** kernel_shape, when given, must match the weight's spatial dims. */
function kernelOf(node: Node, w: ValueType): number[] {
  const k = w.shape.slice(2);
  const attr = intsAttr(node, 'kernel_shape');
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
    checkBias(node, optInput(inputs, 2), m);
    const win = windowOf(node, x.shape.length - 2, kernelOf(node, w));
    return [{ dtype: x.dtype, shape: [n, m, ...windowOutput(node, x.shape.slice(2), win)] }];
  },
});

/** ConvTranspose output spatial sizes (ONNX formula; output_shape wins when given). */
function transposedOutput(node: Node, spatial: number[], win: Window): number[] {
  const rank = spatial.length;
  const outPad = intsAttr(node, 'output_padding') ?? new Array<number>(rank).fill(0);
  if (outPad.length !== rank) nodeFail(node, `output_padding has ${outPad.length} values, expected ${rank}`);
  outPad.forEach((p, i) => {
    if (p < 0 || (p >= win.strides[i] && p >= win.dilations[i])) {
      nodeFail(node, `output_padding ${shapeStr(outPad)} must be smaller than the stride or the dilation`);
    }
  });
  const given = intsAttr(node, 'output_shape');
  if (given) {
    const sp = given.length === rank + 2 ? given.slice(2) : given;
    if (sp.length !== rank) nodeFail(node, `output_shape ${shapeStr(given)} must have ${rank} spatial values`);
    return sp;
  }
  return spatial.map((inSize, i) => {
    const span = (win.kernel[i] - 1) * win.dilations[i] + 1;
    const out = win.autoPad === 'SAME_UPPER' || win.autoPad === 'SAME_LOWER'
      ? inSize * win.strides[i]
      : win.strides[i] * (inSize - 1) + outPad[i] + span - (win.autoPad === 'VALID' ? 0 : win.pads[i] + win.pads[i + rank]);
    if (out < 1) nodeFail(node, `spatial dim ${i} would be ${out}; check pads ${shapeStr(win.pads)}`);
    return out;
  });
}

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
    checkBias(node, optInput(inputs, 2), m);
    const win = windowOf(node, x.shape.length - 2, kernelOf(node, w));
    return [{ dtype: x.dtype, shape: [n, m, ...transposedOutput(node, x.shape.slice(2), win)] }];
  },
});
