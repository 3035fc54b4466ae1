// Caffe's LeNet-5 (as in Han et al. 2015): conv 20@5×5, maxpool 2, conv 50@5×5,
// maxpool 2, fc 500, ReLU, fc 10. No ReLU after the convolutions — exactly the
// layout of fixtures/models/lenet5_dense.onnx.
import type { Graph } from '../../ir/graph.js';
import { ArchBuilder, type ArchOptions } from './builder.js';

export function lenet5(opts: ArchOptions = {}): Graph {
  const b = new ArchBuilder(opts.seed);
  let x = b.maxPool('pool1', b.conv('conv1', 'input', 1, 20, 5), 2);
  x = b.maxPool('pool2', b.conv('conv2', x, 20, 50, 5), 2);
  x = b.flatten('flatten', x, 800);
  x = b.relu('relu1', b.linear('fc1', x, 800, 500));
  b.linear('fc2', x, 500, 10, 'logits');
  return b.graph('lenet5', [1, 28, 28], 'logits', 10);
}
