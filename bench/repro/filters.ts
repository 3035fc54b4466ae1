// Filter pruning from a recipe (issue 8 §4): VGG-S on Fashion-MNIST with half the
// filters of its wide layers removed (recipes/vggs_filters.yaml: the 64- and
// 128-filter convolutions and the 256-neuron fc) and retrained, against the dense
// model in the same run: test accuracy (10,000 images), file sizes, and batch-1
// latency in nnzip and onnxruntime-node at 1 and 2 threads (interleaved rounds, median).
// Args: [epochs] (default: the recipe's) [max steps per epoch] [ONNX file to write the
// retrained model to, e.g. to measure its size with a later encoder].
import { writeFileSync } from 'node:fs';
import { compressGraph } from '../../src/compress/pipeline.js';
import { pruneChannels } from '../../src/compress/prune/thin.js';
import { LOSSLESS } from '../../src/compress/recipe.js';
import { loadDataset } from '../../src/data/datasets.js';
import { sessionAccuracy } from '../../src/eval/runners.js';
import { nnzToGraph } from '../../src/format/nnz.js';
import type { Graph } from '../../src/ir/graph.js';
import { f32 } from '../../src/ir/tensor.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { contender, measure } from '../harness.js';
import { watchForeignLoad } from '../harness_node.js';
import { formatRatio, formatSig, formatTable as formatText } from '../table.js';
import { createNnzipPeer } from '../peers/nnzip.js';
import { createOrtNodePeer } from '../peers/ort_node.js';
import type { Peer } from '../peers/peer.js';
import { model } from '../../test/compress/foreign.js';
import { data, log, pct, recipe as recipeFile } from './common.js';

async function latency(graphs: { name: string; graph: Graph }[], threads: number): Promise<Map<string, number>> {
  const x = f32([1, 1, 28, 28], loadDataset('fashion-mnist', 'test').images.slice(0, 784));
  const peers: { name: string; peer: Peer }[] = [];
  for (const { name, graph } of graphs) {
    peers.push({ name: `nnzip ${name}`, peer: await createNnzipPeer(graph, { threads }) });
    peers.push({ name: `ort-node ${name}`, peer: await createOrtNodePeer(exportOnnx(graph), { threads }) });
  }
  const feeds = { [graphs[0].graph.inputs[0].name]: x };
  const timings = await measure(peers.map(({ name, peer }) => contender(name, () => peer.run(feeds))), { rounds: 9, pauseMs: 20 });
  for (const { peer } of peers) await peer.dispose();
  return new Map(timings.map((t) => [t.name, t.ms]));
}

export async function filters(args: string[]): Promise<void> {
  const recipe = recipeFile('vggs_filters.yaml');
  // an empty argument keeps the default (e.g. `filters "" 50` caps the steps at the recipe's epochs)
  const given = (i: number): number | undefined => (args[i] === undefined || args[i] === '' ? undefined : Number(args[i]));
  recipe.filters!.epochs = given(0) ?? recipe.filters!.epochs;
  const epochs = recipe.filters!.epochs;
  const maxSteps = given(1);
  const WIDE = Object.keys(recipe.layers);
  const dense = model('vggs_fmnist_dense');
  const d = data('fashion-mnist');
  log(`VGG-S: removing half the filters of ${WIDE.join(', ')}, then ${epochs} epochs of fine-tuning ...`);
  let last = 0;
  const r = compressGraph(dense, {
    recipe, data: d, seed: 1, maxStepsPerEpoch: maxSteps,
    onProgress: (stage, p) => {
      if (Date.now() - last > 30000 || p.phase === 'eval') {
        last = Date.now();
        log(`${stage} epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)}${p.testAccuracy ? ` test ${pct(p.testAccuracy)}` : ''}`);
      }
    },
  });
  const thin = nnzToGraph(r.file.bytes, 'thin.nnz').graph;
  if (args[2]) writeFileSync(args[2], exportOnnx(thin));
  const denseFile = compressGraph(dense, { recipe: LOSSLESS }).file.bytes;
  const removedOnly = pruneChannels(dense, { ratios: Object.fromEntries(WIDE.map((l) => [l, 0.5])) });
  const [accDense, accRemoved, accThin] = [
    await sessionAccuracy(dense, d.test), await sessionAccuracy(removedOnly, d.test), await sessionAccuracy(thin, d.test),
  ];
  const params = (g: Graph) => [...g.initializers.values()].reduce((s, t) => s + t.size, 0);
  const foreign = watchForeignLoad();
  const times = [1, 2].map((t) => latency([{ name: 'dense', graph: dense }, { name: 'thinned', graph: thin }], t));
  const [t1, t2] = [await times[0], await times[1]];
  const load = foreign();
  const speed = (m: Map<string, number>, who: string) => [formatSig(m.get(`${who} dense`)), formatSig(m.get(`${who} thinned`)), formatRatio(m.get(`${who} dense`), m.get(`${who} thinned`))];
  console.log(`\nVGG-S, Fashion-MNIST: half the filters of ${WIDE.join(', ')} removed, ${epochs} epochs of fine-tuning${maxSteps ? ` (${maxSteps} steps each)` : ''}\n`);
  console.log(formatText(['model', 'parameters', 'ONNX bytes', '.nnz bytes (lossless)', 'accuracy (10,000)'], [
    ['dense', params(dense), exportOnnx(dense).length, denseFile.length, pct(accDense.accuracy)],
    ['filters removed, not retrained', params(removedOnly), exportOnnx(removedOnly).length, '-', pct(accRemoved.accuracy)],
    ['filters removed, retrained', params(thin), exportOnnx(thin).length, r.file.bytes.length, pct(accThin.accuracy)],
  ]));
  console.log('\nbatch-1 latency, ms (median of 9 interleaved rounds; ratio = dense / thinned)\n');
  console.log(formatText(['runtime', 'threads', 'dense', 'thinned', 'speed-up'], [
    ['nnzip', 1, ...speed(t1, 'nnzip')], ['onnxruntime-node', 1, ...speed(t1, 'ort-node')],
    ['nnzip', 2, ...speed(t2, 'nnzip')], ['onnxruntime-node', 2, ...speed(t2, 'ort-node')],
  ]));
  console.log(`\nother processes used ${load === undefined ? '?' : load.toFixed(2)} cores on average while timing`);
}
