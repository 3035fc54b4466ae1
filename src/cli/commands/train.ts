import { ARCHITECTURES, buildArchitecture } from '../../train/arch/index.js';
import { fail } from '../../ir/errors.js';
import { num, parse, str } from '../args.js';
import type { Command } from '../command.js';
import { TRAIN_FLAGS, TRAIN_HELP, runTraining, trainingOutput } from '../train_flags.js';

// Settings that reach the accuracy targets (see the README's table).
const DEFAULTS: Record<string, { epochs: number; lr: number; shift?: number }> = {
  lenet300: { epochs: 20, lr: 0.05 },
  lenet5: { epochs: 15, lr: 0.05 },
  vggs: { epochs: 20, lr: 0.05, shift: 2 },
};

export const trainCommand: Command = {
  name: 'train',
  summary: 'train a built-in architecture from scratch (nnzip\'s own autograd, WASM kernels)',
  usage: `usage: nnzip train --arch ${Object.keys(ARCHITECTURES).join('|')} --dataset mnist|fashion-mnist -o OUT.onnx [options]

  --arch NAME           lenet300 (784-300-100-10), lenet5 (Caffe LeNet-5), vggs (small VGG with BatchNorm)
${TRAIN_HELP}`,
  async run(argv) {
    const p = parse('train', argv, { ...TRAIN_FLAGS, arch: { type: 'string' } });
    if (p.positionals.length) fail(`train: unexpected argument "${p.positionals[0]}"; train builds --arch NAME (use finetune for a model file)`);
    const arch = str(p, 'arch') ?? fail(`train: --arch is required (${Object.keys(ARCHITECTURES).join(', ')})`);
    const out = trainingOutput('train', p, []);
    const graph = buildArchitecture(arch, { seed: num(p, 'seed', 1, 0, 2 ** 32 - 1, true) });
    return runTraining(graph, p, DEFAULTS[arch], out);
  },
};
