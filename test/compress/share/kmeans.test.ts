import assert from 'node:assert/strict';
import { test } from 'node:test';
import { centroidGradients, kmeans1d, KMeansInit } from '../../../src/compress/share/kmeans.js';
import { NnzipError } from '../../../src/ir/errors.js';
import { isExactFloat16 } from '../../../src/format/float16.js';
import { randInt, rng, SIZES, sparseWeights } from '../../format/rng.js';

// Han et al., Deep Compression, Fig. 3: 4×4 weights, 2-bit (4) shared values
const FIG_W = [[2.09, -0.98, 1.48, 0.09], [0.05, -0.14, -1.08, 2.12], [-0.91, 1.92, 0, -1.03], [1.87, 0, 1.53, 1.49]].flat();
const FIG_G = [[-0.03, -0.01, 0.03, 0.02], [-0.01, 0.01, -0.02, 0.12], [-0.01, 0.02, 0.04, 0.01], [-0.07, -0.02, 0.01, -0.02]].flat();

test("Han's Fig. 3 example: linear init, zeros clustered → centroids −1, 0, 1.5, 2 and the figure's indices", () => {
  const r = kmeans1d(Float32Array.from(FIG_W), { bits: 2, init: 'linear', includeZeros: true });
  assert.equal(r.centroids.length, 4);
  [-1, 0, 1.5, 2].forEach((c, j) => assert.ok(Math.abs(r.centroids[j] - c) < 1e-6, `centroid ${j} = ${r.centroids[j]}`));
  assert.deepEqual([...r.assignments], [[3, 0, 2, 1], [1, 1, 0, 3], [0, 3, 1, 0], [3, 1, 2, 2]].flat());
  assert.ok(r.converged);
});

test("Han's Fig. 3 gradient grouping: per-centroid sums −0.03, 0.04, 0.02, 0.04", () => {
  const r = kmeans1d(Float32Array.from(FIG_W), { bits: 2, includeZeros: true });
  const g = centroidGradients(Float32Array.from(FIG_G), r.assignments, 4);
  [-0.03, 0.04, 0.02, 0.04].forEach((v, j) => assert.ok(Math.abs(g[j] - v) < 1e-6, `cluster ${j}: ${g[j]}`));
});

/** Plain Lloyd with O(n·k) nearest-centroid scans (ties → lower index), from the same init. */
function referenceLloyd(values: number[], init: number[], maxIterations = 300): { centroids: number[]; assign: number[] } {
  let c = [...init];
  let assign: number[] = [];
  for (let it = 0; it < maxIterations; it++) {
    const next = values.map((v) => c.reduce((best, cj, j) => (Math.abs(v - cj) < Math.abs(v - c[best]) ? j : best), 0));
    if (next.every((a, i) => a === assign[i]) && assign.length === values.length) break;
    assign = next;
    c = c.map((cj, j) => {
      const members = values.filter((_, i) => assign[i] === j);
      return members.length ? members.reduce((s, v) => s + v, 0) / members.length : cj;
    });
  }
  return { centroids: c, assign };
}

test('matches a plain O(n·k) Lloyd reference on seeded data (linear init, pruned zeros skipped)', () => {
  const r = rng(3);
  for (const [n, bits] of [[7, 2], [300, 3], [1000, 4]] as const) {
    const w = sparseWeights(r, n, 0.3);
    const got = kmeans1d(w, { bits, dropEmpty: false });
    const values = [...w].filter((v) => v !== 0);
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const k = Math.min(2 ** bits, new Set(values).size);
    const init = Array.from({ length: k }, (_, j) => (k === 1 ? (lo + hi) / 2 : lo + (j * (hi - lo)) / (k - 1)));
    const ref = referenceLloyd(values, init);
    ref.centroids.forEach((c, j) => assert.ok(Math.abs(got.centroids[j] - c) < 1e-6, `n ${n} centroid ${j}: ${got.centroids[j]} vs ${c}`));
    let vi = 0;
    for (let i = 0; i < n; i++) {
      if (w[i] === 0) assert.equal(got.assignments[i], got.centroids.length, 'pruned zero keeps the zero index');
      else assert.equal(got.assignments[i], ref.assign[vi++], `n ${n} weight ${i}`);
    }
  }
});

test('every weight is assigned to its nearest centroid; k ≤ 2^bits and ≤ distinct values (sizes 0, 1, 7, 1000)', () => {
  const r = rng(8);
  for (const init of ['linear', 'density', 'random'] as KMeansInit[]) {
    for (const n of SIZES) {
      for (const bits of [1, 3, 5, 8]) {
        const w = sparseWeights(r, n, 0.5);
        const { centroids, assignments } = kmeans1d(w, { bits, init, seed: 5 });
        const distinct = new Set([...w].filter((v) => v !== 0)).size;
        assert.ok(centroids.length <= Math.min(2 ** bits, distinct), `${init} n ${n} bits ${bits}`);
        for (let j = 1; j < centroids.length; j++) assert.ok(centroids[j] > centroids[j - 1], 'ascending');
        const used = new Set<number>();
        for (let i = 0; i < n; i++) {
          if (w[i] === 0) {
            assert.equal(assignments[i], centroids.length);
            continue;
          }
          const a = assignments[i];
          used.add(a);
          for (const c of centroids) assert.ok(Math.abs(w[i] - centroids[a]) <= Math.abs(w[i] - c), `${init}: weight ${i} not at its nearest centroid`);
        }
        assert.equal(used.size, centroids.length, 'no empty clusters are kept');
      }
    }
  }
});

test('fewer distinct values than 2^bits gives one centroid per value, exactly', () => {
  const w = Float32Array.from([0.5, 0, -0.25, 0.5, 0.75, -0.25]);
  const r = kmeans1d(w, { bits: 4 });
  assert.deepEqual([...r.centroids], [-0.25, 0.5, 0.75]);
  assert.deepEqual([...r.assignments], [1, 3, 0, 1, 2, 0]);
  assert.equal(kmeans1d(new Float32Array(5), { bits: 3 }).centroids.length, 0);
});

test('init choices differ as documented; random is reproducible with its seed', () => {
  const w = sparseWeights(rng(10), 2000, 0.5);
  const a = kmeans1d(w, { bits: 3, init: 'random', seed: 1 });
  const b = kmeans1d(w, { bits: 3, init: 'random', seed: 1 });
  assert.deepEqual(a.centroids, b.centroids);
  assert.deepEqual(a.assignments, b.assignments);
  const linear = kmeans1d(w, { bits: 3, init: 'linear', maxIterations: 1 });
  const density = kmeans1d(w, { bits: 3, init: 'density', maxIterations: 1 });
  // linear spreads to the tails; density crowds the middle
  const spread = (c: Float32Array) => c[c.length - 1] - c[0];
  assert.ok(spread(linear.centroids) > spread(density.centroids));
});

test('large layers are fast (1-D boundaries, not n·k scans)', () => {
  const w = sparseWeights(rng(1), 300 * 784, 0.08);
  const t0 = performance.now();
  const r = kmeans1d(w, { bits: 8 });
  const ms = performance.now() - t0;
  assert.ok(r.centroids.length > 100 && r.converged);
  assert.ok(ms < 3000, `${ms.toFixed(0)} ms`);
});

test('float16Centroids gives centroids stored exactly in 16 bits, still nearest-assigned', () => {
  const w = sparseWeights(rng(12), 5000, 0.2);
  const r = kmeans1d(w, { bits: 6, float16Centroids: true });
  assert.ok(isExactFloat16(r.centroids));
  const plain = kmeans1d(w, { bits: 6 });
  assert.ok(!isExactFloat16(plain.centroids));
  for (let i = 0; i < w.length; i++) {
    if (w[i] === 0) continue;
    for (const c of r.centroids) assert.ok(Math.abs(w[i] - r.centroids[r.assignments[i]]) <= Math.abs(w[i] - c));
  }
});

test('centroid gradients match a plain loop and skip pruned weights (seeded)', () => {
  const r = rng(4);
  const n = 1000;
  const k = 16;
  const grad = Float32Array.from({ length: n }, () => r() - 0.5);
  const assign = Uint8Array.from({ length: n }, () => randInt(r, k + 1)); // k = pruned
  const got = centroidGradients(grad, assign, k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) if (assign[i] === j) s += grad[i];
    assert.ok(Math.abs(got[j] - s) < 1e-5, `cluster ${j}`);
  }
  assert.throws(() => centroidGradients(grad, assign.subarray(1), k), /must match one to one/);
});

test('bad options are NnzipErrors naming the option', () => {
  const w = Float32Array.from([1, 2]);
  for (const bits of [0, 17, 2.5]) {
    assert.throws(() => kmeans1d(w, { bits }), (e: unknown) => e instanceof NnzipError && new RegExp(`option bits=${bits} is outside 1\\.\\.16`).test(e.message));
  }
  assert.throws(() => kmeans1d(w, { bits: 2, init: 'kmeans++' as KMeansInit }), /option init="kmeans\+\+"/);
  assert.throws(() => kmeans1d(w, { bits: 2, maxIterations: 0 }), /maxIterations/);
  assert.throws(() => kmeans1d(Float32Array.from([1, NaN]), { bits: 2 }), /weight 1 is NaN/);
});
