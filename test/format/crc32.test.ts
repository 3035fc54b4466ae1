import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { crc32 } from '../../src/format/crc32.js';
import { randInt, rng } from './rng.js';

test('CRC-32 check value and empty input', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test('matches a bitwise reference and runs incrementally (seeded data)', () => {
  const r = rng(7);
  const ref = (b: Uint8Array) => {
    let c = 0xffffffff;
    for (const x of b) {
      c ^= x;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    }
    return (c ^ 0xffffffff) >>> 0;
  };
  for (const n of [1, 7, 1000]) {
    const b = Uint8Array.from({ length: n }, () => randInt(r, 256));
    assert.equal(crc32(b), ref(b));
    const cut = randInt(r, n);
    assert.equal(crc32(b.subarray(cut), crc32(b.subarray(0, cut))), crc32(b));
    const z = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
    if (z) assert.equal(crc32(b), z(b));
  }
});
