// Filter and neuron pruning as a recipe stage: filters leave the graph (the .nnz
// and its ONNX export have fewer channels, onnxruntime agrees), the later stages
// run on the thinned model, and fine-tuning keeps the zeros a model already had.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compressGraph } from '../../src/compress/pipeline.js';
import { pruneChannels } from '../../src/compress/prune/thin.js';
import { LOSSLESS, parseRecipe } from '../../src/compress/recipe.js';
import { loadDataset } from '../../src/data/datasets.js';
import { ortSession } from '../../src/eval/ort.js';
import { referenceRunner } from '../../src/eval/runners.js';
import { compareWithOrt } from '../../src/eval/validate.js';
import { nnzToGraph } from '../../src/format/nnz.js';
import type { Graph } from '../../src/ir/graph.js';
import { f32 } from '../../src/ir/tensor.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { runReference } from '../../src/runtime/reference.js';
import { model, pruned, viaOnnx } from './foreign.js';

const recipe = (raw: object) => parseRecipe({ prune: null, share: null, ...raw }, 'test', LOSSLESS);
const shapeOf = (g: Graph, w: string) => g.initializers.get(w)!.shape.join('x');

test('--filters conv2=0.5,fc1=0.5 removes filters through the graph: the .nnz and its ONNX have fewer channels, onnxruntime agrees', async () => {
  const g = model('lenet5_dense');
  const r = compressGraph(g, { recipe: recipe({ layers: { conv2: { filters: 0.5 }, fc1: { filters: 0.5 } } }) });
  const back = viaOnnx(nnzToGraph(r.file.bytes, 'thin.nnz').graph);
  assert.deepEqual(['conv1.weight', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc2.weight'].map((w) => shapeOf(back, w)), ['20x1x5x5', '25x20x5x5', '25', '250x400', '10x250']);
  // the stage is exactly L1 filter thinning of the input (no data: nothing else changes)
  const thin = pruneChannels(g, { ratios: { conv2: 0.5, fc1: 0.5 } });
  const feeds = { [g.inputs[0].name]: f32([4, 1, 28, 28], loadDataset('mnist', 'test').images.slice(0, 4 * 784)) };
  const want = runReference(thin, feeds)[g.outputs[0].name].data as Float32Array;
  const got = runReference(back, feeds)[g.outputs[0].name].data as Float32Array;
  assert.deepEqual([...got], [...want]);
  const c = await compareWithOrt(back, referenceRunner(back), await ortSession(exportOnnx(back)), { trials: 2, batch: 3 });
  assert.ok(c.maxRel < 1e-5 && c.top1Agree === c.rows, JSON.stringify(c));
  assert.deepEqual(r.unmeasured.map((x) => `${x.layer}: ${x.changes.join(', ')}`), [
    'conv2: 50 → 25 filters', 'fc1: 500 → 250 neurons, 800 → 400 inputs', 'fc2: 500 → 250 inputs',
  ]);
});

test('filters, then pruning and sharing on the thinned model, in one run', () => {
  const g = model('lenet300_dense');
  const r = compressGraph(g, { recipe: recipe({ layers: { fc1: { filters: 0.5, density: 0.1, bits: 5 } }, prune: { density: {} }, share: { bits: {} } }) });
  assert.deepEqual(r.stages.map((s) => s.name), ['filters', 'prune', 'share']);
  const fc1 = r.final.find((l) => l.layer === 'fc1')!;
  assert.deepEqual(fc1.shape, [150, 784]);
  assert.ok(Math.abs(fc1.density - 0.1) < 0.001 && fc1.format?.kind === 'codebook' && fc1.bits <= 5, JSON.stringify({ ...fc1, format: fc1.format?.kind }));
  assert.equal(shapeOf(r.compressed, 'fc2.weight'), '100x150');
  assert.ok(r.stages[0].file.length > r.stages[1].file.length && r.stages[1].file.length > r.stages[2].file.length);
});

test('fine-tuning after filter removal keeps the zeros the model came with', () => {
  const g = viaOnnx(pruned(model('lenet5_dense'), { conv1: 0.66, conv2: 0.12, fc1: 0.08, fc2: 0.19 }));
  const all = loadDataset('mnist', 'test'); // a few steps on test images: the point is which weights move, not accuracy
  const data = { train: { ...all, count: 1000 }, test: { ...all, count: 200 } };
  const r = compressGraph(g, { recipe: recipe({ filters: { epochs: 1 }, layers: { conv2: { filters: 0.5 } } }), data, maxStepsPerEpoch: 3 });
  assert.deepEqual(r.unmeasured, [], 'with data nothing is unmeasured');
  const thin = pruneChannels(g, { ratios: { conv2: 0.5 } });
  for (const w of ['conv1.weight', 'conv2.weight', 'fc1.weight', 'fc2.weight']) {
    const [before, after] = [thin, r.compressed].map((x) => x.initializers.get(w)!.data as Float32Array);
    assert.equal(after.length, before.length, w);
    const regrown = before.findIndex((v, i) => v === 0 && after[i] !== 0);
    assert.equal(regrown, -1, `${w}: weight ${regrown} was zero and is not after fine-tuning`);
    assert.notDeepEqual([...after], [...before], `${w} was fine-tuned`);
  }
  assert.ok(r.stages[0].accuracy! > 0.5, `accuracy ${r.stages[0].accuracy}`);
});

test('a layer whose filters cannot go is refused by name; kind defaults skip it', () => {
  const g = model('lenet300_dense');
  assert.throws(() => compressGraph(g, { recipe: recipe({ layers: { fc3: { filters: 0.5 } } }) }), /cannot thin layer "fc3".*graph output/);
  const r = compressGraph(g, { recipe: recipe({ filters: { keep: { fc: 0.5 } } }) });
  assert.deepEqual(['fc1', 'fc2', 'fc3'].map((l) => r.final.find((x) => x.layer === l)!.shape.join('x')), ['150x784', '50x150', '10x50']);
});
