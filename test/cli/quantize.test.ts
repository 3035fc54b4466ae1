import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ortSession } from '../../src/eval/ort.js';
import { MODELS, assertOneLineError, nnzip, tempDir } from './helpers.js';

const lenet5 = join(MODELS, 'lenet5_dense.onnx');

test('quantize writes a QDQ .onnx onnxruntime loads, the per-layer table worst first and a JSON report', async () => {
  const dir = tempDir();
  const out = join(dir, 'l5.onnx');
  const r = nnzip(['quantize', lenet5, '-o', out, '--dataset', 'mnist', '--calib-samples', '200', '--calibrate', 'percentile', '--limit', '500']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /layer \(worst first\)\s+weights\s+output activation\s+SQNR dB\s+cosine/);
  assert.match(r.stdout, /conv2\s+int8 per channel \(50 scales\)\s+int8 × /);
  assert.match(r.stdout, /accuracy \(mnist test, first 500 images\): float \d+\.\d\d%, quantized \d+\.\d\d%/);
  const report = JSON.parse(readFileSync(join(dir, 'l5.json'), 'utf8'));
  assert.equal(report.fileBytes, readFileSync(out).length);
  assert.ok(report.fileBytes < 0.3 * report.floatBytes, `${report.fileBytes} bytes`);
  assert.ok(report.accuracy.quantized > 0.97);
  const sqnr = report.layers.map((l: { sqnr: number }) => l.sqnr);
  assert.deepEqual(sqnr, [...sqnr].sort((a, b) => a - b));
  await (await ortSession(out)).release();
});

test('quantize --scheme fixed with an excluded layer into .nnz', () => {
  const dir = tempDir();
  const out = join(dir, 'f.nnz');
  const r = nnzip(['quantize', lenet5, '-o', out, '--dataset', 'mnist', '--scheme', 'fixed', '--bits', '6', '--exclude', 'fc2', '--calib-samples', '100', '--limit', '200']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /conv1\s+fixed 6-bit, step 2\^-\d+/);
  assert.match(r.stdout, /fc2\s+float \(excluded\)/);
  assert.equal(nnzip(['eval', out, '--dataset', 'mnist', '--limit', '100']).code, 0);
});

test('quantize bad input: one line, exit 2, nothing written', () => {
  const dir = tempDir();
  const out = join(dir, 'x.nnz');
  const cases: [string[], RegExp][] = [
    [['--bits', '17'], /bits=17: int8 weights take 2\.\.8 bits/],
    [['--scheme', 'fixed', '--bits', '1'], /bits=1 must be an integer in 2\.\.16/],
    [['--exclude', 'conv9'], /--exclude: layer "conv9" does not exist; layers: conv1, conv2, fc1, fc2/],
    [['--calib-samples', '0'], /--calib-samples 0: must be an integer in \[1, 60000\]/],
    [['--calibrate', 'kl'], /--calibrate kl: choose one of minmax, percentile, entropy/],
    [['--scheme', 'int4'], /--scheme int4: choose one of int8, fixed/],
  ];
  for (const [flags, re] of cases) {
    const r = nnzip(['quantize', lenet5, '-o', out, '--dataset', 'mnist', ...flags]);
    const bad = assertOneLineError(r, re);
    assert.equal(bad, undefined, `${flags.join(' ')}: ${bad}`);
  }
  assert.equal(assertOneLineError(nnzip(['quantize', lenet5, '-o', out]), /--dataset is required/), undefined);
  assert.equal(assertOneLineError(nnzip(['quantize', lenet5, '-o', join(dir, 'x.pt'), '--dataset', 'mnist']), /must end in \.nnz or \.onnx/), undefined);
  assert.ok(!existsSync(out), 'nothing written');
});
