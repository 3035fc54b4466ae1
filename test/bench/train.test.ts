// The training bench: the MAC count its GFLOP/s lines use, and its option checks.
// (Its TF.js peer is tested in test/bench/peers/tfjs/train.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchTrain, parseTrainArgs, trainingMacs } from '../../bench/train.js';
import { NnzipError } from '../../src/ir/errors.js';
import { buildArchitecture } from '../../src/train/index.js';

describe('bench/train', () => {
  it('counts multiply-accumulates per sample of the Conv and Gemm layers', () => {
    assert.deepEqual(trainingMacs(buildArchitecture('lenet300')), { forward: 784 * 300 + 300 * 100 + 100 * 10, firstInput: 784 * 300 });
    const conv1 = 20 * 24 * 24 * 25;
    assert.deepEqual(trainingMacs(buildArchitecture('lenet5')), { forward: conv1 + 50 * 8 * 8 * 500 + 800 * 500 + 500 * 10, firstInput: conv1 });
  });
});

describe('bench/train bad input', () => {
  it('rejects unknown models, too few rounds and unknown options with NnzipError', async () => {
    await assert.rejects(benchTrain({ models: ['lenet9'] }), (e: Error) => e instanceof NnzipError && /unknown model "lenet9".*lenet300/.test(e.message));
    await assert.rejects(benchTrain({ rounds: 3 }), (e: Error) => e instanceof NnzipError && /rounds=3/.test(e.message));
    assert.throws(() => parseTrainArgs(['--fast']), (e: Error) => e instanceof NnzipError && /unknown option --fast/.test(e.message));
    assert.throws(() => parseTrainArgs(['--rounds']), (e: Error) => e instanceof NnzipError && /--rounds needs a value/.test(e.message));
    assert.deepEqual(parseTrainArgs(['--rounds', '9', '--models', 'lenet5']), { rounds: 9, models: ['lenet5'] });
  });
});
