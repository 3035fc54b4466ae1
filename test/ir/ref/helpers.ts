// Test helpers for the reference kernels: run one op, seeded random tensors,
// and a closeness check whose failure message prints the shape and the index.
import assert from 'node:assert/strict';
import type { AttrValue, Node } from '../../../src/ir/graph.js';
import { Tensor, f32 } from '../../../src/ir/tensor.js';
import { Rng } from '../../../src/ir/random.js';
import { NnzipError } from '../../../src/ir/errors.js';
import { getRefKernel } from '../../../src/ir/ref/index.js';

export function makeNode(op: string, nInputs: number, attrs: Record<string, AttrValue> = {}, nOutputs = 1): Node {
  return {
    name: `${op.toLowerCase()}0`,
    op,
    inputs: Array.from({ length: nInputs }, (_, i) => `in${i}`),
    outputs: Array.from({ length: nOutputs }, (_, i) => `out${i}`),
    attrs,
  };
}

/** Runs one op's reference kernel; '' optional inputs are passed as undefined. */
export function runOp(op: string, inputs: (Tensor | undefined)[], attrs: Record<string, AttrValue> = {}, nOutputs = 1): Tensor[] {
  const kernel = getRefKernel(op);
  assert.ok(kernel, `no reference kernel for ${op}`);
  const node = makeNode(op, inputs.length, attrs, nOutputs);
  node.inputs = inputs.map((t, i) => (t ? `in${i}` : ''));
  return kernel(node, inputs);
}

export function run1(op: string, inputs: (Tensor | undefined)[], attrs: Record<string, AttrValue> = {}): Tensor {
  return runOp(op, inputs, attrs)[0];
}

export function rand(rng: Rng, shape: number[], lo = -1, hi = 1): Tensor<'float32'> {
  let n = 1;
  for (const d of shape) n *= d;
  return f32(shape, rng.floats(n, lo, hi));
}

function indexOf(shape: readonly number[], flat: number): string {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return `[${idx.join(',')}]`;
}

/**
 * Elementwise |actual − expected| ≤ rtol·(|expected| + rms(expected)): relative for
 * large values, and relative to the tensor's scale for values near zero (where
 * float32 sums cancel).
 */
export function assertClose(actual: Tensor, expected: { shape: readonly number[]; data: ArrayLike<number | bigint> }, rtol = 1e-5, label = 'tensor'): void {
  assert.deepEqual(actual.shape, [...expected.shape], `${label}: shape [${actual.shape}] vs expected [${expected.shape}]`);
  const n = expected.data.length;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += Number(expected.data[i]) ** 2;
  const rms = n ? Math.sqrt(ss / n) : 0;
  for (let i = 0; i < n; i++) {
    const a = Number(actual.data[i]);
    const e = Number(expected.data[i]);
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    const tol = rtol * (Math.abs(e) + rms);
    if (!(Math.abs(a - e) <= tol)) {
      assert.fail(`${label}: shape [${expected.shape}] at ${indexOf(expected.shape, i)} (flat ${i}): got ${a}, expected ${e}, |diff| ${Math.abs(a - e)} > tol ${tol}`);
    }
  }
}

/** Exact equality of dtype, shape and values. */
export function assertExact(actual: Tensor, dtype: string, shape: number[], values: (number | bigint)[], label = 'tensor'): void {
  assert.equal(actual.dtype, dtype, `${label}: dtype`);
  assert.deepEqual(actual.shape, shape, `${label}: shape`);
  assert.deepEqual(Array.from(actual.data as ArrayLike<number | bigint>), values, `${label}: values`);
}

/** Asserts that fn throws an NnzipError whose message matches. */
export function assertBadInput(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NnzipError, `expected NnzipError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

export { Rng };
