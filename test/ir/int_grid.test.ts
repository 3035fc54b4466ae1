// Integer grids in float weights (what a folded DequantizeLinear leaves): found per
// tensor or per row, bit for bit; weights that were never quantized are not on one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findInt8Grid } from '../../src/ir/int_grid.js';
import { Rng } from '../../src/ir/random.js';

function quantized(rows: number, per: number, scales: number[], rng: Rng, top = 127): Float32Array {
  const w = new Float32Array(rows * per);
  for (let r = 0; r < rows; r++) {
    const s = Math.fround(scales[r % scales.length]); // DequantizeLinear: float32 scale, float32 product
    for (let i = 0; i < per; i++) w[r * per + i] = Math.fround((rng.int(2 * top + 1) - top) * s);
    w[r * per] = Math.fround(top * s); // the quantizer maps the largest |w| to top
  }
  return w;
}

test('findInt8Grid: one scale per tensor, one per row, and the reduced range (63)', () => {
  const rng = new Rng(1);
  const t = quantized(4, 30, [0.013], rng);
  const g1 = findInt8Grid(t, 4)!;
  assert.equal(g1.scale.length, 1);
  t.forEach((v, i) => assert.equal(Math.fround(g1.q[i] * g1.scale[0]), v, `weight ${i}`));
  const rows = quantized(3, 20, [0.5, 0.002, 0.07], rng);
  const g2 = findInt8Grid(rows, 3)!;
  assert.equal(g2.scale.length, 3);
  rows.forEach((v, i) => assert.equal(Math.fround(g2.q[i] * g2.scale[Math.floor(i / 20)]), v, `weight ${i}`));
  assert.ok(findInt8Grid(quantized(2, 10, [0.1], rng, 63), 2));
  const zeros = findInt8Grid(new Float32Array(8), 2)!;
  assert.deepEqual(Array.from(zeros.q), new Array(8).fill(0));
});

test('findInt8Grid: float weights, a NaN, a bad row count are not a grid', () => {
  const rng = new Rng(2);
  assert.equal(findInt8Grid(rng.floats(64), 4), undefined);
  const w = quantized(2, 8, [0.1], rng);
  w[3] = NaN;
  assert.equal(findInt8Grid(w, 2), undefined);
  assert.equal(findInt8Grid(quantized(2, 8, [0.1], rng), 3), undefined);
  const almost = quantized(2, 8, [0.1], rng);
  almost[5] += 0.1 * 0.25; // a quarter step off
  assert.equal(findInt8Grid(almost, 2), undefined);
});
