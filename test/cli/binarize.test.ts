import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MODELS, assertOneLineError, nnzip, tempDir } from './helpers.js';

const lenet5 = join(MODELS, 'lenet5_dense.onnx');

test('binarize --no-finetune: 1 bit a binary weight, ternary per layer, first/last float; the file and its ONNX export agree with onnxruntime', () => {
  const dir = tempDir();
  const out = join(dir, 'l5.nnz');
  const r = nnzip(['binarize', lenet5, '--method', 'xnor', '-o', out, '--no-finetune', '--layers', 'conv2=twn']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(dir, 'l5.json'), 'utf8'));
  const layer = (name: string) => report.layers.find((l: { layer: string }) => l.layer === name);
  assert.equal(layer('conv1').bits, 32);
  assert.equal(layer('fc2').bits, 32);
  // the intake keeps each layer's smallest exact form: a TWN layer is ternary, or an exact grid
  // (q ∈ {−1, 0, 1}, a scale per channel) when range coding makes that smaller
  assert.ok(['ternary', 'grid'].includes(layer('conv2').stored), layer('conv2').stored);
  assert.equal(layer('fc1').stored, 'binary');
  assert.equal(layer('fc1').bits, 1);
  // fc1: 400,000 weights in 50,000 bytes + 500 channel scales + 500 float biases
  assert.ok(layer('fc1').bytesAfter < 400000 / 8 + 2 * 4 * 500 + 100, `fc1 ${layer('fc1').bytesAfter} bytes`);
  assert.ok(layer('conv2').bytesBefore / layer('conv2').bytesAfter >= 16, 'ternary ≥ 16× smaller');
  // the XNOR graph (Sign before fc1) runs in nnzip as in onnxruntime, from .nnz and from the ONNX export
  const v = nnzip(['validate', out, '--json']);
  assert.equal(v.code, 0, v.stderr);
  const onnx = join(dir, 'back.onnx');
  assert.equal(nnzip(['decompress', out, '-o', onnx]).code, 0);
  assert.equal(nnzip(['validate', onnx, '--json']).code, 0);
  assert.ok(readFileSync(onnx).includes(Buffer.from('binary weights: every value of a channel (axis 0, 500 channels) is +α or −α')), 'the ONNX file says what the values are');
});

test('binarize bad input: one line, exit 2, nothing written', () => {
  const dir = tempDir();
  const out = join(dir, 'x.nnz');
  const cases: [string[], RegExp][] = [
    [['--method', 'xor'], /--method xor: choose one of bwn, xnor, twn, ttq/],
    [[], /--method is required/],
    [['--method', 'ttq', '--threshold', '1.5'], /TTQ threshold t=1.5 must be in \(0, 1\)/],
    [['--method', 'twn', '--delta', '2'], /TWN threshold factor 2 must be in \(0, 1.5\]/],
    [['--method', 'bwn', '--layers', 'fc9=twn'], /layer "fc9" does not exist; layers: conv1, conv2, fc1, fc2/],
    [['--method', 'bwn', '--layers', 'fc1=tnw'], /--layers fc1= "tnw" must be one of bwn, xnor, twn, ttq or none/],
    [['--method', 'bwn', '--layers', 'fc1'], /"fc1" is not name=method/],
  ];
  for (const [args, want] of cases) {
    const problem = assertOneLineError(nnzip(['binarize', lenet5, '-o', out, '--no-finetune', ...args]), want);
    assert.equal(problem, undefined, args.join(' '));
    assert.ok(!existsSync(out));
  }
});
