// Weight sharing on a dense model: each centroid moves by lr × the summed gradient of
// its weights (Han et al.), so LeNet-5's dense fc1 at 5 bits (12.5k weights a cluster)
// diverges at the lr pruned layers take (0.01, momentum 0.9): compress says so, and
// share.lr gives the centroid fine-tune its own, smaller rate; share.maxStep caps it by the
// largest cluster once the clusters are known.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compressGraph } from '../../../src/compress/pipeline.js';
import { LOSSLESS, parseRecipe } from '../../../src/compress/recipe.js';
import { loadDataset } from '../../../src/data/datasets.js';
import { model } from '../foreign.js';

const g = model('lenet5_dense');
const train = loadDataset('mnist', 'train');
const data = { train: { ...train, count: 4000 }, test: { ...loadDataset('mnist', 'test'), count: 500 } };
const shared = (lr?: number, maxStep?: number) => compressGraph(g, {
  recipe: parseRecipe({ prune: null, share: { epochs: 1, bits: { conv: 5, fc: 5 }, ...(lr === undefined ? {} : { lr }), ...(maxStep === undefined ? {} : { maxStep }) } }, 'share.yaml', LOSSLESS),
  data, seed: 1, maxStepsPerEpoch: 40,
});

test('dense sharing at lr 0.01: the centroid fine-tune diverges, and compress says why, naming the largest cluster', () => {
  const r = shared();
  const st = r.stages.find((s) => s.name === 'share')!;
  assert.ok(st.details.clustered > 0.95 && st.accuracy! < st.details.clustered - 0.3, JSON.stringify({ clustered: st.details.clustered, tuned: st.accuracy }));
  const note = r.notes.find((n) => n.startsWith('share:'));
  assert.match(note ?? '', /^share: fine-tuning the centroids lost \d+\.\d\d pp \(clustered \d+\.\d\d%, tuned \d+\.\d\d%\): each centroid moves by lr × the summed gradient of its weights \(lr 0\.01; the largest cluster: \d+ weights of fc1\.weight\); give share\.lr a smaller one \(e\.g\. 0\.001\)$/);
});

test('share.lr 0.001: the same run keeps the clustered accuracy (within 1 pp), no note; bad share.lr refused', () => {
  const r = shared(0.001);
  const st = r.stages.find((s) => s.name === 'share')!;
  assert.ok(st.accuracy! >= st.details.clustered - 0.01, JSON.stringify({ clustered: st.details.clustered, tuned: st.accuracy }));
  assert.equal(r.notes.filter((n) => n.startsWith('share:')).length, 0);
  for (const bad of [0, -1, 'x', 11]) {
    assert.throws(() => parseRecipe({ share: { lr: bad } }, 'r.yaml', LOSSLESS), new RegExp(`^NnzipError: r\\.yaml: share\\.lr ${JSON.stringify(bad)} must be a number in \\(0, 10\\]$`));
  }
});

test('share.maxStep 10: lr = 10 / the largest cluster (the same file as that lr given), the clustered accuracy kept, a note; bad maxStep refused', () => {
  const r = shared(undefined, 10);
  const st = r.stages.find((s) => s.name === 'share')!;
  // the centroid fine-tune keeps the assignments: the file's codebooks give the clusters
  let largest = 0;
  for (const f of r.compressed.formats.values()) {
    if (f.kind !== 'codebook') continue;
    const n = new Array<number>(f.centroids.length).fill(0);
    for (const i of f.indices) if (i < f.centroids.length) n[i]++;
    largest = Math.max(largest, ...n);
  }
  const lr = 10 / largest;
  assert.ok(lr > 1e-4 && lr < 0.002, `fc1's largest cluster holds thousands of weights: lr ${lr}`);
  assert.ok(st.accuracy! >= st.details.clustered - 0.01, JSON.stringify({ clustered: st.details.clustered, tuned: st.accuracy }));
  assert.deepEqual(shared(lr).file.bytes, r.file.bytes);
  assert.ok(r.notes.some((n) => n === `share: centroid fine-tune at lr ${lr.toPrecision(3)} (share.maxStep 10 / the largest cluster's weights), not 0.01`), r.notes.join('\n'));
  assert.equal(shared(0.01, 1e6).notes.filter((n) => n.startsWith('share:')).length, 1, 'a cap above train.lr leaves it: only the divergence note');
  for (const bad of [0, -1, 'x']) {
    assert.throws(() => parseRecipe({ share: { maxStep: bad } }, 'r.yaml', LOSSLESS), new RegExp(`^NnzipError: r\\.yaml: share\\.maxStep ${JSON.stringify(bad)} must be a number in \\(0, 1000000\\]$`));
  }
});
