import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../src/ir/errors.js';
import { defaultBackend } from '../../src/train/default_backend.js';
import { lenet5 } from '../../src/train/arch/index.js';
import { ArchBuilder } from '../../src/train/arch/builder.js';
import { modelFromGraph } from '../../src/train/from_graph.js';
import { train } from '../../src/train/loop.js';
import { withTrainingThreads } from '../../src/train/threads_node.js';
import { Rng } from '../../src/ir/random.js';

function randomDigits(n: number, seed: number) {
  const rng = new Rng(seed);
  const images = new Float32Array(n * 784);
  for (let i = 0; i < images.length; i++) images[i] = rng.next();
  const labels = Array.from({ length: n }, (_, i) => i % 10);
  return { images, labels, count: n, shape: [1, 28, 28] };
}

// LeNet-5's GEMMs at batch 32 are big enough to be split (conv2: 50×64×500 per image, fc1: 32×500×800).
function trainedWeights(): Float32Array[] {
  const model = modelFromGraph(lenet5({ seed: 3 }));
  train(model, { train: randomDigits(96, 1) }, { epochs: 1, batchSize: 32, seed: 2, optimizer: { kind: 'sgd', lr: 0.01, momentum: 0.9, nesterov: true } });
  return model.parameters().map((p) => p.master.slice());
}

test('LeNet-5 trained on 2 threads has bit-identical weights to 1 thread', async () => {
  const one = trainedWeights();
  const before = defaultBackend();
  const two = await withTrainingThreads(2, () => {
    assert.equal(defaultBackend().name, 'wasm x2');
    return trainedWeights();
  });
  assert.equal(defaultBackend(), before, 'the previous default backend is restored');
  assert.equal(two.length, one.length);
  two.forEach((w, i) => assert.deepEqual(w, one[i], `parameter ${i}`));
  assert.ok(one.some((w) => w.some((v) => v !== 0)));
});

test('a grouped, strided, padded conv net trains to the same weights on 1 and 3 threads (forward and data gradient by image)', async () => {
  const graph = () => {
    const b = new ArchBuilder(5);
    let x = b.conv('conv1', 'input', 1, 4, 3, { pad: 1 });
    x = b.conv('conv2', b.relu('relu1', x), 4, 6, 3, { pad: 1, stride: 2, group: 2 });
    x = b.flatten('flatten', b.relu('relu2', x), 6 * 14 * 14);
    b.linear('fc', x, 6 * 14 * 14, 10, 'logits');
    return b.graph('grouped', [1, 28, 28], 'logits', 10);
  };
  const run = () => {
    const model = modelFromGraph(graph());
    train(model, { train: randomDigits(40, 4) }, { epochs: 2, batchSize: 13, seed: 1, optimizer: { kind: 'adam', lr: 1e-3 } });
    return model.parameters().map((p) => p.master.slice());
  };
  const one = run();
  const three = await withTrainingThreads(3, run);
  three.forEach((w, i) => assert.deepEqual(w, one[i], `parameter ${i}`));
});

test('withTrainingThreads refuses a bad thread count and restores the backend after a failure', async () => {
  await assert.rejects(withTrainingThreads(0, () => 1), (e: unknown) => e instanceof NnzipError && /--threads 0/.test(e.message));
  const before = defaultBackend();
  await assert.rejects(withTrainingThreads(2, () => { throw new Error('boom'); }), /boom/);
  assert.equal(defaultBackend(), before);
});

test('fine-tuning with BatchNorm refold on a thread pool gives the refold model\'s memory back each round', async () => {
  const { finetune } = await import('../../src/compress/finetune.js');
  const { trainingPool } = await import('../../src/train/threads_node.js');
  const { wasmBackend } = await import('../../src/train/backend_wasm.js');
  const pool = trainingPool(2);
  try {
    const model = modelFromGraph(lenet5({ seed: 3 }), { backend: wasmBackend({ threads: pool }) });
    const data = { train: randomDigits(64, 1), test: randomDigits(32, 2), score: false as const };
    const cfg = { lr: 0.01, batch: 32, momentum: 0.9, weightDecay: 1e-4, seed: 2, batchnorm: 'refold' as const };
    const used: number[] = [];
    for (let round = 0; round < 4; round++) {
      finetune(model, data, 1, cfg, 'test');
      used.push(pool.arena.used);
    }
    // round 1 also builds the model's own tapes (kept for the next rounds); the BN model's come back every round
    assert.deepEqual(used.slice(2), [used[1], used[1]], `arena bytes in use after each round: ${used}`);
  } finally {
    await pool.close();
  }
});
