import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../src/ir/errors.js';
import { modelFromGraph } from '../../src/train/from_graph.js';
import { AdmmTerm, WeightSharing } from '../../src/train/hooks.js';
import type { Model } from '../../src/train/model.js';
import { Sgd } from '../../src/train/optim.js';
import { Rng } from '../../src/ir/random.js';
import { trainStep, type StepResult } from '../../src/train/step.js';
import { binarize, ternarize } from '../../src/compress/binary/transforms.js';
import { fakeQuantize } from '../../src/compress/quantize/weights.js';
import { tinyData, tinyGraph } from './tiny.js';

const data = tinyData(64, 3);
const out: StepResult = { loss: 0, correct: 0 };

/** One SGD step on batch `s` (16 samples). */
function step(model: Model, opt: Sgd, s: number, lr = 0.1): StepResult {
  const bt = model.tape(16, true);
  bt.input.data.set(data.images.subarray(s * 16 * 36, (s + 1) * 16 * 36));
  return trainStep(model, bt, data.labels, s * 16, opt, lr, out);
}

/** The parameter gradients of batch `s` at the current weights (no update). */
function grads(model: Model, s: number): Map<string, Float32Array> {
  const bt = model.tape(16, true);
  bt.input.data.set(data.images.subarray(s * 16 * 36, (s + 1) * 16 * 36));
  bt.loss!.setLabels(data.labels, s * 16, 16);
  model.refreshWeights();
  model.run(bt, true);
  bt.loss!.forward();
  for (const p of model.parameters()) p.grad.fill(0);
  bt.tape.zeroGrads();
  bt.loss!.backward();
  bt.tape.backward();
  return new Map(model.parameters().map((p) => [p.name, p.grad.slice()]));
}

test('mask: pruned weights get zero gradient and stay exactly 0 under momentum and weight decay', () => {
  const model = modelFromGraph(tinyGraph(2));
  const w = model.param('fc1.weight');
  const mask = new Uint8Array(w.size).map((_, i) => (i % 3 === 0 ? 0 : 1));
  const opt = new Sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
  // Train unmasked first so the momentum buffers are nonzero: they must not revive pruned weights.
  for (let s = 0; s < 3; s++) step(model, opt, s);
  const before = w.master.slice();
  model.setMask('fc1.weight', mask);
  mask.forEach((m, i) => assert.equal(w.master[i], m ? before[i] : 0));
  for (let s = 0; s < 12; s++) {
    step(model, opt, s % 4);
    mask.forEach((m, i) => {
      if (!m) {
        assert.equal(w.master[i], 0, `pruned weight ${i} revived at step ${s}`);
        assert.equal(w.grad[i], 0);
      }
    });
  }
  assert.ok(mask.some((m, i) => m && w.master[i] !== before[i]), 'kept weights train');
  assert.throws(() => model.setMask('fc1.weight', new Uint8Array(3)), (e: Error) => e instanceof NnzipError && /mask for "fc1.weight" has 3 values/.test(e.message));
  assert.throws(() => model.setMask('nope', null), /no parameter "nope"/);
});

test('weight transform: forward sees transform(master), gradient reaches master straight-through', () => {
  const model = modelFromGraph(tinyGraph(3));
  const ref = modelFromGraph(tinyGraph(3));
  const t = binarize();
  model.setWeightTransform('conv1.weight', t);
  const p = model.param('conv1.weight');
  // The reference model holds the binarized weights as plain weights.
  t.forward(p.master, ref.param('conv1.weight').master, p.shape);
  const a = model.predict(data.images, 8);
  const b = ref.predict(data.images, 8);
  assert.deepEqual(a, b);
  const g = grads(ref, 1).get('conv1.weight')!;
  const master = p.master.slice();
  step(model, new Sgd({ lr: 0.5 }), 1, 0.5);
  for (let i = 0; i < p.size; i++) assert.ok(Math.abs(p.master[i] - (master[i] - 0.5 * g[i])) < 1e-6, `master[${i}]`);
  // data follows the new master through the transform; removing it restores plain weights.
  model.refreshWeights();
  const alpha = Math.abs(p.data[0]);
  assert.ok(p.data.subarray(0, 9).every((v) => Math.abs(Math.abs(v) - alpha) < 1e-7));
  // A mask also holds for the transformed weights (binarize alone would turn 0 into ±α).
  const mask = new Uint8Array(p.size).map((_, i) => (i % 2 ? 1 : 0));
  model.setMask('conv1.weight', mask);
  mask.forEach((m, i) => { if (!m) assert.equal(p.data[i], 0); else assert.notEqual(p.data[i], 0); });
  model.setMask('conv1.weight', null);
  model.setWeightTransform('conv1.weight', null);
  assert.equal(p.master, p.data);
  assert.deepEqual(p.data, Float32Array.from(p.master));
});

test('binarize, ternarize and fake-quantize values (per output channel)', () => {
  const w = Float32Array.from([0.5, -1.5, 0.1, -0.1, /* ch 1 */ 2, 2, -2, 0]);
  const out = new Float32Array(8);
  binarize().forward(w, out, [2, 4]);
  // α = mean |w| over the channel's nonzero weights (a pruned zero does not shrink it): ch 1 → 2
  assert.deepEqual([...out], [0.55, -0.55, 0.55, -0.55, 2, 2, -2, 2].map(Math.fround));
  ternarize(0.7).forward(w, out, [2, 4]);
  // ch 0: Δ = 0.7·0.55 = 0.385 → keep 0.5, -1.5 (α = 1); ch 1: Δ = 1.05 → keep ±2 (α = 2)
  assert.deepEqual([...out], [1, -1, 0, 0, 2, 2, -2, 0]);
  fakeQuantize({ scheme: 'int', bits: 3, axis: 0 }).forward(w, out, [2, 4]);
  // 3 bits: qmax 3; ch 0 scale 0.5 → 0.5, -1.5, 0, -0 ; ch 1 scale 2/3
  [0.5, -1.5, 0, 0, 2, 2, -2, 0].forEach((v, i) => assert.ok(Math.abs(out[i] - v) < 1e-6, `q[${i}] = ${out[i]}`));
  fakeQuantize({ scheme: 'fixed', bits: 4, axis: 0, search: 'max-range' }).forward(w, out, [2, 4]);
  // 4-bit fixed point of max |w| = 2: 2 ≤ 7·2^−fl → fl = 1, step 0.5, integers −8..7
  assert.deepEqual([...out], [0.5, -1.5, 0, 0, 2, 2, -2, 0]);
  assert.throws(() => fakeQuantize({ scheme: 'int', bits: 1, axis: 0 }), /bits=1 must be an integer in 2..16/);
});

test('ADMM loss term adds ρ(W − Z + U) to the gradient and ρ/2‖W − Z + U‖² to the loss', () => {
  const model = modelFromGraph(tinyGraph(4));
  const p = model.param('fc1.weight');
  const rng = new Rng(5);
  const z = rng.fillUniform(new Float32Array(p.size), -0.1, 0.1);
  const u = rng.fillUniform(new Float32Array(p.size), -0.1, 0.1);
  const g0 = grads(model, 0).get('fc1.weight')!;
  const w0 = p.master.slice();
  const term = new AdmmTerm('fc1.weight', z, u, 0.3);
  model.addLossTerm(term);
  const base = modelFromGraph(tinyGraph(4));
  const plainLoss = step(base, new Sgd({ lr: 1e-9 }), 0, 1e-9).loss;
  const lr = 0.01;
  const r = step(model, new Sgd({ lr }), 0, lr);
  let value = 0;
  for (let i = 0; i < p.size; i++) {
    const d = w0[i] - z[i] + u[i];
    value += d * d;
    const want = w0[i] - lr * (g0[i] + 0.3 * d);
    assert.ok(Math.abs(p.master[i] - want) < 1e-6, `w[${i}] = ${p.master[i]}, want ${want}`);
  }
  assert.ok(Math.abs(r.loss - (plainLoss + 0.15 * value)) < 1e-5, `loss ${r.loss} vs ${plainLoss + 0.15 * value}`);
  model.removeLossTerm(term);
  assert.equal(model.lossTerms.length, 0);
  assert.throws(() => new AdmmTerm('x', z, u, -1), /rho=-1/);
});

test('weight sharing: each centroid moves by lr × the summed gradient of its weights; weights stay shared', () => {
  const model = modelFromGraph(tinyGraph(5));
  const p = model.param('fc1.weight');
  const rng = new Rng(6);
  const centroids = Float32Array.from([-0.3, -0.05, 0.1, 0.35]);
  const assign = new Int32Array(p.size).map(() => rng.int(5) - 1); // -1 = pruned
  const share = new WeightSharing(centroids, assign);
  model.setGradTransform('fc1.weight', share);
  assign.forEach((a, i) => assert.equal(p.master[i], a >= 0 ? centroids[a] : 0));
  const lr = 0.05;
  for (let s = 0; s < 4; s++) {
    const g = grads(model, s).get('fc1.weight')!;
    const sums = [0, 0, 0, 0];
    assign.forEach((a, i) => { if (a >= 0) sums[a] += g[i]; });
    const before = share.centroids.slice();
    step(model, new Sgd({ lr }), s, lr);
    for (let c = 0; c < 4; c++) assert.ok(Math.abs(share.centroids[c] - (before[c] - lr * sums[c])) < 1e-5, `centroid ${c}: ${share.centroids[c]} vs ${before[c] - lr * sums[c]}`);
    assign.forEach((a, i) => assert.equal(p.master[i], a >= 0 ? share.centroids[a] : 0));
  }
  assert.throws(() => new WeightSharing(centroids, Int32Array.from([0, 4])), /assignment 4 at index 1/);
});
