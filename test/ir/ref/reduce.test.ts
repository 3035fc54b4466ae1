// Reductions: axes as attribute or input, keepdims, noop_with_empty_axes.
import { test } from 'node:test';
import { f32, i64 } from '../../../src/ir/tensor.js';
import { run1, rand, assertClose, assertBadInput, Rng } from './helpers.js';

const x = f32([2, 3, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

test('ReduceMean: attribute axes, input axes, keepdims, negative axes', () => {
  assertClose(run1('ReduceMean', [x], { axes: [1] }), { shape: [2, 1, 2], data: [3, 4, 9, 10] });
  assertClose(run1('ReduceMean', [x, i64([1], [1])]), { shape: [2, 1, 2], data: [3, 4, 9, 10] });
  assertClose(run1('ReduceMean', [x], { axes: [-1], keepdims: 0 }), { shape: [2, 3], data: [1.5, 3.5, 5.5, 7.5, 9.5, 11.5] });
  assertClose(run1('ReduceMean', [x], { axes: [0, 2], keepdims: 0 }), { shape: [3], data: [(1 + 2 + 7 + 8) / 4, (3 + 4 + 9 + 10) / 4, (5 + 6 + 11 + 12) / 4] });
  assertClose(run1('ReduceMean', [x]), { shape: [1, 1, 1], data: [6.5] });
  assertClose(run1('ReduceMean', [x], { keepdims: 0 }), { shape: [], data: [6.5] });
  const same = run1('ReduceMean', [x, i64([0], [])], { noop_with_empty_axes: 1 });
  assertClose(same, x);
});

test('ReduceSum / ReduceMax / ReduceMin', () => {
  assertClose(run1('ReduceSum', [x, i64([1], [2])], { keepdims: 0 }), { shape: [2, 3], data: [3, 7, 11, 15, 19, 23] });
  assertClose(run1('ReduceMax', [x], { axes: [0, 1] }), { shape: [1, 1, 2], data: [11, 12] });
  assertClose(run1('ReduceMin', [x], { axes: [2], keepdims: 0 }), { shape: [2, 3], data: [1, 3, 5, 7, 9, 11] });
});

test('ReduceMean over the spatial axes equals GlobalAveragePool (random)', () => {
  const rng = new Rng(40);
  const t = rand(rng, [2, 5, 7, 3]);
  assertClose(run1('ReduceMean', [t], { axes: [2, 3] }), run1('GlobalAveragePool', [t]), 1e-6);
});

test('reductions: bad input', () => {
  assertBadInput(() => run1('ReduceMean', [x], { axes: [3] }), /axes entry=3 is out of range for a rank-3 tensor/);
  assertBadInput(() => run1('ReduceMean', [x], { axes: [1, -2] }), /repeat an axis/);
  assertBadInput(() => run1('ReduceMean', [x, f32([1], [1])]), /must be an integer tensor/);
});
