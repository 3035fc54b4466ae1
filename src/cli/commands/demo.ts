import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { bundledModel, bundledRecipe } from '../models.js';
import { compress } from './compress.js';
import { inspect } from './inspect.js';

export const demo: Command = {
  name: 'demo',
  summary: 'the main job on the bundled LeNet-5: Deep Compression with short fine-tuning',
  usage: `usage: nnzip demo

Runs Deep Compression on the bundled LeNet-5 (ONNX exported from PyTorch):
iterative pruning and weight sharing with short fine-tuning on MNIST, then
relative-index + Huffman coding into a .nnz file (in a temp folder). Prints
the per-layer table, the P / P+Q / P+Q+H sizes and the accuracy of the file.
The full-length run is \`npm run repro -- deep-compression\`.`,
  async run(argv) {
    parse('demo', argv, {});
    const model = bundledModel('lenet5_dense.onnx');
    const out = join(mkdtempSync(join(tmpdir(), 'nnzip-demo-')), 'lenet5.nnz');
    console.log(`nnzip demo: Deep Compression of ${model}\n`);
    await inspect.run([model]);
    console.log('');
    // a one-minute version of recipes/lenet5.yaml: fewer steps, so it prunes fc1 and conv2 a little less
    const short = ['--stages', '3', '--epochs', '1', '--share-epochs', '1', '--max-steps', '250', '--density', 'fc1=0.06,conv2=0.15'];
    const code = await compress.run([model, '-o', out, '--dataset', 'mnist', '--recipe', bundledRecipe('lenet5.yaml'), ...short]);
    if (code === 0) console.log(`\nTry: nnzip inspect ${out}    nnzip validate ${out}    nnzip decompress ${out} -o lenet5_small.onnx`);
    return code;
  },
};
