import { BINARIZE_DEFAULTS, BINARY_METHODS, checkMethod } from '../../compress/binary/settings.js';
import { checkRecipe, DEEP_COMPRESSION, type Recipe } from '../../compress/recipe.js';
import { DATASETS } from '../../data/datasets.js';
import { fail } from '../../ir/errors.js';
import { choice, num, oneModel, parse, str, type Parsed } from '../args.js';
import type { Command } from '../command.js';
import { writeCompressed } from './compress.js';

export const binarize: Command = {
  name: 'binarize',
  summary: 'binary or ternary weights (BWN, XNOR-Net, TWN, TTQ), fine-tuned, into a .nnz file',
  usage: `usage: nnzip binarize MODEL --method bwn|xnor|twn|ttq --dataset D -o OUT.nnz [options]

Weights become α·sign(W) per output channel (bwn), the same with binary
activations (xnor: BatchNorm → Sign before each binary layer, XNOR-Net), or
ternary {−α, 0, +α} (twn, Δ = delta·mean|W|) or {−Wn, 0, +Wp} with trained
scales (ttq, Δ = threshold·max|W|); then fine-tuned with a clipped
straight-through gradient. Stored as 1 bit (binary) or 1.6 bits (ternary) per
weight plus the scales. The first and last layers stay float unless --first /
--last. Same as compress with a recipe whose only stage is binarize.

  --method M              ${BINARY_METHODS.join(', ')} (required)
  -o, --output FILE       the .nnz file to write (required)
  --dataset NAME          fine-tuning and test data: ${DATASETS.join(', ')}
  --no-finetune           binarize only (no dataset needed)
  --layers SPEC           per-layer methods over --method: conv2=twn,fc1=none
  --first, --last         binarize the first / last layer too
  --epochs N              fine-tuning epochs (default ${BINARIZE_DEFAULTS.epochs})
  --delta X               TWN's threshold factor (default ${BINARIZE_DEFAULTS.delta})
  --threshold T           TTQ's threshold (default ${BINARIZE_DEFAULTS.threshold})
  --scaling S             xnor activation scaling: channel (default) or position (XNOR-Net's K)
  --lr X, --batch N       fine-tuning learning rate (SGD, momentum 0.9, cosine decay) and batch
  --seed S, --max-steps N, --threads N, --report FILE   as for compress`,
  async run(argv) {
    const p = parse('binarize', argv, {
      method: { type: 'string' },
      output: { type: 'string', short: 'o' },
      dataset: { type: 'string' },
      'no-finetune': { type: 'boolean' },
      layers: { type: 'string' },
      first: { type: 'boolean' },
      last: { type: 'boolean' },
      epochs: { type: 'string' },
      delta: { type: 'string' },
      threshold: { type: 'string' },
      scaling: { type: 'string' },
      lr: { type: 'string' },
      batch: { type: 'string' },
      report: { type: 'string' },
      seed: { type: 'string' },
      'max-steps': { type: 'string' },
      threads: { type: 'string' },
    });
    const path = oneModel('binarize', p);
    const out = str(p, 'output') ?? fail('binarize: -o OUT.nnz is required');
    return writeCompressed('binarize', path, out, p, { inputs: [path], recipe: () => binarizeRecipe(p), changes: `--method ${str(p, 'method') ?? '?'}` });
  },
};

/** The recipe of a binarize run: no pruning or sharing, the binarize stage from the flags. */
function binarizeRecipe(p: Parsed): Recipe {
  const method = choice(p, 'method', BINARY_METHODS) ?? fail(`binarize: --method is required (${BINARY_METHODS.join(', ')})`);
  const r: Recipe = structuredClone(DEEP_COMPRESSION);
  r.name = `binarize-${method}`;
  delete r.prune;
  delete r.share;
  const d = BINARIZE_DEFAULTS;
  r.binarize = {
    ...d,
    method: { conv: method, fc: method },
    first: Boolean(p.values.first),
    last: Boolean(p.values.last),
    epochs: num(p, 'epochs', d.epochs, 0, 1000, true),
    delta: num(p, 'delta', d.delta),
    threshold: num(p, 'threshold', d.threshold),
    scaling: choice(p, 'scaling', ['channel', 'position'] as const, d.scaling)!,
  };
  for (const part of (str(p, 'layers') ?? '').split(',').filter(Boolean)) {
    const [name, m] = part.split('=', 2);
    if (!name || m === undefined) fail(`--layers ${str(p, 'layers')}: "${part}" is not name=method`);
    r.layers[name] = { ...r.layers[name], binary: checkMethod(`--layers ${name}=`, m, true) };
  }
  if (str(p, 'lr') !== undefined) r.train.lr = num(p, 'lr', r.train.lr, 0, 10);
  r.train.batch = num(p, 'batch', r.train.batch, 1, 65536, true);
  checkRecipe(r, 'options');
  return r;
}
