import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../src/ir/errors.js';
import { gemmRef } from '../../src/ir/ref/gemm_ref.js';
import type { Patches } from '../../src/ir/ref/im2col.js';
import type { Node } from '../../src/ir/graph.js';
import { nodeWindow2d } from '../../src/ir/window.js';
import { gemmCall, type GemmCall } from '../../src/train/backend.js';
import { tsBackend } from '../../src/train/backend_ts.js';
import { wasmBackend } from '../../src/train/backend_wasm.js';
import { defaultBackend, setDefaultBackend } from '../../src/train/default_backend.js';
import { modelFromGraph } from '../../src/train/from_graph.js';
import { train } from '../../src/train/loop.js';
import { Rng } from '../../src/ir/random.js';
import { gradCheck, node, spreadValues } from './gradcheck.js';
import { tinyData, tinyGraph } from './tiny.js';

const wasm = wasmBackend();

/** The patches of C planes of H×W under the window of a Conv node with these attributes. */
function patches(attrs: Node['attrs'], C: number, H: number, W: number, k: [number, number]): Patches {
  const { win, out: [OH, OW] } = nodeWindow2d({ name: 'c', op: 'Conv', inputs: [], outputs: [], attrs }, [H, W], k);
  return { C, H, W, OH, OW, win };
}

/** C(i,j) of a strided GEMM by its definition (float64). */
function definition(g: GemmCall, c0: Float32Array): Float64Array {
  const out = Float64Array.from(c0);
  for (let i = 0; i < g.M; i++) for (let j = 0; j < g.N; j++) {
    let s = g.accumulate ? c0[g.cOff + i * g.ldc + j] : 0;
    for (let k = 0; k < g.K; k++) {
      s += (g.transA ? g.a[g.aOff + k * g.lda + i] : g.a[g.aOff + i * g.lda + k]) * (g.transB ? g.b[g.bOff + j * g.ldb + k] : g.b[g.bOff + k * g.ldb + j]);
    }
    if (g.bias) s += g.bias[g.biasOff + (g.biasPer === 'row' ? i : j)];
    out[g.cOff + i * g.ldc + j] = s;
  }
  return out;
}

test('both backends run strided GEMMs with offsets, bias and accumulate as defined (C outside the block untouched)', () => {
  for (const backend of [tsBackend, wasm]) {
    const rng = new Rng(1);
    let n = 0;
    for (const [M, N, K] of [[1, 1, 1], [5, 9, 7], [17, 33, 260], [64, 10, 3], [3, 4, 0]]) {
      for (const ta of [false, true]) for (const tb of [false, true]) for (const acc of [false, true]) {
        const pad = 3;
        const lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
        const mem = backend.allocate([5 + (ta ? K : M) * lda, 2 + (tb ? N : K) * ldb, 1 + M * ldc, M + N + 4], [[M, N, K]]);
        const [a, b, c, bias] = mem.buffers;
        for (const buf of mem.buffers) rng.fillUniform(buf, -1, 1);
        const g = gemmCall();
        Object.assign(g, { M, N, K, a, aOff: 5, lda, transA: ta, b, bOff: 2, ldb, transB: tb, c, cOff: 1, ldc, accumulate: acc,
          bias: n % 3 === 0 ? null : bias, biasOff: 4, biasPer: n % 2 ? 'row' : 'col' });
        const want = definition(g, c.slice());
        mem.gemm(g);
        for (let i = 0; i < c.length; i++) {
          assert.ok(Math.abs(c[i] - want[i]) <= 1e-5 * Math.max(1, K), `${backend.name} ${M}×${N}×${K} ta=${ta} tb=${tb} acc=${acc}: C[${i}] ${c[i]} vs ${want[i]}`);
        }
        n++;
      }
    }
    assert.equal(n, 40);
  }
});

test('reuseA skips re-packing A but gives the same result; WASM refuses operands outside its memory', () => {
  const mem = wasm.allocate([6 * 5, 5 * 7, 6 * 7, 5 * 7, 6 * 7], [[6, 7, 5]]);
  const [a, b, c, b2, c2] = mem.buffers;
  const rng = new Rng(2);
  for (const buf of [a, b, b2]) rng.fillUniform(buf, -1, 1);
  const g = gemmCall();
  Object.assign(g, { M: 6, N: 7, K: 5, a, lda: 5, b, ldb: 7, c, ldc: 7 });
  mem.gemm(g);
  Object.assign(g, { b: b2, c: c2, reuseA: true });
  mem.gemm(g);
  const want = new Float32Array(42);
  gemmRef({ M: 6, N: 7, K: 5, a, b: b2, c: want });
  for (let i = 0; i < 42; i++) assert.ok(Math.abs(c2[i] - want[i]) < 1e-5);
  Object.assign(g, { b: new Float32Array(35), reuseA: false });
  assert.throws(() => mem.gemm(g), /not in the tape's memory/);
  assert.throws(() => wasm.allocate([2 ** 30], []), (e: Error) => e instanceof NnzipError && /4096 MB, more than a WebAssembly memory holds .*smaller batch size/.test(e.message));
});

test('the WASM im2col equals the TypeScript one (pads, strides, dilations)', () => {
  const [C, H, W] = [3, 7, 8];
  const p = patches({ pads: [1, 2, 0, 1], strides: [2, 1], dilations: [1, 2] }, C, H, W, [3, 2]);
  const size = C * 3 * 2 * p.OH * p.OW;
  const rng = new Rng(3);
  const x = rng.fillUniform(new Float32Array(C * H * W), -1, 1);
  const outs = [tsBackend, wasm].map((be) => {
    const mem = be.allocate([C * H * W + 2, size + 1], []);
    mem.buffers[0].set(x, 2);
    mem.buffers[1].fill(9);
    mem.im2col(mem.buffers[0], 2, p, mem.buffers[1], 1);
    return mem.buffers[1].slice();
  });
  assert.deepEqual(outs[1], outs[0]);
  assert.equal(outs[0][0], 9);
});

test('the WASM col2im, clip and clip-backward equal the TypeScript ones', () => {
  const rng = new Rng(4);
  const attrSets: Record<string, number[]>[] = [{ pads: [1, 2, 0, 1], strides: [2, 1], dilations: [1, 2] }, { pads: [2, 2, 2, 2], strides: [1, 3] }, {}];
  for (const attrs of attrSets) {
    const [C, H, W] = [2, 9, 11];
    const p = patches(attrs, C, H, W, [3, 3]);
    const size = C * 9 * p.OH * p.OW;
    const cols = rng.fillUniform(new Float32Array(size), -1, 1);
    const dx0 = rng.fillUniform(new Float32Array(C * H * W), -1, 1);
    const outs = [tsBackend, wasm].map((be) => {
      const mem = be.allocate([size + 3, C * H * W + 1], []);
      mem.buffers[0].set(cols, 3);
      mem.buffers[1].set(dx0, 1);
      mem.col2im(mem.buffers[0], 3, p, mem.buffers[1], 1);
      return mem.buffers[1].slice();
    });
    for (let i = 0; i < outs[0].length; i++) assert.ok(Math.abs(outs[0][i] - outs[1][i]) < 1e-6, `col2im ${JSON.stringify(attrs)} [${i}]`);
  }
  for (const n of [1, 7, 64, 103]) {
    for (const [lo, hi] of [[0, Infinity], [0, 6], [-0.5, 0.25]]) {
      const x = rng.fillUniform(new Float32Array(n), -1, 7);
      const dy = rng.fillUniform(new Float32Array(n), -1, 1);
      const outs = [tsBackend, wasm].map((be) => {
        const mem = be.allocate([n, n, n, n], []);
        const [bx, by, bdy, bdx] = mem.buffers;
        bx.set(x);
        bdy.set(dy);
        bdx.fill(0.5);
        mem.clip(bx, by, lo, hi);
        mem.clipBack(bx, bdy, bdx, lo, hi);
        return [...by, ...bdx];
      });
      assert.deepEqual(outs[1], outs[0], `clip n=${n} [${lo}, ${hi}]`);
    }
  }
});

test('the WASM max pooling (forward, argmax, backward) equals the TypeScript one', () => {
  const cases: [number[], Record<string, number[] | number>][] = [
    [[3, 2, 8, 8], { strides: [2, 2] }], // 2×2 fast paths (TS unrolled, WASM SIMD)
    [[2, 3, 9, 13], { strides: [2, 2] }], // 2×2 with a scalar tail (OW = 6)
    [[2, 2, 7, 9], { strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }],
    [[1, 3, 9, 9], { dilations: [2, 2] }],
  ];
  for (const [k, [[N, C, H, W], attrs]] of [...cases, ...cases].entries()) {
    const { win, out: [OH, OW] } = nodeWindow2d({ name: 'p', op: 'MaxPool', inputs: [], outputs: [], attrs }, [H, W], [2, 2]);
    const g = { planes: N * C, H, W, OH, OW, win };
    const nIn = N * C * H * W, nOut = N * C * OH * OW;
    // distinct values, then all ties (ReLU zeros): the first maximum of each window wins
    const x = k < cases.length ? spreadValues(nIn, 5) : new Float32Array(nIn);
    const dy = new Rng(6).fillUniform(new Float32Array(nOut), -1, 1);
    const outs = [tsBackend, wasm].map((be) => {
      const mem = be.allocate([nIn, nOut, nOut, nOut, nIn], []);
      const [bx, by, barg, bdy, bdx] = mem.buffers;
      const arg = new Int32Array(barg.buffer, barg.byteOffset, nOut);
      bx.set(x);
      bdy.set(dy);
      mem.maxPool(bx, by, arg, g);
      mem.maxPoolBack(bdy, arg, bdx);
      return { y: [...by], arg: [...arg], dx: [...bdx] };
    });
    assert.deepEqual(outs[1], outs[0], JSON.stringify(attrs));
  }
});

test('the WASM plane statistics and plane-linear kernels equal the TypeScript ones', () => {
  const rng = new Rng(9);
  for (const [planes, C, HW] of [[6, 3, 7], [8, 4, 16], [5, 5, 1]]) {
    const n = planes * HW;
    const src = [n, n, C, C, C].map((k) => rng.fillUniform(new Float32Array(k), -2, 2));
    const outs = [tsBackend, wasm].map((be) => {
      const mem = be.allocate([n, n, C, C, C, planes, planes, n], []);
      const [a, b, c1, c2, c3, s1, s2, out] = mem.buffers;
      [a, b, c1, c2, c3].forEach((buf, i) => buf.set(src[i]));
      mem.planeStats(a, b, planes, C, HW, c1, c2, s1, s2);
      out.fill(0.25);
      mem.planeLinear(a, b, out, planes, C, HW, c1, c2, c3, true);
      const acc = [...out];
      mem.planeLinear(a, b, out, planes, C, HW, c1, c2, c3, false);
      return [...s1, ...s2, ...acc, ...out];
    });
    outs[0].forEach((v, i) => assert.ok(Math.abs(v - outs[1][i]) < 1e-4 * (1 + Math.abs(v)), `[${planes},${C},${HW}] value ${i}: ${v} vs ${outs[1][i]}`));
  }
});

test('Conv, Gemm, Relu, MaxPool and BatchNorm gradients are right on the WASM backend too', () => {
  const cases = [
    { node: node('Conv', ['x', 'w', 'b'], { pads: [1, 0, 1, 2], strides: [2, 1], group: 2 }), inputs: [{ name: 'x', shape: [3, 4, 6, 5] }, { name: 'w', shape: [6, 2, 3, 2] }, { name: 'b', shape: [6] }] },
    { node: node('Conv', ['x', 'w'], { pads: [1, 1, 1, 1], strides: [2, 2], dilations: [2, 1] }), inputs: [{ name: 'x', shape: [2, 3, 7, 6] }, { name: 'w', shape: [2, 3, 2, 3] }] },
    { node: node('Gemm', ['x', 'w', 'b'], { transB: 1 }), inputs: [{ name: 'x', shape: [7, 9] }, { name: 'w', shape: [5, 9] }, { name: 'b', shape: [5] }] },
  ];
  for (const c of cases) {
    const r = gradCheck({ ...c, backend: wasm, eps: 0.1 });
    assert.ok(r.worst <= 1, `${c.node.op}: ${r.where}`);
  }
  const x = spreadValues(60, 3, 0.1).map((v) => v + 0.005);
  const r = gradCheck({ node: node('Relu', ['x']), inputs: [{ name: 'x', shape: [6, 10], values: x }], backend: wasm, eps: 1e-3 });
  assert.ok(r.worst <= 1, `Relu: ${r.where}`);
  const mp = gradCheck({ node: node('MaxPool', ['x'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }), inputs: [{ name: 'x', shape: [2, 2, 5, 6], values: spreadValues(120, 4) }], backend: wasm, eps: 1e-3 });
  assert.ok(mp.worst <= 1, `MaxPool: ${mp.where}`);
  for (const training of [true, false]) {
    const bn = gradCheck({
      training, node: node('BatchNormalization', ['x', 'g', 'b', 'm', 'v']), inputs: [{ name: 'x', shape: [3, 2, 3, 5] }, { name: 'g', shape: [2] }, { name: 'b', shape: [2] }, null, null],
      buffers: { m: Float32Array.from([0.1, -0.3]), v: Float32Array.from([0.8, 1.3]) }, backend: wasm, eps: 1e-2, atol: 5e-4, rtol: 5e-3,
    });
    assert.ok(bn.worst <= 1, `BatchNorm training=${training}: ${bn.where}`);
  }
});

test('training on the TS and WASM backends gives the same weights (to float rounding)', () => {
  const data = tinyData(64, 5);
  const run = (backend: typeof tsBackend) => {
    const m = modelFromGraph(tinyGraph(2, true), { backend });
    train(m, { train: data }, { epochs: 2, batchSize: 16, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 } });
    return m;
  };
  const a = run(tsBackend);
  const b = run(wasm);
  for (const p of a.parameters()) {
    const q = b.param(p.name);
    for (let i = 0; i < p.size; i++) assert.ok(Math.abs(p.master[i] - q.master[i]) < 1e-4, `${p.name}[${i}]: ${p.master[i]} vs ${q.master[i]}`);
  }
  assert.equal(a.backend.name, 'ts');
  assert.equal(b.backend.name, 'wasm');
});

test('the default backend is WASM when the engine has SIMD, and can be replaced', () => {
  const before = defaultBackend();
  assert.equal(before.name, 'wasm');
  setDefaultBackend(tsBackend);
  assert.equal(modelFromGraph(tinyGraph(1)).backend.name, 'ts');
  setDefaultBackend(before);
  const m = modelFromGraph(tinyGraph(1));
  assert.equal(m.backend.name, 'wasm');
  m.setBackend(tsBackend);
  assert.equal(m.backend.name, 'ts');
});
