import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BitReader, BitWriter } from '../../src/format/bits.js';
import {
  canonicalCodes, histogram, huffmanDecode, huffmanEncode, huffmanLengths, HuffmanDecoder, planSymbolStream,
  readHuffmanTable, readSymbolStream, writeHuffmanTable, writeSymbolStream,
} from '../../src/format/huffman.js';
import { NnzipError } from '../../src/ir/errors.js';
import { randInt, rng, SIZES } from './rng.js';

/** Plain unlimited Huffman cost (sum of merged weights), the reference for optimality. */
function referenceCost(freqs: number[]): number {
  const q = freqs.filter((f) => f > 0).sort((a, b) => a - b);
  if (q.length <= 1) return q.length ? q[0] : 0;
  let cost = 0;
  while (q.length > 1) {
    const m = q.shift()! + q.shift()!;
    cost += m;
    q.splice(q.findIndex((x) => x > m) === -1 ? q.length : q.findIndex((x) => x > m), 0, m);
  }
  return cost;
}

const cost = (freqs: number[], lengths: Uint8Array) => freqs.reduce((s, f, i) => s + f * lengths[i], 0);
const kraft = (lengths: Uint8Array) => lengths.reduce((s, l) => s + (l ? 2 ** -l : 0), 0);

/** Skewed symbols: mostly small values, some large (like gaps and codebook indices). */
function skewed(r: () => number, n: number, alphabet: number): number[] {
  return Array.from({ length: n }, () => Math.min(alphabet - 1, Math.floor(-Math.log(1 - r()) * alphabet * 0.1)));
}

test('RFC 1951 canonical code example', () => {
  const codes = canonicalCodes([3, 3, 3, 3, 3, 2, 4, 4]);
  assert.deepEqual([...codes].map((c, i) => c.toString(2).padStart([3, 3, 3, 3, 3, 2, 4, 4][i], '0')),
    ['010', '011', '100', '101', '110', '00', '1110', '1111']);
});

test('lengths are optimal without a binding limit and complete (seeded random frequencies)', () => {
  const r = rng(11);
  for (let trial = 0; trial < 50; trial++) {
    const freqs = Array.from({ length: 2 + randInt(r, 60) }, () => (r() < 0.2 ? 0 : 1 + randInt(r, 1000)));
    const lengths = huffmanLengths(freqs, 24);
    const used = freqs.filter((f) => f > 0).length;
    if (used >= 2) assert.equal(kraft(lengths), 1, `trial ${trial}`);
    assert.equal(cost(freqs, lengths), used === 1 ? freqs.find((f) => f > 0) : referenceCost(freqs), `trial ${trial}`);
    freqs.forEach((f, i) => assert.equal(lengths[i] > 0, f > 0));
  }
});

test('the length limit holds and costs only what it must (Fibonacci frequencies)', () => {
  const fib = [1, 1];
  while (fib.length < 30) fib.push(fib[fib.length - 1] + fib[fib.length - 2]);
  assert.equal(Math.max(...huffmanLengths(fib, 24)), 24); // unlimited would be 29
  for (const limit of [5, 8, 12, 15]) {
    const l = huffmanLengths(fib, limit);
    assert.ok(Math.max(...l) <= limit);
    assert.equal(kraft(l), 1);
    assert.ok(cost(fib, l) >= referenceCost(fib));
    if (limit > 5) assert.ok(cost(fib, l) <= cost(fib, huffmanLengths(fib, limit - 1)));
  }
  // 40 symbols cannot fit codes of at most 5 bits
  assert.throws(() => huffmanLengths(new Array(40).fill(1), 5), NnzipError);
  assert.throws(() => huffmanLengths([1, 2], 0), NnzipError);
});

test('0 and 1 used symbols', () => {
  assert.deepEqual([...huffmanLengths([0, 0, 0])], [0, 0, 0]);
  assert.deepEqual([...huffmanLengths([0, 5, 0])], [0, 1, 0]);
  // a one-symbol stream costs no bits per symbol
  const one = huffmanEncode(new Array(1000).fill(2), 4);
  assert.ok(one.length <= 4, `${one.length} bytes`);
  assert.deepEqual([...huffmanDecode(one, 1000, 4)], new Array(1000).fill(2));
  assert.deepEqual([...huffmanDecode(huffmanEncode([], 4), 0, 4)], []);
});

test('encode/decode round-trips for sizes 0, 1, 7, 1000 and alphabets 2..65536 (seeded)', () => {
  const r = rng(5);
  for (const alphabet of [2, 3, 32, 257, 65536]) {
    for (const n of SIZES) {
      const symbols = skewed(r, n, alphabet);
      for (const limit of [alphabet > 32 ? 16 : 5, 24]) {
        const bytes = huffmanEncode(symbols, alphabet, limit);
        assert.deepEqual([...huffmanDecode(bytes, n, alphabet)], symbols, `alphabet ${alphabet} n ${n} limit ${limit}`);
      }
    }
  }
});

test('codes longer than the decode table take the slow path correctly', () => {
  const fib = [1, 1];
  while (fib.length < 22) fib.push(fib[fib.length - 1] + fib[fib.length - 2]);
  const symbols: number[] = [];
  fib.forEach((f, s) => { for (let i = 0; i < Math.min(f, 50); i++) symbols.push(s); });
  const r = rng(9);
  for (let i = symbols.length - 1; i > 0; i--) {
    const j = randInt(r, i + 1);
    [symbols[i], symbols[j]] = [symbols[j], symbols[i]];
  }
  const lengths = huffmanLengths(fib, 20);
  assert.ok(Math.max(...lengths) > 11, 'some codes exceed the 11-bit table');
  const w = new BitWriter();
  writeSymbolStream(w, symbols, fib.length, { huffman: true, limit: 20 });
  assert.deepEqual([...readSymbolStream(new BitReader(w.finish()), symbols.length, fib.length)], symbols);
});

test('code-length tables round-trip with both methods, and are compact', () => {
  const r = rng(21);
  const smooth = Uint8Array.from({ length: 256 }, (_, i) => 4 + Math.round(6 * Math.abs(Math.sin(i / 40))));
  const noisy = Uint8Array.from({ length: 200 }, () => randInt(r, 16));
  const empty = new Uint8Array(10);
  for (const lengths of [smooth, noisy, empty, Uint8Array.from([0, 0, 3, 0])]) {
    const w = new BitWriter();
    writeHuffmanTable(w, lengths);
    const bits = w.bitLength;
    const back = readHuffmanTable(new BitReader(w.finish()), lengths.length);
    assert.deepEqual([...back], [...lengths]);
    if (lengths === smooth) assert.ok(bits < 256 * 2.5, `smooth table: ${bits} bits`);
  }
});

test('a corrupt table or code is an NnzipError', () => {
  assert.throws(() => new HuffmanDecoder(Uint8Array.from([1, 1, 1]), 'x.nnz'), /x\.nnz: code lengths are over-subscribed/);
  // an incomplete code: the unassigned pattern 11 is invalid
  const dec = new HuffmanDecoder(Uint8Array.from([1, 2, 0]), 'x.nnz');
  assert.throws(() => dec.read(new BitReader(Uint8Array.from([0b11]), 'x.nnz')), NnzipError);
  const w = new BitWriter();
  writeHuffmanTable(w, Uint8Array.from([1, 1]));
  assert.throws(() => readHuffmanTable(new BitReader(w.finish(), 'x.nnz'), 1), /lists 2 symbols but the alphabet has 1/);
  const bytes = huffmanEncode(skewed(rng(2), 1000, 64), 64);
  assert.throws(() => huffmanDecode(bytes.subarray(0, bytes.length - 20), 1000, 64), /truncated/);
  assert.throws(() => huffmanEncode([5], 4), /symbol 5 at 0 is outside the alphabet/);
});

test('symbol streams choose the smaller of fixed width and Huffman, and the plan is exact', () => {
  const r = rng(31);
  const uniform = Array.from({ length: 1000 }, () => randInt(r, 32));
  const skew = skewed(r, 1000, 32);
  for (const [symbols, huffman] of [[uniform, false], [skew, true]] as const) {
    const plan = planSymbolStream(histogram(symbols, 32));
    assert.equal(plan.huffman, huffman);
    const w = new BitWriter();
    const written = writeSymbolStream(w, symbols, 32);
    assert.equal(w.bitLength, plan.bits);
    assert.equal(written.bits, plan.bits);
    assert.deepEqual([...readSymbolStream(new BitReader(w.finish()), 1000, 32)], symbols);
  }
  assert.equal(planSymbolStream(histogram(uniform, 32), { huffman: false }).bits, 1 + 5 * 1000);
});
