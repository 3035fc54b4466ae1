import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BitReader, BitWriter } from '../../src/format/bits.js';
import { buildFkw, denseOf, readFkw, writeFkw } from '../../src/format/fkw.js';
import { decodeTensorPayload, encodeTensorPayload } from '../../src/format/tensor_codec.js';
import { NnzipError } from '../../src/ir/errors.js';
import { popcount, REMOVED_KERNEL } from '../../src/ir/pattern.js';
import { f32 } from '../../src/ir/tensor.js';
import { patternWeight } from '../ir/pattern_weights.js';
import { bitsOf } from './rng.js';

test('FKW: rows in FKR order (more kernels first), kernels grouped by pattern, channels ascending, weights at the taps', () => {
  const { w, format } = patternWeight(1, 12, 10, 4, 0.3);
  const fkw = buildFkw(w, [12, 10, 3, 3], format);
  const K = 4, counts = Array.from(fkw.reorder, (_, r) => fkw.offset[r + 1] - fkw.offset[r]);
  for (let r = 1; r < 12; r++) assert.ok(counts[r] <= counts[r - 1], 'kernel counts descend');
  assert.deepEqual([...fkw.reorder].sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i));
  let k = 0;
  for (let r = 0; r < 12; r++) {
    for (let p = 0; p < K; p++) {
      const group = Array.from(fkw.index.subarray(k, k + fkw.stride[r * K + p]));
      assert.deepEqual(group, [...group].sort((a, b) => a - b));
      for (const c of group) assert.equal(format.assign[fkw.reorder[r] * 10 + c], p);
      k += group.length;
    }
  }
  assert.equal(fkw.weights.length, [...format.assign].reduce((s, a) => s + (a === REMOVED_KERNEL ? 0 : popcount(format.masks[a])), 0));
  assert.deepEqual(bitsOf(denseOf(fkw)), bitsOf(w));
  const plain = buildFkw(w, [12, 10, 3, 3], format, { reorder: false });
  assert.deepEqual([...plain.reorder], Array.from({ length: 12 }, (_, i) => i));
  assert.deepEqual(bitsOf(denseOf(plain)), bitsOf(w));
});

test('FKR for groups of G filters: the kernels dealt evenly over the groups, each group in FKR order (and FKR alone left them uneven)', () => {
  for (const [M, C, G] of [[64, 32, 32], [40, 24, 16], [30, 20, 7]]) {
    const { w, format } = patternWeight(M + G, M, C, 4, 0.3);
    const plain = buildFkw(w, [M, C, 3, 3], format), fkw = buildFkw(w, [M, C, 3, 3], format, { groups: G });
    assert.deepEqual([...fkw.reorder].sort((a, b) => a - b), Array.from({ length: M }, (_, i) => i), 'a permutation');
    const kernels = (f: typeof fkw, r: number) => f.offset[r + 1] - f.offset[r];
    const sums = (f: typeof fkw) => Array.from({ length: Math.ceil(M / G) }, (_, g) => f.offset[Math.min(M, (g + 1) * G)] - f.offset[g * G]);
    const most = Math.max(...Array.from({ length: M }, (_, r) => kernels(fkw, r)));
    // full groups within one filter's kernels of each other (the last, smaller group has fewer)
    const full = sums(fkw).slice(0, Math.floor(M / G));
    assert.ok(Math.max(...full) - Math.min(...full) <= most, `M ${M} G ${G}: group kernels ${full}`);
    const before = sums(plain).slice(0, Math.floor(M / G));
    assert.ok(Math.max(...before) - Math.min(...before) > Math.max(...full) - Math.min(...full), `FKR alone: ${before}`);
    for (let r = 1; r < M; r++) if (r % G) assert.ok(kernels(fkw, r) <= kernels(fkw, r - 1), 'FKR order within a group');
  }
  const { w, format } = patternWeight(3, 12, 10, 4, 0.3);
  assert.deepEqual(buildFkw(w, [12, 10, 3, 3], format, { groups: 12 }).reorder, buildFkw(w, [12, 10, 3, 3], format).reorder, 'one group: FKR');
  assert.deepEqual([...buildFkw(w, [12, 10, 3, 3], format, { groups: 4, reorder: false }).reorder], Array.from({ length: 12 }, (_, i) => i), 'no FKR: in order');
});

test('FKW parts: each a contiguous range of filters reordered on its own; ranges that do not cover the filters are refused', () => {
  const { w, format } = patternWeight(5, 12, 10, 4, 0.3);
  const parts = [[0, 5], [5, 12]] as const;
  const fkw = buildFkw(w, [12, 10, 3, 3], format, { parts });
  assert.deepEqual([...fkw.parts], [0, 5, 12]);
  const alone = (m0: number, m1: number) => {
    const keep = { kind: 'pattern' as const, masks: format.masks, assign: format.assign.map((a, i) => (Math.floor(i / 10) >= m0 && Math.floor(i / 10) < m1 ? a : REMOVED_KERNEL)) };
    return Array.from(buildFkw(w, [12, 10, 3, 3], keep).reorder).filter((m) => m >= m0 && m < m1);
  };
  assert.deepEqual([...fkw.reorder.subarray(0, 5)], alone(0, 5), 'part 0 in its own FKR order');
  assert.deepEqual([...fkw.reorder.subarray(5)], alone(5, 12), 'part 1 in its own FKR order');
  assert.deepEqual(bitsOf(denseOf(fkw)), bitsOf(w));
  assert.deepEqual([...buildFkw(w, [12, 10, 3, 3], format, { parts, reorder: false }).reorder], Array.from({ length: 12 }, (_, i) => i));
  assert.deepEqual([...buildFkw(w, [12, 10, 3, 3], format).parts], [0, 12], 'one part by default');
  for (const bad of [[[0, 5], [6, 12]], [[0, 12], [12, 12]], [[1, 12]], [[0, 11]]] as [number, number][][]) {
    assert.throws(() => buildFkw(w, [12, 10, 3, 3], format, { parts: bad }), /must be non-empty contiguous ranges covering filters 0\.\.12/);
  }
});

test('the pattern encoding round-trips bit for bit (f32 and exact-f16 weights, −0 inside a pattern) and is chosen by auto', () => {
  for (const [seed, M, C, K] of [[2, 32, 16, 8], [3, 5, 3, 2], [4, 64, 32, 12]] as const) {
    const { w, format } = patternWeight(seed, M, C, K, 0.28);
    const zeroTap = format.assign.findIndex((a) => a !== REMOVED_KERNEL);
    w[zeroTap * 9 + 4] = -0;
    const halves = w.map((v) => (v === 0 ? v : Math.round(v * 64) / 64 || 1 / 64)); // exact float16 values (few: a codebook would be smaller)
    for (const values of [w, halves]) {
      const tensor = f32([M, C, 3, 3], values);
      const enc = encodeTensorPayload({ name: 'conv.weight', tensor, pattern: format, encoding: values === w ? 'auto' : 'pattern' });
      assert.equal(enc.encoding, 'pattern', `seed ${seed}`);
      const sparse = encodeTensorPayload({ name: 'conv.weight', tensor, encoding: 'sparse-f32' });
      assert.ok(enc.payload.length < (values === w ? 1 : 0.6) * sparse.payload.length, `pattern ${enc.payload.length} B vs sparse ${sparse.payload.length} B`);
      const dec = decodeTensorPayload(enc.payload, 'test');
      assert.deepEqual(bitsOf(dec.tensor.data as Float32Array), bitsOf(values));
      assert.deepEqual(dec.pattern!.masks, format.masks);
      assert.deepEqual([...dec.pattern!.assign], [...format.assign]);
      if (values === w) assert.equal(encodeTensorPayload({ name: 'conv.weight', tensor }).encoding, 'pattern', 'auto finds the patterns from the zeros');
    }
  }
});

test('the pattern encoding is stored with the extended code (docs/format.md §4): header nibble 15, then varint e = 0; an unknown e is refused', () => {
  const { w, format } = patternWeight(5, 4, 3, 2, 0.3);
  const enc = encodeTensorPayload({ name: 'c', tensor: f32([4, 3, 3, 3], w), pattern: format, encoding: 'pattern' });
  // varint 1, "c", then dtype 0 | 15 << 4, then e = 0, then the rank
  assert.deepEqual([...enc.payload.subarray(0, 5)], [1, 0x63, 0xf0, 0, 4]);
  const unknown = enc.payload.slice();
  unknown[3] = 1; // e = 1: code 16, past every encoding this reader knows
  assert.throws(() => decodeTensorPayload(unknown, 'test'), /unknown dtype or encoding code; the file is corrupt or from a newer nnzip/);
});

test('a spec whose patterns disagree with the tensor is refused; the encoding does not apply to other tensors', () => {
  const { w, format } = patternWeight(5, 4, 4, 2, 0.5);
  const k = format.assign.findIndex((a) => a === REMOVED_KERNEL);
  const bad = w.slice();
  bad[k * 9] = 1;
  assert.throws(() => encodeTensorPayload({ name: 'c', tensor: f32([4, 4, 3, 3], bad), pattern: format }), /kernel \(filter \d, channel \d\) is removed but has nonzeros/);
  assert.throws(() => encodeTensorPayload({ name: 'fc', tensor: f32([4, 16], new Float32Array(64)), encoding: 'pattern' }), /encoding "pattern" does not apply/);
});

test('corrupt FKW bodies fail cleanly', () => {
  const { w, format } = patternWeight(6, 6, 5, 3, 0.4);
  const wr = new BitWriter();
  writeFkw(wr, buildFkw(w, [6, 5, 3, 3], format));
  const body = wr.finish();
  const read = (bytes: Uint8Array, shape = [6, 5, 3, 3]) => readFkw(new BitReader(bytes, 'w.nnz'), shape);
  assert.deepEqual(bitsOf(read(body).dense), bitsOf(w));
  const isCorrupt = (e: unknown) => e instanceof NnzipError && /w\.nnz: .*(corrupt|truncated)/.test((e as Error).message);
  assert.throws(() => read(body, [6, 5, 1, 1]), isCorrupt);
  assert.throws(() => read(body.subarray(0, body.length - 3)), isCorrupt);
  const zeroK = body.slice();
  zeroK[0] = 0;
  assert.throws(() => read(zeroK), isCorrupt);
  for (let i = 1; i < 12; i++) {
    const flipped = body.slice();
    flipped[i] ^= 0x5a;
    try { read(flipped); } catch (e) { assert.ok(isCorrupt(e), `byte ${i}: ${(e as Error).message}`); }
  }
});
