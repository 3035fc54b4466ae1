import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultBackend, setDefaultBackend, tsBackend } from '../../src/train/backend.js';
import { wasmBackend } from '../../src/train/backend_wasm.js';
import { modelFromGraph } from '../../src/train/from_graph.js';
import { sgemmNaive } from '../../src/train/gemm_ts.js';
import { train } from '../../src/train/loop.js';
import { Rng } from '../../src/train/rng.js';
import { gradCheck, node } from './gradcheck.js';
import { tinyData, tinyGraph } from './tiny.js';

const wasm = wasmBackend();

test('the WASM backend computes the same GEMMs as the naive loop (transposes, accumulate, views, K = 0)', () => {
  const rng = new Rng(1);
  let n = 0;
  for (const [M, N, K] of [[1, 1, 1], [5, 9, 7], [17, 33, 260], [64, 10, 500], [3, 4, 0]]) {
    for (const ta of [false, true]) for (const tb of [false, true]) for (const acc of [false, true]) {
      const a = rng.fillUniform(new Float32Array(M * K + 3), -1, 1).subarray(3);
      const b = rng.fillUniform(new Float32Array(K * N), -1, 1);
      const c0 = rng.fillUniform(new Float32Array(M * N + 2), -1, 1);
      const got = c0.slice();
      const want = c0.slice();
      wasm.sgemm(M, N, K, a, ta, b, tb, got.subarray(1, 1 + M * N), acc);
      sgemmNaive(M, N, K, a, ta, b, tb, want.subarray(1, 1 + M * N), acc);
      for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * Math.max(1, K), `${M}×${N}×${K} ta=${ta} tb=${tb} acc=${acc}: [${i}] ${got[i]} vs ${want[i]}`);
      n++;
    }
  }
  assert.equal(n, 40);
});

test('Conv and Gemm gradients are right on the WASM backend too', () => {
  const cases = [
    { node: node('Conv', ['x', 'w', 'b'], { pads: [1, 0, 1, 2], strides: [2, 1], group: 2 }), inputs: [{ name: 'x', shape: [3, 4, 6, 5] }, { name: 'w', shape: [6, 2, 3, 2] }, { name: 'b', shape: [6] }] },
    { node: node('Gemm', ['x', 'w', 'b'], { transB: 1 }), inputs: [{ name: 'x', shape: [7, 9] }, { name: 'w', shape: [5, 9] }, { name: 'b', shape: [5] }] },
  ];
  for (const c of cases) {
    const r = gradCheck({ ...c, backend: wasm, eps: 0.1 });
    assert.ok(r.worst <= 1, `${c.node.op}: ${r.where}`);
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
