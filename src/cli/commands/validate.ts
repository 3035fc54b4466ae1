import { DATASETS, loadDataset } from '../../data/datasets.js';
import { ortSession } from '../../eval/ort.js';
import { referenceRunner, sessionRunner } from '../../eval/runners.js';
import { compareWithOrt } from '../../eval/validate.js';
import { choice, num, oneModel, parse } from '../args.js';
import type { Command } from '../command.js';
import { loadModel } from '../load_model.js';
import { SESSION_FLAGS, SESSION_HELP, sessionFlags } from '../session_flags.js';

export const validate: Command = {
  name: 'validate',
  summary: 'compare nnzip with onnxruntime-node on the same inputs',
  usage: `usage: nnzip validate MODEL [--dataset mnist|fashion-mnist] [--limit N] [--tolerance T] [--json]

Runs nnzip and onnxruntime-node on the same seeded random inputs (and on the
test set if --dataset is given). Prints the max absolute error, the max error
relative to the outputs' scale, and top-1 agreement. Exits 0 only when the
relative error is within the tolerance.

  --dataset NAME   also compare on this test set
  --limit N        test images to compare (default 1000)
  --batch N        batch size of the random inputs (default 1)
  --seed S         seed of the random inputs (default 1)
  --tolerance T    max relative error (default 1e-4)
  --runtime R      session (default, the fast WASM runtime) or reference (plain TS)
${SESSION_HELP}
  --json           machine-readable output`,
  async run(argv) {
    const p = parse('validate', argv, {
      dataset: { type: 'string' },
      limit: { type: 'string' },
      batch: { type: 'string' },
      seed: { type: 'string' },
      tolerance: { type: 'string' },
      runtime: { type: 'string' },
      ...SESSION_FLAGS,
      json: { type: 'boolean' },
    });
    const path = oneModel('validate', p);
    const dataset = choice(p, 'dataset', DATASETS);
    const tolerance = num(p, 'tolerance', 1e-4, 0, 1);
    const opts = {
      seed: num(p, 'seed', 1, 0, 2 ** 32 - 1, true),
      batch: num(p, 'batch', 1, 1, 4096, true),
      limit: num(p, 'limit', 1000, 1, 1e9, true),
      dataset: dataset ? loadDataset(dataset, 'test') : undefined,
    };
    const model = loadModel(path);
    const ort = await ortSession(model.oracle());
    const runtime = choice(p, 'runtime', ['session', 'reference'] as const, 'session');
    const runner = runtime === 'reference' ? undefined : sessionRunner(model.graph, sessionFlags(p));
    let c;
    try {
      c = await compareWithOrt(model.graph, runner ?? referenceRunner(model.graph), ort, opts);
    } finally {
      await runner?.dispose();
    }
    const pass = c.maxRel <= tolerance;
    if (p.values.json) {
      console.log(JSON.stringify({ model: path, ...c, tolerance, pass }));
    } else {
      const agree = c.rows ? `, top-1 agreement ${c.top1Agree}/${c.rows}` : '';
      console.log(
        `${path}: max abs error ${c.maxAbs.toExponential(2)}, max rel error ${c.maxRel.toExponential(2)}${agree}: ` +
          (pass ? 'PASS' : `FAIL (tolerance ${tolerance})`),
      );
    }
    return pass ? 0 : 1;
  },
};
