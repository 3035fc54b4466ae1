import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { Graph } from '../../src/ir/graph.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { modelFromGraph } from '../../src/train/from_graph.js';
import { modelToGraph } from '../../src/train/to_graph.js';
import { Rng } from '../../src/ir/random.js';
import { tinyData, tinyGraph } from './tiny.js';
import { train } from '../../src/train/loop.js';
import { WeightSharing } from '../../src/train/hooks.js';
import type { CodebookFormat } from '../../src/ir/tensor_format.js';

const MODELS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'fixtures', 'models');

async function ortLogits(file: string, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(join(MODELS, file), { intraOpNumThreads: 1 });
  const out = await s.run({ input: new ort.Tensor('float32', x, shape) });
  return out[s.outputNames[0]].data as Float32Array;
}

function assertClose(got: Float32Array, want: Float32Array, what: string, tol = 1e-4): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])), `${what}: [${i}] ${got[i]} vs ${want[i]}`);
  }
}

const FIXTURES: [file: string, params: number, shape: number[]][] = [
  ['lenet300_dense.onnx', 266_610, [5, 1, 28, 28]],
  ['lenet5_dense.onnx', 431_080, [5, 1, 28, 28]],
  ['vggs_fmnist_dense.onnx', 0, [3, 1, 28, 28]],
  ['squeezenet1_1_random.onnx', 0, [1, 3, 224, 224]],
];

test('models built from the fixture ONNX graphs compute what onnxruntime computes', async () => {
  for (const [file, params, shape] of FIXTURES) {
    const graph = loadOnnxFile(join(MODELS, file));
    const model = modelFromGraph(graph);
    if (params) assert.equal(model.numParams(), params, `${file}: parameter count`);
    for (const [name, p] of model.params) assert.deepEqual(p.shape, graph.initializers.get(name)!.shape, `${file}: ${name} layout`);
    const n = shape.reduce((a, b) => a * b, 1);
    const x = new Rng(7).fillUniform(new Float32Array(n), 0, 1);
    const got = model.predict(x, shape[0], 2);
    assertClose(got, await ortLogits(file, x, shape), file);
  }
});

test('modelToGraph writes trained weights into the same structure; the source graph is untouched', () => {
  const src = loadOnnxFile(join(MODELS, 'lenet5_dense.onnx'));
  const original = (src.initializers.get('conv1.weight')!.data as Float32Array).slice();
  const model = modelFromGraph(src);
  for (const p of model.parameters()) for (let i = 0; i < p.size; i++) p.master[i] *= 0.5;
  const out = modelToGraph(model);
  assert.deepEqual(out.nodes.map((n) => [n.op, n.inputs, n.outputs]), src.nodes.map((n) => [n.op, n.inputs, n.outputs]));
  assert.deepEqual(src.initializers.get('conv1.weight')!.data, original);
  assert.ok(Math.abs((out.initializers.get('conv1.weight')!.data as Float32Array)[3] - 0.5 * original[3]) < 1e-7);
  assert.equal(out.initializers.get('val_7'), src.initializers.get('val_7'), 'constants are shared');
  const x = new Rng(2).fillUniform(new Float32Array(2 * 784), 0, 1);
  assert.deepEqual(modelFromGraph(out).predict(x, 2), model.predict(x, 2));
});

test('modelToGraph writes BatchNorm running statistics and master or effective weights', () => {
  const model = modelFromGraph(tinyGraph(1, true));
  model.buffers.get('bn1.running_mean')!.set([1, 2, 3]);
  model.setWeightTransform('fc1.weight', { name: 'double', forward: (m, o) => { for (let i = 0; i < m.length; i++) o[i] = 2 * m[i]; } });
  const g = modelToGraph(model);
  assert.deepEqual([...g.initializers.get('bn1.running_mean')!.data], [1, 2, 3]);
  const master = model.param('fc1.weight').master;
  assert.equal((g.initializers.get('fc1.weight')!.data as Float32Array)[0], 2 * master[0]);
  assert.equal((modelToGraph(model, { weights: 'master' }).initializers.get('fc1.weight')!.data as Float32Array)[0], master[0]);
});

test('graphs the trainer cannot handle are NnzipErrors naming the node or value', () => {
  // a QDQ model trains (quantization-aware training: Q/DQ pairs with the straight-through estimator)
  assert.ok(modelFromGraph(loadOnnxFile(join(MODELS, 'lenet5_int8_qdq.onnx'))));
  const base = tinyGraph(1);
  const withInputs = (inputs: Graph['inputs']) => new Graph({ ...base, inputs, nodes: base.nodes, initializers: base.initializers });
  assert.throws(() => modelFromGraph(withInputs([...base.inputs, { name: 'extra', dtype: 'float32', shape: [1] }])), /exactly one data input, found 2/);
  assert.throws(() => modelFromGraph(withInputs([{ name: 'input', dtype: 'float32', shape: ['N', 1, 'H', 6] }])), /only the batch dim/);
  assert.throws(() => modelFromGraph(withInputs([{ name: 'input', dtype: 'float32', shape: ['N', 1, 5, 6] }])), /flatten.*cannot reshape/);
  const int8 = tinyGraph(1);
  int8.initializers.set('fc1.weight', { ...int8.initializers.get('fc1.weight')!, dtype: 'int8' } as never);
  assert.throws(() => modelFromGraph(int8), /initializer "fc1.weight" is int8; .*dequantize/);
  const missing = tinyGraph(1);
  missing.nodes[1].inputs[0] = 'nowhere';
  assert.throws(() => modelFromGraph(missing), /input "nowhere" is not produced/);
  const softmax = tinyGraph(1);
  softmax.nodes.push({ name: 'sm', op: 'Softmax', inputs: ['logits'], outputs: ['prob'], attrs: {} });
  assert.throws(() => modelFromGraph(softmax), /node "sm" \(Softmax\): op Softmax cannot be trained/);
});

test('modelToGraph keeps codebook formats valid: new centroids from weight sharing, dropped when values moved off the codebook', () => {
  const src = tinyGraph(3);
  const w = src.initializers.get('fc1.weight')!.data as Float32Array;
  const rng = new Rng(5);
  const indices = new Uint16Array(w.length).map(() => rng.int(3)); // (i mod 3 would give zero centroid gradients: Σ over classes of dlogits = 0)
  const centroids = Float32Array.from([-0.2, 0.05, 0.3]);
  for (let i = 0; i < w.length; i++) w[i] = centroids[indices[i]];
  src.formats.set('fc1.weight', { kind: 'codebook', bits: 2, centroids, indices });
  const data = tinyData(32, 4);
  const step = (m: ReturnType<typeof modelFromGraph>) => train(m, { train: data }, { epochs: 1, batchSize: 16, optimizer: { kind: 'sgd', lr: 0.01 } });
  const shared = modelFromGraph(src);
  const hook = new WeightSharing(centroids, Int32Array.from(indices));
  shared.setGradTransform('fc1.weight', hook);
  step(shared);
  const f = modelToGraph(shared).formats.get('fc1.weight') as CodebookFormat;
  assert.notDeepEqual(f.centroids, centroids, 'centroids moved');
  assert.deepEqual(f.centroids, hook.centroids);
  const free = modelFromGraph(src);
  step(free);
  assert.equal(modelToGraph(free).formats.get('fc1.weight'), undefined, 'free training leaves the codebook');
  assert.deepEqual(modelToGraph(modelFromGraph(src)).formats.get('fc1.weight'), src.formats.get('fc1.weight'), 'untrained: kept');
});
