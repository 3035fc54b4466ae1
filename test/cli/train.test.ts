import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MODELS, assertOneLineError, nnzip, tempDir } from './helpers.js';

test('train a few steps of LeNet-300-100 writes an ONNX that onnxruntime scores the same', () => {
  const dir = tempDir();
  const out = join(dir, 'l300.onnx');
  const r = nnzip(['train', '--arch', 'lenet300', '--dataset', 'mnist', '-o', out, '--epochs', '1', '--max-steps', '150', '--lr', '0.05']);
  assert.equal(r.code, 0, r.stderr);
  const acc = Number(/test accuracy ([\d.]+)%/.exec(r.stdout)?.[1]);
  assert.ok(acc > 88, `accuracy after 150 steps ${acc}%`);
  const v = nnzip(['validate', out, '--dataset', 'mnist', '--limit', '300', '--json']);
  assert.equal(v.code, 0, v.stderr);
  const e = JSON.parse(nnzip(['eval', out, '--dataset', 'mnist', '--json']).stdout);
  assert.equal((100 * e.accuracy).toFixed(2), acc.toFixed(2), 'the runtime scores the written file as the trainer did');
});

test('finetune keeps an imported model working (on 2 threads)', () => {
  const dir = tempDir();
  const out = join(dir, 'ft.onnx');
  const r = nnzip(['finetune', join(MODELS, 'lenet300_dense.onnx'), '--dataset', 'mnist', '-o', out, '--max-steps', '50', '--threads', '2']);
  assert.equal(r.code, 0, r.stderr);
  const acc = Number(/test accuracy ([\d.]+)%/.exec(r.stdout)?.[1]);
  assert.ok(acc > 97.8, `accuracy after fine-tuning ${acc}% (was 98.24%)`);
});

test('train bad input: one line, exit 2, nothing written', () => {
  const dir = tempDir();
  const out = join(dir, 'x.onnx');
  const base = ['train', '--dataset', 'mnist', '-o', out, '--max-steps', '3', '--epochs', '1'];
  assert.equal(assertOneLineError(nnzip([...base, '--arch', 'resnet9000']), /--arch resnet9000: unknown architecture; choose one of lenet300, lenet5, vggs/), undefined);
  assert.equal(assertOneLineError(nnzip([...base, '--arch', 'lenet300', '--lr', '0']), /learning rate must be > 0/), undefined);
  assert.equal(assertOneLineError(nnzip([...base, '--arch', 'lenet300', '--lr=-1']), /learning rate must be > 0/), undefined);
  assert.equal(assertOneLineError(nnzip([...base, '--arch', 'lenet300', '--threads', '0']), /--threads/), undefined);
  const fm = nnzip(['train', '--arch', 'lenet300', '--dataset', 'fashion-mnist', '-o', out], { NNZIP_FASHION_MNIST_DIR: join(dir, 'none') });
  assert.equal(assertOneLineError(fm, /apt-get install dataset-fashion-mnist/), undefined);
  const unwritable = nnzip(['train', '--arch', 'lenet300', '--dataset', 'mnist', '-o', join(dir, 'no/such/dir/x.onnx'), '--max-steps', '2', '--epochs', '1']);
  assert.equal(assertOneLineError(unwritable, /no\/such\/dir does not exist; choose a writable output path/), undefined);
  const nan = nnzip([...base, '--arch', 'lenet300', '--lr', '1e9', '--max-steps', '50']);
  assert.equal(assertOneLineError(nan, /diverged: the loss is not finite at epoch 1, step \d+/), undefined);
  assert.deepEqual(readdirSync(dir), []);
  assert.ok(!existsSync(out));
});
