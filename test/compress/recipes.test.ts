// The recipes shipped in recipes/ parse, and name only layers their model has.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { compressibleLayers } from '../../src/compress/layers.js';
import { checkRecipeLayers, parseRecipe } from '../../src/compress/recipe.js';
import { REPO } from '../onnx/helpers.js';
import { model } from './foreign.js';

const MODEL: Record<string, string> = { 'lenet300.yaml': 'lenet300_dense', 'lenet5.yaml': 'lenet5_dense', 'vggs_filters.yaml': 'vggs_fmnist_dense', 'vggs_pattern.yaml': 'vggs_fmnist_dense' };

test('every recipe in recipes/ parses and names layers of its model', () => {
  const files = readdirSync(join(REPO, 'recipes')).filter((f) => f.endsWith('.yaml'));
  assert.deepEqual(files.sort(), Object.keys(MODEL).sort(), 'a new recipe needs its model here');
  for (const f of files) {
    const r = parseRecipe(parseYaml(readFileSync(join(REPO, 'recipes', f), 'utf8')), f);
    checkRecipeLayers(r, compressibleLayers(model(MODEL[f])), f);
  }
  const vggs = parseRecipe(parseYaml(readFileSync(join(REPO, 'recipes/vggs_filters.yaml'), 'utf8')), 'vggs_filters.yaml');
  assert.ok(vggs.filters && !vggs.prune && !vggs.share, 'filters only');
});

test('the train section: flip parses (finetune passes it to the augmentation), a wrong value or an unknown setting is one error naming it', () => {
  assert.equal(parseRecipe({ train: { flip: true } }, 'r.yaml').train.flip, true);
  assert.throws(() => parseRecipe({ train: { flip: 'yes' } }, 'r.yaml'), /r\.yaml: train\.flip "yes" must be true or false/);
  assert.throws(() => parseRecipe({ train: { fllip: true } }, 'r.yaml'), /r\.yaml: train\.fllip is not a training setting; use lr, batch, momentum, weightDecay, shift, flip/);
});
