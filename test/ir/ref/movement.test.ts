// Transpose, Concat, Split, Gather on several dtypes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { f32, i64, fromNumbers } from '../../../src/ir/tensor.js';
import { run1, runOp, rand, assertExact, assertBadInput, Rng } from './helpers.js';

test('Transpose: default reverses, any permutation matches index arithmetic', () => {
  const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  assertExact(run1('Transpose', [x]), 'float32', [3, 2], [1, 4, 2, 5, 3, 6]);
  const rng = new Rng(70);
  const t = rand(rng, [2, 3, 4, 5]);
  const perm = [2, 0, 3, 1];
  const y = run1('Transpose', [t], { perm });
  assert.deepEqual(y.shape, [4, 2, 5, 3]);
  for (let a = 0; a < 4; a++) for (let b = 0; b < 2; b++) for (let c = 0; c < 5; c++) for (let d = 0; d < 3; d++) {
    // y[a,b,c,d] = t[b,d,a,c]
    assert.equal(y.data[((a * 2 + b) * 5 + c) * 3 + d], t.data[((b * 3 + d) * 4 + a) * 5 + c]);
  }
  assertExact(run1('Transpose', [i64([2, 2], [1, 2, 3, 4])]), 'int64', [2, 2], [1n, 3n, 2n, 4n]);
  assertBadInput(() => run1('Transpose', [x], { perm: [0, 0] }), /perm=\[0,0\] is not a permutation/);
});

test('Concat: along each axis, negative axis, int64 (shape vectors)', () => {
  const a = f32([2, 2], [1, 2, 3, 4]);
  const b = f32([2, 1], [5, 6]);
  assertExact(run1('Concat', [a, b], { axis: 1 }), 'float32', [2, 3], [1, 2, 5, 3, 4, 6]);
  assertExact(run1('Concat', [a, f32([1, 2], [7, 8])], { axis: -2 }), 'float32', [3, 2], [1, 2, 3, 4, 7, 8]);
  assertExact(run1('Concat', [i64([1], [-1]), i64([2], [3, 4])], { axis: 0 }), 'int64', [3], [-1n, 3n, 4n]);
  assertBadInput(() => run1('Concat', [a, b], { axis: 0 }), /differ outside axis 0/);
  assertBadInput(() => run1('Concat', [a, b]), /axis attribute is missing/);
});

test('Split: sizes as input or attribute, num_outputs with a smaller last chunk, equal parts', () => {
  const x = f32([2, 5], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const [p, q] = runOp('Split', [x, i64([2], [2, 3])], { axis: 1 }, 2);
  assertExact(p, 'float32', [2, 2], [0, 1, 5, 6]);
  assertExact(q, 'float32', [2, 3], [2, 3, 4, 7, 8, 9]);
  const [r, s] = runOp('Split', [x], { axis: -1, split: [4, 1] }, 2);
  assertExact(r, 'float32', [2, 4], [0, 1, 2, 3, 5, 6, 7, 8]);
  assertExact(s, 'float32', [2, 1], [4, 9]);
  const parts = runOp('Split', [x], { axis: 1, num_outputs: 3 }, 3);
  assert.deepEqual(parts.map((t) => t.shape), [[2, 2], [2, 2], [2, 1]]);
  const rows = runOp('Split', [x], {}, 2);
  assertExact(rows[1], 'float32', [1, 5], [5, 6, 7, 8, 9]);
  assertBadInput(() => runOp('Split', [x], { axis: 1 }, 2), /does not split into 2 equal parts/);
  assertBadInput(() => runOp('Split', [x, i64([2], [2, 2])], { axis: 1 }, 2), /summing to 5/);
});

test('Gather: axis 0 and 1, negative indices, scalar index, int32 indices', () => {
  const x = f32([3, 2], [1, 2, 3, 4, 5, 6]);
  assertExact(run1('Gather', [x, i64([2], [2, -3])]), 'float32', [2, 2], [5, 6, 1, 2]);
  assertExact(run1('Gather', [x, i64([], [1])], { axis: 1 }), 'float32', [3], [2, 4, 6]);
  assertExact(run1('Gather', [x, fromNumbers('int32', [2, 1], [0, 1])], { axis: -1 }), 'float32', [3, 2, 1], [1, 2, 3, 4, 5, 6]);
  assertExact(run1('Gather', [i64([4], [1, 3, 28, 28]), i64([], [0])]), 'int64', [], [1n]);
  assertBadInput(() => run1('Gather', [x, i64([1], [3])]), /index 3 \(element 0\) is out of range for axis 0 of size 3/);
  assertBadInput(() => run1('Gather', [x, f32([1], [0])]), /indices must be int32 or int64/);
});
