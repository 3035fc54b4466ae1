// k-means initialisation (Han et al. Fig. 4-style): linear vs density vs random,
// on one pruned LeNet-300-100, accuracy right after clustering and after centroid fine-tuning.
import { modelFromGraph } from '../../src/train/from_graph.js';
import { shareWeights } from '../../src/compress/share/share.js';
import type { KMeansInit } from '../../src/compress/share/kmeans.js';
import { compressGraph } from '../../src/compress/pipeline.js';
import { formatTable } from '../table.js';
import { data, fixture, log, pct, recipe } from './common.js';

const INITS: KMeansInit[] = ['linear', 'density', 'random'];
const BITS = [2, 3, 4];

export async function kmeansInit(): Promise<void> {
  const d = data('mnist');
  const r = recipe('lenet300.yaml');
  delete r.share;
  log('pruning LeNet-300-100 once (recipe densities) ...');
  const pruned = compressGraph(fixture('lenet300_dense.onnx'), { recipe: r, data: d, seed: 1 }).stages[0].graph;
  const train = { ...r.train, seed: 1 };
  const rows: string[][] = [];
  for (const bits of BITS) {
    for (const init of INITS) {
      const model = modelFromGraph(pruned, { seed: 1 });
      for (const [name, p] of model.params) if (name.endsWith('.weight')) model.setMask(name, Uint8Array.from(p.master, (v) => (v !== 0 ? 1 : 0)));
      const targets = [...model.params.keys()].filter((n) => n.endsWith('.weight')).map((weight) => ({ weight, bits }));
      const s = shareWeights(model, targets, { init, epochs: 1, seed: 1, data: d, train });
      log(`${bits} bits ${init}: ${pct(s.accuracyClustered)} → ${pct(s.accuracyTuned)}`);
      rows.push([String(bits), init, pct(s.accuracyClustered), pct(s.accuracyTuned)]);
    }
  }
  console.log('\nk-means initialisation (LeNet-300-100 pruned to 3/5/20%, all layers shared; MNIST test accuracy)\n');
  console.log(formatTable(['bits', 'init', 'after clustering', 'after 1 epoch centroid fine-tune'], rows));
}
