// Han et al.'s Deep Compression table on the shared LeNets: P, P+Q, P+Q+H,
// next to the PyTorch reference measured on the same models.
import { nnzToGraph } from '../../src/format/nnz.js';
import { compressGraph } from '../../src/compress/pipeline.js';
import { formatTable } from '../table.js';
import { accuracy, data, fixture, log, pct, recipe } from './common.js';

interface Case {
  model: string;
  file: string;
  recipe: string;
  /** PyTorch + onnxruntime reference on the same model (shared/models/README.md). */
  reference: { ratio: number; drop: number };
}

const CASES: Case[] = [
  { model: 'LeNet-300-100', file: 'lenet300_dense.onnx', recipe: 'lenet300.yaml', reference: { ratio: 37.6, drop: 0.19 } },
  { model: 'LeNet-5', file: 'lenet5_dense.onnx', recipe: 'lenet5.yaml', reference: { ratio: 35.9, drop: 0.12 } },
];

export async function deepCompression(args: string[]): Promise<void> {
  const only = args[0];
  const rows: string[][] = [];
  for (const c of CASES.filter((c) => !only || c.file.startsWith(only))) {
    const graph = fixture(c.file);
    const d = data('mnist');
    const t0 = Date.now();
    let last = 0;
    const rec = recipe(c.recipe);
    const r = compressGraph(graph, {
      recipe: rec,
      data: d,
      seed: 1,
      onProgress: (stage, p) => {
        if (Date.now() - last > 10000 || p.phase === 'eval') {
          last = Date.now();
          log(`${c.model} ${stage} epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)}${p.testAccuracy ? ` test ${pct(p.testAccuracy)}` : ''}`);
        }
      },
    });
    const minutes = (Date.now() - t0) / 60000;
    const original = r.originalBytes;
    const base = await accuracy(graph, 'mnist');
    const stages = [['P', r.stages[0].file], ['P+Q', r.stages[1].file], ['P+Q+H', r.file.bytes]] as const;
    rows.push([c.model, 'original', pct(base), original.toLocaleString('en-US'), '1.0×', '', '']);
    for (const [name, bytes] of stages) {
      const decoded = nnzToGraph(bytes, `${c.model} ${name}`).graph;
      const acc = await accuracy(decoded, 'mnist');
      const drop = 100 * (base - acc);
      const ratio = original / bytes.length;
      const ref = name === 'P+Q+H' ? `${c.reference.ratio}× / −${c.reference.drop} pp` : '';
      rows.push([c.model, name, pct(acc), bytes.length.toLocaleString('en-US'), `${ratio.toFixed(1)}×`, `${drop >= 0 ? '−' : '+'}${Math.abs(drop).toFixed(2)} pp`, ref]);
    }
    log(`${c.model}: ${minutes.toFixed(1)} min`);
  }
  console.log('\nDeep Compression (nnzip fine-tuning; accuracy of the decoded file, MNIST test set, 10,000 images)\n');
  console.log(formatTable(['model', 'stage', 'accuracy', 'bytes', 'ratio', 'Δ vs original', 'PyTorch ref (ratio / drop)'], rows));
}
