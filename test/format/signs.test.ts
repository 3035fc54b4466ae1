// The binary and ternary encodings (src/format/signs.ts): bit-exact round trips
// along axis 0 and 1, symmetric and asymmetric levels, the sizes they promise
// (1 bit / 1.6 bits per weight plus the levels), and corrupt sections failing
// with one line that says what does not match.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeTensorPayload, encodeTensorPayload } from '../../src/format/tensor_codec.js';
import { channelLevels, signRows } from '../../src/ir/binary.js';
import { NnzipError } from '../../src/ir/errors.js';
import { f32 } from '../../src/ir/tensor.js';
import { rng } from './rng.js';

/** [rows, cols] values, per channel along `axis`: +p, −n or (ternary) 0. */
function levelTensor(r: () => number, rows: number, cols: number, axis: 0 | 1, ternary: boolean, asym: boolean): Float32Array {
  const count = axis === 0 ? rows : cols;
  const p = Array.from({ length: count }, () => Math.fround(0.05 + r()));
  const n = p.map((v) => (asym ? Math.fround(0.05 + r()) : v));
  return Float32Array.from({ length: rows * cols }, (_, i) => {
    const c = axis === 0 ? Math.floor(i / cols) : i % cols, u = r();
    return ternary && u < 0.3 ? 0 : u < 0.65 ? p[c] : -n[c];
  });
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

test('binary and ternary tensors round-trip bit for bit along axis 0 and 1', () => {
  const r = rng(5);
  for (const [rows, cols] of [[1, 1], [3, 5], [16, 27], [7, 64], [10, 130]]) {
    for (const axis of [0, 1] as const) {
      for (const ternary of [false, true]) {
        for (const asym of [false, true]) {
          const data = levelTensor(r, rows, cols, axis, ternary, asym);
          const kind = ternary && data.includes(0) ? 'ternary' : 'binary';
          const enc = encodeTensorPayload({ name: 'w', tensor: f32([rows, cols], data), signsAxis: axis, encoding: kind });
          const dec = decodeTensorPayload(enc.payload, 'p');
          const what = `[${rows},${cols}] axis ${axis} ${kind}${asym ? ' asym' : ''}`;
          assert.equal(dec.encoding, kind, what);
          assert.ok(same(dec.tensor.data as Float32Array, data), what);
          assert.equal(dec.signs?.axis, axis, what);
        }
      }
    }
  }
});

test('sizes: 1 bit per binary weight, at most 1.6 bits per ternary weight, plus the levels; auto picks them', () => {
  const r = rng(6);
  const M = 64, K = 576, n = M * K;
  const bin = levelTensor(r, M, K, 0, false, false);
  // without Huffman coding (a 65/35 sign split Huffman-codes a little below 1 bit as ternary symbols)
  const enc = encodeTensorPayload({ name: 'w', tensor: f32([M, K], bin), huffman: false });
  assert.equal(enc.encoding, 'binary');
  // header (name, codes, shape) ≤ 8 bytes; levels: varint axis + 1 bit + centroid block (varint k, 1 bit, 4 bytes each)
  assert.ok(enc.payload.length <= n / 8 + 4 * M + 8 + 8, `binary ${enc.payload.length} bytes`);
  assert.ok(enc.payload.length * 30 < n * 4, 'binary ≥ 30× smaller than float32');
  const ter = levelTensor(r, M, K, 0, true, true);
  const et = encodeTensorPayload({ name: 'w', tensor: f32([M, K], ter), huffman: false });
  assert.equal(et.encoding, 'ternary');
  assert.ok(et.payload.length <= Math.ceil(n / 5) + 8 * M + 8 + 8, `ternary ${et.payload.length} bytes`);
  assert.ok(et.payload.length * 16 < n * 4, 'ternary ≥ 16× smaller than float32');
  // TTQ: one (Wp, Wn) pair for the whole layer is stored once, not per channel
  const ttq = ter.map((v) => (v > 0 ? 0.75 : v < 0 ? -0.5 : 0));
  const eq = encodeTensorPayload({ name: 'w', tensor: f32([M, K], ttq), encoding: 'ternary', huffman: false });
  assert.ok(eq.payload.length <= Math.ceil(n / 5) + 8 + 8 + 8, `TTQ ternary ${eq.payload.length} bytes`);
  assert.ok(same(decodeTensorPayload(eq.payload, 'p').tensor.data as Float32Array, ttq));
});

test('the levels read back from values; a tensor that is not binary is refused when forced', () => {
  const l = channelLevels(Float32Array.of(0.5, -0.5, 0.5, 2, -1, 2), [2, 3], 0, 'binary');
  assert.ok(typeof l !== 'string');
  assert.deepEqual([...l.pos], [0.5, 2]);
  assert.deepEqual([...l.neg], [0.5, 1]);
  assert.match(channelLevels(Float32Array.of(0.5, 0.25), [1, 2], 0, 'binary') as string, /channel 0 holds two positive values/);
  assert.match(channelLevels(Float32Array.of(0.5, 0), [1, 2], 0, 'binary') as string, /element 1 is 0/);
  assert.match(channelLevels(Float32Array.of(-0, 1), [1, 2], 0, 'ternary') as string, /-0/);
  assert.throws(() => encodeTensorPayload({ name: 'w', tensor: f32([1, 2], [0.5, 0.25]), encoding: 'binary' }),
    (e: Error) => e instanceof NnzipError && /encoding "binary" does not apply.*not binary along axis 0/.test(e.message));
  assert.throws(() => encodeTensorPayload({ name: 'w', tensor: f32([2, 2], [1, 1, 1, 1]), signsAxis: 2 }), /signsAxis=2 is not an axis of shape \[2,2\]/);
  const rows = signRows(Float32Array.of(1, -3, 0, 1), 2, 2);
  assert.ok(typeof rows !== 'string');
  assert.equal(rows.kind, 'ternary');
  assert.deepEqual([...rows.a], [2, 1]);
  assert.deepEqual([...rows.b!], [-1, 0]);
});

test('a binary section whose bit count does not match its shape is one clear error', () => {
  const data = levelTensor(rng(7), 4, 16, 0, false, false);
  const good = encodeTensorPayload({ name: 'w', tensor: f32([4, 16], data), encoding: 'binary' }).payload;
  assert.throws(() => decodeTensorPayload(good.subarray(0, good.length - 2), 'm.nnz'),
    (e: Error) => e instanceof NnzipError && /^m\.nnz \(tensor "w"\): a binary \[4,16\] tensor needs 64 sign bits but the section holds \d+; the file is corrupt$/.test(e.message));
  const long = new Uint8Array(good.length + 3);
  long.set(good);
  assert.throws(() => decodeTensorPayload(long, 'm.nnz'), /holds 64 sign bits but the section has \d+ more; the file is corrupt/);
  // a ternary digit set past the last element
  const t = encodeTensorPayload({ name: 't', tensor: f32([3], [0.5, 0, -0.5]), encoding: 'ternary', huffman: false }).payload;
  const messages = new Set<string>();
  for (let bit = 0; bit < 16; bit++) {
    const bad = t.slice();
    bad[bad.length - 2 + (bit >> 3)] ^= 1 << (bit & 7);
    try {
      decodeTensorPayload(bad, 'm.nnz');
    } catch (e) {
      assert.ok(e instanceof NnzipError, String(e));
      messages.add(e.message);
    }
  }
  assert.ok([...messages].some((m) => /the ternary digits past element 3 are not 0; the file is corrupt/.test(m)), [...messages].join('\n'));
});
