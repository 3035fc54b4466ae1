// Ops that only change the shape or pass data through: Flatten, Reshape, Squeeze,
// Unsqueeze, Shape, Identity, Dropout (inference), Constant. Outputs share the
// input's data where the values are unchanged (kernels never write their inputs).
import { type Node, attrInt } from '../graph.js';
import { Tensor, sizeOf, fromNumbers, i64 } from '../tensor.js';
import { nodeFail, input, intsFromInputOrAttr, normAxes, shapeStr } from '../util.js';
import { optionalScalar, type RefKernel } from './operands.js';

const flatten: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'input');
  const rank = x.shape.length;
  let axis = attrInt(node, 'axis', 1);
  if (!Number.isInteger(axis) || axis < -rank || axis > rank) nodeFail(node, `axis=${axis} is out of range for a rank-${rank} tensor (allowed ${-rank}..${rank})`);
  if (axis < 0) axis += rank;
  const outer = sizeOf(x.shape.slice(0, axis));
  return [x.reshape([outer, sizeOf(x.shape.slice(axis))])];
};

/** Target shape with 0 (copy the input dim, unless allowzero) and one -1 (inferred). */
function reshapeTarget(node: Node, inShape: number[], target: number[], allowZero: boolean): number[] {
  const out = target.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= inShape.length) nodeFail(node, `shape entry ${i} is 0 (copy the input dim) but the input ${shapeStr(inShape)} has no dim ${i}`);
      return inShape[i];
    }
    if (d < -1 || !Number.isInteger(d)) nodeFail(node, `shape [${target.join(',')}] has an invalid entry ${d}`);
    return d;
  });
  const holes = out.filter((d) => d === -1).length;
  if (holes > 1) nodeFail(node, `shape [${target.join(',')}] has more than one -1`);
  const total = sizeOf(inShape);
  if (holes === 1) {
    const known = out.reduce((p, d) => (d === -1 ? p : p * d), 1);
    if (known === 0 || total % known !== 0) {
      nodeFail(node, `cannot reshape ${shapeStr(inShape)} (${total} values) to [${target.join(',')}]`);
    }
    out[out.indexOf(-1)] = total / known;
  }
  if (sizeOf(out) !== total) nodeFail(node, `cannot reshape ${shapeStr(inShape)} (${total} values) to [${target.join(',')}] (${sizeOf(out)} values)`);
  return out;
}

const reshape: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'data');
  const target = intsFromInputOrAttr(node, inputs, 1, 'shape');
  if (!target) nodeFail(node, 'the target shape (input 1) is missing');
  return [x.reshape(reshapeTarget(node, x.shape, target, attrInt(node, 'allowzero', 0) !== 0))];
};

const squeeze: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'data');
  const given = intsFromInputOrAttr(node, inputs, 1, 'axes');
  const axes = given === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normAxes(node, given, x.shape.length);
  for (const a of axes) {
    if (x.shape[a] !== 1) nodeFail(node, `cannot squeeze axis ${a} of shape ${shapeStr(x.shape)}: its size is ${x.shape[a]}, not 1`);
  }
  return [x.reshape(x.shape.filter((_, i) => !axes.includes(i)))];
};

const unsqueeze: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'data');
  const given = intsFromInputOrAttr(node, inputs, 1, 'axes');
  if (!given) nodeFail(node, 'axes are missing (input 1 or attribute axes)');
  const rank = x.shape.length + given.length;
  const axes = normAxes(node, given, rank);
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : x.shape[j++]);
  return [x.reshape(out)];
};

/** Shape with optional start/end (opset 15): negative counts from the end, then clamped. */
const shape: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'data');
  const rank = x.shape.length;
  const clamp = (v: number) => Math.min(rank, Math.max(0, v < 0 ? v + rank : v));
  const start = clamp(attrInt(node, 'start', 0));
  const end = clamp(attrInt(node, 'end', rank));
  const dims = x.shape.slice(start, Math.max(start, end));
  return [i64([dims.length], dims)];
};

const identity: RefKernel = (node, inputs) => [input(node, inputs, 0, 'input')];

/** Dropout is the identity at inference; the optional mask is all true. */
const dropout: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'data');
  const training = optionalScalar(node, inputs[2], 'training_mode');
  if (training !== undefined && Number(training) !== 0) nodeFail(node, 'training_mode=true is not supported; the reference runtime runs inference only');
  if (node.outputs.length > 1 && node.outputs[1] !== '') return [x, new Tensor('bool', x.shape, new Uint8Array(x.size).fill(1))];
  return [x];
};

/** Constant: value (a tensor) or one of value_float(s) / value_int(s). */
const constant: RefKernel = (node) => {
  const a = node.attrs;
  if (a.value instanceof Tensor) return [a.value];
  if (typeof a.value_float === 'number') return [fromNumbers('float32', [], [a.value_float])];
  if (typeof a.value_int === 'number') return [i64([], [a.value_int])];
  if (Array.isArray(a.value_floats)) return [fromNumbers('float32', [a.value_floats.length], a.value_floats as number[])];
  if (Array.isArray(a.value_ints)) return [i64([a.value_ints.length], a.value_ints as number[])];
  nodeFail(node, 'has no value attribute (value, value_float(s) or value_int(s)) that the reference runtime reads');
};

export const SHAPE_KERNELS: Record<string, RefKernel> = {
  Flatten: flatten,
  Reshape: reshape,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Shape: shape,
  Identity: identity,
  Dropout: dropout,
  Constant: constant,
};
