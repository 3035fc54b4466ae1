import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bestPatterns, CANDIDATES, keptKernels, projectLayer, rankPatterns } from '../../../src/compress/pattern/project.js';
import { NnzipError } from '../../../src/ir/errors.js';
import { CENTRE_TAP, checkPatternFormat, maskTaps, patternCounts, REMOVED_KERNEL } from '../../../src/ir/pattern.js';
import { Rng } from '../../../src/ir/random.js';

const randomWeight = (seed: number, n: number) => {
  const r = new Rng(seed);
  return Float32Array.from({ length: n * 9 }, () => r.normal() * 0.1);
};

test('56 candidates: the centre and 3 of its 8 neighbours, all distinct', () => {
  assert.equal(CANDIDATES.length, 56);
  assert.equal(new Set(CANDIDATES).size, 56);
  for (const m of CANDIDATES) {
    assert.equal(maskTaps(m).length, 4);
    assert.ok(m & (1 << CENTRE_TAP));
  }
});

test('each kernel takes the pattern that keeps the most L2 energy (brute force)', () => {
  const w = randomWeight(1, 200);
  const masks = CANDIDATES.slice(0, 8);
  const { index, energy } = bestPatterns(w, masks);
  for (let k = 0; k < 200; k++) {
    const e = masks.map((m) => maskTaps(m).reduce((s, t) => s + w[k * 9 + t] ** 2, 0));
    assert.equal(index[k], e.indexOf(Math.max(...e)), `kernel ${k}`);
    assert.ok(Math.abs(energy[k] - Math.max(...e)) < 1e-12);
  }
});

test('projection is the nearest point: round(n/rate) kernels, every filter connected, no swap keeps more energy', () => {
  const M = 6, C = 10, w = randomWeight(2, M * C), masks = CANDIDATES.slice(3, 9);
  w.fill(0, 0, C * 9); // filter 0 is dead
  w[4] = 1e-6;
  for (const rate of [1, 2, 3.6, 10]) {
    const p = projectLayer({ name: 'l', w, M, C }, masks, rate);
    checkPatternFormat(p.w, [M, C, 3, 3], p.format, 'projected');
    const kept = [...p.format.assign].map((a) => a !== REMOVED_KERNEL);
    assert.equal(kept.filter(Boolean).length, keptKernels(M * C, rate));
    const perFilter = Array.from({ length: M }, (_, m) => kept.slice(m * C, (m + 1) * C).filter(Boolean).length);
    assert.ok(perFilter.every((n) => n >= 1), `rate ${rate}: every filter keeps a kernel (${perFilter})`);
    // optimal: no removed kernel keeps more energy than a kept one that is not its filter's only kernel
    const { energy } = bestPatterns(w, masks);
    for (let r = 0; r < M * C; r++) {
      if (kept[r]) continue;
      for (let k = 0; k < M * C; k++) {
        if (kept[k] && perFilter[Math.floor(k / C)] > 1) assert.ok(energy[r] <= energy[k], `rate ${rate}: removed ${r} beats kept ${k}`);
      }
    }
    for (let i = 0; i < w.length; i++) assert.ok(p.mask[i] ? p.w[i] === w[i] : p.w[i] === 0);
    assert.equal(p.mask.reduce((a, b) => a + b, 0), patternCounts(p.format).weights);
  }
});

test('a rate that would remove every kernel of a filter is one clear error naming the largest rate', () => {
  const M = 4, C = 8, w = randomWeight(3, M * C);
  assert.throws(() => projectLayer({ name: 'conv2', w, M, C }, CANDIDATES.slice(0, 4), 10),
    (e: unknown) => e instanceof NnzipError && (e as Error).message === 'layer conv2: connectivity 10 keeps 3 kernels, fewer than its 4 filters, so it would remove every kernel of a filter; use a rate of at most 8 (its input channels) or leave the layer out');
  assert.equal(patternCounts(projectLayer({ name: 'c', w, M, C }, CANDIDATES.slice(0, 4), 8).format).kept, 4);
});

test('rankPatterns: the candidates by frequency of use among the kept kernels', () => {
  const M = 8, C = 8, r = new Rng(4);
  const favourite = CANDIDATES[17], second = CANDIDATES[40];
  const w = new Float32Array(M * C * 9);
  for (let k = 0; k < M * C; k++) {
    const mask = k % 3 === 0 ? second : favourite;
    for (const t of maskTaps(mask)) w[k * 9 + t] = 1 + r.next();
    for (let t = 0; t < 9; t++) if (!maskTaps(mask).includes(t)) w[k * 9 + t] = 0.01 * r.next();
  }
  const ranked = rankPatterns([{ w, rate: 1 }]);
  assert.deepEqual(ranked.slice(0, 2), [favourite, second]);
  assert.equal(ranked.length, 56);
});
