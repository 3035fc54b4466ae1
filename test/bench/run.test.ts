// `npm run bench` options: defaults, every flag, bad ones named, and --help.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { USAGE, parseArgs } from '../../bench/run.js';

describe('bench/run options', () => {
  it('parse, and bad ones are named', () => {
    assert.deepEqual(parseArgs([]), { threads: [1, 2], gemm: true, pruned: true, train: true, quant: true, winograd: true, help: false });
    assert.deepEqual(parseArgs(['--threads', '2', '--models', 'lenet5,vggs', '--rounds', '7', '--batches', '1', '--json', 'out.json', '--no-gemm', '--no-pruned', '--no-train', '--no-quant', '--no-winograd']), {
      threads: [2], models: ['lenet5', 'vggs'], rounds: 7, batches: [1], json: 'out.json', gemm: false, pruned: false, train: false, quant: false, winograd: false, help: false,
    });
    assert.throws(() => parseArgs(['--threads']), /--threads needs a value/);
    assert.throws(() => parseArgs(['--rounds', 'five']), /--rounds five: give an integer/);
    assert.throws(() => parseArgs(['--fast']), /unknown option --fast; see npm run bench -- --help/);
  });

  it('--help is documented: every option parseArgs takes is in the usage text', () => {
    assert.equal(parseArgs(['--help']).help, true);
    for (const flag of ['--threads', '--models', '--rounds', '--batches', '--json', '--no-gemm', '--no-pruned', '--no-train', '--no-quant', '--no-winograd', '--help']) {
      assert.match(USAGE, new RegExp(`^  ${flag} `, 'm'), `${flag} missing from the usage`);
    }
  });
});
