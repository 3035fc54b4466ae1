import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  codebookValues, decodeCodebook, encodeCodebook, exactCodebook, packIndices, unpackIndices,
} from '../../src/format/codebook.js';
import { NnzipError } from '../../src/ir/errors.js';
import { bitsOf, randInt, rng, SIZES } from './rng.js';

/** Reference packing: bit j of index i goes to stream bit i·bits + j (LSB-first). */
function referencePack(indices: number[], bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((indices.length * bits) / 8));
  indices.forEach((v, i) => {
    for (let j = 0; j < bits; j++) if ((v >> j) & 1) out[(i * bits + j) >> 3] |= 1 << ((i * bits + j) & 7);
  });
  return out;
}

test('pack/unpack every width 1..16 for sizes 0, 1, 7, 1000 against a reference (seeded)', () => {
  const r = rng(12);
  for (let bits = 1; bits <= 16; bits++) {
    for (const n of SIZES) {
      const indices = Array.from({ length: n }, () => randInt(r, 2 ** bits));
      const packed = packIndices(indices, bits);
      assert.deepEqual(packed, referencePack(indices, bits), `bits ${bits} n ${n}`);
      const back = unpackIndices(packed, bits, n);
      assert.ok(bits <= 8 ? back instanceof Uint8Array : back instanceof Uint16Array);
      assert.deepEqual([...back], indices);
    }
  }
});

test('widths outside 1..16 and oversize indices are NnzipErrors naming bits', () => {
  for (const bits of [0, 17, 3.5]) {
    assert.throws(() => packIndices([0], bits), (e: unknown) => e instanceof NnzipError && /option bits=/.test(e.message));
    assert.throws(() => unpackIndices(new Uint8Array(4), bits, 1), /option bits=/);
  }
  assert.throws(() => packIndices([0, 8], 3), /index 8 at 1 does not fit bits=3/);
  assert.throws(() => unpackIndices(new Uint8Array(1), 5, 2), /truncated/);
});

test('codebooks round-trip; the zero index decodes to +0', () => {
  const r = rng(2);
  for (const n of SIZES) {
    const centroids = Float32Array.from({ length: 13 }, () => r() - 0.5);
    const indices = Uint8Array.from({ length: n }, () => randInt(r, 14)); // 13 = zero
    const bytes = encodeCodebook({ centroids, indices });
    const back = decodeCodebook(bytes);
    assert.deepEqual(back.centroids, centroids);
    assert.deepEqual([...back.indices], [...indices]);
    const values = codebookValues(back);
    indices.forEach((j, i) => assert.equal(values[i], j === 13 ? 0 : centroids[j]));
  }
});

test('centroids exactly representable in float16 are stored in 16 bits', () => {
  const indices = new Uint8Array(10);
  const exact = encodeCodebook({ centroids: Float32Array.from([0.5, -0.25, 0.125, 3]), indices });
  const inexact = encodeCodebook({ centroids: Float32Array.from([0.1, -0.25, 0.125, 3]), indices });
  assert.equal(inexact.length - exact.length, 8);
  assert.deepEqual(decodeCodebook(exact).centroids, Float32Array.from([0.5, -0.25, 0.125, 3]));
});

test('exactCodebook: distinct nonzero values sorted, −0 kept apart from +0, size limit', () => {
  const w = Float32Array.from([0.5, 0, -0, 0.25, 0.5, -1, 0]);
  const cb = exactCodebook(w)!;
  assert.deepEqual([...cb.centroids].map((v) => (Object.is(v, -0) ? '-0' : v)), [-1, '-0', 0.25, 0.5]);
  assert.deepEqual([...cb.indices], [3, 4, 1, 2, 3, 0, 4]);
  assert.deepEqual(bitsOf(codebookValues(cb)), bitsOf(w));
  assert.equal(exactCodebook(w, 3), undefined);
  assert.equal(exactCodebook(new Float32Array(0))!.centroids.length, 0);
});

test('a codebook index past the zero index is an NnzipError', () => {
  assert.throws(() => codebookValues({ centroids: new Float32Array(2), indices: Uint8Array.from([3]) }), /index 3 at element 0 is past the 2 centroids/);
});
