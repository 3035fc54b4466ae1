import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { exportOnnx } from '../../src/onnx/export.js';
import { assertOneLineError, nnzip, tempDir } from '../cli/helpers.js';
import { tinyMnist, TINY_FLAGS } from './tiny.js';

const dir = tempDir();
const model = join(dir, 'tiny.onnx');
writeFileSync(model, exportOnnx(tinyMnist()));

const cases: [string, string[], RegExp][] = [
  ['unknown target kind', ['--target', 'speed=2x', '--max-loss', '1'], /unknown target kind "speed"; use size, latency, flash/],
  ['target without a value', ['--target', 'size', '--max-loss', '1'], /--target size: write KIND=VALUE/],
  ['no --max-loss', ['--target', 'size=20KB'], /--max-loss is required/],
  ['bad budget', ['--target', 'size=20KB', '--max-loss', '1', '--budget', '2 days'], /--budget 2 days: give a number of candidates/],
  ['unknown strategy', ['--target', 'size=20KB', '--max-loss', '1', '--strategy', 'annealing'], /--strategy annealing: choose one of guided, random/],
  ['unknown method', ['--target', 'size=20KB', '--max-loss', '1', '--methods', 'prune,magic'], /--methods prune,magic: unknown method "magic"; choose from filters, pattern, prune, share, binarize, quantize, winograd/],
  ['Redis unreachable', ['--target', 'size=20KB', '--max-loss', '1', '--redis', 'redis://127.0.0.1:1'], /--redis redis:\/\/127.0.0.1:1: Redis is unreachable \(ECONNREFUSED\); the search state is kept in/],
  ['not a redis URL', ['--target', 'size=20KB', '--max-loss', '1', '--redis', 'http://x'], /must start with redis:\/\//],
  ['impossible target', ['--target', 'size=100B', '--max-loss', '1'], /--target size=100B: cannot be reached; the most compressed candidates of .*tiny.onnx give \d+ B/],
];

for (const [name, args, want] of cases) {
  test(`search bad input: ${name} — one line, exit 2, nothing written`, () => {
    const out = join(dir, name.replace(/\W+/g, '_'));
    const r = nnzip(['search', model, ...TINY_FLAGS, ...args, '-o', out]);
    assert.equal(assertOneLineError(r, want), undefined);
    assert.equal(existsSync(out), false);
  });
}

test('worker bad input: no --redis, Redis unreachable', () => {
  assert.equal(assertOneLineError(nnzip(['worker']), /worker: --redis URL is required/), undefined);
  assert.equal(assertOneLineError(nnzip(['worker', '--redis', 'redis://127.0.0.1:1']), /Redis is unreachable \(ECONNREFUSED\)/), undefined);
});
