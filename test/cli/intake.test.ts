// The CLI as a user who brings a model compressed elsewhere meets it: compress with no
// flags is lossless, decompress gives the same initializers and the same accuracy to
// the image, flags that change weights without data name each changed layer, and
// inspect shows what each layer already is.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportOnnx } from '../../src/onnx/export.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { model, pruned, shared } from '../compress/foreign.js';
import { MODELS, nnzip, tempDir } from './helpers.js';

test('a pruned + 5-bit shared LeNet-300-100 from elsewhere: lossless by default, same initializers and accuracy back, warnings per changed layer', () => {
  const dir = tempDir();
  const given = join(dir, 'given.onnx');
  writeFileSync(given, exportOnnx(shared(pruned(model('lenet300_dense'), { fc1: 0.08, fc2: 0.09, fc3: 0.26 }), 5)));
  const ins = JSON.parse(nnzip(['inspect', given, '--json']).stdout);
  const fc = ins.layers.filter((l: { weight?: unknown }) => l.weight);
  assert.deepEqual(fc.map((l: { weight: { format: string; bits: number } }) => `${l.weight.format} ${l.weight.bits}`), ['codebook 5', 'codebook 5', 'codebook 5']);
  assert.ok(fc.every((l: { weight: { distinct: number } }) => l.weight.distinct <= 32));

  const out = join(dir, 'given.nnz');
  const r = nnzip(['compress', given, '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /every weight stored bit for bit/);
  assert.doesNotMatch(r.stderr, /warning/);
  const back = join(dir, 'back.onnx');
  assert.equal(nnzip(['decompress', out, '-o', back]).code, 0);
  const [a, b] = [loadOnnxFile(given), loadOnnxFile(back)];
  for (const [name, t] of a.initializers) assert.deepEqual(Buffer.from(b.initializers.get(name)!.data.buffer), Buffer.from(t.data.buffer), name);
  const evals = [given, back].map((f) => JSON.parse(nnzip(['eval', f, '--dataset', 'mnist', '--limit', '500', '--json']).stdout));
  assert.equal(evals[1].correct, evals[0].correct);

  // pruning without data: fc1 (8%) and fc2 (9%) are already below 10%, only fc3 changes, and says so
  const w = nnzip(['compress', given, '-o', join(dir, 'p.nnz'), '--no-finetune', '--density', '0.1']);
  assert.equal(w.code, 0, w.stderr);
  assert.deepEqual(w.stderr.trim().split('\n'), ['nnzip: warning: fc3: density 26% → 10% without fine-tuning; accuracy not measured: pass --dataset']);
  assert.ok(readFileSync(join(dir, 'p.nnz')).length < readFileSync(out).length);
});

test('--filters removes filters: the written .nnz and its ONNX export are thinner and onnxruntime agrees', () => {
  const dir = tempDir();
  const out = join(dir, 'thin.nnz');
  const r = nnzip(['compress', join(MODELS, 'lenet5_dense.onnx'), '-o', out, '--no-finetune', '--filters', 'conv2=0.5,fc1=0.25']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /conv2: 50 → 25 filters without fine-tuning/);
  const onnx = join(dir, 'thin.onnx');
  assert.equal(nnzip(['decompress', out, '-o', onnx]).code, 0);
  const g = loadOnnxFile(onnx);
  assert.deepEqual(g.initializers.get('conv2.weight')!.shape, [25, 20, 5, 5]);
  assert.deepEqual(g.initializers.get('fc1.weight')!.shape, [125, 400]);
  const v = nnzip(['validate', onnx, '--json']);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(JSON.parse(v.stdout).pass, true);
});
