import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromFloat16Bits, isExactFloat16, toFloat16Bits } from '../../src/format/float16.js';
import { rng } from './rng.js';

test('every float16 survives float16 → float32 → float16', () => {
  for (let h = 0; h < 65536; h++) {
    const v = fromFloat16Bits(h);
    if (Number.isNaN(v)) assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(v))));
    else assert.equal(toFloat16Bits(v), h, `bits 0x${h.toString(16)}`);
  }
});

test('known values', () => {
  assert.equal(toFloat16Bits(1), 0x3c00);
  assert.equal(toFloat16Bits(-2), 0xc000);
  assert.equal(toFloat16Bits(65504), 0x7bff);
  assert.equal(toFloat16Bits(65520), 0x7c00); // rounds up to Inf
  assert.equal(toFloat16Bits(2 ** -24), 0x0001);
  assert.equal(toFloat16Bits(2 ** -26), 0x0000); // below half the smallest subnormal
  assert.equal(toFloat16Bits(1 + 2 ** -11), 0x3c00); // tie → even
  assert.equal(toFloat16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie → even (up)
  assert.equal(fromFloat16Bits(0x8000), -0);
  assert.ok(Object.is(fromFloat16Bits(0x8000), -0));
});

test('rounds to the nearest float16, ties to even (seeded random float32)', () => {
  const r = rng(3);
  const f = new Float32Array(1);
  for (let i = 0; i < 20000; i++) {
    f[0] = (r() - 0.5) * 2 ** (Math.floor(r() * 40) - 28);
    const x = f[0];
    const h = toFloat16Bits(x);
    const err = Math.abs(fromFloat16Bits(h) - x);
    for (const n of [h - 1, h + 1]) {
      if ((n & 0x7fff) >= 0x7c00 || n < 0 || ((n ^ h) & 0x8000)) continue;
      const e2 = Math.abs(fromFloat16Bits(n) - x);
      assert.ok(err < e2 || (err === e2 && (h & 1) === 0), `x=${x} h=${h} neighbour ${n}`);
    }
  }
});

test('isExactFloat16 is bit-exact (−0 kept, 0.1 not exact)', () => {
  assert.equal(isExactFloat16(new Float32Array([0.5, -0, 1024, -0.25])), true);
  assert.equal(isExactFloat16(new Float32Array([0.5, 0.1])), false);
  assert.equal(isExactFloat16(new Float32Array(0)), true);
});
