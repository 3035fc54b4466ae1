// Helpers every stage that reads IR nodes shares (shape inference, the
// reference kernels, the compiler, the runtime): errors that name the node,
// required inputs, axes, Slice's clamping, row-major strides and numpy
// broadcasting.
import { NnzipError } from './errors.js';
import type { Node } from './graph.js';
import { isFloat, toNumbers, type Tensor } from './tensor.js';

/** Throws a bad-input error naming the node: `node "conv2" (Conv): <message>`. */
export function nodeFail(node: Node, message: string): never {
  throw new NnzipError(`node "${node.name}" (${node.op}): ${message}`);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** The i-th input (a tensor, or a type in shape inference); a missing required input is a bad graph. */
export function input<T>(node: Node, inputs: readonly (T | undefined)[], i: number, what = `"${node.inputs[i] ?? ''}"`): T {
  const t = inputs[i];
  if (t === undefined) nodeFail(node, `input ${i} (${what}) is missing; the op needs it`);
  return t;
}

/** Integer Div by a zero element is undefined in ONNX: refused, in constant folding and in the reference kernel alike. */
export function checkNoZero(node: Node, divisor: Tensor): void {
  for (let i = 0; i < divisor.size; i++) {
    if (divisor.data[i] == 0) nodeFail(node, `integer division by zero (divisor element ${i})`);
  }
}

/** Normalises a possibly negative axis into [0, rank); out of range is a bad graph. */
export function normAxis(node: Node, axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    nodeFail(node, `${what}=${axis} is out of range for a rank-${rank} tensor (use ${-rank}..${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalised axes in the given order (a permutation keeps its meaning); a repeated axis is a bad graph. */
export function normAxes(node: Node, axes: readonly number[], rank: number, what = 'axes'): number[] {
  const out = axes.map((a) => normAxis(node, a, rank, `${what} entry`));
  if (new Set(out).size !== out.length) nodeFail(node, `${what} [${axes.join(',')}] repeat an axis`);
  return out;
}

/** One sliced axis: first index, step, and how many elements are taken. */
export interface SliceAxis {
  axis: number;
  start: number;
  step: number;
  len: number;
}

/** Start / step / length per axis with the ONNX clamping rules. */
export function sliceAxis(node: Node, axis: number, dim: number, start: number, end: number, step: number): SliceAxis {
  if (!Number.isInteger(step) || step === 0) nodeFail(node, `steps entry ${step} for axis ${axis} must be a non-zero integer`);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, 0), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  return { axis, start: s, step, len: Math.max(0, Math.ceil((e - s) / step)) };
}

/**
 * Integers given either as an attribute or as an (int64) input — the two ONNX
 * forms of Squeeze/Unsqueeze/ReduceMean axes and Split sizes. The input wins.
 */
export function intsFromInputOrAttr(node: Node, inputs: readonly (Tensor | undefined)[], i: number, attr: string): number[] | undefined {
  const t = inputs[i];
  if (t) {
    if (isFloat(t.dtype)) nodeFail(node, `input ${i} (${attr}) must be an integer tensor, got ${t.dtype}`);
    return toNumbers(t);
  }
  const v = node.attrs[attr];
  if (v === undefined) return undefined;
  if (typeof v === 'number') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  nodeFail(node, `attribute ${attr} must be a list of ints`);
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Numpy (multidirectional) broadcast of several shapes; incompatible shapes are a bad graph. */
export function broadcastShapes(node: Node, shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else nodeFail(node, `shapes ${shapes.map(shapeStr).join(' and ')} cannot be broadcast together (dimension ${o}: ${out[o]} vs ${d})`);
    }
  }
  return out;
}

/** Strides of `shape` read as `outShape` under broadcasting (0 where a dim is broadcast). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const out = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const o = outShape.length - shape.length + i;
    out[o] = shape[i] === 1 ? 0 : own[i];
  }
  return out;
}

/**
 * Walks an output shape row by row (the last dim is the row) and calls
 * `row(outOffset, offsets)` with each operand's offset; the callback runs its
 * own inner loop, so the per-element cost stays a plain loop.
 */
export function forEachRow(outShape: readonly number[], strides: readonly number[][], row: (outOffset: number, offsets: number[]) => void): void {
  const rank = outShape.length;
  const n = rank === 0 ? 1 : outShape[rank - 1];
  let total = 1;
  for (const d of outShape) total *= d;
  if (total === 0) return;
  const rows = total / n;
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  const offs = strides.map(() => 0);
  for (let r = 0; r < rows; r++) {
    row(r * n, offs);
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      for (let k = 0; k < offs.length; k++) offs[k] += strides[k][d];
      if (idx[d] < outShape[d]) break;
      for (let k = 0; k < offs.length; k++) offs[k] -= strides[k][d] * outShape[d];
      idx[d] = 0;
    }
  }
}

/** The stride of the last dim for each operand (0 when broadcast). */
export function lastStrides(strides: readonly number[][]): number[] {
  return strides.map((s) => (s.length === 0 ? 0 : s[s.length - 1]));
}
