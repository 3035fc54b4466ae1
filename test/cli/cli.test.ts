import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MODELS, assertOneLineError, nnzip, tempDir } from './helpers.js';

const lenet300 = join(MODELS, 'lenet300_dense.onnx');

test('help lists the commands and exits 0', () => {
  const r = nnzip(['--help']);
  assert.equal(r.code, 0);
  for (const c of ['demo', 'inspect', 'validate', 'eval']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
  assert.equal(nnzip(['inspect', '--help']).code, 0);
});

test('unknown command and unknown flag are one-line errors', () => {
  assert.equal(assertOneLineError(nnzip(['frobnicate']), /unknown command "frobnicate"/), undefined);
  assert.equal(assertOneLineError(nnzip(['inspect', lenet300, '--bogus']), /bogus/), undefined);
  assert.equal(assertOneLineError(nnzip(['eval', lenet300, '--dataset', 'mnist', '--limit=-5']), /--limit -5/), undefined);
  assert.equal(assertOneLineError(nnzip(['eval', lenet300, '--dataset', 'cifar']), /--dataset cifar: choose one of mnist, fashion-mnist/), undefined);
});

test('inspect --json gives LeNet-300-100 totals', () => {
  const r = nnzip(['inspect', lenet300, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.total.params, 266610);
  assert.equal(j.total.macs, 784 * 300 + 300 * 100 + 100 * 10);
  assert.equal(j.total.bytes, 266610 * 4);
});

test('inspect prints a table with a total row', () => {
  const r = nnzip(['inspect', join(MODELS, 'lenet5_dense.onnx')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^total\s+431,080\s/m);
});

test('bad model files: missing, truncated, random bytes; nothing written', () => {
  const dir = tempDir();
  assert.equal(assertOneLineError(nnzip(['inspect', join(dir, 'nope.onnx')]), /nope\.onnx: no such file/), undefined);
  const truncated = join(dir, 'truncated.onnx');
  writeFileSync(truncated, readFileSync(lenet300).subarray(0, 5000));
  assert.equal(assertOneLineError(nnzip(['inspect', truncated]), /truncated\.onnx/), undefined);
  const random = join(dir, 'random.onnx');
  const bytes = new Uint8Array(4096);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  writeFileSync(random, bytes);
  assert.equal(assertOneLineError(nnzip(['validate', random]), /random\.onnx/), undefined);
  assert.deepEqual(readdirSync(dir).sort(), ['random.onnx', 'truncated.onnx']);
});

test('a dataset that is not installed says how to install it', () => {
  const r = nnzip(['eval', lenet300, '--dataset', 'fashion-mnist', '--limit', '10'], { NNZIP_FASHION_MNIST_DIR: tempDir() });
  assert.equal(assertOneLineError(r, /fashion-mnist is not installed.*apt-get install dataset-fashion-mnist/), undefined);
});

test('eval and validate on LeNet-300-100 (500 test images)', () => {
  const e = nnzip(['eval', lenet300, '--dataset', 'mnist', '--limit', '500', '--json']);
  assert.equal(e.code, 0, e.stderr);
  const j = JSON.parse(e.stdout);
  assert.equal(j.count, 500);
  assert.ok(j.accuracy > 0.95, `accuracy ${j.accuracy}`);
  const v = nnzip(['validate', lenet300, '--dataset', 'mnist', '--limit', '500', '--json']);
  assert.equal(v.code, 0, v.stderr);
  const c = JSON.parse(v.stdout);
  assert.ok(c.pass && c.maxRel < 1e-4, JSON.stringify(c));
  assert.equal(c.top1Agree, c.rows);
});

test('validate VGG-S with every 3×3 conv forced to Winograd F(6,3) against onnxruntime; a bad --winograd is one error line', () => {
  const vggs = join(MODELS, 'vggs_fmnist_dense.onnx');
  const v = nnzip(['validate', vggs, '--winograd', '6', '--batch', '2', '--json']);
  assert.equal(v.code, 0, v.stderr);
  const c = JSON.parse(v.stdout);
  assert.ok(c.pass && c.maxRel < 1e-4, JSON.stringify(c));
  assert.equal(assertOneLineError(nnzip(['eval', vggs, '--dataset', 'fashion-mnist', '--winograd', '3']), /--winograd 3: choose one of auto, off, on, 2, 4, 6/), undefined);
});
