// Gemm and MatMul reference kernels against plain triple loops.
import { test } from 'node:test';
import { f32, Tensor } from '../../../src/ir/tensor.js';
import { run1, rand, assertClose, assertBadInput, Rng } from './helpers.js';

/** C[i,j] = Σ_k A[i,k]·B[k,j] on row-major data, with operands read through index functions. */
function naive(M: number, K: number, N: number, a: (i: number, k: number) => number, b: (k: number, j: number) => number): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += a(i, k) * b(k, j);
    c[i * N + j] = s;
  }
  return c;
}

test('Gemm: hand-computed 2×2 with alpha, beta and a bias row', () => {
  const a = f32([2, 2], [1, 2, 3, 4]);
  const b = f32([2, 2], [5, 6, 7, 8]);
  const c = f32([2], [1, -1]);
  assertClose(run1('Gemm', [a, b, c], { alpha: 2, beta: 0.5 }), { shape: [2, 2], data: [38.5, 43.5, 86.5, 99.5] });
});

test('Gemm: transA/transB combinations, odd sizes, every C broadcast form', () => {
  const rng = new Rng(10);
  const [M, K, N] = [7, 13, 5];
  const cShapes = [[], [1], [N], [1, N], [M, 1], [M, N]];
  for (const transA of [0, 1]) for (const transB of [0, 1]) for (const cs of cShapes) {
    const a = rand(rng, transA ? [K, M] : [M, K]);
    const b = rand(rng, transB ? [N, K] : [K, N]);
    const c = rand(rng, cs);
    const ai = (i: number, k: number) => a.data[transA ? k * M + i : i * K + k];
    const bi = (k: number, j: number) => b.data[transB ? j * K + k : k * N + j];
    const prod = naive(M, K, N, ai, bi);
    const cAt = (i: number, j: number) => {
      if (cs.length === 0 || c.size === 1) return c.data[0];
      if (cs.length === 1) return c.data[j];
      return c.data[(cs[0] === 1 ? 0 : i) * cs[1] + (cs[1] === 1 ? 0 : j)];
    };
    const expected = prod.map((v, idx) => 0.7 * v + 1.3 * cAt(Math.floor(idx / N), idx % N));
    const y = run1('Gemm', [a, b, c], { transA, transB, alpha: 0.7, beta: 1.3 });
    assertClose(y, { shape: [M, N], data: expected }, 1e-5, `Gemm transA=${transA} transB=${transB} C[${cs}]`);
  }
});

test('Gemm: no C', () => {
  const rng = new Rng(11);
  const a = rand(rng, [3, 4]);
  const b = rand(rng, [4, 2]);
  const ref = naive(3, 4, 2, (i, k) => a.data[i * 4 + k], (k, j) => b.data[k * 2 + j]);
  assertClose(run1('Gemm', [a, b]), { shape: [3, 2], data: ref });
});

test('MatMul: 2-D, batched with broadcast, and 1-D operands', () => {
  const rng = new Rng(12);
  const cases: [number[], number[], number[]][] = [
    [[5, 3], [3, 4], [5, 4]],
    [[2, 1, 3, 4], [3, 4, 5], [2, 3, 3, 5]],
    [[4, 6], [2, 6, 3], [2, 4, 3]],
    [[6], [6, 3], [3]],
    [[2, 5, 6], [6], [2, 5]],
    [[6], [6], []],
  ];
  for (const [as, bs, ys] of cases) {
    const a = rand(rng, as);
    const b = rand(rng, bs);
    const A = as.length === 1 ? [1, as[0]] : as;
    const B = bs.length === 1 ? [bs[0], 1] : bs;
    const [M, K] = A.slice(-2);
    const N = B[B.length - 1];
    // Reference: broadcast batches by explicit index arithmetic.
    const batch = ys.slice(0, ys.length - (as.length > 1 ? 1 : 0) - (bs.length > 1 ? 1 : 0));
    const count = batch.reduce((p, d) => p * d, 1);
    const out = new Float64Array(count * M * N);
    const ab = A.slice(0, -2);
    const bb = B.slice(0, -2);
    for (let t = 0; t < count; t++) {
      const idx: number[] = [];
      let r = t;
      for (let d = batch.length - 1; d >= 0; d--) { idx[d] = r % batch[d]; r = Math.floor(r / batch[d]); }
      const off = (shape: number[]) => shape.reduce((o, dim, d) => o * dim + (dim === 1 ? 0 : idx[d + batch.length - shape.length]), 0);
      const ao = off(ab) * M * K;
      const bo = off(bb) * K * N;
      out.set(naive(M, K, N, (i, k) => a.data[ao + i * K + k], (k, j) => b.data[bo + k * N + j]), t * M * N);
    }
    assertClose(run1('MatMul', [a, b]), { shape: ys, data: out }, 1e-5, `MatMul [${as}]×[${bs}]`);
  }
});

test('Gemm/MatMul: bad input', () => {
  const rng = new Rng(13);
  assertBadInput(() => run1('Gemm', [rand(rng, [2, 3]), rand(rng, [4, 2])]), /disagree on the inner dimension \(3 vs 4\)/);
  assertBadInput(() => run1('Gemm', [rand(rng, [2, 3, 1]), rand(rng, [3, 2])]), /must both be 2-D/);
  assertBadInput(() => run1('Gemm', [rand(rng, [2, 3]), rand(rng, [3, 4]), rand(rng, [3])]), /cannot be broadcast/);
  assertBadInput(() => run1('MatMul', [rand(rng, [2, 3]), rand(rng, [2, 3])]), /inner dimension \(3 vs 2\)/);
  assertBadInput(() => run1('MatMul', [rand(rng, [2, 2, 3]), rand(rng, [3, 3, 1])]), /cannot be broadcast/);
  assertBadInput(() => run1('MatMul', [new Tensor('int32', [2, 2]), new Tensor('int32', [2, 2])]), /int32; the op takes float32 or float64/);
});
