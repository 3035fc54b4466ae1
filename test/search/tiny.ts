// A small MNIST model for the search tests: one 3×3 conv (filters, Winograd and
// binary apply) and one fully connected layer, trained a few steps so accuracy means something.
import type { Graph } from '../../src/ir/graph.js';
import { ArchBuilder } from '../../src/train/arch/builder.js';
import { modelFromGraph } from '../../src/train/from_graph.js';
import { modelToGraph } from '../../src/train/to_graph.js';
import { finetune } from '../../src/compress/finetune.js';
import { loadDataset } from '../../src/data/datasets.js';
import type { ProblemSpec } from '../../src/search/evaluate.js';

export function tinyMnist(): Graph {
  const b = new ArchBuilder(3);
  let x = b.conv('conv1', 'input', 1, 4, 3, { pad: 1 });
  x = b.maxPool('pool1', b.relu('relu1', x), 4);
  x = b.flatten('flatten', x, 4 * 7 * 7);
  b.linear('fc1', x, 4 * 7 * 7, 10, 'logits');
  const model = modelFromGraph(b.graph('tiny_mnist', [1, 28, 28], 'logits', 10), { seed: 3 });
  const train = loadDataset('mnist', 'train');
  finetune(model, { train, test: loadDataset('mnist', 'test') }, 1, { lr: 0.05, batch: 64, momentum: 0.9, weightDecay: 0, seed: 3, maxStepsPerEpoch: 60 }, 'pretrain');
  return modelToGraph(model);
}

/** Small slices and a two-step proxy: the tests check behaviour, not accuracy. */
export const TINY_SPEC: ProblemSpec = {
  dataset: 'mnist', seed: 7, train: 256, holdout: 200, proxy: { epochs: 1, maxSteps: 2, lr: 0.01, batch: 64 }, latency: 'estimated', flash: false,
};

/** The same settings as `nnzip search` flags. */
export const TINY_FLAGS = ['--dataset', 'mnist', '--seed', '7', '--train', '256', '--holdout', '200', '--proxy-epochs', '1', '--proxy-steps', '2', '--latency', 'estimated'];
