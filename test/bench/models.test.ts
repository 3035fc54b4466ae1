// The model benchmark: one real (small) setting end to end, the tables it prints,
// and its option checks. Timings are not asserted, only that every peer ran and agreed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_REL, PEERS, TABLE_HEADER, benchModels, benchSetting, formatModelTables, type ModelsReport } from '../../bench/models.js';
import { NnzipError } from '../../src/ir/errors.js';

describe('bench/models', () => {
  it('LeNet-300-100 batch 1 at 1 thread: every peer runs, agrees with ort-node, and has a median of 5 samples', async () => {
    const report = await benchSetting(1, { threads: [1], models: ['lenet300'], rounds: 5, batches: [1] });
    assert.deepEqual(report.rows.map((r) => [r.model, r.batch, r.threads]), [['LeNet-300-100', 1, 1]]);
    for (const row of report.rows) {
      for (const name of PEERS) {
        const r = row.peers[name];
        assert.ok(r && r.ms !== undefined && r.ms > 0, `${name} batch ${row.batch}: ${JSON.stringify(r)}`);
        assert.equal(r.samples?.length, 5);
        assert.ok((r.maxRel ?? Infinity) <= MAX_REL, `${name} batch ${row.batch}: maxRel ${r.maxRel}`);
      }
    }
  });

  it('prints one table per thread setting, marks fewer threads (*) and wrong outputs (!), ratios nnzip/peer', () => {
    const report: ModelsReport = {
      rows: [
        { model: 'LeNet-5', batch: 1, threads: 1, peers: { nnzip: { ms: 2, threads: 1 }, 'nnzip-direct': { ms: 3, threads: 1 }, 'ort-node': { ms: 0.5, threads: 1 }, 'ort-web': { ms: 1, threads: 1 }, 'tfjs-wasm': { ms: 4, threads: 1 } } },
        { model: 'LeNet-5', batch: 1, threads: 2, peers: { nnzip: { ms: 2, threads: 2 }, 'ort-node': { ms: 0.25, threads: 2, maxRel: 0.5 }, 'tfjs-wasm': { ms: 4, threads: 1 } } },
      ],
      notes: ['tfjs-wasm: asked for 2 threads, runs 1'],
    };
    const text = formatModelTables(report);
    assert.equal(text.split('\n').filter((l) => l.startsWith(TABLE_HEADER[0])).length, 2, text);
    const rows = text.split('\n').filter((l) => l.startsWith('LeNet-5'));
    assert.deepEqual(rows[0].split(/\s+/), ['LeNet-5', '1', '1', '2.00', '3.00', '0.500', '1.00', '4.00', '1.50x', '2.00x', '0.500x', '4.00x']);
    assert.deepEqual(rows[1].split(/\s+/), ['LeNet-5', '1', '2', '2.00', '-', '0.250!', '-', '4.00*', '-', '-', '0.500x', '8.00x']);
    assert.match(text, /note: tfjs-wasm: asked for 2 threads/);
  });

  it('refuses unknown models, fewer than 5 rounds and threads < 1 before starting any run', async () => {
    await assert.rejects(benchModels({ threads: [1], models: ['resnet'] }), (e: unknown) => e instanceof NnzipError && /unknown model "resnet"/.test(e.message));
    await assert.rejects(benchModels({ threads: [1], rounds: 3 }), /rounds=3; give an integer >= 5/);
    await assert.rejects(benchModels({ threads: [0] }), /threads=0/);
  });
});
