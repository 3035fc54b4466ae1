// The recipe's `finetune` stage (compress/stages.ts): the input model fine-tuned dense
// first; the later stages start from it and distil from it; bad settings are one error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compressGraph } from '../../src/compress/pipeline.js';
import { PATTERN, parseRecipe } from '../../src/compress/recipe.js';
import { patternNet, tinyData } from '../train/tiny.js';

test('finetune runs first, dense and without distillation; the pattern stage then distils from what it left', () => {
  const data = { train: tinyData(256, 1), test: tinyData(64, 2) };
  const run = (finetune: boolean) => {
    const reports: string[] = [];
    const out = compressGraph(patternNet(), {
      recipe: parseRecipe({
        ...(finetune ? { finetune: { epochs: 2 } } : {}),
        pattern: { patterns: 4, connectivity: 2, admm: null, epochs: 1 },
        train: { distill: { alpha: 0.5, temperature: 2 } },
      }, 'test', PATTERN),
      data, seed: 1, maxStepsPerEpoch: 4,
      onProgress: (stage, p) => { if (p.phase !== 'train') reports.push(`${stage} ${p.phase} ${p.epoch}/${p.epochs}`); },
    });
    return { out, reports };
  };
  const { out, reports } = run(true);
  assert.deepEqual(reports, ['finetune eval 1/2', 'finetune eval 2/2', 'pattern retrain eval 1/1']);
  assert.deepEqual(out.stages.map((s) => s.name), ['finetune', 'pattern']);
  const ft = out.stages[0].graph, input = patternNet();
  for (const [name, t] of ft.initializers) {
    assert.ok(!ft.formats.has(name) || ft.formats.get(name)!.kind !== 'pattern', `${name} is still dense after the finetune stage`);
    if (name.endsWith('weight')) assert.notDeepEqual([...(t.data as Float32Array)], [...(input.initializers.get(name)!.data as Float32Array)], `${name} was trained`);
  }
  const weights = (g: typeof ft) => [...g.initializers.values()].map((t) => [...(t.data as Float32Array)]);
  assert.notDeepEqual(weights(out.compressed), weights(run(false).out.compressed));
  // the same as compressing the fine-tuned graph itself, whose teacher is that graph: the stage swapped the teacher
  const again = compressGraph(ft, {
    recipe: parseRecipe({ pattern: { patterns: 4, connectivity: 2, admm: null, epochs: 1 }, train: { distill: { alpha: 0.5, temperature: 2 } } }, 'test', PATTERN),
    data, seed: 1, maxStepsPerEpoch: 4,
  });
  assert.deepEqual(weights(out.compressed), weights(again.compressed));
});

test('bad finetune settings are one error naming the setting; null drops the stage', () => {
  assert.deepEqual(parseRecipe({ finetune: { epochs: 3 } }, 'r.yaml').finetune, { epochs: 3 });
  assert.equal(parseRecipe({ finetune: null }, 'r.yaml', parseRecipe({ finetune: { epochs: 3 } }, 'base')).finetune, undefined);
  assert.throws(() => parseRecipe({ finetune: { epochs: 0 } }, 'r.yaml'), /r\.yaml: finetune\.epochs 0 must be an integer in \[1, 1000\]/);
  assert.throws(() => parseRecipe({ finetune: { epochs: 1.5 } }, 'r.yaml'), /r\.yaml: finetune\.epochs 1\.5 must be an integer/);
});
