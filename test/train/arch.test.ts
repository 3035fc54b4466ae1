import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { NnzipError } from '../../src/ir/errors.js';
import type { Graph } from '../../src/ir/graph.js';
import { verify } from '../../src/ir/verify.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { buildArchitecture, lenet300, lenet5, vggs } from '../../src/train/arch/index.js';
import { modelFromGraph } from '../../src/train/from_graph.js';
import { train } from '../../src/train/loop.js';
import { Rng } from '../../src/ir/random.js';
import { modelToGraph } from '../../src/train/to_graph.js';

const MODELS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'fixtures', 'models');

function weightShapes(g: Graph, filter: (name: string) => boolean): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [k, t] of g.initializers) if (t.dtype === 'float32' && filter(k)) out[k] = t.shape;
  return out;
}

test('lenet300 and lenet5 have the fixture models’ parameter names, layouts and counts', () => {
  for (const [make, file, count] of [[lenet300, 'lenet300_dense.onnx', 266_610], [lenet5, 'lenet5_dense.onnx', 431_080]] as const) {
    const g = make({ seed: 1 });
    verify(g);
    assert.deepEqual(weightShapes(g, () => true), weightShapes(loadOnnxFile(join(MODELS, file)), () => true), file);
    assert.equal(modelFromGraph(g).numParams(), count);
    assert.deepEqual(g.nodes.map((n) => n.op), loadOnnxFile(join(MODELS, file)).nodes.map((n) => n.op), `${file}: same op sequence`);
  }
});

test('vggs: conv and classifier names match the fixture; BatchNorm after each conv', () => {
  const g = vggs({ seed: 1 });
  verify(g);
  const notBn = (k: string) => !/^features\.\d+\.(weight|bias|running_mean|running_var)$/.test(k) || /^features\.(0|3|7|10|14|17)\.weight$/.test(k);
  const fixture = weightShapes(loadOnnxFile(join(MODELS, 'vggs_fmnist_dense.onnx')), (k) => !k.endsWith('_bias'));
  assert.deepEqual(weightShapes(g, notBn), fixture);
  assert.equal(g.nodes.filter((n) => n.op === 'BatchNormalization').length, 6);
  const plain = vggs({ batchNorm: false });
  assert.equal(plain.nodes.filter((n) => n.op === 'BatchNormalization').length, 0);
  assert.ok(plain.initializers.has('features.0.bias'));
});

test('initialization is seeded and PyTorch-like: U(±1/√fan_in)', () => {
  const a = lenet5({ seed: 4 }), b = lenet5({ seed: 4 }), c = lenet5({ seed: 5 });
  assert.deepEqual(a.initializers.get('conv2.weight')!.data, b.initializers.get('conv2.weight')!.data);
  assert.notDeepEqual(a.initializers.get('conv2.weight')!.data, c.initializers.get('conv2.weight')!.data);
  for (const [name, fanIn] of [['conv1.weight', 25], ['conv2.weight', 500], ['fc1.weight', 800], ['fc1.bias', 800]] as const) {
    const w = a.initializers.get(name)!.data as Float32Array;
    const bound = 1 / Math.sqrt(fanIn);
    assert.ok(w.every((v) => Math.abs(v) <= bound), `${name} within ±${bound}`);
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    assert.ok(Math.abs(std - bound / Math.sqrt(3)) < 0.15 * bound, `${name}: std ${std}`);
  }
});

test('built-in architectures export to ONNX and onnxruntime agrees after training steps', async () => {
  const rng = new Rng(3);
  const data = { images: rng.fillUniform(new Float32Array(8 * 784), 0, 1), labels: new Uint8Array(8).map(() => rng.int(10)), count: 8, shape: [1, 28, 28] };
  for (const arch of ['lenet300', 'lenet5', 'vggs']) {
    const model = modelFromGraph(buildArchitecture(arch, { seed: 2 }));
    train(model, { train: data }, { epochs: 1, batchSize: 4, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 } });
    const g = modelToGraph(model);
    verify(g);
    const session = await ort.InferenceSession.create(exportOnnx(g), { intraOpNumThreads: 1 });
    const x = data.images.subarray(0, 4 * 784);
    const want = (await session.run({ input: new ort.Tensor('float32', x, [4, 1, 28, 28]) })).logits.data as Float32Array;
    const got = model.predict(x, 4);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-4 * (1 + Math.abs(want[i])), `${arch}: logit ${i} ${got[i]} vs ${want[i]}`);
  }
});

test('unknown architecture names are NnzipErrors listing the choices', () => {
  assert.throws(() => buildArchitecture('resnet'), (e: Error) => e instanceof NnzipError && /--arch resnet: unknown architecture; choose one of lenet300, lenet5, vggs/.test(e.message));
});
