import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadDataset } from '../../src/data/datasets.js';
import { NnzipError } from '../../src/ir/errors.js';
import { lenet300 } from '../../src/train/arch/index.js';
import { copySample } from '../../src/train/augment.js';
import { modelFromGraph } from '../../src/train/from_graph.js';
import { train, type Progress, type TrainData } from '../../src/train/loop.js';
import { Rng } from '../../src/ir/random.js';
import { tinyData, tinyGraph } from './tiny.js';

function slice(d: TrainData, start: number, count: number): TrainData {
  const per = 784;
  return { ...d, images: d.images.subarray(start * per, (start + count) * per), labels: Array.from(d.labels).slice(start, start + count), count };
}

test('a short MNIST run on 600 samples reduces the loss and learns (LeNet-300-100)', () => {
  // The test split alone (10k images) loads fast: train on its first 600, test on 500 others.
  const all = loadDataset('mnist', 'test');
  const tr = slice(all, 0, 600);
  const te = slice(all, 5000, 500);
  const model = modelFromGraph(lenet300({ seed: 1 }));
  const before = model.evaluate(te.images, te.labels, te.count);
  const r = train(model, { train: tr, test: te }, { epochs: 3, batchSize: 32, seed: 1, optimizer: { kind: 'adam', lr: 2e-3 } });
  assert.equal(r.epochs.length, 3);
  assert.ok(r.epochs[2].loss < 0.5 * r.epochs[0].loss, `train loss ${r.epochs.map((e) => e.loss.toFixed(3))}`);
  assert.ok(r.epochs[2].testLoss! < before.loss, 'test loss falls');
  assert.ok(r.testAccuracy! > 0.8, `test accuracy ${r.testAccuracy}`);
});

test('same seed → bit-identical weights (shuffling, augmentation, dropout-free BN model)', () => {
  const data = tinyData(96, 1);
  const run = (seed: number) => {
    const m = modelFromGraph(tinyGraph(3, true));
    train(m, { train: data }, { epochs: 2, batchSize: 20, seed, augment: { shift: 1, flip: true }, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true }, schedule: { kind: 'cosine' } });
    return m.parameters().map((p) => p.master.slice());
  };
  const a = run(4);
  assert.deepEqual(run(4), a);
  assert.notDeepEqual(run(5), a);
});

test('progress reports carry epoch, step, loss, accuracy, speed, ETA and test accuracy', () => {
  const data = tinyData(100, 2);
  const seen: Progress[] = [];
  const r = train(modelFromGraph(tinyGraph(1)), { train: data, test: tinyData(40, 9) }, { epochs: 2, batchSize: 16, progressEvery: 3, maxStepsPerEpoch: 5, onProgress: (p) => seen.push({ ...p }) });
  const trainReports = seen.filter((p) => p.phase === 'train');
  assert.deepEqual(trainReports.map((p) => [p.epoch, p.step]), [[1, 3], [1, 5], [2, 3], [2, 5]]);
  for (const p of trainReports) {
    assert.equal(p.steps, 5);
    assert.ok(p.loss > 0 && p.accuracy >= 0 && p.accuracy <= 1 && p.samplesPerSec > 0 && p.etaSeconds >= 0 && p.lr === 0.01);
  }
  assert.equal(trainReports[3].etaSeconds, 0);
  const evals = seen.filter((p) => p.phase === 'eval');
  assert.equal(evals.length, 2);
  assert.equal(evals[1].testAccuracy, r.testAccuracy);
  assert.equal(r.epochs[0].samplesPerSec > 0, true);
});

test('a diverging run stops with an NnzipError naming the step and keeps the last good epoch’s weights', () => {
  const data = tinyData(64, 3);
  const model = modelFromGraph(tinyGraph(2));
  let afterEpoch1: Float32Array[] = [];
  const onProgress = (p: Progress) => { if (p.phase === 'eval' && p.epoch === 1) afterEpoch1 = model.parameters().map((q) => q.master.slice()); };
  assert.throws(
    // Epoch 1 trains at lr 0.01; epoch 2's lr of 1e28 overflows the logits.
    () => train(model, { train: data, test: data }, { epochs: 3, batchSize: 16, onProgress, optimizer: { kind: 'sgd', lr: 0.01 }, schedule: { kind: 'step', everyEpochs: 1, gamma: 1e30 } }),
    (e: Error) => e instanceof NnzipError && /loss is not finite at epoch 2, step \d+ .*weights from the end of epoch 1; lower the learning rate/.test(e.message),
  );
  assert.equal(afterEpoch1.length, 4);
  model.parameters().forEach((p, i) => {
    assert.ok(p.master.every(Number.isFinite));
    assert.deepEqual(p.master, afterEpoch1[i], p.name);
  });
  assert.throws(() => train(model, { train: data }, { epochs: 1, batchSize: 16, optimizer: { kind: 'sgd', lr: 1e38 } }), /epoch 1, step \d+ .*from before training/);
});

test('bad options and mismatched data are NnzipErrors naming the option', () => {
  const model = modelFromGraph(tinyGraph(1));
  const data = tinyData(10, 1);
  const bad = (o: object, re: RegExp) => assert.throws(() => train(model, { train: data }, { epochs: 1, ...o }), (e: Error) => e instanceof NnzipError && re.test(e.message));
  bad({ batchSize: 0 }, /batchSize=0/);
  bad({ epochs: -1 }, /epochs=-1/);
  bad({ optimizer: { kind: 'sgd', lr: 0 } }, /sgd lr=0/);
  bad({ optimizer: { kind: 'adam', lr: -1 } }, /adam lr=-1/);
  bad({ augment: { shift: -1 } }, /augment shift=-1/);
  assert.throws(() => train(model, { train: { ...data, shape: [1, 28, 28], name: 'mnist' } }, { epochs: 1 }), /dataset mnist: samples are \[1,28,28\] but the model input "input" expects \[1,6,6\]/);
  assert.throws(() => train(model, { train: { ...data, count: 11 } }, { epochs: 1 }), /11 samples need 396 pixel values/);
});

test('augmentation shifts by up to ±k pixels with zero fill and flips left-right', () => {
  const [C, H, W] = [2, 5, 6];
  const img = Float32Array.from({ length: C * H * W }, (_, i) => i + 1);
  for (let seed = 0; seed < 20; seed++) {
    const out = new Float32Array(C * H * W + 3).fill(-1);
    copySample(img, 0, out, 3, C, H, W, { shift: 2, flip: true }, new Rng(seed));
    const r = new Rng(seed); // replay the draws
    const dy = r.int(5) - 2, dx = r.int(5) - 2, flip = r.next() < 0.5;
    assert.deepEqual([...out.subarray(0, 3)], [-1, -1, -1]);
    for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const sy = y - dy, sx = (flip ? W - 1 - x : x) - dx;
      const want = sy >= 0 && sy < H && sx >= 0 && sx < W ? img[(c * H + sy) * W + sx] : 0;
      assert.equal(out[3 + (c * H + y) * W + x], want, `seed ${seed} (dy ${dy}, dx ${dx}, flip ${flip}) at ${c},${y},${x}`);
    }
  }
});

test('weight averaging: the weights become the mean of the chosen epochs’ ends, masked weights stay 0', () => {
  const data = tinyData(96, 1);
  const model = modelFromGraph(tinyGraph(3, true));
  const mask = new Uint8Array(model.param('conv1.weight').size).map((_, i) => (i % 3 === 0 ? 0 : 1));
  model.setMask('conv1.weight', mask);
  const ends: Float32Array[][] = [];
  const seen: Progress[] = [];
  const r = train(model, { train: data, test: tinyData(40, 9) }, {
    epochs: 4, batchSize: 16, seed: 2, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 }, average: { fromEpoch: 2 },
    onProgress: (p) => {
      seen.push({ ...p });
      if (p.phase === 'eval') ends.push(model.parameters().map((q) => q.master.slice()));
    },
  });
  assert.equal(ends.length, 4);
  model.parameters().forEach((p, i) => {
    const mean = p.master.map((_, j) => (ends[1][i][j] + ends[2][i][j] + ends[3][i][j]) / 3);
    assert.deepEqual(p.master, mean, p.name);
    assert.notDeepEqual(p.master, ends[3][i], `${p.name} moved from the last epoch's weights`);
  });
  const w = model.param('conv1.weight').master;
  assert.ok(mask.every((m, i) => m === 1 || w[i] === 0));
  const avg = seen.filter((p) => p.phase === 'average');
  assert.equal(avg.length, 1);
  assert.equal(avg[0].averaged, 3);
  assert.deepEqual(r.averaged, { epochs: 3, testAccuracy: avg[0].testAccuracy, testLoss: avg[0].testLoss });
  assert.equal(r.testAccuracy, r.averaged.testAccuracy);
  assert.equal(r.testAccuracy, model.evaluate(tinyData(40, 9).images, tinyData(40, 9).labels, 40, 16).accuracy);
  assert.throws(() => train(model, { train: data }, { epochs: 2, average: { fromEpoch: 3 } }), /average.fromEpoch=3 must be a whole number from 1 to the epochs \(2\)/);
  assert.throws(() => train(model, { train: data }, { epochs: 2, average: { fromEpoch: 0 } }), /average.fromEpoch=0/);
});

test('weight averaging recomputes BatchNorm statistics as the mean over full training batches', () => {
  const data = tinyData(90, 4); // 5 full batches of 16; the last 10 samples are left out
  const model = modelFromGraph(tinyGraph(3, true));
  train(model, { train: data }, { epochs: 2, batchSize: 16, seed: 1, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 }, average: { fromEpoch: 1 } });
  // Reference: conv1 (1→3, 3×3, pad 1, no bias) over the first 80 samples, per channel:
  // the mean of the 5 batch means, and of the 5 unbiased batch variances.
  const w = model.param('conv1.weight').data;
  const plane = 36, batch = 16;
  const mean = [0, 0, 0], variance = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    for (let b = 0; b < 5; b++) {
      const vals: number[] = [];
      for (let n = b * batch; n < (b + 1) * batch; n++) {
        for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) {
          let s = 0;
          for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
            const iy = y + ky - 1, ix = x + kx - 1;
            if (iy >= 0 && iy < 6 && ix >= 0 && ix < 6) s += w[c * 9 + ky * 3 + kx] * data.images[n * plane + iy * 6 + ix];
          }
          vals.push(s);
        }
      }
      const m = vals.reduce((a, v) => a + v, 0) / vals.length;
      mean[c] += m / 5;
      variance[c] += vals.reduce((a, v) => a + (v - m) ** 2, 0) / (vals.length - 1) / 5;
    }
  }
  const rm = model.buffers.get('bn1.running_mean')!, rv = model.buffers.get('bn1.running_var')!;
  for (let c = 0; c < 3; c++) {
    assert.ok(Math.abs(rm[c] - mean[c]) < 1e-5, `mean ${c}: ${rm[c]} vs ${mean[c]}`);
    assert.ok(Math.abs(rv[c] - variance[c]) < 1e-5 * Math.max(1, variance[c]), `variance ${c}: ${rv[c]} vs ${variance[c]}`);
  }
});
