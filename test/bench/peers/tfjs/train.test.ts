// The TF.js training peer must train the same model as nnzip: same initial loss on a
// real MNIST batch, and SGD-momentum steps lower the loss by the same amount (nnzip's
// trainer is the reference). Also the LeNet-5 layout conversion (forward only: TF.js's
// CPU conv backprop is far too slow for a test) and the node it cannot convert.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTfTrainer, tfLayers, type TfApi } from '../../../../bench/peers/tfjs/train.js';
import { BATCH, nnzipTrainer, oneHot } from '../../../../bench/train.js';
import { batchImages, loadDataset } from '../../../../src/data/datasets.js';
import { NnzipError } from '../../../../src/ir/errors.js';
import { buildArchitecture } from '../../../../src/train/index.js';

const ds = loadDataset('mnist', 'train');
const START = 128; // a batch away from the start, where the bench begins
const images = batchImages(ds, START, BATCH);
const labels = ds.labels.subarray(START, START + BATCH);
const onehot = oneHot(labels);
const STEPS = 5;

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tolerance ${tol})`);
}

describe('TF.js training peer', () => {
  for (const api of ['ops', 'layers'] as TfApi[]) {
    it(`LeNet-300-100 on tfjs-wasm (${api}): SGD-momentum steps lower the loss as nnzip's do`, async () => {
      const nz = nnzipTrainer(buildArchitecture('lenet300', { seed: 3 }));
      const tf = await createTfTrainer(buildArchitecture('lenet300', { seed: 3 }), 'wasm', api);
      try {
        close(tf.loss(images, onehot, BATCH), nz.model.evaluate(images, labels, BATCH).loss, 1e-4, 'initial loss (same weights, same batch)');
        // a few steps on the same batch, so a wrong momentum or learning rate shows
        let first = NaN;
        for (let s = 0; s < STEPS; s++) {
          const want = nz.step(ds, START);
          if (s === 0) first = want;
          close(await tf.step(images, onehot, BATCH), want, 1e-4, `loss before step ${s + 1}`);
        }
        const nzDrop = first - nz.model.evaluate(images, labels, BATCH).loss;
        const tfDrop = first - tf.loss(images, onehot, BATCH);
        assert.ok(nzDrop > 0.01, `nnzip's ${STEPS} steps must lower the loss (by ${nzDrop})`);
        close(tfDrop, nzDrop, 0.01 * nzDrop, `loss drop over ${STEPS} steps`);
      } finally {
        tf.dispose();
      }
    });
  }

  it('LeNet-5 on tfjs-cpu: the NHWC conversion (filters, flatten order) computes nnzip\'s loss', async () => {
    const n = 8;
    const graph = buildArchitecture('lenet5', { seed: 4 });
    const nz = nnzipTrainer(graph);
    const tf = await createTfTrainer(graph, 'cpu');
    try {
      const want = nz.model.evaluate(images, labels, n, n).loss;
      close(tf.loss(images, onehot, n), want, 1e-4, 'LeNet-5 loss on 8 samples');
    } finally {
      tf.dispose();
    }
  });

  it('names the node the TF.js peer cannot convert', () => {
    assert.throws(() => tfLayers(buildArchitecture('vggs')), (e: Error) => e instanceof NnzipError && /node "features.0" \(Conv\): strides or pads/.test(e.message));
  });
});
