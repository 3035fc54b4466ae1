// The occupancy map (docs/format.md §5.7, map-ctx): round trips of maps and of codebook
// and grid tensors bit for bit, damaged streams, and when auto picks it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeNnz, encodeNnz, encodeNnzWithReport } from '../../src/format/container.js';
import { decodeMap, encodeMap, mapGeometry } from '../../src/format/range_map.js';
import { NnzipError } from '../../src/ir/errors.js';
import { f32 } from '../../src/ir/tensor.js';
import { bitsOf, randInt, rng } from './rng.js';

test('maps round-trip: empty, none stored, all stored, first and last, rank 0 to 4, wide alphabets', () => {
  const r = rng(3);
  const all = Array.from({ length: 60 }, (_, i) => i);
  const cases: [string, number[], number[], number[], number][] = [
    ['empty tensor', [0, 5], [], [], 3],
    ['none stored', [4, 5], [], [], 3],
    ['all stored', [3, 4, 5], all, all.map((i) => i % 7), 7],
    ['first and last', [10, 10], [0, 99], [1, 0], 2],
    ['rank 0', [], [0], [0], 1],
    ['rank 1', [1000], [5, 6, 999], [3, 2, 1], 4],
    ['16-bit alphabet', [4, 25], [3, 70, 71], [65535, 0, 40000], 65536],
  ];
  const random = [...new Set(Array.from({ length: 3000 }, () => randInt(r, 40000)))].sort((a, b) => a - b);
  cases.push(['random', [40, 10, 10, 10], random, random.map(() => randInt(r, 32)), 32]);
  for (const [what, shape, positions, symbols, alphabet] of cases) {
    const out = decodeMap(encodeMap(shape, positions, symbols, alphabet), shape, alphabet, what);
    assert.deepEqual([...out.positions], positions, what);
    assert.deepEqual([...out.symbols], symbols, what);
  }
  assert.deepEqual(mapGeometry([300, 784]), { rows: 300, cols: 784 });
  assert.deepEqual(mapGeometry([8, 4, 3, 3]), { rows: 8, cols: 36 });
  assert.deepEqual(mapGeometry([7]), { rows: 1, cols: 7 });
  assert.deepEqual(mapGeometry([0, 7]), { rows: 1, cols: 0 });
});

test('damaged maps fail with one clear error, never run past the bytes', () => {
  const bytes = encodeMap([4, 4], [1, 5, 9], [0, 1, 2], 3);
  const bad = (b: Uint8Array, shape: number[], alphabet: number, re: RegExp) =>
    assert.throws(() => decodeMap(b, shape, alphabet, 'bad.nnz'), (e: unknown) => e instanceof NnzipError && re.test(e.message) && e.message.startsWith('bad.nnz: '));
  bad(bytes, [2 ** 15, 2 ** 15], 3, /an occupancy map of 1073741824 elements in \d+ bytes/); // refused before decoding
  bad(bytes.subarray(0, 4), [4, 4], 3, /does not start as one|ends early/);
  bad(Uint8Array.from([1, ...bytes.subarray(1)]), [4, 4], 3, /does not start as one/);
  bad(Uint8Array.from([...bytes, 0, 0]), [4, 4], 3, /bytes left/);
  bad(encodeMap([4, 4], [1, 5, 9], [0, 3, 2], 4), [4, 4], 3, /symbol 3 at position 5 is outside the alphabet 0\.\.2|bytes left|ends early/);
});

/** A pruned layer as magnitude pruning leaves one: whole inputs (columns) dropped, the rest kept at their own rate. */
function columnPruned(rows: number, cols: number, seed: number): Float32Array {
  const r = rng(seed);
  const rate = Array.from({ length: cols }, () => (r() < 0.4 ? 0 : r() * 0.3));
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) if (r() < rate[i % cols]) out[i] = (randInt(r, 32) - 16 + 0.5) / 64;
  return out;
}

test('map-ctx stores codebook and grid tensors bit for bit; auto takes it for column-structured pruning', () => {
  const w = columnPruned(100, 300, 7);
  // too many distinct values for a codebook (over max(256, n/16)): stored on its grid, step 1/1024
  const r0 = rng(8);
  const fine = Float32Array.from(w, (v) => (v === 0 ? 0 : (randInt(r0, 6000) - 3000 || 1) / 1024));
  const specs = [
    { name: 'codebook', tensor: f32([100, 300], w) },
    { name: 'grid', tensor: f32([100, 300], fine) },
    { name: 'rank 1', tensor: f32([300], w.subarray(0, 300)) },
    { name: 'all zero', tensor: f32([3, 7], new Float32Array(21)) },
  ];
  for (const spec of specs) {
    const bytes = encodeNnz({ graph: new Uint8Array(0), tensors: [{ ...spec, encoding: 'map-ctx' }] });
    const t = decodeNnz(bytes, 'map.nnz').tensors.get(spec.name)!;
    assert.equal(t.encoding, 'map-ctx');
    assert.deepEqual([...bitsOf(t.tensor.data as Float32Array)], [...bitsOf(spec.tensor.data as Float32Array)], spec.name);
    if (spec.name === 'codebook') assert.ok(t.codebook && t.sparse && t.sparse.positions.length === w.filter((v) => v !== 0).length);
    if (spec.name === 'grid') assert.ok(t.grid && !t.codebook && t.sparse);
  }
  const sizes = (encoding: 'map-ctx' | 'codebook-ctx' | 'auto') => encodeNnzWithReport({ graph: new Uint8Array(0), tensors: [{ ...specs[0], encoding }] }).sections[0];
  assert.ok(sizes('map-ctx').bytes < sizes('codebook-ctx').bytes, `map ${sizes('map-ctx').bytes} B, entries ${sizes('codebook-ctx').bytes} B`);
  assert.equal(sizes('auto').encoding, 'map-ctx');
  // very sparse without column structure: the gaps are cheaper, auto keeps an entry encoding
  const r = rng(9);
  const sparse = f32([50, 2000], Float32Array.from({ length: 100000 }, () => (r() < 0.002 ? (randInt(r, 8) + 1) / 8 : 0)));
  assert.notEqual(encodeNnzWithReport({ graph: new Uint8Array(0), tensors: [{ name: 's', tensor: sparse }] }).sections[0].encoding, 'map-ctx');
});
