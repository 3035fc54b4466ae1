// Shape-only ops: Flatten, Reshape, Squeeze, Unsqueeze, Shape, Identity, Dropout, Constant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { f32, i64, Tensor } from '../../../src/ir/tensor.js';
import { run1, runOp, assertExact, assertBadInput } from './helpers.js';

const x = f32([2, 3, 4], Array.from({ length: 24 }, (_, i) => i));

test('Flatten: axis 0, 1, negative, rank', () => {
  assert.deepEqual(run1('Flatten', [x]).shape, [2, 12]);
  assert.deepEqual(run1('Flatten', [x], { axis: 0 }).shape, [1, 24]);
  assert.deepEqual(run1('Flatten', [x], { axis: -1 }).shape, [6, 4]);
  assert.deepEqual(run1('Flatten', [x], { axis: 3 }).shape, [24, 1]);
  assertBadInput(() => run1('Flatten', [x], { axis: 4 }), /axis=4 is out of range/);
});

test('Reshape: 0 copies a dim, -1 is inferred, allowzero keeps a real 0', () => {
  assert.deepEqual(run1('Reshape', [x, i64([2], [0, -1])]).shape, [2, 12]);
  assert.deepEqual(run1('Reshape', [x, i64([3], [-1, 3, 2])]).shape, [4, 3, 2]);
  assert.deepEqual(run1('Reshape', [x, i64([4], [0, 0, 2, 2])]).shape, [2, 3, 2, 2]);
  assertExact(run1('Reshape', [x, i64([1], [24])]), 'float32', [24], Array.from(x.data));
  const empty = new Tensor('float32', [0, 3]);
  assert.deepEqual(run1('Reshape', [empty, i64([2], [3, 0])], { allowzero: 1 }).shape, [3, 0]);
  assert.deepEqual(run1('Reshape', [x], { shape: [4, -1] }).shape, [4, 6]);
  assertBadInput(() => run1('Reshape', [x, i64([2], [-1, -1])]), /more than one -1/);
  assertBadInput(() => run1('Reshape', [x, i64([2], [5, -1])]), /cannot reshape \[2,3,4\] \(24 values\) to \[5,-1\]/);
  assertBadInput(() => run1('Reshape', [x, i64([2], [5, 5])]), /\(25 values\)/);
  assertBadInput(() => run1('Reshape', [x, i64([4], [0, 0, 0, 0])]), /has no dim 3/);
  assertBadInput(() => run1('Reshape', [x]), /target shape \(input 1\) is missing/);
});

test('Squeeze / Unsqueeze: input and attribute axes, negative axes', () => {
  const y = f32([1, 3, 1, 2]);
  assert.deepEqual(run1('Squeeze', [y]).shape, [3, 2]);
  assert.deepEqual(run1('Squeeze', [y, i64([1], [-2])]).shape, [1, 3, 2]);
  assert.deepEqual(run1('Squeeze', [y], { axes: [0] }).shape, [3, 1, 2]);
  assertBadInput(() => run1('Squeeze', [y, i64([1], [1])]), /cannot squeeze axis 1 of shape \[1,3,1,2\]: its size is 3/);
  assert.deepEqual(run1('Unsqueeze', [x, i64([2], [0, -1])]).shape, [1, 2, 3, 4, 1]);
  assert.deepEqual(run1('Unsqueeze', [x], { axes: [2] }).shape, [2, 3, 1, 4]);
  assert.deepEqual(run1('Unsqueeze', [f32([], [5]), i64([1], [0])]).shape, [1]);
  assertBadInput(() => run1('Unsqueeze', [x]), /axes are missing/);
  assertBadInput(() => run1('Unsqueeze', [x, i64([2], [1, 1])]), /repeat an axis/);
});

test('Shape: start and end (negative, clamped)', () => {
  assertExact(run1('Shape', [x]), 'int64', [3], [2n, 3n, 4n]);
  assertExact(run1('Shape', [x], { start: 1 }), 'int64', [2], [3n, 4n]);
  assertExact(run1('Shape', [x], { start: -1 }), 'int64', [1], [4n]);
  assertExact(run1('Shape', [x], { start: 0, end: -1 }), 'int64', [2], [2n, 3n]);
  assertExact(run1('Shape', [x], { start: -10, end: 10 }), 'int64', [3], [2n, 3n, 4n]);
  assertExact(run1('Shape', [x], { start: 2, end: 1 }), 'int64', [0], []);
});

test('Identity, Dropout (with mask), Constant', () => {
  assert.equal(run1('Identity', [x]), x);
  const [d, mask] = runOp('Dropout', [x, f32([], [0.5])], {}, 2);
  assert.equal(d, x);
  assertExact(mask, 'bool', [2, 3, 4], new Array(24).fill(1));
  assertBadInput(() => run1('Dropout', [x, undefined, new Tensor('bool', [], Uint8Array.of(1))]), /training_mode=true is not supported/);
  assertExact(run1('Constant', [], { value: i64([2], [3, 4]) }), 'int64', [2], [3n, 4n]);
  assertExact(run1('Constant', [], { value_float: 1.5 }), 'float32', [], [1.5]);
  assertExact(run1('Constant', [], { value_ints: [1, 2] }), 'int64', [2], [1n, 2n]);
  assertBadInput(() => run1('Constant', [], { value_string: 'x' }), /no value attribute/);
});
