import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BitWriter } from '../../src/format/bits.js';
import { histogram, writeSymbolStream } from '../../src/format/huffman.js';
import {
  chooseGapBits, decodeRelativeIndex, encodeRelativeIndex, entryPositions, nonzeroPositions, relativeEntries,
} from '../../src/format/relative_index.js';
import { NnzipError } from '../../src/ir/errors.js';
import { bitsOf, rng, SIZES, sparseWeights } from './rng.js';

test("Han's Fig. 2: a run of zeros longer than 3 bits can skip gets a filler zero", () => {
  // Fig. 2 (1-based idx): 3.4 at idx 1, 0.9 at idx 4, 1.7 at idx 15; with 3-bit
  // indices the span to idx 15 exceeds 8, so a filler zero goes in at idx 12.
  const w = new Float32Array(16);
  w[0] = 3.4;
  w[3] = 0.9;
  w[14] = 1.7;
  const ri = encodeRelativeIndex(w, 3);
  const diffs = [...ri.gaps].map((g) => g + 1); // Han's "index difference"
  assert.deepEqual(diffs, [1, 3, 8, 3]);
  assert.deepEqual([...ri.values], [Math.fround(3.4), Math.fround(0.9), 0, Math.fround(1.7)]);
  assert.deepEqual([...entryPositions(ri.gaps, 16)].map((p) => p + 1), [1, 4, 12, 15]);
  assert.deepEqual(decodeRelativeIndex(ri), w);
});

test('round-trips bit-exactly for sizes 0, 1, 7, 1000 and every gap width 1..16 (seeded)', () => {
  const r = rng(17);
  for (const n of SIZES) {
    for (const density of [0, 0.05, 0.5, 1]) {
      const w = sparseWeights(r, n, density);
      if (n > 2) w[1] = -0; // −0 is a value, not a pruned zero
      for (let b = 1; b <= 16; b++) {
        const ri = encodeRelativeIndex(w, b);
        assert.ok(ri.gaps.every((g) => g < 2 ** b));
        assert.deepEqual(bitsOf(decodeRelativeIndex(ri)), bitsOf(w), `n ${n} density ${density} b ${b}`);
      }
    }
  }
});

test('filler count matches a plain loop (seeded)', () => {
  const r = rng(4);
  const w = sparseWeights(r, 5000, 0.03);
  const positions = nonzeroPositions(w);
  for (let b = 1; b <= 10; b++) {
    let fillers = 0;
    let prev = -1;
    for (const p of positions) {
      let run = p - prev - 1;
      while (run > 2 ** b - 1) {
        fillers++;
        run -= 2 ** b;
      }
      prev = p;
    }
    const e = relativeEntries(positions, b);
    assert.equal(e.fillers, fillers, `b ${b}`);
    assert.equal(e.gaps.length, positions.length + fillers);
    assert.equal([...e.source].filter((s) => s < 0).length, fillers);
  }
});

/** Exact bits of the sparse body's gap part + codebook value stream, by writing them. */
function writtenBits(positions: Uint32Array, symbols: number[], k: number, b: number): number {
  const { gaps, source } = relativeEntries(positions, b);
  const w = new BitWriter();
  w.writeBits(b, 5);
  w.writeVarint(gaps.length);
  writeSymbolStream(w, gaps, 2 ** b);
  writeSymbolStream(w, Array.from(source, (s) => (s >= 0 ? symbols[s] : k)), k + 1);
  return w.bitLength;
}

test('chooseGapBits picks the width with the fewest written bits (brute force, seeded)', () => {
  const r = rng(8);
  for (const [n, density] of [[1000, 0.1], [20000, 0.08], [5000, 0.01], [300, 0.9]] as const) {
    const w = sparseWeights(r, n, density);
    const positions = nonzeroPositions(w);
    const k = 32;
    const symbols = Array.from(positions, () => Math.min(k - 1, Math.floor(-Math.log(1 - r()) * 6)));
    const choice = chooseGapBits(positions, { valueFreqs: histogram(symbols, k + 1) });
    let best = Infinity;
    for (let b = 1; b <= 16; b++) best = Math.min(best, writtenBits(positions, symbols, k, b));
    assert.equal(choice.bits, writtenBits(positions, symbols, k, choice.gapBits), `n ${n}: plan is exact`);
    assert.equal(choice.bits, best, `n ${n} density ${density}: chose b=${choice.gapBits}`);
  }
});

test('bad gap widths and corrupt gaps are NnzipErrors naming the option', () => {
  for (const b of [0, 17, 2.5, NaN]) {
    assert.throws(() => encodeRelativeIndex(new Float32Array(4), b), (e: unknown) => e instanceof NnzipError && /gapBits/.test(e.message));
  }
  assert.throws(() => chooseGapBits([1, 2], { maxBits: 20 }), /option maxBits=20 is outside 1\.\.16/);
  assert.throws(() => decodeRelativeIndex({ gapBits: 2, length: 4, gaps: Uint32Array.from([5]), values: new Float32Array(1) }), /does not fit gapBits=2/);
  assert.throws(() => decodeRelativeIndex({ gapBits: 3, length: 4, gaps: Uint32Array.from([2, 2]), values: new Float32Array(2) }), /past the tensor's 4 elements/);
  assert.throws(() => decodeRelativeIndex({ gapBits: 3, length: 4, gaps: Uint32Array.from([0]), values: new Float32Array(2) }), /must pair up/);
});
