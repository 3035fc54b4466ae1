// Small helpers shared by the reference kernels: errors that name the node,
// input/attribute access in both the attribute and the input form, axes, strides.
import type { Node } from '../graph.js';
import { NnzipError } from '../errors.js';
import { Tensor, DType, AnyData, toNumbers, isFloat } from '../tensor.js';

/** Typed arrays that hold plain numbers (every dtype but int64). */
export type NumArray = Exclude<AnyData, BigInt64Array>;
export type FloatArray = Float32Array | Float64Array;

/** Throws a bad-input error naming the node, e.g. `node "conv2" (Conv): ...`. */
export function nodeFail(node: Node, message: string): never {
  throw new NnzipError(`node "${node.name}" (${node.op}): ${message}`);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** The i-th input; a missing required input is a bad graph. */
export function input(node: Node, inputs: (Tensor | undefined)[], i: number, what: string): Tensor {
  const t = inputs[i];
  if (!t) nodeFail(node, `input ${i} (${what}) is missing; the op needs it`);
  return t;
}

/** A float32/float64 input; other dtypes are rejected with the dtype named. */
export function floatInput(node: Node, inputs: (Tensor | undefined)[], i: number, what: string): Tensor<'float32' | 'float64'> {
  const t = input(node, inputs, i, what);
  if (!isFloat(t.dtype)) nodeFail(node, `input ${i} (${what}) is ${t.dtype}; the op takes float32 or float64`);
  return t as Tensor<'float32' | 'float64'>;
}

export function newFloat(dtype: DType, shape: readonly number[]): Tensor<'float32' | 'float64'> {
  return new Tensor(dtype === 'float64' ? 'float64' : 'float32', shape);
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

/** Normalises a possibly negative axis against a rank; out of range is a bad graph. */
export function normAxis(node: Node, axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    nodeFail(node, `${what}=${axis} is out of range for a rank-${rank} tensor (allowed ${-rank}..${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/**
 * Integers given either as an attribute or as an (int64) input — the two ONNX
 * forms of Squeeze/Unsqueeze/ReduceMean axes and Split sizes. The input wins.
 */
export function intsFromInputOrAttr(node: Node, inputs: (Tensor | undefined)[], i: number, attr: string): number[] | undefined {
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

/** A scalar from a 0-D or 1-element input, or undefined when the input is absent. */
export function optionalScalar(node: Node, t: Tensor | undefined, what: string): number | bigint | undefined {
  if (!t) return undefined;
  if (t.size !== 1) nodeFail(node, `${what} must be a scalar, got shape ${shapeStr(t.shape)}`);
  return t.data[0];
}

/** Normalised, sorted, duplicate-free axes. */
export function normAxes(node: Node, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => normAxis(node, a, rank, 'axes entry'));
  if (new Set(out).size !== out.length) nodeFail(node, `axes [${axes.join(',')}] repeat an axis`);
  return out.sort((a, b) => a - b);
}

/** Copies n elements between typed arrays of the same kind. */
export function copyBlock(dst: AnyData, dstOff: number, src: AnyData, srcOff: number, n: number): void {
  (dst as Float32Array).set((src as Float32Array).subarray(srcOff, srcOff + n), dstOff);
}

/** Numpy broadcast of several shapes; incompatible shapes are a bad graph. */
export function broadcastShapes(node: Node, shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else nodeFail(node, `shapes ${shapes.map(shapeStr).join(' and ')} cannot be broadcast together (numpy rules)`);
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
