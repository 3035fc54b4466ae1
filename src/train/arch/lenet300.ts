// LeNet-300-100 (LeCun et al. 1998; Han et al. 2015): 784-300-100-10, ReLU.
// Same layout as fixtures/models/lenet300_dense.onnx.
import type { Graph } from '../../ir/graph.js';
import { ArchBuilder, type ArchOptions } from './builder.js';

export function lenet300(opts: ArchOptions = {}): Graph {
  const b = new ArchBuilder(opts.seed);
  let x = b.flatten('flatten', 'input', 784);
  x = b.relu('relu1', b.linear('fc1', x, 784, 300));
  x = b.relu('relu2', b.linear('fc2', x, 300, 100));
  b.linear('fc3', x, 100, 10, 'logits');
  return b.graph('lenet300', [1, 28, 28], 'logits', 10);
}
