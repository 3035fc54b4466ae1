// train.swa (compress/finetune.ts): weight averaging after a stage's final fine-tuning,
// not after ADMM's rounds; patterns stay exact through averaging and BN refold; bad
// settings are one clear error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compressGraph } from '../../src/compress/pipeline.js';
import { PATTERN, parseRecipe } from '../../src/compress/recipe.js';
import { checkPatternFormat } from '../../src/ir/pattern.js';
import { COMMON, parse } from '../../src/cli/args.js';
import { RECIPE_FLAGS, recipeFromFlags } from '../../src/cli/recipe_flags.js';
import { patternNet, tinyData } from '../train/tiny.js';

test('pattern stage with train.swa and refold: the retraining is averaged (ADMM rounds are not), patterns stay exact', () => {
  const data = { train: tinyData(256, 1), test: tinyData(64, 2) };
  const run = (swa: boolean) => {
    const reports: string[] = [];
    const out = compressGraph(patternNet(), {
      recipe: parseRecipe({
        pattern: { patterns: 4, connectivity: 2, admm: { rounds: 1, epochsPerRound: 1, rho: 0.01, rhoGrowth: 2 }, epochs: 1 },
        train: { batchnorm: 'refold', ...(swa ? { swa: { epochs: 3, lr: 0.005 } } : {}) },
      }, 'test', PATTERN),
      data, seed: 1, maxStepsPerEpoch: 4,
      onProgress: (stage, p) => { if (p.phase !== 'train') reports.push(`${stage} ${p.phase} ${p.epoch}/${p.epochs}${p.averaged ? ` mean of ${p.averaged}` : ''}`); },
    });
    return { g: out.compressed, reports };
  };
  const { g, reports } = run(true);
  assert.deepEqual(reports, [
    'admm 1/1 eval 1/1', 'pattern retrain eval 1/1',
    'pattern retrain swa eval 1/3', 'pattern retrain swa eval 2/3', 'pattern retrain swa eval 3/3', 'pattern retrain swa average 3/3 mean of 3',
  ]);
  for (const name of ['conv2.weight', 'conv3.weight']) {
    const f = g.formats.get(name)!, t = g.initializers.get(name)!;
    assert.equal(f.kind, 'pattern');
    if (f.kind === 'pattern') checkPatternFormat(t.data as Float32Array, t.shape, f, name);
  }
  const weights = (x: typeof g) => [...x.initializers.values()].map((t) => [...(t.data as Float32Array)]);
  assert.notDeepEqual(weights(g), weights(run(false).g));
});

test('bad train.swa settings are one error naming the setting', () => {
  assert.deepEqual(parseRecipe({ train: { swa: { epochs: 5, lr: 0.002 } } }, 'r.yaml').train.swa, { epochs: 5, lr: 0.002 });
  assert.throws(() => parseRecipe({ train: { swa: { epochs: 0, lr: 0.01 } } }, 'r.yaml'), /r\.yaml: train\.swa\.epochs 0 must be an integer in \[1, 1000\]/);
  assert.throws(() => parseRecipe({ train: { swa: { epochs: 2, lr: 0 } } }, 'r.yaml'), /r\.yaml: train\.swa\.lr 0 must be a number in \(0, 10\]/);
  assert.throws(() => parseRecipe({ train: { swa: { epochs: 2, lr: 0.1, start: 3 } } }, 'r.yaml'), /train\.swa\.start is not a weight-averaging setting; use epochs, lr/);
  assert.throws(() => parseRecipe({ train: { swa: 4 } }, 'r.yaml'), /train\.swa must be a mapping \{ epochs, lr \}/);
});

test('--swa N [--swa-lr X] set train.swa (the rate defaults to half the fine-tuning rate)', () => {
  const flags = (argv: string[]) => recipeFromFlags(parse('compress', argv, { ...COMMON, ...RECIPE_FLAGS })).train.swa;
  assert.deepEqual(flags(['--recipe', 'pattern', '--lr', '0.02', '--swa', '4']), { epochs: 4, lr: 0.01 });
  assert.deepEqual(flags(['--recipe', 'pattern', '--swa', '4', '--swa-lr', '0.003']), { epochs: 4, lr: 0.003 });
  assert.equal(flags(['--recipe', 'pattern']), undefined);
});
