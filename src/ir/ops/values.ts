// Values in shape inference: the type an output shares with an input, inputs
// that must be constant (shapes, axes), and the small constant folding that
// shape arithmetic needs.
import type { ValueType } from '../ops.js';
import type { Node } from '../graph.js';
import { Tensor, fromNumbers, sizeOf, toNumbers, type DType } from '../tensor.js';
import { nodeFail, stridesOf } from '../util.js';

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

/** Constant folding in inference is for shape arithmetic; bulk weight math is simplify()'s job. */
export const FOLD_LIMIT = 1 << 16;

/** Whether all given inputs are constants small enough to fold. */
export function foldable(inputs: (ValueType | undefined)[]): boolean {
  return inputs.every((t) => t === undefined || (t.value !== undefined && t.value.size <= FOLD_LIMIT));
}

/** Elementwise binary op on constant values with broadcasting (numbers; int64 via Number). */
export function foldBinary(a: Tensor, b: Tensor, outShape: number[], dtype: DType, f: (x: number, y: number) => number): Tensor {
  const av = toNumbers(a);
  const bv = toNumbers(b);
  const n = sizeOf(outShape);
  const rank = outShape.length;
  const as = padStrides(a.shape, rank);
  const bs = padStrides(b.shape, rank);
  const os = stridesOf(outShape);
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
  const s = stridesOf(shape);
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
