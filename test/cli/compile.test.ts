// nnzip compile --target c as a user runs it: the files it writes, the memory
// report (text and --json, measured on the Cortex-M4 when the tools are there),
// and bad input: an op with no C kernel (named, nothing written), an unknown or
// missing target, a directory that is not empty, a name that is not a C identifier.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportOnnx } from '../../src/onnx/export.js';
import { GraphBuilder } from '../onnx/graph_builder.js';
import { HAS_ARM, ARM_MISSING } from '../compile/c/helpers.js';
import { assertOneLineError, nnzip, tempDir } from './helpers.js';

/** A small MLP as an .onnx file (with a Transpose, which has no C kernel, when asked). */
function mlpFile(dir: string, transpose = false): string {
  const b = new GraphBuilder(21);
  const x = b.input('x', ['N', 16]);
  let h = b.op1('Relu', [b.op1('Gemm', [x, b.weight('w1', [32, 16]), b.weight('b1', [32])], { transB: 1 })]);
  if (transpose) h = b.op1('Transpose', [h], { perm: [1, 0] });
  const y = b.op1('Gemm', [h, b.weight('w2', [4, 32]), b.weight('b2', [4])], { transB: 1, transA: transpose ? 1 : 0 });
  const path = join(dir, transpose ? 'bad-model.onnx' : 'tiny-mlp.onnx');
  writeFileSync(path, exportOnnx(b.build([y], 17, 'N')));
  return path;
}

test('compile --target c writes NAME.h, NAME.c and README.md; sizes are macros; the name comes from the file', () => {
  const dir = tempDir();
  const model = mlpFile(dir);
  const out = join(dir, 'c');
  const r = nnzip(['compile', model, '--target', 'c', '-o', out, '--no-measure', '--batch', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['README.md', 'tiny_mlp.c', 'tiny_mlp.h']);
  const h = readFileSync(join(out, 'tiny_mlp.h'), 'utf8');
  assert.match(h, /void tiny_mlp_run\(const float \*in, float \*out\);/);
  assert.match(h, /#define TINY_MLP_IN_SIZE 32 /);
  assert.match(h, /#define TINY_MLP_OUT_SIZE 8 /);
  assert.match(h, /#define TINY_MLP_BATCH 2/);
  const c = readFileSync(join(out, 'tiny_mlp.c'), 'utf8');
  assert.doesNotMatch(c, /malloc|stdio|printf/);
  assert.match(readFileSync(join(out, 'README.md'), 'utf8'), /\| layer \| op \| code \(B\) \| weights \(B\) \| arena live \(B\) \|/);
  assert.match(r.stdout, /not measured \(--no-measure\)/);
});

test('compile --json reports flash per layer from the Cortex-M4 object and the stack measured on QEMU', { skip: HAS_ARM ? false : ARM_MISSING }, () => {
  const dir = tempDir();
  const r = nnzip(['compile', mlpFile(dir), '--target', 'c', '-o', join(dir, 'c'), '--name', 'mlp', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.layers.length, 2);
  for (const l of j.layers) assert.ok(l.code > 0 && l.flashConst >= l.constBytes, `layer ${l.step}: code ${l.code}, flash ${l.flashConst} for ${l.constBytes} bytes of arrays`);
  assert.ok(j.object.text > 0 && j.object.bss === j.arenaBytes, `object ${JSON.stringify(j.object)}, arena ${j.arenaBytes}`);
  assert.ok(j.stackMeasured > 0 && j.stackMeasured <= j.stackStatic + 64, `stack measured ${j.stackMeasured}, static ${j.stackStatic}`);
});

test('compile: an op without a C kernel is named with its node, and nothing is written', () => {
  const dir = tempDir();
  const out = join(dir, 'c');
  const r = nnzip(['compile', mlpFile(dir, true), '--target', 'c', '-o', out, '--no-measure']);
  const bad = assertOneLineError(r, /node "Transpose_2" \(Transpose\) has no C kernel.*nothing written/);
  assert.equal(bad, undefined, bad ?? '');
  assert.equal(existsSync(out), false, 'the output directory was created');
});

test('compile: unknown or missing target, a non-empty directory without --force, a bad --name or --optimize', () => {
  const dir = tempDir();
  const model = mlpFile(dir);
  const cases: [string[], RegExp][] = [
    [['--target', 'wasm', '-o', join(dir, 'a')], /--target wasm: unknown target; known targets: c/],
    [['-o', join(dir, 'b')], /--target is required/],
    [['--target', 'c'], /-o DIR is required/],
    [['--target', 'c', '-o', dir], /is not empty; choose an empty one or pass --force/],
    [['--target', 'c', '-o', join(dir, 'd'), '--name', '2fast'], /--name "2fast": must be a C identifier/],
    [['--target', 'c', '-o', join(dir, 'e'), '--batch', '0'], /--batch 0: must be an integer in \[1, 65536\]/],
    [['--target', 'c', '-o', join(dir, 'g'), '--winograd', '3'], /--winograd/],
    [['--target', 'c', '-o', join(dir, 'h'), '--optimize', 'speed'], /--optimize speed: use ram or time/],
  ];
  for (const [args, msg] of cases) {
    const bad = assertOneLineError(nnzip(['compile', model, ...args]), msg);
    assert.equal(bad, undefined, `${args.join(' ')}: ${bad}`);
  }
  const forced = join(dir, 'f');
  mkdirSync(forced);
  writeFileSync(join(forced, 'keep.txt'), 'mine');
  assert.equal(nnzip(['compile', model, '--target', 'c', '-o', forced, '--no-measure', '--force']).code, 0);
  assert.ok(existsSync(join(forced, 'keep.txt')) && existsSync(join(forced, 'tiny_mlp.c')));
});
