// Helpers shared by the op schemas: node-naming errors, input access, axes,
// broadcasting and small constant evaluation (values that shapes depend on).
import { fail } from '../errors.js';
import type { AttrValue, Node } from '../graph.js';
import type { ValueType } from '../ops.js';
import { Tensor, fromNumbers, sizeOf, toNumbers, type DType } from '../tensor.js';

/** Throws a bad-input error naming the node: `node "conv2" (Conv): <message>`. */
export function nodeFail(node: Node, message: string): never {
  fail(`node "${node.name}" (${node.op}): ${message}`);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** A required input's type; fails when it is missing. */
export function input(node: Node, inputs: (ValueType | undefined)[], i: number): ValueType {
  const t = inputs[i];
  if (!t) nodeFail(node, `input ${i} ("${node.inputs[i] ?? ''}") is missing or has no known type`);
  return t;
}

/** An optional input's type ('' or absent = undefined). */
export function optInput(inputs: (ValueType | undefined)[], i: number): ValueType | undefined {
  return inputs[i];
}

/** Integer attribute with a default (schemas have already checked the kind). */
export function intAttr(node: Node, key: string, dflt: number): number {
  const v = node.attrs[key];
  return typeof v === 'number' ? v : dflt;
}

export function intsAttr(node: Node, key: string): number[] | undefined {
  const v: AttrValue | undefined = node.attrs[key];
  return Array.isArray(v) ? (v as number[]) : undefined;
}

export function stringAttr(node: Node, key: string, dflt: string): string {
  const v = node.attrs[key];
  return typeof v === 'string' ? v : dflt;
}

/** Normalises a possibly negative axis into [0, rank). */
export function normAxis(node: Node, axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    nodeFail(node, `${what}=${axis} is out of range for a rank-${rank} input (use -${rank}..${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalises a list of axes; fails on duplicates. */
export function normAxes(node: Node, axes: number[], rank: number, what = 'axes'): number[] {
  const out = axes.map((a) => normAxis(node, a, rank, what));
  if (new Set(out).size !== out.length) nodeFail(node, `${what}=[${axes.join(',')}] repeats an axis`);
  return out;
}

/** Numpy (multidirectional) broadcasting of two shapes. */
export function broadcast(node: Node, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      nodeFail(node, `shapes ${shapeStr(a)} and ${shapeStr(b)} do not broadcast (dimension ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Values of an input that must be constant (shapes, axes); undefined when absent. */
export function constInts(node: Node, inputs: (ValueType | undefined)[], i: number, what: string): number[] | undefined {
  if (!node.inputs[i]) return undefined;
  const t = inputs[i];
  if (!t) nodeFail(node, `${what} input "${node.inputs[i]}" has no known type`);
  if (!t.value) nodeFail(node, `${what} input "${node.inputs[i]}" must be a constant (nnzip needs static shapes)`);
  return toNumbers(t.value);
}

/** The same type for every output position, e.g. unary elementwise ops. */
export function sameAs(t: ValueType, value?: Tensor): ValueType {
  return value ? { dtype: t.dtype, shape: [...t.shape], value } : { dtype: t.dtype, shape: [...t.shape] };
}

/** Integer Div by a zero element is undefined in ONNX: refused, in folding and in the reference kernel alike. */
export function checkNoZero(node: Node, divisor: Tensor): void {
  for (let i = 0; i < divisor.size; i++) {
    if (divisor.data[i] == 0) nodeFail(node, `integer division by zero (divisor element ${i})`);
  }
}

/** Constant folding in inference is for shape arithmetic; bulk weight math is simplify()'s job. */
export const FOLD_LIMIT = 1 << 16;

/** Whether all given inputs are constants small enough to fold. */
export function foldable(inputs: (ValueType | undefined)[]): boolean {
  return inputs.every((t) => t === undefined || (t.value !== undefined && t.value.size <= FOLD_LIMIT));
}

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Elementwise binary op on constant values with broadcasting (numbers; int64 via Number). */
export function foldBinary(a: Tensor, b: Tensor, outShape: number[], dtype: DType, f: (x: number, y: number) => number): Tensor {
  const av = toNumbers(a);
  const bv = toNumbers(b);
  const n = sizeOf(outShape);
  const rank = outShape.length;
  const as = padStrides(a.shape, rank);
  const bs = padStrides(b.shape, rank);
  const os = strides(outShape);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      const c = Math.floor(i / os[d]) % outShape[d];
      ia += c * as[d];
      ib += c * bs[d];
    }
    out[i] = f(av[ia], bv[ib]);
  }
  return fromNumbers(dtype, outShape, out);
}

/** Strides of `shape` right-aligned to `rank`, 0 on broadcast (size-1 or missing) dims. */
function padStrides(shape: readonly number[], rank: number): number[] {
  const s = strides(shape);
  const out = new Array<number>(rank).fill(0);
  for (let i = 0; i < shape.length; i++) out[rank - shape.length + i] = shape[i] === 1 ? 0 : s[i];
  return out;
}

/** Gathers elements of `t` by flat source index into a new tensor of `shape`. */
export function pick(t: Tensor, shape: number[], srcIndex: (i: number) => number): Tensor {
  const n = sizeOf(shape);
  const out = new Tensor(t.dtype, shape);
  const src = t.data as ArrayLike<unknown> as unknown[];
  const dst = out.data as ArrayLike<unknown> as unknown[];
  for (let i = 0; i < n; i++) dst[i] = src[srcIndex(i)];
  return out;
}
