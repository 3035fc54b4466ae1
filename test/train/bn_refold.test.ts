// BatchNorm refold (train/bn_refold.ts, compress/finetune.ts): the inserted BNs
// are the identity at the start, folding gives the BN model's eval-mode
// function, masks and patterns stay exact, convs that cannot take a BN are left alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finetune } from '../../src/compress/finetune.js';
import { compressGraph } from '../../src/compress/pipeline.js';
import { PATTERN, parseRecipe } from '../../src/compress/recipe.js';
import { checkPatternFormat } from '../../src/ir/pattern.js';
import { foldBatchNorms, insertBatchNorms } from '../../src/train/bn_refold.js';
import { modelFromGraph } from '../../src/train/from_graph.js';
import { WeightSharing } from '../../src/train/hooks.js';
import { train } from '../../src/train/loop.js';
import type { Model } from '../../src/train/model.js';
import { patternNet, tinyData, tinyGraph } from './tiny.js';

const net = patternNet;

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let scale = 1e-6, d = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]));
    d = Math.max(d, Math.abs(a[i] - b[i]));
  }
  return d / scale;
}

const calib = (n: number) => {
  const d = tinyData(n, 9);
  return { images: d.images, count: d.count };
};

test('inserted BNs are the identity at the start: the training model computes the original function', () => {
  const model = modelFromGraph(net(), { seed: 1 });
  const x = tinyData(50, 4);
  const before = model.predict(x.images, x.count, 16);
  const r = insertBatchNorms(model, calib(100), { seed: 1, batch: 32 });
  assert.deepEqual(r.layers.map((l) => l.conv), ['conv1', 'conv2', 'conv3']);
  assert.equal(r.model.graph.nodes.filter((n) => n.op === 'BatchNormalization').length, 3);
  assert.equal(model.graph.nodes.filter((n) => n.op === 'BatchNormalization').length, 0, 'the original graph is untouched');
  const after = r.model.predict(x.images, x.count, 16);
  assert.ok(maxRelDiff(before, after) < 1e-5, `eval-mode outputs differ by ${maxRelDiff(before, after)}`);
  // γ = √(σ² + ε), β = μ of the conv output on the calibration images
  const l = r.layers[0];
  const gamma = r.model.param(l.gamma).master, beta = r.model.param(l.beta).master;
  const mean = r.model.buffers.get(l.mean)!, vr = r.model.buffers.get(l.variance)!;
  for (let c = 0; c < gamma.length; c++) {
    assert.ok(Math.abs(gamma[c] - Math.sqrt(vr[c] + 1e-5)) < 1e-6);
    assert.equal(beta[c], mean[c]);
    assert.ok(vr[c] > 0);
  }
  // folding an untrained refold changes nothing (up to float rounding)
  foldBatchNorms(r);
  assert.ok(maxRelDiff(before, model.predict(x.images, x.count, 16)) < 1e-5);
});

test('after training with batch statistics, the folded model equals the BN model in eval mode', () => {
  const model = modelFromGraph(net(), { seed: 1 });
  const r = insertBatchNorms(model, calib(64), { seed: 1 });
  train(r.model, { train: tinyData(128, 1) }, { epochs: 2, batchSize: 16, seed: 3, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 } });
  // the BNs moved away from the identity
  const l = r.layers[1];
  assert.ok(maxRelDiff(r.model.param(l.beta).master, r.model.buffers.get(l.mean)!) > 1e-3);
  const x = tinyData(40, 5);
  const bnOut = r.model.predict(x.images, x.count, 8);
  foldBatchNorms(r);
  const folded = model.predict(x.images, x.count, 8);
  assert.ok(maxRelDiff(bnOut, folded) < 1e-5, `folded vs BN eval: ${maxRelDiff(bnOut, folded)}`);
});

test('masks stay exact through refold fine-tuning; the mask hook still holds after folding', () => {
  const model = modelFromGraph(net(), { seed: 1 });
  const w = model.param('conv2.weight');
  const mask = new Uint8Array(w.size).map((_, i) => (i % 3 === 0 ? 0 : 1));
  model.setMask('conv2.weight', mask);
  const data = { train: tinyData(128, 1), test: tinyData(32, 2) };
  const cfg = { lr: 0.05, batch: 16, momentum: 0.9, weightDecay: 1e-4, seed: 2, batchnorm: 'refold' as const };
  finetune(model, data, 2, cfg, 'test');
  assert.equal(model.graph.nodes.filter((n) => n.op === 'BatchNormalization').length, 0);
  assert.equal(w.mask, mask);
  let moved = 0;
  for (let i = 0; i < w.size; i++) {
    if (!mask[i]) assert.equal(w.master[i], 0, `pruned weight ${i} revived`);
    else moved++;
  }
  assert.ok(moved > 0);
  // a plain fine-tuning after it still keeps the zeros (the hook is the same Param's)
  finetune(model, data, 1, { ...cfg, batchnorm: 'off' }, 'test');
  for (let i = 0; i < w.size; i++) if (!mask[i]) assert.equal(w.master[i], 0);
});

test('pattern stage with train.batchnorm refold: every target stays in its patterns, no BN in the written graph', () => {
  const data = { train: tinyData(256, 1), test: tinyData(64, 2) };
  const run = (batchnorm: 'refold' | 'off') => compressGraph(net(), {
    recipe: parseRecipe({
      pattern: { patterns: 4, connectivity: 2, admm: { rounds: 1, epochsPerRound: 1, rho: 0.01, rhoGrowth: 2 }, epochs: 1 },
      train: { batchnorm },
    }, 'test', PATTERN),
    data, seed: 1, maxStepsPerEpoch: 4,
  }).compressed;
  const g = run('refold');
  assert.deepEqual(g.nodes.map((n) => n.op), net().nodes.map((n) => n.op));
  const targets = [...g.formats].filter(([, f]) => f.kind === 'pattern').map(([name]) => name);
  assert.deepEqual(targets, ['conv2.weight', 'conv3.weight'], 'the convs of more than one input channel');
  for (const name of targets) {
    const f = g.formats.get(name)!, t = g.initializers.get(name)!;
    if (f.kind === 'pattern') checkPatternFormat(t.data as Float32Array, t.shape, f, name);
  }
  // the BNs were there in training (and folded): the same stage without them learns other weights and biases
  const weights = (x: typeof g) => [...x.initializers.values()].map((t) => [...(t.data as Float32Array)]);
  assert.notDeepEqual(weights(g), weights(run('off')), 'refold changes the fine-tuning');
});

test('prune then share with refold: the shared stage clusters the folded weights; its own fine-tuning leaves shared layers without BN', () => {
  const data = { train: tinyData(256, 1), test: tinyData(64, 2) };
  const r = parseRecipe({
    prune: { density: { conv: 0.5, fc: 0.5 }, schedule: 'oneshot', stages: 1, epochsPerStage: 1 },
    share: { bits: { conv: 3, fc: 3 }, epochs: 1 }, train: { batchnorm: 'refold' },
  }, 'test');
  const out = compressGraph(net(), { recipe: r, data, seed: 1, maxStepsPerEpoch: 4 });
  const t = out.compressed.initializers.get('conv2.weight')!;
  const f = out.compressed.formats.get('conv2.weight');
  assert.equal(f?.kind, 'codebook', 'the shared weights still decode from their codebook (no BN scaled them)');
  assert.ok([...(t.data as Float32Array)].filter((v) => v === 0).length >= t.size / 2 - 1);
});

test('convs that cannot take a BN are skipped with the reason', () => {
  const withBn = modelFromGraph(tinyGraph(1, true), { seed: 1 });
  const r1 = insertBatchNorms(withBn, calib(8));
  assert.equal(r1.layers.length, 0);
  assert.match(r1.skipped[0].reason, /already followed by a BatchNormalization/);
  const m: Model = modelFromGraph(net(), { seed: 1 });
  m.setGradTransform('conv2.weight', new WeightSharing(Float32Array.from([-0.1, 0.1]), new Int32Array(m.param('conv2.weight').size).map((_, i) => i % 2)));
  const r2 = insertBatchNorms(m, calib(8));
  assert.deepEqual(r2.layers.map((l) => l.conv), ['conv1', 'conv3']);
  assert.match(r2.skipped.find((s) => s.conv === 'conv2')!.reason, /gradient transform/);
  assert.throws(() => insertBatchNorms(m, { images: new Float32Array(0), count: 0 }), /calibration image/);
});
