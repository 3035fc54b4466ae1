// The Slice reference kernel: hand-checked cases, onnxruntime on seeded inputs,
// the attribute form of opset < 10, and bad input.
import { test } from 'node:test';
import { Rng } from '../../../src/ir/random.js';
import { f32, i64, Tensor } from '../../../src/ir/tensor.js';
import { assertBadInput, assertExact, rand, run1, runOp } from './helpers.js';
import { compareWithOrt } from './ort_helpers.js';

const iota = (shape: number[]): Tensor<'float32'> => f32(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i));

test('Slice: starts/ends/axes/steps inputs, negative indices and clamping', () => {
  const x = iota([3, 4]);
  assertExact(run1('Slice', [x, i64([2], [0, 1]), i64([2], [2, 3])]), 'float32', [2, 2], [1, 2, 5, 6]);
  // axes given out of order, negative start, INT64_MAX end
  assertExact(run1('Slice', [x, i64([2], [-1, 1]), i64([2], [9223372036854775807n, 3]), i64([2], [1, 0])]), 'float32', [2, 1], [7, 11]);
  // negative step walks backwards; end -5 clamps to "before the first"
  assertExact(run1('Slice', [x, i64([1], [-1]), i64([1], [-5]), i64([1], [1]), i64([1], [-2])]), 'float32', [3, 2], [3, 1, 7, 5, 11, 9]);
  // empty result
  assertExact(run1('Slice', [x, i64([1], [2]), i64([1], [1]), i64([1], [0])]), 'float32', [0, 4], []);
  // int64 data
  assertExact(run1('Slice', [i64([4], [5, 6, 7, 8]), i64([1], [1]), i64([1], [3])]), 'int64', [2], [6n, 7n]);
});

test('Slice: the attribute form (opset < 10)', () => {
  const x = iota([2, 3]);
  assertExact(runOp('Slice', [x], { starts: [1], ends: [3], axes: [1] })[0], 'float32', [2, 2], [1, 2, 4, 5]);
});

test('Slice: bad input names the node and the problem', () => {
  const x = iota([2, 3]);
  assertBadInput(() => run1('Slice', [x, i64([1], [0]), i64([1], [1]), i64([1], [0]), i64([1], [0])]), /node "slice0" \(Slice\): steps entry 0 .* non-zero/);
  assertBadInput(() => run1('Slice', [x, i64([2], [0, 0]), i64([1], [1])]), /must have the same length/);
  assertBadInput(() => run1('Slice', [x, i64([1], [0]), i64([1], [1]), i64([1], [5])]), /axes entry=5 is out of range/);
  assertBadInput(() => run1('Slice', [x, i64([2], [0, 0]), i64([2], [1, 1]), i64([2], [1, -1])]), /repeat an axis/);
  assertBadInput(() => runOp('Slice', [x], {}), /starts and ends are required/);
});

test('Slice matches onnxruntime on seeded inputs', async () => {
  const rng = new Rng(7);
  const x = rand(rng, [2, 5, 6, 7]);
  const cases: [string, number[], number[], number[], number[]][] = [
    ['inner window', [1, 2], [4, 6], [2, 3], [1, 2]],
    ['reverse channels', [-1], [-100], [1], [-1]],
    ['strided everything', [0, 0, 1, 6], [2, 5, 6, -1], [0, 1, 2, 3], [1, 2, 3, -2]],
  ];
  for (const [name, starts, ends, axes, steps] of cases) {
    await compareWithOrt({
      name: `slice ${name}`, op: 'Slice', consts: [1, 2, 3, 4],
      inputs: [x, i64([starts.length], starts), i64([ends.length], ends), i64([axes.length], axes), i64([steps.length], steps)],
    });
  }
});
