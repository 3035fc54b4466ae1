// Cast: C semantics for float → int, int64 round trips, bool, ONNX codes and names.
import { test } from 'node:test';
import { f32, i64, fromNumbers, Tensor } from '../../../src/ir/tensor.js';
import { run1, assertExact, assertBadInput } from './helpers.js';

test('Cast: float → ints truncate toward zero, wrap in narrow types', () => {
  const x = f32([5], [1.7, -1.7, 2.5, 300, -0.2]);
  assertExact(run1('Cast', [x], { to: 6 }), 'int32', [5], [1, -1, 2, 300, 0]);
  assertExact(run1('Cast', [x], { to: 7 }), 'int64', [5], [1n, -1n, 2n, 300n, 0n]);
  assertExact(run1('Cast', [x], { to: 3 }), 'int8', [5], [1, -1, 2, 44, 0]);
  assertExact(run1('Cast', [x], { to: 'uint8' }), 'uint8', [5], [1, 255, 2, 44, 0]);
  assertExact(run1('Cast', [x], { to: 9 }), 'bool', [5], [1, 1, 1, 1, 1]);
  assertExact(run1('Cast', [f32([2], [0, NaN])], { to: 9 }), 'bool', [2], [0, 1]);
});

test('Cast: int64 → float and narrow ints, float64 → float32 rounding, identity', () => {
  const big = i64([3], [2n ** 40n + 1n, -3, 258]);
  assertExact(run1('Cast', [big], { to: 1 }), 'float32', [3], [2 ** 40, -3, 258]);
  assertExact(run1('Cast', [big], { to: 2 }), 'uint8', [3], [1, 253, 2]);
  const d = new Tensor('float64', [1], Float64Array.of(0.1));
  assertExact(run1('Cast', [d], { to: 1 }), 'float32', [1], [Math.fround(0.1)]);
  const same = fromNumbers('int32', [1], [5]);
  assertExact(run1('Cast', [same], { to: 6 }), 'int32', [1], [5]);
  assertExact(run1('Cast', [new Tensor('bool', [2], Uint8Array.of(0, 1))], { to: 1 }), 'float32', [2], [0, 1]);
});

test('Cast: unsupported targets', () => {
  assertBadInput(() => run1('Cast', [f32([1])], { to: 10 }), /to=10 is not a supported dtype/);
  assertBadInput(() => run1('Cast', [f32([1])]), /to=undefined/);
});
