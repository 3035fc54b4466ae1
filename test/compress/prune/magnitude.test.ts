import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyMask, globalMagnitudeMasks, hanMask, hanThreshold, magnitudeMask, maskDensity, thresholdMask,
} from '../../../src/compress/prune/magnitude.js';
import { NnzipError } from '../../../src/ir/errors.js';
import { rng, SIZES, sparseWeights } from '../../format/rng.js';

/** Reference: sort indices by (|w| descending, index ascending), keep the first k. */
function referenceMask(w: ArrayLike<number>, k: number): number[] {
  const order = Array.from({ length: w.length }, (_, i) => i).sort((a, b) => Math.abs(w[b]) - Math.abs(w[a]) || a - b);
  const mask = new Array<number>(w.length).fill(0);
  for (const i of order.slice(0, k)) mask[i] = 1;
  return mask;
}

test('keeps exactly round(density·n) largest magnitudes (sizes 0, 1, 7, 1000, seeded)', () => {
  const r = rng(1);
  for (const n of SIZES) {
    const w = sparseWeights(r, n, 1);
    for (const density of [0.01, 0.08, 0.5, 0.999, 1]) {
      const mask = magnitudeMask(w, density);
      assert.deepEqual([...mask], referenceMask(w, Math.round(density * n)), `n ${n} density ${density}`);
    }
  }
});

test('ties are broken by index, so the count stays exact', () => {
  const w = Float32Array.from([0.5, -0.5, 0.1, 0.5, -0.5, 0.5, 0, 0.5]);
  assert.deepEqual([...magnitudeMask(w, 0.5)], [1, 1, 0, 1, 1, 0, 0, 0]);
  const quantized = Float32Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 5) - 2); // many ties
  const m = magnitudeMask(quantized, 0.3);
  assert.equal(m.reduce((s, v) => s + v, 0), 300);
  assert.deepEqual([...m], referenceMask(quantized, 300));
});

test("Han's rule keeps |w| > quality × std", () => {
  const r = rng(2);
  const w = sparseWeights(r, 1000, 1);
  const mean = w.reduce((s, v) => s + v, 0) / w.length;
  const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
  for (const q of [0, 0.5, 1, 2]) {
    assert.ok(Math.abs(hanThreshold(w, q) - q * std) < 1e-9);
    const mask = hanMask(w, q);
    w.forEach((v, i) => assert.equal(mask[i], Math.abs(v) > q * std ? 1 : 0));
  }
  assert.equal(hanThreshold(new Float32Array(0), 1), 0);
  assert.throws(() => hanThreshold(w, -1), /option quality=-1/);
  assert.throws(() => thresholdMask(w, NaN), /threshold NaN/);
});

test('global pruning keeps the largest magnitudes across tensors to an overall density', () => {
  const r = rng(3);
  const tensors = [sparseWeights(r, 1000, 1, 0.1), sparseWeights(r, 7, 1, 1), sparseWeights(r, 300, 1, 0.02), new Float32Array(0)];
  const flat = tensors.flatMap((t) => [...t]);
  for (const density of [0.05, 0.2, 1]) {
    const masks = globalMagnitudeMasks(tensors, density);
    assert.deepEqual(masks.flatMap((m) => [...m]), referenceMask(flat, Math.round(density * flat.length)));
    masks.forEach((m, i) => assert.equal(m.length, tensors[i].length));
  }
  const masks = globalMagnitudeMasks(tensors, 0.2);
  assert.ok(maskDensity(masks[1]) > maskDensity(masks[2]), 'large-scale tensor keeps more');
});

test('applyMask zeroes pruned weights; maskDensity counts kept ones', () => {
  const w = Float32Array.from([1, -2, 3, -4]);
  const m = Uint8Array.from([1, 0, 0, 1]);
  assert.deepEqual([...applyMask(w, m)], [1, 0, 0, -4]);
  assert.equal(maskDensity(m), 0.5);
  assert.throws(() => applyMask(w, m.subarray(1)), /mask of 3 for 4 weights/);
});

test('density outside (0, 1] and NaN weights are NnzipErrors naming density', () => {
  const w = Float32Array.from([1, 2, 3]);
  for (const d of [0, -0.1, 1.5, NaN]) {
    assert.throws(() => magnitudeMask(w, d), (e: unknown) => e instanceof NnzipError && new RegExp(`option density=${d} is outside \\(0, 1\\]`).test(e.message));
    assert.throws(() => globalMagnitudeMasks([w], d), /option density=/);
  }
  assert.throws(() => magnitudeMask(Float32Array.from([1, NaN]), 0.5), /NaN at element 1/);
});
