import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../src/ir/errors.js';
import { Var } from '../../src/train/autograd.js';
import { SoftmaxCrossEntropy } from '../../src/train/loss.js';
import { Rng } from '../../src/ir/random.js';

function refLoss(z: Float32Array | Float64Array, labels: number[], C: number): number {
  let t = 0;
  labels.forEach((l, r) => {
    const row = [...z.subarray(r * C, (r + 1) * C)];
    const m = Math.max(...row);
    t += -(row[l] - m - Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)));
  });
  return t / labels.length;
}

test('softmax cross-entropy: value and gradient vs float64 finite differences', () => {
  const B = 6, C = 7;
  const rng = new Rng(3);
  const z = new Var('z', [B, C], rng.fillUniform(new Float32Array(B * C), -3, 3), new Float32Array(B * C));
  const labels = [0, 6, 3, 3, 1, 5];
  const ce = new SoftmaxCrossEntropy(z);
  ce.setLabels(labels);
  assert.ok(Math.abs(ce.forward() - refLoss(z.data, labels, C)) < 1e-6);
  ce.backward();
  const f64 = Float64Array.from(z.data);
  for (let i = 0; i < B * C; i++) {
    const eps = 1e-4;
    const at = (d: number) => { const t = f64.slice(); t[i] += d; return refLoss(t, labels, C); };
    const num = (at(eps) - at(-eps)) / (2 * eps);
    assert.ok(Math.abs(num - z.grad![i]) < 1e-6, `dz[${i}]: ${z.grad![i]} vs ${num}`);
  }
});

test('softmax cross-entropy is stable for huge logits and counts correct rows', () => {
  const z = new Var('z', [2, 3], Float32Array.from([1e4, -1e4, 0, 3e38, 3e38, -3e38]), new Float32Array(6));
  const ce = new SoftmaxCrossEntropy(z);
  ce.setLabels([0, 2]);
  const l = ce.forward();
  assert.ok(Number.isFinite(l), `loss ${l}`);
  assert.ok(Math.abs(l - (0 + 6e38) / 2) / 3e38 < 1e-6);
  assert.equal(ce.correct(), 1);
  ce.backward();
  assert.ok(z.grad!.every(Number.isFinite));
});

test('padding rows are ignored and bad labels are rejected', () => {
  const z = new Var('z', [4, 3], new Rng(1).fillUniform(new Float32Array(12), -1, 1), new Float32Array(12));
  const ce = new SoftmaxCrossEntropy(z);
  ce.setLabels([2, 1], 0, 2);
  assert.ok(Math.abs(ce.forward() - refLoss(z.data.subarray(0, 6), [2, 1], 3)) < 1e-6);
  ce.backward();
  assert.ok(z.grad!.subarray(6).every((g) => g === 0));
  assert.throws(() => ce.setLabels([3, 0, 0, 0]), (e: Error) => e instanceof NnzipError && /label 3 .*outside 0..2/.test(e.message));
  assert.throws(() => new SoftmaxCrossEntropy(new Var('z', [2, 3, 1])), /must be \[batch, classes\]/);
});
