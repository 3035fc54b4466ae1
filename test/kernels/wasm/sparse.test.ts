// The sparse / codebook kernels against the reference (the dense one of src/ir/ref on the decoded weights) with
// seeded random weights at many densities and odd sizes; codebook kernels bit-exact
// against the f32 kernels on the decoded weights; every generated module validated.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../../src/ir/errors.js';
import { Rng } from '../../../src/ir/random.js';
import {
  checkCsr, csrFromCodebook, csrFromCodebookFormat, csrFromDense, csrToDense, decodeCsr, nnzOf, transposeCsr, type CsrMatrix,
} from '../../../src/kernels/csr.js';
import { WasmArena } from '../../../src/kernels/wasm/arena.js';
import { convSizes, type Conv2dParams } from '../../../src/kernels/wasm/conv_params.js';
import { wasmFeatures } from '../../../src/kernels/wasm/features.js';
import {
  WasmSparse, chooseConvKernel, chooseFcKernel, cscZeroThreshold, fcKernelCosts, type Batch1Kernel, type SparseEpilogue,
} from '../../../src/kernels/wasm/sparse.js';
import { sparseModule, sparseVariantKey, sparseVariants } from '../../../src/kernels/wasm/sparse_codegen.js';
import { im2col } from '../../../src/ir/ref/im2col.js';
import { refSparseConv, refSparseFc } from './helpers.js';

const WA = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;

/** A [rows × cols] weight with about `density` nonzeros; `rowKinds` forces row 0 empty and row 1 full. */
function randomWeight(rng: Rng, rows: number, cols: number, density: number, rowKinds = false): Float32Array {
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i++) if (rng.next() < density) w[i] = rng.uniform(-1, 1);
  if (rowKinds && rows >= 2) {
    w.fill(0, 0, cols);
    for (let c = 0; c < cols; c++) w[cols + c] = rng.uniform(-1, 1) || 0.5;
  }
  return w;
}

/** |got - want| within tol(i) everywhere; the message names the case and the first bad index. */
function assertClose(got: Float32Array, want: Float32Array, tol: (i: number) => number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length ${got.length} vs ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol(i))) assert.fail(`${what}: index ${i}: got ${got[i]}, want ${want[i]} (tol ${tol(i)})`);
  }
}

/** Tolerance for an FC output: f32 summation error grows with Σ|w·x|. */
function fcTol(w: CsrMatrix, x: Float32Array, batch: number): (i: number) => number {
  const dense = csrToDense(w), mag = new Float64Array(batch * w.rows);
  for (let n = 0; n < batch; n++) {
    for (let r = 0; r < w.rows; r++) {
      let s = 1;
      for (let c = 0; c < w.cols; c++) s += Math.abs(dense[r * w.cols + c] * x[n * w.cols + c]);
      mag[n * w.rows + r] = s;
    }
  }
  return (i) => 2e-6 * mag[i];
}

function runFc(sp: WasmSparse, w: CsrMatrix, batch: number, x: Float32Array, b1: Batch1Kernel, o: SparseEpilogue): Float32Array {
  const layer = sp.prepareFc(w, { bias: o.bias, batch1: b1 });
  const y = new Float32Array(batch * w.rows).fill(NaN);
  sp.fc(layer, batch, x, y, { relu: o.relu, clip: o.clip });
  return y;
}

test('every generated module validates', () => {
  for (const v of sparseVariants()) {
    // fused multiply-add needs relaxed SIMD (Node 20: --experimental-wasm-relaxed-simd)
    if (v.fma && !wasmFeatures().relaxedSimd) continue;
    assert.ok(WA.validate(sparseModule(v)), sparseVariantKey(v));
  }
});

test('CSR layout: dense round trip, transpose, uint16 vs int32 indices', () => {
  const rng = new Rng(1);
  for (const [rows, cols, d] of [[1, 1, 1], [3, 17, 0.3], [17, 3, 0.5], [300, 100, 0.08], [5, 7, 0]] as const) {
    const w = randomWeight(rng, rows, cols, d);
    const m = csrFromDense(w, rows, cols);
    checkCsr(m);
    assert.deepEqual(csrToDense(m), w, `${rows}×${cols}`);
    assert.ok(m.colIdx instanceof Uint16Array);
    const t = transposeCsr(m);
    checkCsr(t);
    assert.equal(nnzOf(t), nnzOf(m));
    assert.deepEqual(csrToDense(transposeCsr(t)), w, `${rows}×${cols} transposed twice`);
  }
  assert.ok(csrFromDense(new Float32Array(70000), 1, 70000).colIdx instanceof Int32Array);
});

test('codebook layout: pruned index and zero centroid are not stored; decode matches', () => {
  const centroids = Float32Array.from([0.5, 0, -2]);
  const indices = [0, 3, 1, 2, 3, 0]; // 3 = pruned
  const m = csrFromCodebook(centroids, indices, 2, 3);
  assert.equal(nnzOf(m), 3);
  assert.deepEqual([...csrToDense(m)], [0.5, 0, 0, -2, 0, 0.5]);
  assert.deepEqual([...csrToDense(decodeCsr(m))], [0.5, 0, 0, -2, 0, 0.5]);
  const f = csrFromCodebookFormat({ kind: 'codebook', bits: 2, centroids, indices: Uint8Array.from(indices) }, 2, 3);
  assert.deepEqual(f, m);
});

test('FC: batch 1, 3, 6, 64 match the reference at many densities and odd sizes (csr, csc, auto)', () => {
  const rng = new Rng(7);
  const sp = new WasmSparse();
  const shapes: [number, number][] = [[1, 1], [3, 17], [17, 3], [1, 300], [784, 1], [100, 10], [300, 100]];
  for (const [inDim, out] of shapes) {
    for (const density of [0, 0.01, 0.3, 1]) {
      const w = csrFromDense(randomWeight(rng, out, inDim, density, true), out, inDim);
      for (const batch of [1, 3, 6, 64]) {
        const x = rng.floats(batch * inDim).map((v) => (rng.next() < 0.4 ? 0 : v));
        const o: SparseEpilogue = { bias: rng.next() < 0.5 ? rng.floats(out) : undefined, relu: batch % 2 === 1, clip: batch === 6 ? [-0.3, 0.4] : undefined };
        const want = new Float32Array(batch * out);
        refSparseFc(w, batch, x, want, o);
        for (const b1 of (batch === 1 ? ['csr', 'csc', 'auto'] : ['csr']) as Batch1Kernel[]) {
          assertClose(runFc(sp, w, batch, x, b1, o), want, fcTol(w, x, batch), `fc ${inDim}→${out} d=${density} batch ${batch} ${b1}`);
        }
      }
    }
  }
});

test('FC: the LeNet-300-100 first layer at 8% and 100%, batch 1 and 64', () => {
  const rng = new Rng(8);
  const sp = new WasmSparse();
  for (const density of [0.08, 1]) {
    const w = csrFromDense(randomWeight(rng, 300, 784, density, true), 300, 784);
    const bias = rng.floats(300);
    for (const batch of [1, 64]) {
      const x = rng.floats(batch * 784, 0, 1);
      const want = new Float32Array(batch * 300);
      refSparseFc(w, batch, x, want, { bias, relu: true });
      for (const b1 of (batch === 1 ? ['csr', 'csc'] : ['csr']) as Batch1Kernel[]) {
        assertClose(runFc(sp, w, batch, x, b1, { bias, relu: true }), want, fcTol(w, x, batch), `784→300 d=${density} batch ${batch} ${b1}`);
      }
    }
  }
});

test('FC: int32 column indices (in > 65536) and int32 CSC row indices (out > 65536)', () => {
  const rng = new Rng(9);
  const sp = new WasmSparse();
  for (const [inDim, out] of [[70000, 3], [2, 70000]]) {
    const w = csrFromDense(randomWeight(rng, out, inDim, 0.002), out, inDim);
    for (const batch of [1, 5]) {
      const x = rng.floats(batch * inDim);
      const want = new Float32Array(batch * out);
      refSparseFc(w, batch, x, want, {});
      for (const b1 of (batch === 1 ? ['csr', 'csc'] : ['csr']) as Batch1Kernel[]) {
        assertClose(runFc(sp, w, batch, x, b1, {}), want, fcTol(w, x, batch), `wide ${inDim}→${out} batch ${batch} ${b1}`);
      }
    }
  }
});

test('codebook kernels are bit-exact against the f32 kernels on the decoded weights', () => {
  const rng = new Rng(10);
  const sp = new WasmSparse();
  for (const [inDim, out, k] of [[784, 300, 32], [17, 3, 256], [3, 17, 1]]) {
    const centroids = rng.floats(k);
    const idx = Uint16Array.from({ length: inDim * out }, () => (rng.next() < 0.2 ? rng.int(k) : k));
    const cb = csrFromCodebook(centroids, idx, out, inDim);
    const f = decodeCsr(cb);
    for (const batch of [1, 3, 64]) {
      const x = rng.floats(batch * inDim).map((v) => (rng.next() < 0.5 ? 0 : v));
      const bias = rng.floats(out);
      for (const b1 of (batch === 1 ? ['csr', 'csc'] : ['csr']) as Batch1Kernel[]) {
        const a = runFc(sp, cb, batch, x, b1, { bias, relu: true }), b = runFc(sp, f, batch, x, b1, { bias, relu: true });
        assert.deepEqual(a, b, `codebook ${inDim}→${out} k=${k} batch ${batch} ${b1}`);
        const want = new Float32Array(batch * out);
        refSparseFc(cb, batch, x, want, { bias, relu: true });
        assertClose(a, want, fcTol(cb, x, batch), `codebook vs reference ${inDim}→${out} batch ${batch}`);
      }
    }
  }
});

test('auto batch-1 kernel follows the input zeros; zero count and transpose exports', () => {
  const rng = new Rng(11);
  const sp = new WasmSparse();
  const w = csrFromDense(randomWeight(rng, 300, 784, 0.08), 300, 784);
  const layer = sp.prepareFc(w);
  assert.equal(layer.batch1, 'auto');
  const a = sp.arena, x = a.allocF32(784);
  a.f32(x, 784).set(rng.floats(784, 0.1, 1));
  assert.equal(sp.batch1KernelFor(layer, x), 'csr');
  a.f32(x, 784).fill(0, 0, 700);
  assert.equal(sp.batch1KernelFor(layer, x), 'csc');
  const e = layer.csr.exports;
  for (const n of [0, 1, 3, 4, 5, 17]) {
    const v = a.f32(x, n);
    v.set(Float32Array.from({ length: n }, (_, i) => [0, -0, 1, NaN][i % 4]));
    assert.equal(e.zeros(x, n), [...v].filter((t) => t === 0).length, `zeros n=${n}`);
  }
  for (const [rows, cols] of [[1, 1], [3, 5], [4, 4], [6, 9], [64, 17]]) {
    const src = a.allocF32(rows * cols), dst = a.allocF32(rows * cols);
    const s = rng.floats(rows * cols);
    a.f32(src, rows * cols).set(s);
    e.transpose(src, rows, cols, dst);
    const got = a.f32(dst, rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) assert.equal(got[c * rows + r], s[r * cols + c], `transpose ${rows}×${cols} at ${r},${c}`);
  }
});

const CONVS: [string, Conv2dParams, number, number][] = [
  ['3×3 pad 1', { C: 3, M: 5, kh: 3, kw: 3, pads: [1, 1, 1, 1] }, 7, 9],
  ['5×5 stride 2 asymmetric pads', { C: 2, M: 17, kh: 5, kw: 5, strides: [2, 2], pads: [0, 2, 1, 0] }, 11, 10],
  ['3×2 dilation 2 stride (1,3)', { C: 4, M: 3, kh: 3, kw: 2, dilations: [2, 2], strides: [1, 3], pads: [2, 1, 0, 3] }, 9, 13],
  ['groups 2', { C: 4, M: 6, kh: 3, kw: 3, group: 2, pads: [1, 1, 1, 1] }, 6, 5],
  ['1×1 direct', { C: 5, M: 7, kh: 1, kw: 1 }, 5, 3],
  ['1×1 stride 2', { C: 3, M: 4, kh: 1, kw: 1, strides: [2, 2] }, 7, 7],
  ['LeNet-5 conv2', { C: 20, M: 50, kh: 5, kw: 5 }, 12, 12],
];

test('conv: im2col export matches the reference exactly', () => {
  const rng = new Rng(12);
  const sp = new WasmSparse();
  const a = sp.arena;
  for (const [name, p, H, W] of CONVS) {
    const s = convSizes(p, H, W, 'test');
    const x = rng.floats(s.Cg * H * W);
    const want = new Float32Array(s.K * s.P);
    im2col(x, 0, { C: s.Cg, H, W, OH: s.OH, OW: s.OW, win: s.win }, want, 0);
    const layer = sp.prepareConv(csrFromDense(new Float32Array(p.M * s.K), p.M, s.K), p);
    const xo = a.allocF32(x.length), col = a.alloc(s.K * s.P * 4 + 16);
    a.f32(xo, x.length).set(x);
    const w = s.win;
    layer.csr.exports.im2col(xo, s.Cg, H, W, w.kh, w.kw, s.OH, s.OW, w.sh, w.sw, w.dh, w.dw, w.padT, w.padL, col);
    assert.deepEqual(a.f32(col, s.K * s.P), want, name);
  }
});

test('conv: matches the reference (strides, pads, dilations, groups, 1×1), f32 and codebook, batch 1 and 3', () => {
  const rng = new Rng(13);
  const sp = new WasmSparse();
  for (const [name, p, H, W] of CONVS) {
    const K = (p.C / (p.group ?? 1)) * p.kh * p.kw;
    for (const density of [0, 0.3, 1]) {
      const idx = Uint16Array.from({ length: p.M * K }, () => (rng.next() < density ? rng.int(16) : 16));
      const cb = csrFromCodebook(rng.floats(16), idx, p.M, K), f = decodeCsr(cb);
      for (const N of [1, 3]) {
        const x = rng.floats(N * p.C * H * W);
        const o: SparseEpilogue = { bias: rng.floats(p.M), relu: N === 1 };
        const layer = sp.prepareConv(f, p, { bias: o.bias }), layerCb = sp.prepareConv(cb, p, { bias: o.bias });
        const [, M, OH, OW] = sp.convOutShape(layer, N, H, W);
        const want = new Float32Array(N * M * OH * OW), got = new Float32Array(want.length), gotCb = new Float32Array(want.length);
        refSparseConv(f, p, N, H, W, x, want, o);
        sp.conv(layer, N, H, W, x, got, { relu: o.relu });
        sp.conv(layerCb, N, H, W, x, gotCb, { relu: o.relu });
        assertClose(got, want, () => 2e-6 * (K + 1), `conv ${name} d=${density} N=${N}`);
        assert.deepEqual(gotCb, got, `conv codebook ${name} d=${density} N=${N}`);
      }
    }
  }
});

test('offset API with caller scratch leaves the arena as it was', () => {
  const rng = new Rng(14);
  const arena = new WasmArena();
  const sp = new WasmSparse({ arena });
  const w = csrFromDense(randomWeight(rng, 10, 33, 0.2), 10, 33);
  const layer = sp.prepareFc(w, { batch1: 'csr' });
  const x = arena.allocF32(7 * 33), y = arena.allocF32(7 * 10), scratch = arena.alloc(sp.fcScratchBytes(layer, 7));
  const xs = rng.floats(7 * 33);
  arena.f32(x, xs.length).set(xs);
  const used = arena.used;
  sp.fcAt(layer, 7, x, y, { scratch, clip: [-0.1, 0.1] });
  sp.fc(layer, 7, xs, new Float32Array(70));
  assert.equal(arena.used, used);
  const want = new Float32Array(70);
  refSparseFc(w, 7, xs, want, { clip: [-0.1, 0.1] });
  assertClose(arena.f32(y, 70), want, fcTol(w, xs, 7), 'fcAt with scratch');
});

test('runs on a shared arena (worker-thread memory)', () => {
  const sp = new WasmSparse({ arena: new WasmArena({ shared: true, maximumBytes: 1 << 24 }) });
  const w = csrFromDense(Float32Array.from([1, 0, 2, 3, 0, -1]), 2, 3);
  for (const [batch, x] of [[1, [1, 2, 3]], [2, [1, 1, 1, 2, 0, 2]]] as const) {
    const y = new Float32Array(2 * batch), want = new Float32Array(2 * batch);
    sp.fc(sp.prepareFc(w), batch, Float32Array.from(x), y);
    refSparseFc(w, batch, Float32Array.from(x), want);
    assert.deepEqual(y, want);
  }
});

test('cost model: dense for dense weights, sparse when pruned, CSC for zero-heavy inputs', () => {
  assert.equal(chooseFcKernel(300, 784, 300 * 784, 64), 'dense');
  assert.equal(chooseFcKernel(300, 784, 300 * 784, 1), 'dense');
  assert.equal(chooseFcKernel(300, 784, 18816, 64), 'csr');
  assert.equal(chooseFcKernel(300, 784, 18816, 1), 'csr');
  assert.equal(chooseFcKernel(300, 784, 18816, 1, { inputZeros: 0.8 }), 'csc');
  const z = cscZeroThreshold(300, 784, 18816);
  assert.ok(z > 0 && z < 1, `threshold ${z}`);
  const c = fcKernelCosts(300, 784, 18816, 1);
  assert.ok(c.dense > 3 * c.csr, 'pruned LeNet fc1: sparse expected well ahead of dense');
  assert.equal(chooseConvKernel(50, 500, 25000, 64), 'dense');
  assert.equal(chooseConvKernel(50, 500, 2000, 64), 'csr');
});

test('bad input: one clear NnzipError naming what is wrong', () => {
  const sp = new WasmSparse();
  const w = csrFromDense(Float32Array.from([1, 0, 2, 0, 0, 3]), 2, 3);
  const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof NnzipError && re.test(e.message));
  bad(() => csrFromDense(new Float32Array(5), 2, 3), /got 5 values for a 2×3 matrix/);
  bad(() => csrFromCodebook(new Float32Array(300), new Uint16Array(4), 2, 2), /at most 256/);
  bad(() => csrFromCodebook(new Float32Array(4), [0, 5, 1, 2], 2, 2), /index 5 at element 1/);
  bad(() => checkCsr({ ...w, rowPtr: Int32Array.from([0, 3, 2]) }), /rowPtr decreases at row 1/);
  bad(() => checkCsr({ ...w, colIdx: Uint16Array.from([0, 2, 7]) }), /column index 7 of entry 2/);
  bad(() => checkCsr({ ...w, data: { kind: 'codebook', codes: Uint8Array.from([0, 1, 4]), centroids: new Float32Array(2) } }), /code 4 of entry 2/);
  bad(() => sp.prepareFc(w, { bias: new Float32Array(3) }), /bias has 3 values/);
  bad(() => sp.prepareFc(w, { batch1: 'fast' as Batch1Kernel }), /batch1='fast'/);
  const layer = sp.prepareFc(w);
  bad(() => sp.fc(layer, 2, new Float32Array(5), new Float32Array(4)), /x has 5 values, needs batch·in = 6/);
  bad(() => sp.fc(layer, 1.5, new Float32Array(6), new Float32Array(4)), /batch=1.5/);
  bad(() => sp.prepareConv(w, { C: 1, M: 2, kh: 2, kw: 2 }), /weight is 2×3, the parameters need M × C\/group·kh·kw = 2×4/);
  bad(() => sp.prepareConv(w, { C: 3, M: 2, kh: 1, kw: 1, group: 2 }), /group=2 does not divide 3/);
  const conv = sp.prepareConv(w, { C: 3, M: 2, kh: 1, kw: 1 });
  bad(() => sp.conv(conv, 1, 2, 2, new Float32Array(11), new Float32Array(8)), /x has 11 values/);
  bad(() => chooseFcKernel(2, 3, 7, 1), /nnz=7 exceeds/);
  bad(() => chooseFcKernel(2, -3, 1, 1), /in=-3/);
  bad(() => chooseConvKernel(2, 3, 1, 0.5), /pixels=0.5/);
});
