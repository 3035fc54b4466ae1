// The integer step's constants: the input zero point folded into the bias, uint8
// read as x − 128, a fused ReLU as integer bounds, and the int32 overflow proof.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intLayer } from '../../src/compile/int_layer.js';
import { requantizeValue } from '../../src/ir/quant.js';

test('intLayer folds the input zero point into the bias and keeps the arithmetic of Σ(x − zx)·w', () => {
  const w = [3, -2, 5, 1, 0, -7]; // 2 channels × K 3
  const l = intLayer({
    input: { dtype: 'uint8', scale: 0.5, zero: 130 }, weight: { q: w, zero: [0], scale: [0.25, 0.125] }, channels: 2, K: 3,
    bias: { float: [1.25, -0.5] }, output: { dtype: 'int8', scale: 0.1, zero: -3, clamp: [0, Infinity] },
  });
  assert.ok(typeof l !== 'string', String(l));
  const x = [200, 17, 255];
  for (let c = 0; c < 2; c++) {
    // the kernel: Σ (x − 128)·w + bias; the meaning: Σ (x − 130)·w + round(b / (0.5 · w_scale))
    const kernel: number = x.reduce((s, v, k) => s + (v - 128) * w[c * 3 + k], 0) + l.bias[c];
    const meaning: number = x.reduce((s, v, k) => s + (v - 130) * w[c * 3 + k], 0) + Math.round([1.25, -0.5][c] / (0.5 * [0.25, 0.125][c]));
    assert.equal(kernel, meaning, `channel ${c}`);
  }
  const e = l.epilogue!;
  assert.equal(e.lo, -3, 'ReLU: the lower bound is the output zero point');
  assert.equal(e.hi, 127);
  // requantization ≈ acc · 0.5·w_scale / 0.1
  assert.ok(Math.abs(requantizeValue(1000, e.mult[0], e.shift) - 1250) <= 1);
  assert.ok(Math.abs(requantizeValue(1000, e.mult[1], e.shift) - 625) <= 1);
});

test('intLayer refuses what the integer kernels cannot run exactly: wide weights, possible int32 overflow', () => {
  const input = { dtype: 'int8' as const, scale: 1, zero: 0 };
  assert.match(String(intLayer({ input, weight: { q: [200, 1], zero: [0], scale: [1] }, channels: 1, K: 2 })), /weight 200 \(channel 0\) is outside int8/);
  const K = 140000, big = new Array(K).fill(127); // 128 · 127 · 140000 > 2^31
  assert.match(String(intLayer({ input, weight: { q: big, zero: [0], scale: [1] }, channels: 1, K })), /int32 accumulators could overflow/);
  const ok = intLayer({ input, weight: { q: big.slice(0, 1000), zero: [0], scale: [1] }, channels: 1, K: 1000 });
  assert.ok(typeof ok !== 'string' && ok.bound === 128 * 127 * 1000);
});
