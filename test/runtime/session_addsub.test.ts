// Binary / ternary weights on float inputs in the runtime: LeNet-5 binarized (BWN, and
// TWN on fc1) and read back from its .nnz; the cost model gives conv2 and, at a batch,
// fc1 to the add/subtract kernel (kernels/wasm/addsub.ts), whose outputs match the
// reference interpreter and onnxruntime-node on the exported ONNX model.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ConvStep, FcStep } from '../../src/compile/plan_types.js';
import { BINARIZE_DEFAULTS, type BinaryMethod } from '../../src/compress/binary/settings.js';
import { compressGraph } from '../../src/compress/pipeline.js';
import { DEEP_COMPRESSION, type Recipe } from '../../src/compress/recipe.js';
import { ortRun, ortSession } from '../../src/eval/ort.js';
import { nnzToGraph } from '../../src/format/nnz.js';
import { Rng } from '../../src/ir/random.js';
import { f32 } from '../../src/ir/tensor.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { runReference } from '../../src/runtime/reference.js';
import { Session } from '../../src/runtime/session.js';
import { createNodeSession } from '../../src/runtime/session_node.js';
import { compareOutputs } from './helpers.js';

const LENET5 = fileURLToPath(new URL('../../../fixtures/models/lenet5_dense.onnx', import.meta.url));

function binarized(method: BinaryMethod, layers: Recipe['layers'] = {}) {
  const r = structuredClone(DEEP_COMPRESSION);
  delete r.prune;
  delete r.share;
  r.binarize = { ...BINARIZE_DEFAULTS, method: { conv: method, fc: method }, epochs: 0 };
  r.layers = layers;
  return nnzToGraph(compressGraph(loadOnnxFile(LENET5), { recipe: r, seed: 1 }).file.bytes, 'l5.nnz').graph;
}

test('BWN / TWN LeNet-5 from .nnz: conv2 and fc1 on the add/subtract kernel, as the reference and onnxruntime-node', async () => {
  const rng = new Rng(31);
  // BWN: conv2 binary (add/subtract at any batch), fc1 binary; TWN fc1: ternary (two bit-planes), add/subtract at batch 5
  for (const [method, layers, kind] of [['bwn', {}, 'binary'], ['bwn', { fc1: { binary: 'twn' } }, 'ternary']] as const) {
    const g = binarized(method, layers);
    const ort = await ortSession(exportOnnx(g));
    for (const batch of [1, 5]) {
      const s = await Session.create(g, { batch, threads: 1 });
      const conv2 = s.plan.steps.filter((st): st is ConvStep => st.kind === 'conv')[1], fc1 = s.plan.steps.find((st): st is FcStep => st.kind === 'fc')!;
      assert.equal(conv2.impl, 'addsub', s.describe());
      assert.match(conv2.reason, /^binary weights on float inputs: .*est .* vs im2col/, conv2.reason);
      if (batch > 1) {
        assert.equal(fc1.impl, 'addsub', s.describe());
        assert.match(fc1.reason, new RegExp(`^${kind} weights on float inputs: .* vs dense`), fc1.reason);
      }
      const feeds = { [g.inputs[0].name]: f32([batch, 1, 28, 28], Array.from({ length: batch * 784 }, () => rng.next())) };
      const got = s.run(feeds), label = `${method} ${JSON.stringify(layers)} batch ${batch}`;
      compareOutputs(got, runReference(g, feeds), `${label} vs reference`, 1e-4);
      compareOutputs(got, await ortRun(ort, feeds), `${label} vs onnxruntime-node`, 1e-4);
      await s.dispose();
    }
    await ort.release();
  }
});

test('on 2 threads an add/subtract conv splits each image\'s columns, each part with its own tables: the outputs of one thread, bit for bit', async () => {
  const g = binarized('bwn', { fc1: { binary: 'twn' } });
  const rng = new Rng(7);
  for (const batch of [1, 3]) {
    const one = await Session.create(g, { batch, threads: 1 });
    const two = await createNodeSession(g, { batch, threads: 2, splitFlops: 0 });
    try {
      const conv2 = two.plan.steps.filter((st): st is ConvStep => st.kind === 'conv')[1];
      assert.equal(conv2.impl, 'addsub', two.describe());
      assert.equal(conv2.split, 2, two.describe());
      const feeds = { [g.inputs[0].name]: f32([batch, 1, 28, 28], Array.from({ length: batch * 784 }, () => rng.next())) };
      const [a, b] = [one.run(feeds), two.run(feeds)];
      for (const name of one.outputNames) assert.deepEqual(b[name].data, a[name].data, `batch ${batch}: ${name}`);
      compareOutputs(b, runReference(g, feeds), `batch ${batch}, 2 threads vs reference`, 1e-4);
    } finally {
      await one.dispose();
      await two.dispose();
    }
  }
});

test('add/subtract is off under kernels: dense and never taken for float weights', async () => {
  const g = binarized('bwn');
  const d = await Session.create(g, { batch: 5, kernels: 'dense' });
  assert.ok(d.plan.steps.every((st) => (st.kind !== 'conv' && st.kind !== 'fc') || st.impl !== 'addsub'), d.describe());
  await d.dispose();
  const f = await Session.create(loadOnnxFile(LENET5), { batch: 5 });
  assert.ok(f.plan.steps.every((st) => (st.kind !== 'conv' && st.kind !== 'fc') || st.impl !== 'addsub'), f.describe());
  await f.dispose();
});
