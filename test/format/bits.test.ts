import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BitReader, BitWriter, bitsFor } from '../../src/format/bits.js';
import { NnzipError } from '../../src/ir/errors.js';
import { randInt, rng } from './rng.js';

test('bits are written LSB-first: bit 0 of byte 0 comes first', () => {
  const w = new BitWriter();
  w.writeBits(1, 1); // bit 0
  w.writeBits(0b10, 2); // bits 1..2 → bit 2 set
  w.writeBits(0x1f, 5); // bits 3..7
  w.writeBits(0xabc, 12); // next 12 bits, low first
  assert.deepEqual([...w.finish()], [0b11111101, 0xbc, 0x0a]);
});

test('random widths 0..32 round-trip (seeded, 5000 values)', () => {
  const r = rng(1);
  const items: [number, number][] = [];
  const w = new BitWriter(4);
  for (let i = 0; i < 5000; i++) {
    const n = randInt(r, 33);
    const v = n === 0 ? 0 : Math.floor(r() * 2 ** n);
    items.push([v, n]);
    w.writeBits(v, n);
  }
  const total = w.bitLength;
  const rd = new BitReader(w.finish());
  for (const [i, [v, n]] of items.entries()) assert.equal(rd.readBits(n), v, `value ${i} (${n} bits)`);
  assert.equal(rd.bitPosition, total);
});

test('varints, signed varints, bigint varints and Exp-Golomb round-trip unaligned', () => {
  const nums = [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1];
  const signed = [0, -1, 1, -64, 64, -(2 ** 40), 2 ** 40];
  const bigs = [0n, 1n, 2n ** 63n - 1n, 2n ** 64n - 1n];
  const w = new BitWriter();
  w.writeBits(5, 3); // start off a byte boundary
  for (const v of nums) w.writeVarint(v);
  for (const v of signed) w.writeSignedVarint(v);
  for (const v of bigs) w.writeBigVarint(v);
  for (let v = 0; v < 300; v++) w.writeExpGolomb(v);
  const r = new BitReader(w.finish());
  assert.equal(r.readBits(3), 5);
  assert.deepEqual(nums.map(() => r.readVarint()), nums);
  assert.deepEqual(signed.map(() => r.readSignedVarint()), signed);
  assert.deepEqual(bigs.map(() => r.readBigVarint()), bigs);
  for (let v = 0; v < 300; v++) assert.equal(r.readExpGolomb(), v);
});

test('a varint takes one byte per 7 bits', () => {
  const size = (v: number) => {
    const w = new BitWriter();
    w.writeVarint(v);
    return w.finish().length;
  };
  assert.deepEqual([0, 127, 128, 16383, 16384].map(size), [1, 1, 2, 2, 3]);
});

test('writeBytes aligns and copies; readBytes returns them', () => {
  const w = new BitWriter(1);
  w.writeBits(1, 1);
  w.writeBytes(new Uint8Array([9, 8, 7]));
  w.writeBits(3, 2);
  const bytes = w.finish();
  assert.deepEqual([...bytes], [1, 9, 8, 7, 3]);
  const r = new BitReader(bytes);
  assert.equal(r.readBits(1), 1);
  assert.deepEqual([...r.readBytes(3)], [9, 8, 7]);
  assert.equal(r.readBits(2), 3);
});

test('reading past the end is an NnzipError naming the data', () => {
  const r = new BitReader(new Uint8Array([0xff]), 'x.nnz: section 2');
  assert.equal(r.readBits(7), 0x7f);
  assert.throws(() => r.readBits(2), (e: unknown) => e instanceof NnzipError && /x\.nnz: section 2: truncated/.test(e.message));
  assert.throws(() => new BitReader(new Uint8Array([0x80, 0x80])).readVarint(), NnzipError);
  assert.throws(() => new BitReader(new Uint8Array(2)).readBytes(3), NnzipError);
});

test('bitsFor gives the width of 0..max', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 255, 256, 65535].map(bitsFor), [0, 1, 2, 2, 3, 8, 9, 16]);
});
