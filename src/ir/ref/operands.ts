// What the reference kernels are and what they read and write: the kernel type,
// typed-array kinds, float inputs and outputs of the input's dtype, scalar
// inputs, block copies.
import type { Node } from '../graph.js';
import { Tensor, type AnyData, type DType, isFloat } from '../tensor.js';
import { input, nodeFail, shapeStr } from '../util.js';

/** A kernel maps a node and its inputs ('' optional inputs arrive as undefined) to its outputs, in order. */
export type RefKernel = (node: Node, inputs: (Tensor | undefined)[]) => Tensor[];

/** Typed arrays that hold plain numbers (every dtype but int64). */
export type NumArray = Exclude<AnyData, BigInt64Array>;
export type FloatArray = Float32Array | Float64Array;

/** A float32/float64 input; other dtypes are rejected with the dtype named. */
export function floatInput(node: Node, inputs: (Tensor | undefined)[], i: number, what: string): Tensor<'float32' | 'float64'> {
  const t = input(node, inputs, i, what);
  if (!isFloat(t.dtype)) nodeFail(node, `input ${i} (${what}) is ${t.dtype}; the op takes float32 or float64`);
  return t as Tensor<'float32' | 'float64'>;
}

export function newFloat(dtype: DType, shape: readonly number[]): Tensor<'float32' | 'float64'> {
  return new Tensor(dtype === 'float64' ? 'float64' : 'float32', shape);
}

/** A scalar from a 0-D or 1-element input, or undefined when the input is absent. */
export function optionalScalar(node: Node, t: Tensor | undefined, what: string): number | bigint | undefined {
  if (!t) return undefined;
  if (t.size !== 1) nodeFail(node, `${what} must be a scalar, got shape ${shapeStr(t.shape)}`);
  return t.data[0];
}

/** Copies n elements between typed arrays of the same kind. */
export function copyBlock(dst: AnyData, dstOff: number, src: AnyData, srcOff: number, n: number): void {
  (dst as Float32Array).set((src as Float32Array).subarray(srcOff, srcOff + n), dstOff);
}
