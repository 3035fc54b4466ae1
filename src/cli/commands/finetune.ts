import { oneModel, parse } from '../args.js';
import type { Command } from '../command.js';
import { loadModel } from '../load_model.js';
import { TRAIN_FLAGS, TRAIN_HELP, runTraining, trainingOutput } from '../train_flags.js';

export const finetune: Command = {
  name: 'finetune',
  summary: 'fine-tune an imported model (.onnx or .nnz) and write ONNX',
  usage: `usage: nnzip finetune MODEL --dataset mnist|fashion-mnist -o OUT.onnx [options]

Trains the model's weights where they are (same layout, same names): pruned
zeros are not kept fixed here — use compress for that.

${TRAIN_HELP}`,
  async run(argv) {
    const p = parse('finetune', argv, TRAIN_FLAGS);
    const path = oneModel('finetune', p);
    const out = trainingOutput('finetune', p, [path]);
    const model = loadModel(path);
    return runTraining(model.graph, p, { epochs: 1, lr: 0.001 }, out);
  },
};
