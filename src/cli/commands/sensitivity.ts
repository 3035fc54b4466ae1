import { sensitivity } from '../../compress/prune/sensitivity.js';
import { DATASETS, loadDataset } from '../../data/datasets.js';
import { fail } from '../../ir/errors.js';
import { sessionAccuracy } from '../../eval/runners.js';
import { loadCharting } from '../../report/charts.js';
import { sensitivityChart, sensitivityToCsv } from '../../report/sensitivity.js';
import { choice, num, oneModel, parse, str } from '../args.js';
import type { Command } from '../command.js';
import { loadModel } from '../load_model.js';
import { Progress } from '../progress.js';
import { Outputs } from '../outputs.js';

export const sensitivityCommand: Command = {
  name: 'sensitivity',
  summary: 'accuracy vs density, layer by layer (which layers tolerate pruning)',
  usage: `usage: nnzip sensitivity MODEL --dataset mnist|fashion-mnist [-o OUT] [options]

Prunes one layer at a time to each density (no fine-tuning) and measures test
accuracy. Prints CSV; with -o writes OUT.csv, OUT.json and OUT.svg (a chart).

  --dataset NAME      test set
  --densities LIST    comma-separated fractions kept (default 1,0.5,0.25,0.1,0.05,0.02)
  --mode M            unstructured (weights) or filters (whole filters/neurons)
  --limit N           test images per evaluation (default 2000)
  -o, --output BASE   write BASE.csv, BASE.json, BASE.svg`,
  async run(argv) {
    const p = parse('sensitivity', argv, {
      dataset: { type: 'string' },
      densities: { type: 'string' },
      mode: { type: 'string' },
      limit: { type: 'string' },
      output: { type: 'string', short: 'o' },
    });
    const path = oneModel('sensitivity', p);
    const dataset = choice(p, 'dataset', DATASETS) ?? fail('sensitivity: --dataset is required');
    const mode = choice(p, 'mode', ['unstructured', 'filters'] as const, 'unstructured')!;
    const densities = (str(p, 'densities') ?? '1,0.5,0.25,0.1,0.05,0.02').split(',').map((s) => {
      const d = Number(s);
      if (!(d > 0 && d <= 1)) fail(`--densities: ${s} must be a fraction in (0, 1]`);
      return d;
    });
    const limit = num(p, 'limit', 2000, 1, 1e9, true);
    const base = str(p, 'output');
    const outputs = base ? new Outputs('sensitivity', [path], ['csv', 'json', 'svg'].map((ext) => ({ flag: '-o', path: `${base}.${ext}` }))) : undefined;
    if (base) await loadCharting(); // the chart needs vega: say so before the work, not after it
    const model = loadModel(path);
    const ds = loadDataset(dataset, 'test');
    let bar: Progress | undefined;
    const result = await sensitivity(model.graph, {
      densities,
      mode,
      evaluate: async (g) => (await sessionAccuracy(g, ds, { limit })).accuracy,
      onProgress: (done, total, layer, density) => {
        bar ??= new Progress('sensitivity', total);
        bar.update(done, `${layer} @ ${density}`);
      },
    });
    bar?.done();
    const csv = sensitivityToCsv(result);
    if (base && outputs) {
      outputs.stage(`${base}.csv`, csv);
      outputs.stage(`${base}.json`, JSON.stringify(result, null, 2) + '\n');
      outputs.stage(`${base}.svg`, await sensitivityChart(result));
      outputs.commit();
      console.log(`wrote ${base}.csv, ${base}.json, ${base}.svg`);
    } else {
      process.stdout.write(csv);
    }
    return 0;
  },
};
