import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MODELS, assertOneLineError, nnzip, tempDir } from './helpers.js';
import { Graph } from '../../src/ir/graph.js';
import { f32 } from '../../src/ir/tensor.js';
import { exportOnnx } from '../../src/onnx/export.js';

const lenet300 = join(MODELS, 'lenet300_dense.onnx');

test('compress --no-finetune writes a .nnz that decompresses to an ONNX onnxruntime agrees with', () => {
  const dir = tempDir();
  const out = join(dir, 'l300.nnz');
  const r = nnzip(['compress', lenet300, '-o', out, '--no-finetune', '--density', '0.1', '--bits', '5']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /P\+Q\+H: \+ Huffman coding/);
  const size = readFileSync(out).length;
  assert.ok(size < 1066456 / 30, `file ${size} bytes`);
  const report = JSON.parse(readFileSync(join(dir, 'l300.json'), 'utf8'));
  assert.equal(report.fileBytes, size);
  // the stage rows are files with the same metadata as the written one: Huffman coding never makes it bigger
  const [beforeH, withH] = report.stages.slice(-2).map((s: { bytes: number }) => s.bytes);
  assert.equal(withH, size);
  assert.ok(withH <= beforeH, `+H ${withH} B vs ${beforeH} B before it`);
  // inspect reads .nnz; sparsity shows the pruning
  const ins = JSON.parse(nnzip(['inspect', out, '--json']).stdout);
  assert.equal(ins.total.params, 266610);
  assert.ok(ins.total.zeros > 0.85 * 266200, `zeros ${ins.total.zeros}`);
  // the decoded model runs the same in nnzip and in onnxruntime (via an ONNX export)
  const v = nnzip(['validate', out, '--json']);
  assert.equal(v.code, 0, v.stderr);
  const onnx = join(dir, 'back.onnx');
  assert.equal(nnzip(['decompress', out, '-o', onnx]).code, 0);
  const v2 = nnzip(['validate', onnx, '--json']);
  assert.equal(v2.code, 0, v2.stderr);
});

test('compress --f16 stores the biases as float16: 410 biases × 2 bytes smaller, outputs within f16 rounding', () => {
  const dir = tempDir();
  const [a, b] = [join(dir, 'a.nnz'), join(dir, 'b.nnz')];
  const flags = ['--no-finetune', '--density', '0.1', '--bits', '5'];
  assert.equal(nnzip(['compress', lenet300, '-o', a, ...flags]).code, 0);
  const r = nnzip(['compress', lenet300, '-o', b, ...flags, '--f16']);
  assert.equal(r.code, 0, r.stderr);
  const saved = readFileSync(a).length - readFileSync(b).length;
  // without --f16 the biases are range-coded float32 (f32-ctx, about 3.5 bytes each)
  assert.ok(saved >= 500 && saved <= 820, `--f16 saved ${saved} bytes (410 biases: at most 820)`);
  const report = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8'));
  assert.equal(report.stages.at(-1).bytes, readFileSync(b).length, 'the P+Q+H stage is the written file');
  assert.equal(nnzip(['validate', b, '--json']).code, 0);
});

test('compress keeps the zeros of a model pruned elsewhere', () => {
  const dir = tempDir();
  const out1 = join(dir, 'a.nnz');
  assert.equal(nnzip(['compress', lenet300, '-o', out1, '--no-finetune', '--density', '0.2', '--no-share']).code, 0);
  const pruned = join(dir, 'pruned.onnx');
  assert.equal(nnzip(['decompress', out1, '-o', pruned]).code, 0);
  // no pruning asked: the zeros already there are found and stored sparsely
  const out2 = join(dir, 'b.nnz');
  const r = nnzip(['compress', pruned, '-o', out2, '--no-finetune', '--no-prune', '--no-share']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readFileSync(out2).length < 0.3 * readFileSync(pruned).length, 'sparse storage is smaller than dense');
});

test('compress bad options: one line, exit 2, nothing written', () => {
  const dir = tempDir();
  const out = join(dir, 'x.nnz');
  const cases: [string[], RegExp][] = [
    [['--density', '1.5'], /density.*must be a number in \(0, 1\]/],
    [['--density', '0'], /density.*must be a number in \(0, 1\]/],
    [['--bits', '17'], /bits.*must be an integer in \[1, 16\]/],
    [['--bits', '0'], /bits.*must be an integer in \[1, 16\]/],
    [['--density', 'fc9=0.1'], /layer "fc9" does not exist; layers: fc1, fc2, fc3/],
    [['--schedule', 'sometimes'], /--schedule sometimes: choose one of oneshot, stages, agp/],
    [['--filters', 'fc3=0.5'], /cannot thin layer "fc3".*graph output "logits"/],
    [['--filters', 'fc1=1.5'], /layers\.fc1\.filters 1\.5 must be a number in \(0, 1\]/],
    [['--f16=yes'], /f16/],
    [['--recipe', join(dir, 'none.yaml')], /no such built-in recipe/],
  ];
  for (const [flags, re] of cases) {
    const r = nnzip(['compress', lenet300, '-o', out, '--no-finetune', ...flags]);
    assert.equal(assertOneLineError(r, re), undefined, flags.join(' '));
  }
  // changing weights with neither data nor --no-finetune is refused
  for (const flags of [['--density', '0.1'], ['--bits', '4'], ['--filters', 'fc1=0.5'], ['--recipe', 'deep-compression']]) {
    const r = nnzip(['compress', lenet300, '-o', out, ...flags]);
    assert.equal(assertOneLineError(r, new RegExp(`${flags[0]} changes weights: pass --dataset`)), undefined, flags.join(' '));
  }
  const recipe = join(dir, 'r.yaml');
  writeFileSync(recipe, 'layers:\n  conv7: { density: 0.1 }\n');
  assert.equal(assertOneLineError(nnzip(['compress', lenet300, '-o', out, '--no-finetune', '--recipe', recipe]), /layer "conv7" does not exist/), undefined);
  writeFileSync(recipe, 'encode:\n  f16: yes please\n');
  assert.equal(assertOneLineError(nnzip(['compress', lenet300, '-o', out, '--no-finetune', '--recipe', recipe]), /encode\.f16 "yes please" must be true or false/), undefined);
  assert.deepEqual(readdirSync(dir).sort(), ['r.yaml']);
});

test('corrupt, truncated and newer-version .nnz files are refused', () => {
  const dir = tempDir();
  const good = join(dir, 'g.nnz');
  assert.equal(nnzip(['compress', lenet300, '-o', good, '--no-finetune', '--density', '0.1']).code, 0);
  const bytes = readFileSync(good);
  const corrupt = Uint8Array.from(bytes);
  corrupt[Math.floor(bytes.length / 2)] ^= 0x55;
  writeFileSync(join(dir, 'corrupt.nnz'), corrupt);
  assert.equal(assertOneLineError(nnzip(['inspect', join(dir, 'corrupt.nnz')]), /corrupt\.nnz: .*CRC/), undefined);
  writeFileSync(join(dir, 'short.nnz'), bytes.subarray(0, bytes.length - 100));
  assert.equal(assertOneLineError(nnzip(['eval', join(dir, 'short.nnz'), '--dataset', 'mnist']), /short\.nnz/), undefined);
  const newer = Uint8Array.from(bytes);
  newer[3] = 9;
  writeFileSync(join(dir, 'newer.nnz'), newer);
  assert.equal(assertOneLineError(nnzip(['validate', join(dir, 'newer.nnz')]), /newer\.nnz: format version 9 is newer than this nnzip reads/), undefined);
  const out = join(dir, 'o.onnx');
  assert.equal(assertOneLineError(nnzip(['decompress', join(dir, 'corrupt.nnz'), '-o', out]), /corrupt\.nnz/), undefined);
  assert.ok(!readdirSync(dir).includes('o.onnx'));
});

test('compress --winograd-filters 4 stores the 3×3 filters transformed; the file validates with F(4,3) forced; a bad tile is one error line', () => {
  const vggs = join(MODELS, 'vggs_fmnist_dense.onnx');
  const out = join(tempDir(), 'w.nnz');
  const r = nnzip(['compress', vggs, '-o', out, '--no-finetune', '--no-prune', '--no-share', '--winograd-filters', '4']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /W: Winograd-transformed filters/);
  const v = nnzip(['validate', out, '--winograd', '4', '--json']);
  assert.equal(v.code, 0, v.stderr);
  assert.ok(JSON.parse(v.stdout).maxRel < 1e-4, v.stdout);
  assert.equal(assertOneLineError(nnzip(['compress', vggs, '-o', out, '--no-finetune', '--winograd-filters', '3']), /winograd\.tile 3 must be one of 2, 4, 6/), undefined);
});

test('a file sparser than the decoders accept by default is written, with a warning that says how to load it', () => {
  const dir = tempDir();
  const w = new Float32Array(2048 * 1024);
  w[7] = 0.5;
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 1024] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2048] }],
    nodes: [{ name: 'fc', op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'], attrs: { transB: 1 } }],
    initializers: new Map([['w', f32([2048, 1024], w)]]),
  });
  writeFileSync(join(dir, 'sparse.onnx'), exportOnnx(g));
  const out = join(dir, 'sparse.nnz');
  const r = nnzip(['compress', join(dir, 'sparse.onnx'), '-o', out, '--no-finetune', '--no-prune', '--no-share']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: .*sparse\.nnz holds 2097152 weights, more than the 1048576 a reader accepts by default .*load it with the decode option maxElements/);
  assert.equal(assertOneLineError(nnzip(['inspect', out]), /takes the file's tensors past 1048576 elements/), undefined);
});
