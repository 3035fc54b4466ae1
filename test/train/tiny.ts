// Test helpers: a tiny conv net on 1×6×6 inputs with 4 classes, and seeded data.
import type { Graph } from '../../src/ir/graph.js';
import { ArchBuilder } from '../../src/train/arch/builder.js';
import type { TrainData } from '../../src/train/loop.js';
import { Rng } from '../../src/ir/random.js';

export function tinyGraph(seed = 1, batchNorm = false): Graph {
  const b = new ArchBuilder(seed);
  let x = b.conv('conv1', 'input', 1, 3, 3, { pad: 1, bias: !batchNorm });
  if (batchNorm) x = b.batchNorm('bn1', x, 3);
  x = b.maxPool('pool1', b.relu('relu1', x), 2);
  x = b.flatten('flatten', x, 27);
  b.linear('fc1', x, 27, 4, 'logits');
  return b.graph('tiny', [1, 6, 6], 'logits', 4);
}

/** 1×6×6 → conv1 (1→4) → conv2 (4→8) → pool → conv3 (8→8) → fc (72→4): three 3×3 convs with biases. */
export function patternNet(): Graph {
  const b = new ArchBuilder(3);
  let x = b.relu('r1', b.conv('conv1', 'input', 1, 4, 3, { pad: 1, bias: true }));
  x = b.maxPool('p1', b.relu('r2', b.conv('conv2', x, 4, 8, 3, { pad: 1, bias: true })), 2);
  x = b.flatten('f', b.relu('r3', b.conv('conv3', x, 8, 8, 3, { pad: 1, bias: true })), 72);
  b.linear('fc', x, 72, 4, 'logits');
  return b.graph('tiny-patterns', [1, 6, 6], 'logits', 4);
}

/** Learnable data: the label is which quadrant holds the brightest blob. */
export function tinyData(count: number, seed: number): TrainData {
  const rng = new Rng(seed);
  const images = new Float32Array(count * 36);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const q = rng.int(4);
    labels[n] = q;
    for (let i = 0; i < 36; i++) images[n * 36 + i] = 0.2 * rng.next();
    const [r0, c0] = [q < 2 ? 0 : 3, q % 2 === 0 ? 0 : 3];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) images[n * 36 + (r0 + r) * 6 + c0 + c] += 0.5 + 0.5 * rng.next();
  }
  return { name: 'tiny', images, labels, count, shape: [1, 6, 6] };
}
