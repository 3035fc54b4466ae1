import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPatternFormat, detectPatterns, kernelMasks, maskPicture, maskTaps, patternCounts, REMOVED_KERNEL } from '../../src/ir/pattern.js';
import { NnzipError } from '../../src/ir/errors.js';
import { Rng } from '../../src/ir/random.js';
import { patternWeight } from './pattern_weights.js';

test('masks: taps, pictures, counts', () => {
  assert.deepEqual(maskTaps(0b000010111), [0, 1, 2, 4]);
  assert.equal(maskPicture(0b000010111), '111/010/000');
  const f = { kind: 'pattern' as const, masks: [0b10111, 0b111000000 | 16], assign: Uint8Array.from([0, REMOVED_KERNEL, 1, 0]) };
  assert.deepEqual(patternCounts(f), { kernels: 4, kept: 3, weights: 12, perPattern: [2, 1] });
});

test('detectPatterns finds the patterns and assignment of a weight pattern-pruned elsewhere', () => {
  for (const [seed, M, C, K, keep] of [[1, 8, 6, 4, 0.3], [2, 16, 16, 8, 0.28], [3, 3, 5, 12, 1], [4, 32, 32, 56, 0.5]] as const) {
    const { w, format } = patternWeight(seed, M, C, K, keep);
    const found = detectPatterns(w, [M, C, 3, 3]);
    assert.ok(found, `seed ${seed}: found`);
    assert.deepEqual([...found.masks].sort(), [...format.masks].sort(), `seed ${seed}: masks`);
    for (let k = 0; k < M * C; k++) {
      const want = format.assign[k] === REMOVED_KERNEL ? REMOVED_KERNEL : format.masks[format.assign[k]];
      const got: number = found.assign[k] === REMOVED_KERNEL ? REMOVED_KERNEL : found.masks[found.assign[k]];
      assert.equal(got, want, `seed ${seed}: kernel ${k}`);
    }
    checkPatternFormat(w, [M, C, 3, 3], found, 'detected');
  }
});

test('detectPatterns: a kernel with a zero inside its pattern goes to a pattern that covers it', () => {
  const { w, format } = patternWeight(5, 4, 4, 3, 1);
  const k = format.assign.findIndex((a) => a !== REMOVED_KERNEL);
  const tap = maskTaps(format.masks[format.assign[k]])[1];
  w[k * 9 + tap] = 0;
  const found = detectPatterns(w, [4, 4, 3, 3])!;
  assert.equal(found.masks.length, 3);
  assert.ok((found.masks[found.assign[k]] & kernelMasks(w, 16)[k]) === kernelMasks(w, 16)[k]);
});

test('detectPatterns: dense, unstructured, non-3×3 weights are not patterns; connectivity-only is one 9-tap pattern', () => {
  const r = new Rng(9);
  const dense = Float32Array.from({ length: 8 * 8 * 9 }, () => r.uniform(0.1, 1));
  assert.equal(detectPatterns(dense, [8, 8, 3, 3]), undefined);
  const unstructured = dense.map((v) => (r.next() < 0.5 ? 0 : v));
  assert.equal(detectPatterns(unstructured, [8, 8, 3, 3]), undefined, 'random 50% zeros need > 56 patterns');
  assert.equal(detectPatterns(dense.subarray(0, 8 * 8 * 4), [8, 8, 2, 2]), undefined);
  const conn = dense.slice();
  conn.fill(0, 0, 9 * 5);
  const f = detectPatterns(conn, [8, 8, 3, 3])!;
  assert.deepEqual(f.masks, [511]);
  assert.equal(patternCounts(f).kept, 64 - 5);
});

test('checkPatternFormat refuses formats that do not describe the weight', () => {
  const { w, format } = patternWeight(6, 4, 4, 2, 0.5);
  const shape = [4, 4, 3, 3];
  checkPatternFormat(w, shape, format, 'ok');
  const bad = (f: object, re: RegExp) => assert.throws(() => checkPatternFormat(w, shape, { ...format, ...f }, 'w'), (e: unknown) => e instanceof NnzipError && re.test((e as Error).message));
  bad({ masks: [] }, /0 patterns; a layer has 1 to 56/);
  bad({ masks: [format.masks[0], format.masks[0]] }, /not distinct/);
  bad({ assign: format.assign.subarray(1) }, /15 pattern assignments for 16 kernels/);
  const removed = format.assign.slice();
  removed[removed.findIndex((a) => a !== REMOVED_KERNEL)] = REMOVED_KERNEL;
  bad({ assign: removed }, /is removed but has nonzeros/);
  assert.throws(() => checkPatternFormat(w, [4, 4, 9], format, 'w'), /apply to 3×3 conv weights/);
});
