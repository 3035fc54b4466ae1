// nnzip compress --recipe pattern and inspect on VGG-S (no fine-tuning: the
// projection alone), and the bad pattern options: one error line, nothing written.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MODELS, assertOneLineError, nnzip, tempDir } from './helpers.js';

const vggs = join(MODELS, 'vggs_fmnist_dense.onnx'), lenet300 = join(MODELS, 'lenet300_dense.onnx');

test('compress --recipe pattern --no-finetune: 5 pattern layers stored as FKW; inspect shows their patterns, kernels kept and kernel', () => {
  const dir = tempDir(), out = join(dir, 'v.nnz');
  const r = nnzip(['compress', vggs, '-o', out, '--recipe', 'pattern', '--no-finetune', '--patterns', '6', '--connectivity', '3']);
  assert.equal(r.code, 0, r.stderr);
  const size = readFileSync(out).length;
  assert.ok(size < 2_365_870 * 0.6, `file ${size} bytes`);
  const ins = nnzip(['inspect', out]);
  assert.equal(ins.code, 0, ins.stderr);
  assert.match(ins.stdout, /pattern layers/);
  for (const layer of ['features.3', 'features.7', 'features.10', 'features.14', 'features.17']) {
    assert.match(ins.stdout, new RegExp(`${layer.replace('.', '\\.')} \\(node_Conv_\\d+\\)\\s+6\\s+\\d+/\\d+ \\(33\\.\\d%\\)\\s+[\\d,]+\\s+(max pool \\+ )?pattern conv \\(FKW\\) \\+ relu`));
  }
  assert.doesNotMatch(ins.stdout, /features\.0 /, 'the first conv (one input channel) stays dense');
  const json = JSON.parse(nnzip(['inspect', out, '--json']).stdout);
  assert.equal(json.patterns.length, 5);
  assert.equal(json.patterns[0].patterns.length, 6);
});

test('bad pattern options: one clear error line and no file', () => {
  const dir = tempDir();
  const cases: [string[], RegExp][] = [
    [['--recipe', 'pattern', '--patterns', '57'], /pattern.patterns 57 must be an integer in \[1, 56\]/],
    [['--recipe', 'pattern', '--patterns', '0'], /pattern.patterns 0/],
    [['--patterns', '8'], /--patterns needs the pattern stage: add --recipe pattern/],
    [['--recipe', 'pattern', '--patterns', 'classifier.1=4'], /layer classifier\.1 \(Gemm \[256,1152\]\) cannot take patterns: they apply to 3×3 convs with group 1; layers that qualify: features\.0, features\.3/],
    [['--recipe', 'pattern', '--connectivity', '40'], /layer features\.3: connectivity 40 keeps 26 kernels, fewer than its 32 filters, so it would remove every kernel of a filter; use a rate of at most 32/],
    [['--recipe', 'pattern', '--accuracy-bound', '90'], /--accuracy-bound needs a target/],
    [['--recipe', 'pattern', '--distill', '1.5'], /--distill 1.5: must be a number in \[0, 1\]/],
    [['--recipe', 'pattern', '--distill', '0.5', '--distill-temperature', '0'], /train.distill: temperature 0 must be a number > 0/],
    [['--recipe', 'pattern', '--distill-temperature', '2'], /--distill-temperature goes with --distill ALPHA/],
    [['--recipe', 'pattern', '--batchnorm', 'on'], /--batchnorm on: choose one of refold, off/],
    [['--recipe', 'pattern', '--batchnorm', 'refold'], /--batchnorm sets fine-tuning, which this run does not do/],
    [['--recipe', 'pattern', '--swa', '0'], /--swa 0: must be an integer in \[1, 1000\]/],
    [['--recipe', 'pattern', '--swa', '3', '--swa-lr', '0'], /train.swa.lr 0 must be a number in \(0, 10\]/],
    [['--recipe', 'pattern', '--swa-lr', '0.01'], /--swa-lr goes with --swa N/],
    [['--recipe', 'pattern', '--swa', '3'], /--swa sets fine-tuning, which this run does not do/],
  ];
  for (const [flags, re, model] of [...cases, [['--recipe', 'pattern'], /the pattern stage has no layer to prune: .*this model has no 3×3 conv; use another recipe/, lenet300] as const]) {
    const out = join(dir, 'x.nnz');
    const r = nnzip(['compress', model ?? vggs, '-o', out, '--no-finetune', ...flags]);
    const why = assertOneLineError(r, re);
    assert.equal(why, undefined, `${flags.join(' ')}: ${why}`);
    assert.equal(existsSync(out), false, `${flags.join(' ')}: nothing written`);
  }
});
