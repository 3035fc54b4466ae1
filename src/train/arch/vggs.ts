// VGG-S, a small VGG for 28×28 inputs (Fashion-MNIST): 3×3 convs 32, 32, pool,
// 64, 64, pool, 128, 128, pool, fc 256, fc 10; each conv followed by BatchNorm
// (when training) and ReLU. Module indices follow PyTorch's nn.Sequential, so the
// parameter names match fixtures/models/vggs_fmnist_dense.onnx (features.0,
// features.3, ..., classifier.1, classifier.3); there the exporter had folded the
// BatchNorms into the convs.
import type { Graph } from '../../ir/graph.js';
import { ArchBuilder, type ArchOptions } from './builder.js';

export interface VggsOptions extends ArchOptions {
  /** BatchNorm after each conv (default true); false gives biased convs, as after folding. */
  batchNorm?: boolean;
}

const STAGES = [[32, 32], [64, 64], [128, 128]];

export function vggs(opts: VggsOptions = {}): Graph {
  const bn = opts.batchNorm ?? true;
  const b = new ArchBuilder(opts.seed);
  let x = 'input';
  let cin = 1;
  let idx = 0; // index in PyTorch's features Sequential
  for (const stage of STAGES) {
    for (const cout of stage) {
      x = b.conv(`features.${idx++}`, x, cin, cout, 3, { pad: 1, bias: !bn });
      if (bn) x = b.batchNorm(`features.${idx++}`, x, cout);
      x = b.relu(`features.${idx++}`, x);
      cin = cout;
    }
    x = b.maxPool(`features.${idx++}`, x, 2);
  }
  x = b.flatten('classifier.0', x, 128 * 3 * 3);
  x = b.relu('classifier.2', b.linear('classifier.1', x, 128 * 3 * 3, 256));
  b.linear('classifier.3', x, 256, 10, 'logits');
  return b.graph('vggs', [1, 28, 28], 'logits', 10);
}
