// `FinetuneData.score: false`: the test set is not scored after each epoch and stage
// (the search's runs score only the file they write; on VGG-S each score is 10k
// images). Scoring changes no weight, so the file is the same bytes either way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compressGraph } from '../../src/compress/pipeline.js';
import { LOSSLESS, parseRecipe } from '../../src/compress/recipe.js';
import { loadDataset } from '../../src/data/datasets.js';
import { Model } from '../../src/train/model.js';
import { model } from './foreign.js';

test('score: false skips every test-set score (stages, epochs, the original) and writes the same bytes as a scored run', () => {
  const g = model('lenet5_dense');
  const all = loadDataset('mnist', 'test');
  const data = { train: { ...all, count: 600 }, test: { ...all, count: 300 } };
  const recipe = parseRecipe({
    filters: { epochs: 1 }, prune: { stages: 2, epochsPerStage: 1 }, share: { epochs: 1 },
    layers: { conv2: { filters: 0.75 }, fc1: { density: 0.2, bits: 5 }, fc2: { bits: 6 } },
  }, 'test', LOSSLESS);
  const evaluate = Model.prototype.evaluate;
  let scored = 0;
  Model.prototype.evaluate = function (this: Model, ...a: Parameters<Model['evaluate']>) { scored++; return evaluate.apply(this, a); };
  try {
    const on = compressGraph(g, { recipe, data, seed: 3, maxStepsPerEpoch: 3 });
    const perRun = scored;
    scored = 0;
    const off = compressGraph(g, { recipe, data: { ...data, score: false }, seed: 3, maxStepsPerEpoch: 3 });
    assert.ok(perRun >= 6, `a scored run scores after each epoch and stage (${perRun})`);
    assert.equal(scored, 0, 'no score at all');
    assert.deepEqual(on.stages.map((s) => s.name), ['filters', 'prune', 'share']);
    assert.ok(on.stages.every((s) => typeof s.accuracy === 'number' && s.accuracy > 0) && on.originalAccuracy! > 0.9);
    assert.deepEqual(off.stages.map((s) => s.accuracy), [undefined, undefined, undefined]);
    assert.equal(off.originalAccuracy, undefined);
    assert.equal(Buffer.compare(off.file.bytes, on.file.bytes), 0, 'the same file');
  } finally {
    Model.prototype.evaluate = evaluate;
  }
});
