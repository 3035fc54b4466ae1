// The reference GEMM (the oracle of every WASM GEMM, and the trainer's TS GEMM)
// against its definition: strides, offsets, transposes, bias per row / column,
// accumulate and clamp, at the edges of its 4-row and 4-deep blocks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gemmRef, type GemmRefCall } from '../../../src/ir/ref/gemm_ref.js';
import { Rng } from '../../../src/ir/random.js';

/** C(i,j) by the definition, in float64, on a copy of C. */
function definition(g: Required<Omit<GemmRefCall, 'bias' | 'clamp'>> & Pick<GemmRefCall, 'bias' | 'clamp'>): Float64Array {
  const out = Float64Array.from(g.c);
  for (let i = 0; i < g.M; i++) for (let j = 0; j < g.N; j++) {
    let s = g.accumulate ? g.c[g.cOff + i * g.ldc + j] : 0;
    for (let k = 0; k < g.K; k++) {
      s += (g.transA ? g.a[g.aOff + k * g.lda + i] : g.a[g.aOff + i * g.lda + k]) * (g.transB ? g.b[g.bOff + j * g.ldb + k] : g.b[g.bOff + k * g.ldb + j]);
    }
    if (g.bias) s += g.bias[g.biasOff + (g.biasPer === 'row' ? i : j)];
    if (g.clamp) s = Math.min(Math.max(s, g.clamp[0]), g.clamp[1]);
    out[g.cOff + i * g.ldc + j] = s;
  }
  return out;
}

test('gemmRef matches the definition at block edges: transposes, strides, offsets, bias, accumulate, clamp', () => {
  const rng = new Rng(1);
  let n = 0;
  for (const [M, N, K] of [[1, 1, 1], [3, 5, 2], [4, 4, 4], [5, 3, 7], [7, 9, 1], [9, 17, 3], [13, 6, 9], [8, 3, 0]]) {
    for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
      const pad = n % 3;
      const lda = (transA ? M : K) + pad, ldb = (transB ? K : N) + pad, ldc = N + pad;
      const a = rng.floats(5 + (transA ? K : M) * lda), b = rng.floats(2 + (transB ? N : K) * ldb), c = rng.floats(1 + M * ldc);
      // a pruned block of A: the all-zero groups the core skips must still count as zeros
      if (n % 2) a.fill(0, 5, 5 + Math.min(8, a.length - 5));
      const g = {
        M, N, K, a, aOff: 5, lda, transA, b, bOff: 2, ldb, transB, c, cOff: 1, ldc, accumulate,
        bias: n % 3 === 0 ? null : rng.floats(M + N + 4), biasOff: 4, biasPer: (n % 2 ? 'row' : 'col') as 'row' | 'col',
        clamp: n % 4 === 1 ? ([-0.5, 0.75] as const) : undefined,
      };
      const want = definition(g);
      gemmRef(g);
      for (let i = 0; i < c.length; i++) {
        assert.ok(Math.abs(c[i] - want[i]) <= 1e-6 * Math.max(1, K), `${M}×${N}×${K} transA=${transA} transB=${transB} acc=${accumulate}: C[${i}] = ${c[i]}, want ${want[i]}`);
      }
      n++;
    }
  }
  assert.equal(n, 64);
});

test('gemmRef with M or N = 0 writes nothing; defaults are dense row-major', () => {
  const c = Float32Array.of(7, 7);
  gemmRef({ M: 0, N: 2, K: 3, a: new Float32Array(0), b: new Float32Array(6), c });
  gemmRef({ M: 2, N: 0, K: 3, a: new Float32Array(6), b: new Float32Array(0), c });
  assert.deepEqual([...c], [7, 7]);
  const out = new Float32Array(4);
  gemmRef({ M: 2, N: 2, K: 2, a: Float32Array.of(1, 2, 3, 4), b: Float32Array.of(5, 6, 7, 8), c: out });
  assert.deepEqual([...out], [19, 22, 43, 50]);
});
