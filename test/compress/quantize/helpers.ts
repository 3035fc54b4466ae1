// Quantization test helpers: a small conv net and a synthetic calibration set.
import type { Dataset } from '../../../src/data/datasets.js';
import { Rng } from '../../../src/ir/random.js';
import type { CalibrationSet } from '../../../src/compress/quantize/calibrate.js';
import { GraphBuilder } from '../../onnx/graph_builder.js';

/** conv(4@3×3) → relu → maxpool 2 → conv(6@3×3, pad 1) → relu → flatten → gemm(5) on 1×8×8 images. */
export function smallNet(seed = 1) {
  const b = new GraphBuilder(seed);
  const x = b.input('input', ['N', 1, 8, 8]);
  const c1 = b.op1('Relu', [b.op1('Conv', [x, b.weight('conv1.weight', [4, 1, 3, 3]), b.weight('conv1.bias', [4], 0.1)])]);
  const p = b.op1('MaxPool', [c1], { kernel_shape: [2, 2], strides: [2, 2] });
  const c2 = b.op1('Relu', [b.op1('Conv', [p, b.weight('conv2.weight', [6, 4, 3, 3]), b.weight('conv2.bias', [6], 0.1)], { pads: [1, 1, 1, 1] })]);
  const f = b.op1('Flatten', [c2], { axis: 1 });
  const y = b.op1('Gemm', [f, b.weight('fc.weight', [5, 54], 0.3), b.weight('fc.bias', [5], 0.1)], { transB: 1 });
  return b.build([y], 17, 'N');
}

/** `count` seeded images of 1×8×8 in [0, 1). */
export function syntheticSet(count: number, seed = 3, fill?: (i: number) => number): CalibrationSet {
  const rng = new Rng(seed);
  const images = Float32Array.from({ length: count * 64 }, (_, i) => (fill ? fill(i) : rng.next()));
  const data: Dataset = { name: 'mnist', split: 'train', images, labels: new Uint8Array(count), count, shape: [1, 8, 8] };
  return { data, count, label: `${count} synthetic images` };
}
