// BatchNormalization (inference) against the formula.
import { test } from 'node:test';
import { f32 } from '../../../src/ir/tensor.js';
import { run1, rand, assertClose, assertBadInput, Rng } from './helpers.js';

test('BatchNormalization: formula per channel, random NCHW and NC inputs', () => {
  const rng = new Rng(60);
  for (const shape of [[2, 3, 4, 5], [4, 3]]) {
    const x = rand(rng, shape);
    const [scale, bias, mean] = [rand(rng, [3]), rand(rng, [3]), rand(rng, [3])];
    const variance = rand(rng, [3], 0.1, 2);
    const eps = 1e-3;
    const inner = shape.slice(2).reduce((p, d) => p * d, 1);
    const exp = Float64Array.from(x.data, (v, i) => {
      const c = Math.floor(i / inner) % 3;
      return ((v - mean.data[c]) / Math.sqrt(variance.data[c] + eps)) * scale.data[c] + bias.data[c];
    });
    assertClose(run1('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: eps }), { shape, data: exp }, 1e-5, `BN [${shape}]`);
  }
});

test('BatchNormalization: bad input', () => {
  const p = f32([3], [1, 1, 1]);
  assertBadInput(() => run1('BatchNormalization', [f32([1, 2, 2, 2]), p, p, p, p]), /scale must be float32 \[2\], got float32 \[3\]/);
  assertBadInput(() => run1('BatchNormalization', [f32([1, 3]), p, p, p, p], { training_mode: 1 }), /training_mode=1 is not supported/);
  assertBadInput(() => run1('BatchNormalization', [f32([1, 3]), p, p, p]), /input 4 \(input_var\) is missing/);
});
