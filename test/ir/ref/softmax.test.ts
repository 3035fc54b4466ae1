// Softmax along any axis, stable for large inputs.
import { test } from 'node:test';
import { f32 } from '../../../src/ir/tensor.js';
import { run1, rand, assertClose, assertBadInput, Rng } from './helpers.js';

function naiveSoftmax(data: ArrayLike<number>, shape: number[], axis: number): Float64Array {
  const out = new Float64Array(data.length);
  const D = shape[axis];
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  for (let f = 0; f < data.length; f++) {
    const base = f - (Math.floor(f / inner) % D) * inner;
    let sum = 0;
    for (let d = 0; d < D; d++) sum += Math.exp(data[base + d * inner]);
    out[f] = Math.exp(data[f]) / sum;
  }
  return out;
}

test('Softmax: by hand, last axis by default', () => {
  const y = run1('Softmax', [f32([1, 3], [1, 2, 3])]);
  const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
  const s = e[0] + e[1] + e[2];
  assertClose(y, { shape: [1, 3], data: e.map((v) => v / s) });
});

test('Softmax: every axis of a random 3-D tensor, negative axes', () => {
  const rng = new Rng(50);
  const x = rand(rng, [3, 4, 5], -3, 3);
  for (const axis of [0, 1, 2, -1, -3]) {
    const a = axis < 0 ? axis + 3 : axis;
    assertClose(run1('Softmax', [x], { axis }), { shape: [3, 4, 5], data: naiveSoftmax(x.data, x.shape, a) }, 1e-6, `axis ${axis}`);
  }
});

test('Softmax: large logits do not overflow', () => {
  assertClose(run1('Softmax', [f32([2], [1000, 1000])]), { shape: [2], data: [0.5, 0.5] });
});

test('Softmax: bad axis', () => {
  assertBadInput(() => run1('Softmax', [f32([2, 2])], { axis: 2 }), /axis=2 is out of range for a rank-2 tensor/);
});
