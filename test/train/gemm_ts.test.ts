import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sgemmNaive, sgemmTs } from '../../src/train/gemm_ts.js';
import { Rng } from '../../src/ir/random.js';

function check(M: number, N: number, K: number, transA: boolean, transB: boolean, accumulate: boolean, seed: number): void {
  const rng = new Rng(seed);
  const a = rng.fillUniform(new Float32Array(M * K), -1, 1);
  const b = rng.fillUniform(new Float32Array(K * N), -1, 1);
  const c0 = rng.fillUniform(new Float32Array(M * N), -1, 1);
  const got = c0.slice();
  const want = c0.slice();
  sgemmTs(M, N, K, a, transA, b, transB, got, accumulate);
  sgemmNaive(M, N, K, a, transA, b, transB, want, accumulate);
  const tol = 1e-5 * Math.max(1, K);
  for (let i = 0; i < M * N; i++) {
    if (Math.abs(got[i] - want[i]) > tol) {
      assert.fail(`M=${M} N=${N} K=${K} transA=${transA} transB=${transB} acc=${accumulate}: C[${Math.floor(i / N)},${i % N}] = ${got[i]}, want ${want[i]}`);
    }
  }
}

test('sgemmTs matches the naive GEMM at tile and block edges, all transposes', () => {
  const sizes = [[1, 1, 1], [3, 5, 2], [4, 4, 4], [5, 3, 7], [7, 9, 1], [9, 257, 3], [13, 6, 259], [4, 260, 513], [0, 3, 2], [2, 0, 3]];
  let seed = 1;
  for (const [M, N, K] of sizes) {
    for (const ta of [false, true]) for (const tb of [false, true]) for (const acc of [false, true]) check(M, N, K, ta, tb, acc, seed++);
  }
});

test('sgemmTs with K = 0 leaves zeros (or C when accumulating)', () => {
  const c = new Float32Array([1, 2, 3, 4]);
  sgemmTs(2, 2, 0, new Float32Array(0), false, new Float32Array(0), false, c, true);
  assert.deepEqual([...c], [1, 2, 3, 4]);
  sgemmTs(2, 2, 0, new Float32Array(0), false, new Float32Array(0), false, c, false);
  assert.deepEqual([...c], [0, 0, 0, 0]);
});

test('sgemmTs works on subarray views without touching neighbours', () => {
  const rng = new Rng(3);
  const big = rng.fillUniform(new Float32Array(100), -1, 1);
  const before = big.slice();
  const a = rng.fillUniform(new Float32Array(6), -1, 1);
  const b = rng.fillUniform(new Float32Array(12), -1, 1);
  const view = big.subarray(10, 18);
  sgemmTs(2, 4, 3, a, false, b, false, view, false);
  const want = new Float32Array(8);
  sgemmNaive(2, 4, 3, a, false, b, false, want, false);
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(view[i] - want[i]) < 1e-5);
  for (let i = 0; i < 100; i++) if (i < 10 || i >= 18) assert.equal(big[i], before[i]);
});
