import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../../src/ir/errors.js';
import { Rng } from '../../../src/ir/random.js';
import { wasmFeatures } from '../../../src/kernels/wasm/features.js';
import { gemmTiles, WasmGemm, type GemmOptions } from '../../../src/kernels/wasm/gemm.js';
import { widePanels, type GemmVariant } from '../../../src/kernels/wasm/gemm_codegen.js';
import { assertClose, edgeSizes, rc, refGemm } from './helpers.js';

// The default tile, odd tiles with tiny K/M blocks (so K and M blocking and every
// row-remainder kernel run), an unrolled one, and the fused (relaxed SIMD) one if present.
const VARIANTS: Partial<GemmVariant>[] = [
  {},
  { mr: 5, nr: 12, kc: 7, mc: 10 },
  { mr: 3, nr: 16, unroll: 2, kc: 64, mc: 6 },
  { mr: 2, nr: 4, unroll: 3, kc: 5, mc: 4, fma: false },
  ...(wasmFeatures().relaxedSimd ? [{ fma: true }, { mr: 5, nr: 8, fma: true, kc: 9, mc: 5 }] : []),
];

function check(g: WasmGemm, rng: Rng, M: number, N: number, K: number, opts: Omit<GemmOptions, 'bias'> & { bias?: 'col' | 'row' } = {}): void {
  const a = rng.floats(M * K), b = rng.floats(K * N), c0 = rng.floats(M * N);
  const o: GemmOptions = { ...opts, bias: undefined, biasPer: opts.bias };
  if (opts.bias) o.bias = rng.floats(opts.bias === 'row' ? M : N);
  const got = c0.slice(), want = c0.slice();
  g.sgemm(M, N, K, a, b, got, o);
  refGemm(M, N, K, a, b, want, o);
  const v = g.variant;
  const what = `gemm ${M}×${N}×${K} ${JSON.stringify(opts)} tile ${v.mr}×${v.nr} kc ${v.kc} mc ${v.mc}${v.fma ? ' fma' : ''}`;
  assertClose(got, want, (e) => 1e-5 * Math.max(K, 1) * (1 + Math.abs(e)), what, rc(N));
}

test('gemm matches the reference at tile edges (M, N around the tile, K around the blocks)', () => {
  const rng = new Rng(1);
  for (const over of VARIANTS) {
    const g = new WasmGemm({ variant: over });
    const ks = [...new Set([1, 3, 4, 5, g.variant.kc, g.variant.kc + 1, 17])];
    for (const M of edgeSizes(g.variant.mr)) for (const N of edgeSizes(g.variant.nr)) for (const K of ks) check(g, rng, M, N, K);
  }
});

test('gemm matches the reference on larger and lopsided shapes', () => {
  const rng = new Rng(2);
  for (const over of VARIANTS.slice(0, 3)) {
    const g = new WasmGemm({ variant: over });
    for (const [M, N, K] of [[64, 64, 64], [100, 100, 100], [100, 37, 600], [3, 100, 300], [1, 257, 33], [257, 1, 20]]) check(g, rng, M, N, K);
  }
});

test('every tile of the tuning space (gemmTiles) is correct, unrolled or not', () => {
  const rng = new Rng(6);
  for (const { mr, nr } of gemmTiles()) {
    for (const unroll of [1, 2]) {
      const g = new WasmGemm({ variant: { mr, nr, unroll, kc: 16, mc: mr * 2 } });
      for (const [M, N, K] of [[2 * mr + 3, 2 * nr + 3, 33], [mr, nr, 2], [1, 1, 1]]) check(g, rng, M, N, K, { bias: 'row', relu: true });
    }
  }
});

test('a GEMM of fewer rows than MR takes several B panels a tile: the bits of the same rows inside an MR-row GEMM', () => {
  const rng = new Rng(9);
  for (const over of VARIANTS) {
    const g = new WasmGemm({ variant: over });
    const { mr, nr, kc } = g.variant;
    for (let rows = 1; rows < mr; rows++) {
      const panels = widePanels(g.variant, rows);
      // whole groups of panels, a partial group and a partial panel; K across the K blocks
      for (const [N, K] of [[3 * panels * nr + nr + 3, 2 * kc + 5], [panels * nr, 3], [panels * nr - 1, kc + 1]]) {
        const a = rng.floats(rows * K), b = rng.floats(K * N), bias = rng.floats(N), c0 = rng.floats(rows * N);
        const tall = new Float32Array(mr * K);
        for (let i = 0; i < mr; i++) tall.set(a.subarray((i % rows) * K, (i % rows + 1) * K), i * K);
        for (const o of [{}, { bias, biasPer: 'col' as const, relu: true }, { accumulate: true }]) {
          const few = c0.slice(), many = new Float32Array(mr * N);
          for (let i = 0; i < mr; i++) many.set(c0.subarray((i % rows) * N, (i % rows + 1) * N), i * N);
          g.sgemm(rows, N, K, a, b, few, o);
          g.sgemm(mr, N, K, tall, b, many, o);
          const what = `${rows}×${N}×${K} ${JSON.stringify(Object.keys(o))} tile ${mr}×${nr} (${panels} panels)${g.variant.fma ? ' fma' : ''}`;
          assert.deepEqual(few, many.subarray(0, rows * N), what);
          check(g, rng, rows, N, K);
        }
      }
    }
  }
});

test('gemm options: transA, transB, bias per column / row, accumulate, relu, clip, and their mixes', () => {
  const rng = new Rng(3);
  const mixes: (Omit<GemmOptions, 'bias'> & { bias?: 'col' | 'row' })[] = [
    { transA: true }, { transB: true }, { transA: true, transB: true },
    { bias: 'col' }, { bias: 'row' }, { accumulate: true }, { relu: true }, { clip: [-0.25, 0.5] },
    { bias: 'col', relu: true }, { bias: 'row', clip: [-1, 0.1], accumulate: true }, { relu: true, clip: [-3, 0.2] },
    { transB: true, bias: 'row', accumulate: true, relu: true },
  ];
  for (const over of VARIANTS) {
    const g = new WasmGemm({ variant: over });
    const { mr, nr, kc } = g.variant;
    for (const o of mixes) for (const [M, N, K] of [[2 * mr + 3, 2 * nr + 3, kc + 2], [mr, nr, 3], [1, 1, 1]]) check(g, rng, M, N, K, o);
  }
});

test('K = 0 leaves bias (and C when accumulating), clamped', () => {
  const g = new WasmGemm();
  const bias = Float32Array.from([1, -2, 3]);
  const c = Float32Array.from([5, 5, 5, 5, 5, 5]);
  g.sgemm(2, 3, 0, new Float32Array(0), new Float32Array(0), c, { bias, relu: true });
  assert.deepEqual([...c], [1, 0, 3, 1, 0, 3]);
  const acc = Float32Array.from([1, 1, 1, 1, 1, 1]);
  g.sgemm(2, 3, 0, new Float32Array(0), new Float32Array(0), acc, { bias, accumulate: true });
  assert.deepEqual([...acc], [2, -1, 4, 2, -1, 4]);
});

test('offset API: C inside a wider matrix (ldc > N) leaves the other columns alone', () => {
  const rng = new Rng(4);
  const g = new WasmGemm();
  const [M, N, K, ldc] = [9, 13, 21, 20];
  const a = rng.floats(M * K), b = rng.floats(K * N);
  const ar = g.arena;
  const aAt = ar.allocF32(M * K), bAt = ar.allocF32(K * N), cAt = ar.allocF32(M * ldc);
  const pa = ar.alloc(g.packedASize(M, K)), pb = ar.alloc(g.packedBSize(K, N));
  ar.f32(aAt, M * K).set(a);
  ar.f32(bAt, K * N).set(b);
  ar.f32(cAt, M * ldc).fill(7);
  g.packA(aAt, K, false, M, K, pa);
  g.packB(bAt, N, false, K, N, pb);
  g.gemmPacked(M, N, K, pa, pb, cAt, { ldc });
  const want = new Float32Array(M * N);
  refGemm(M, N, K, a, b, want);
  const c = ar.f32(cAt, M * ldc);
  const got = new Float32Array(M * N);
  for (let i = 0; i < M; i++) {
    got.set(c.subarray(i * ldc, i * ldc + N), i * N);
    for (let j = N; j < ldc; j++) assert.equal(c[i * ldc + j], 7, `column ${j} of row ${i} (outside C) was written`);
  }
  assertClose(got, want, () => 1e-5 * K, `gemm ${M}×${N}×${K} ldc ${ldc}`, rc(N));
});

test('packing writes exactly packedASize / packedBSize bytes, for every tile and transposition', () => {
  const rng = new Rng(7);
  for (const { mr, nr } of gemmTiles()) {
    const g = new WasmGemm({ variant: { mr, nr } });
    const ar = g.arena;
    for (const trans of [false, true]) {
      const [rows, K] = [2 * Math.max(mr, nr) + 1, 5];
      const src = ar.allocF32(rows * K);
      ar.f32(src, rows * K).set(rng.floats(rows * K));
      const sizeA = g.packedASize(rows, K), sizeB = g.packedBSize(K, rows);
      const dst = ar.alloc(Math.max(sizeA, sizeB) + 64);
      for (const [size, pack] of [[sizeA, () => g.packA(src, trans ? rows : K, trans, rows, K, dst)],
        [sizeB, () => g.packB(src, trans ? K : rows, trans, K, rows, dst)]] as const) {
        const guard = new Uint8Array(ar.memory.buffer, dst + size, 64);
        guard.fill(0xa5);
        pack();
        assert.ok(guard.every((b) => b === 0xa5), `tile ${mr}×${nr} trans=${trans}: packing wrote past its ${size} bytes`);
      }
    }
  }
});

test('prepackB keeps constant weights packed for many calls', () => {
  const rng = new Rng(5);
  const g = new WasmGemm();
  const [N, K] = [10, 37];
  const w = rng.floats(N * K); // N×K, as ONNX Gemm weights with transB=1
  const packed = g.prepackB(w, K, N, true);
  for (const M of [1, 4, 7]) {
    const a = rng.floats(M * K), bias = rng.floats(N);
    const got = new Float32Array(M * N), want = new Float32Array(M * N);
    g.sgemmPackedB(M, packed, a, got, { bias, relu: true });
    refGemm(M, N, K, a, w, want, { transB: true, bias, relu: true });
    assertClose(got, want, () => 1e-5 * K, `prepacked gemm M=${M}`, rc(N));
  }
});

test('bad input: wrong lengths and dimensions throw NnzipError naming the operand', () => {
  const g = new WasmGemm();
  const f = new Float32Array(6);
  assert.throws(() => g.sgemm(2, 3, 4, f, new Float32Array(12), f), (e: unknown) => e instanceof NnzipError && /A has 6 values, needs 8/.test(e.message));
  assert.throws(() => g.sgemm(2, 3, 1, new Float32Array(2), new Float32Array(2), f), (e: unknown) => e instanceof NnzipError && /B has 2/.test(e.message));
  assert.throws(() => g.sgemm(2, 3, 1, new Float32Array(2), new Float32Array(3), new Float32Array(5)), /C has 5/);
  assert.throws(() => g.sgemm(-1, 3, 1, f, f, f), (e: unknown) => e instanceof NnzipError && /M=-1/.test(e.message));
  assert.throws(() => g.sgemm(2, 3, 1, new Float32Array(2), new Float32Array(3), f, { bias: new Float32Array(2) }), /bias has 2 values, needs 3/);
  assert.throws(() => new WasmGemm({ variant: { nr: 6 } }), /invalid/);
});
