// Weight histograms of a real (tiny) compression run, and the run's JSON document:
// counts add up to the graphs' weights, pruned zeros are counted apart, shared
// weights sit on the codebook's centroids.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compressGraph, type CompressResult } from '../../src/compress/pipeline.js';
import { DEEP_COMPRESSION, type Recipe } from '../../src/compress/recipe.js';
import { compressRun } from '../../src/report/compress_report.js';
import { weightHistograms, type LayerHistogram } from '../../src/report/histograms.js';
import { tinyData, tinyGraph } from '../train/tiny.js';

const recipe: Recipe = {
  ...DEEP_COMPRESSION,
  prune: { ...DEEP_COMPRESSION.prune!, stages: 1, epochsPerStage: 1 },
  share: { ...DEEP_COMPRESSION.share!, epochs: 1 },
  layers: { conv1: { density: 0.5, bits: 3 }, fc1: { density: 0.25, bits: 2 } },
};
const graph = tinyGraph(3);
const r: CompressResult = compressGraph(graph, { recipe, data: { train: tinyData(128, 1), test: tinyData(64, 2) }, seed: 1 });

const weightsOf = (stage: string, layer: string): Float32Array => {
  const g = stage === 'original' ? graph : r.stages.find((s) => s.name === stage)!.graph;
  return g.initializers.get(`${layer}.weight`)!.data as Float32Array;
};

/** The bin of value v (the last bin includes hi). */
const binOf = (h: LayerHistogram, v: number): number => Math.min(h.bins - 1, Math.floor(((v - h.lo) / (h.hi - h.lo)) * h.bins));

describe('weightHistograms', () => {
  const hs = weightHistograms(graph, r);

  it('one histogram per compressed layer, with the original and each stage', () => {
    assert.deepEqual(hs.map((h) => h.layer), ['conv1', 'fc1']);
    for (const h of hs) assert.deepEqual(h.series.map((s) => s.stage), ['original', 'prune', 'share']);
  });

  it('counts the non-zero weights of each stage graph bin by bin; zeros apart', () => {
    for (const h of hs) {
      for (const s of h.series) {
        const w = weightsOf(s.stage, h.layer);
        const want = new Array<number>(h.bins).fill(0);
        let zeros = 0;
        for (const v of w) if (v === 0) zeros++; else want[binOf(h, v)]++;
        assert.deepEqual(s.counts, want, `${h.layer} ${s.stage}`);
        assert.equal(s.zeros, zeros);
        assert.equal(s.counts.reduce((a, b) => a + b, 0) + s.zeros, h.weights);
      }
      const pruned = h.series[1];
      assert.equal(pruned.zeros, h.weights - Math.round(h.weights * (h.layer === 'conv1' ? 0.5 : 0.25)), `${h.layer}: density`);
    }
  });

  it('the range covers every non-zero weight; after sharing every filled bin holds a centroid', () => {
    for (const h of hs) {
      const all = h.series.flatMap((s) => Array.from(weightsOf(s.stage, h.layer)).filter((v) => v !== 0));
      assert.equal(h.lo, Math.min(...all));
      assert.equal(h.hi, Math.max(...all));
      const shared = h.series[2];
      const f = r.stages[1].graph.formats.get(`${h.layer}.weight`);
      assert.equal(f?.kind, 'codebook');
      assert.deepEqual(shared.centroids, Array.from(f!.kind === 'codebook' ? f!.centroids : []));
      const withCentroid = new Set(shared.centroids!.map((c) => binOf(h, c)));
      shared.counts.forEach((c, i) => assert.ok(c === 0 || withCentroid.has(i), `${h.layer}: bin ${i} has ${c} weights and no centroid`));
      assert.equal(h.series[0].centroids, undefined);
    }
  });
});

describe('compressRun (the JSON nnzip compress writes)', () => {
  it('stages with sizes and accuracies, layers, histograms; survives JSON', () => {
    const run = compressRun(graph, r, { model: 'tiny.onnx', output: 'tiny.nnz', recipe, fileAccuracy: 0.5 });
    assert.equal(run.kind, 'compress');
    assert.deepEqual(run.stages.map((s) => s.bytes), [r.originalBytes, r.stages[0].file.length, r.stages[1].file.length, r.file.bytes.length]);
    assert.deepEqual(run.stages.map((s) => s.accuracy), [r.originalAccuracy, r.stages[0].accuracy, r.stages[1].accuracy, 0.5]);
    assert.equal(run.fileBytes, r.file.bytes.length);
    assert.deepEqual(run.histograms, weightHistograms(graph, r));
    assert.deepEqual(JSON.parse(JSON.stringify(run)), run);
  });
});
