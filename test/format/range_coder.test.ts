// The range coder and the range-coded encodings: exact round trips at edge sizes,
// sizes near the adaptive entropy, and damaged streams refused cleanly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeNnz, encodeNnz, encodeNnzWithReport } from '../../src/format/container.js';
import { codebookLimit, exactCodebook } from '../../src/format/codebook.js';
import { probabilities, RangeDecoder, RangeEncoder } from '../../src/format/range_coder.js';
import { decodeEntries, encodeEntries } from '../../src/format/range_models.js';
import { NnzipError } from '../../src/ir/errors.js';
import { f32 } from '../../src/ir/tensor.js';
import { bitsOf, randInt, rng, sparseWeights } from './rng.js';

test('bits, bit trees and direct bits round-trip; a skewed source costs about its entropy', () => {
  const r = rng(3);
  for (const n of [0, 1, 7, 1000, 100000]) {
    const bits = Array.from({ length: n }, () => (r() < 0.05 ? 1 : 0));
    const syms = Array.from({ length: n }, () => randInt(r, 37));
    const raw = Array.from({ length: n }, () => randInt(r, 2 ** 20));
    const e = new RangeEncoder();
    const [p1, p2] = [probabilities(1), probabilities(64)];
    for (let i = 0; i < n; i++) {
      e.bit(p1, 0, bits[i]);
      e.tree(p2, 0, 6, syms[i]);
      e.direct(raw[i], 20);
    }
    const bytes = e.finish();
    const d = new RangeDecoder(bytes, 'rc');
    const [q1, q2] = [probabilities(1), probabilities(64)];
    for (let i = 0; i < n; i++) {
      assert.equal(d.bit(q1, 0), bits[i], `bit ${i} of ${n}`);
      assert.equal(d.tree(q2, 0, 6), syms[i], `symbol ${i} of ${n}`);
      assert.equal(d.direct(20), raw[i], `direct ${i} of ${n}`);
    }
    assert.ok(d.done, `all ${bytes.length} bytes read`);
  }
  // a 5% source: entropy 0.286 bits a bit
  const e = new RangeEncoder();
  const p = probabilities(1);
  for (let i = 0; i < 100000; i++) e.bit(p, 0, r() < 0.05 ? 1 : 0);
  const bytes = e.finish().length;
  assert.ok(bytes < (100000 * 0.286 * 1.06) / 8, `${bytes} bytes for 100,000 bits of entropy 0.286 (adaptation costs a few %)`);
});

test('sparse entries round-trip: empty, adjacent, long gaps, the last element, wide alphabets', () => {
  const r = rng(5);
  const cases: [string, number[], number[], number, number][] = [
    ['none', [], [], 10, 3],
    ['first and last', [0, 999], [2, 0], 1000, 3],
    ['all', Array.from({ length: 300 }, (_, i) => i), Array.from({ length: 300 }, (_, i) => i % 5), 300, 5],
    ['one of 2^31 − 1', [2 ** 31 - 2], [0], 2 ** 31 - 1, 1],
    ['16-bit alphabet', [3, 70, 71], [65535, 0, 40000], 100, 65536],
  ];
  const random = [...new Set(Array.from({ length: 5000 }, () => randInt(r, 100000)))].sort((a, b) => a - b);
  cases.push(['random', random, random.map(() => randInt(r, 32)), 100000, 32]);
  for (const [what, positions, symbols, n, alphabet] of cases) {
    const bytes = encodeEntries(positions, symbols, alphabet);
    const out = decodeEntries(bytes, n, positions.length, alphabet, what);
    assert.deepEqual([...out.positions], positions, what);
    assert.deepEqual([...out.symbols], symbols, what);
  }
});

test('damaged streams fail with one clear error, never run past the tensor or the bytes', () => {
  const bytes = encodeEntries([1, 5, 9], [0, 1, 2], 3);
  const bad = (b: Uint8Array, n: number, count: number, alphabet: number, re: RegExp) =>
    assert.throws(() => decodeEntries(b, n, count, alphabet, 'bad.nnz'), (e: unknown) => e instanceof NnzipError && re.test(e.message));
  bad(bytes, 8, 3, 3, /past the tensor's 8 elements/);
  bad(bytes, 10, 11, 3, /11 entries for 10 elements/);
  bad(bytes, 2 ** 30, 2 ** 20, 3, /entries for .* in \d+ bytes/); // a claim its bytes cannot back: refused before allocating
  bad(bytes.subarray(0, 4), 10, 3, 3, /does not start as one|ends early/);
  bad(Uint8Array.from([1, ...bytes.subarray(1)]), 10, 3, 3, /does not start as one/);
  bad(Uint8Array.from([...bytes, 0, 0]), 10, 3, 3, /bytes left/);
  bad(bytes, 10, 3, 2, /outside the alphabet|bytes left|past/);
});

test('codebook-ctx, grid-ctx and f32-ctx encode tensors bit for bit; auto takes them when smaller', () => {
  const r = rng(11);
  // a smooth pruned layer: neighbouring weights alike (as in a trained first layer), 5-bit shared
  const n = 784 * 20;
  const smooth = new Float32Array(n);
  let level = 0;
  for (let i = 0; i < n; i++) {
    level = Math.max(-15, Math.min(16, level + randInt(r, 3) - 1));
    if (r() < 0.1) smooth[i] = (level + 0.5) / 64;
  }
  const dense = sparseWeights(r, 1000, 1);
  const specs = [
    { name: 'smooth', tensor: f32([20, 784], smooth) },
    { name: 'grid', tensor: f32([20, 784], Float32Array.from(smooth, (v) => Math.round(v * 64) / 64 + 0)) },
    { name: 'dense', tensor: f32([1000], dense) },
    { name: 'all zero', tensor: f32([7], new Float32Array(7)) },
  ];
  for (const spec of specs) {
    for (const encoding of ['codebook-ctx', 'grid-ctx', 'f32-ctx'] as const) {
      if (encoding === 'codebook-ctx' && !exactCodebook(spec.tensor.data as Float32Array, codebookLimit(spec.tensor.size))) continue;
      if (encoding === 'grid-ctx' && spec.name === 'dense') continue;
      const bytes = encodeNnz({ graph: new Uint8Array(0), tensors: [{ ...spec, encoding }] });
      const t = decodeNnz(bytes, 'ctx.nnz').tensors.get(spec.name)!;
      assert.equal(t.encoding, encoding);
      assert.deepEqual([...bitsOf(t.tensor.data as Float32Array)], [...bitsOf(spec.tensor.data as Float32Array)], `${spec.name} as ${encoding}`);
    }
  }
  const chosen = encodeNnzWithReport({ graph: new Uint8Array(0), tensors: specs }).sections.map((s) => s.encoding);
  assert.deepEqual(chosen, ['codebook-ctx', 'grid-ctx', 'f32-ctx', 'codebook']);
});
