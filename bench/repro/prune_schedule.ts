// Iterative pruning vs one-shot at equal density and equal fine-tuning epochs
// (LeNet-300-100, the recipe's per-layer densities, no weight sharing).
import { compressGraph } from '../../src/compress/pipeline.js';
import type { PruneSchedule } from '../../src/compress/prune/iterative.js';
import { formatTable } from '../table.js';
import { accuracy, data, fixture, log, pct, recipe } from './common.js';

const EPOCHS = 18;
const RUNS: { schedule: PruneSchedule; stages: number }[] = [
  { schedule: 'oneshot', stages: 1 },
  { schedule: 'stages', stages: 6 },
  { schedule: 'agp', stages: 6 },
];

export async function pruneSchedule(): Promise<void> {
  const graph = fixture('lenet300_dense.onnx');
  const d = data('mnist');
  const base = recipe('lenet300.yaml');
  const rows: string[][] = [];
  for (const run of RUNS) {
    const r = structuredClone(base);
    delete r.share;
    r.prune = { ...r.prune!, schedule: run.schedule, stages: run.stages, epochsPerStage: EPOCHS / run.stages };
    const res = compressGraph(graph, { recipe: r, data: d, seed: 1 });
    const acc = await accuracy(res.stages[0].graph, 'mnist');
    const first = res.pruneStages[0];
    log(`${run.schedule}: ${pct(acc)}`);
    rows.push([run.schedule, String(run.stages), String(EPOCHS), Object.values(first ? res.pruneStages.at(-1)!.densities : {}).map((v) => `${(100 * v).toFixed(0)}%`).join('/'), pct(res.originalAccuracy), pct(acc)]);
  }
  console.log('\nPruning schedule at equal density and equal epochs (LeNet-300-100, MNIST test accuracy of the pruned model)\n');
  console.log(formatTable(['schedule', 'stages', 'epochs', 'density fc1/fc2/fc3', 'original', 'pruned'], rows));
}
