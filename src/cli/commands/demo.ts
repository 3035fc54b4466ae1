import { loadDataset } from '../../data/datasets.js';
import { analyzeGraph } from '../../report/analyze.js';
import { evaluate } from '../../report/evaluate.js';
import { batchRunner, referenceRunner } from '../../report/runners.js';
import { formatBytes } from '../../report/table.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { loadModel } from '../load_model.js';
import { bundledModel } from '../models.js';
import { inspect } from './inspect.js';

export const demo: Command = {
  name: 'demo',
  summary: 'the main job on the bundled LeNet-5: inspect it and measure its accuracy',
  usage: `usage: nnzip demo

Runs nnzip on the bundled LeNet-5 (ONNX exported from PyTorch): prints its
per-layer table and its MNIST test accuracy.`,
  async run(argv) {
    parse('demo', argv, {});
    const path = bundledModel('lenet5_dense.onnx');
    await inspect.run([path]);
    const model = loadModel(path);
    const ds = loadDataset('mnist', 'test');
    const r = await evaluate(batchRunner(model.graph, referenceRunner(model.graph), ds.shape), ds);
    const t = analyzeGraph(model.graph).total;
    console.log(`\nLeNet-5: ${t.params.toLocaleString('en-US')} params (${formatBytes(t.bytes)}), MNIST test accuracy ${(100 * r.accuracy).toFixed(2)}%`);
    return 0;
  },
};
