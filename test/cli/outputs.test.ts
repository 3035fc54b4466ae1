// Outputs never destroy inputs, and a command has one outcome: colliding or unwritable
// outputs are refused before any work (so before a fine-tuning run), outputs are
// staged and renamed together, and odd arguments get the option's own message.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkOutputs, discardPending, Outputs } from '../../src/cli/outputs.js';
import { NnzipError } from '../../src/ir/errors.js';
import { MODELS, assertOneLineError, nnzip, tempDir } from './helpers.js';

const lenet300 = join(MODELS, 'lenet300_dense.onnx');

/** A folder holding a copy of LeNet-300-100 as m.onnx. */
function withModel(): { dir: string; model: string; bytes: Buffer } {
  const dir = tempDir();
  const model = join(dir, 'm.onnx');
  copyFileSync(lenet300, model);
  return { dir, model, bytes: readFileSync(model) };
}

test('outputs that collide with each other or with an input are refused up front; the input is intact', () => {
  const { dir, model, bytes } = withModel();
  const out = join(dir, 'out.nnz');
  // with --dataset, compress would start fine-tuning: the refusal must come first (and fast)
  const t0 = Date.now();
  assert.equal(assertOneLineError(nnzip(['compress', model, '-o', out, '--report', out, '--dataset', 'mnist']), /compress: --report .*out\.nnz is the same file as -o; give them different paths/), undefined);
  assert.ok(Date.now() - t0 < 20_000);
  assert.equal(assertOneLineError(nnzip(['compress', model, '-o', out, '--report', model, '--no-finetune']), /--report .*m\.onnx is the input .*m\.onnx; writing it would destroy the input/), undefined);
  linkSync(model, join(dir, 'hard.json'));
  assert.equal(assertOneLineError(nnzip(['compress', model, '-o', out, '--report', join(dir, 'hard.json'), '--no-finetune']), /hard\.json is the input/), undefined);
  symlinkSync(model, join(dir, 'soft.onnx'));
  assert.equal(assertOneLineError(nnzip(['finetune', model, '--dataset', 'mnist', '-o', join(dir, 'soft.onnx')]), /finetune: -o .*soft\.onnx is the input .*m\.onnx/), undefined);
  assert.equal(assertOneLineError(nnzip(['decompress', model, '-o', `${dir}/./m.onnx`]), /decompress: -o .*m\.onnx is the input/), undefined);
  assert.deepEqual(readFileSync(model), bytes);
  assert.deepEqual(readdirSync(dir).sort(), ['hard.json', 'm.onnx', 'soft.onnx']);
});

test('unwritable outputs (missing folder, a folder) are refused before the work starts', () => {
  const { dir, model } = withModel();
  mkdirSync(join(dir, 'taken.nnz'));
  assert.equal(assertOneLineError(nnzip(['compress', model, '-o', join(dir, 'no/such/out.nnz'), '--dataset', 'mnist']), /-o .*no\/such\/out\.nnz: its folder .*no\/such does not exist; choose a writable output path/), undefined);
  assert.equal(assertOneLineError(nnzip(['compress', model, '-o', join(dir, 'taken.nnz'), '--no-finetune']), /-o .*taken\.nnz: it is a folder/), undefined);
  assert.equal(assertOneLineError(nnzip(['compress', model, '-o', join(dir, 'ok.nnz'), '--report', join(dir, 'gone/r.json'), '--no-finetune']), /--report .*gone\/r\.json: its folder/), undefined);
  assert.equal(assertOneLineError(nnzip(['sensitivity', model, '--dataset', 'mnist', '-o', join(dir, 'nope/base')]), /-o .*nope\/base\.csv: its folder/), undefined);
  assert.equal(assertOneLineError(nnzip(['train', '--arch', 'lenet300', '--dataset', 'mnist', '-o', join(dir, 'x/y.onnx')]), /-o .*x\/y\.onnx: its folder/), undefined);
  assert.deepEqual(readdirSync(dir).sort(), ['m.onnx', 'taken.nnz']);
});

test('staged outputs appear together on commit, or not at all; no temp file is left', () => {
  const dir = tempDir();
  const [a, b] = [join(dir, 'a.nnz'), join(dir, 'a.json')];
  const o = new Outputs('test', [], [{ flag: '-o', path: a }, { flag: '--report', path: b }]);
  o.stage(a, new Uint8Array([1, 2, 3]));
  assert.deepEqual(readdirSync(dir), [`a.nnz.${process.pid}.tmp`]);
  o.stage(b, '{}\n');
  o.commit();
  assert.deepEqual(readdirSync(dir).sort(), ['a.json', 'a.nnz']);
  assert.deepEqual([...readFileSync(a)], [1, 2, 3]);
  const [c, d] = [join(dir, 'c.nnz'), join(dir, 'c.json')];
  new Outputs('test', [], [{ flag: '-o', path: c }, { flag: '--report', path: d }]).stage(c, 'partial');
  discardPending(); // what the CLI does when a command throws after staging
  assert.deepEqual(readdirSync(dir).sort(), ['a.json', 'a.nnz']);
  assert.throws(() => checkOutputs('test', [a], [{ flag: '-o', path: join(dir, '.', 'a.nnz') }]), (e: unknown) => e instanceof NnzipError && /is the input/.test(e.message));
});

test('odd arguments: a negative value after a space, a density that keeps no weight, an upper-case extension', () => {
  const { dir, model } = withModel();
  const out = join(dir, 'out.nnz');
  assert.equal(assertOneLineError(nnzip(['compress', model, '-o', out, '--no-finetune', '--epochs', '-1']), /^nnzip: error: --epochs -1: must be a number in \[0, 1000\]$/), undefined);
  assert.equal(assertOneLineError(nnzip(['eval', model, '--dataset', 'mnist', '--limit', '-5']), /--limit -5: must be an integer/), undefined);
  assert.equal(assertOneLineError(nnzip(['inspect', model, '--bogus', '-1']), /inspect: Unknown option '--bogus'; see/), undefined);
  assert.equal(assertOneLineError(nnzip(['compress', model, '-o', out, '--no-finetune', '--density', 'fc1=1e-9']), /fc1\.weight: density 1e-9 keeps none of its 235200 weights; the smallest that keeps one is 0\.0000021/), undefined);
  const upper = join(dir, 'OUT.NNZ');
  const r = nnzip(['compress', model, '-o', upper, '--no-finetune', '--no-prune', '--no-share']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(upper) && existsSync(join(dir, 'OUT.json')));
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});
