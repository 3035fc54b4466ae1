// The timing harness: interleaved rounds in a rotating order, warm-up before timing,
// the median per contender, option checks, and the table/number formatting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMs, formatRatio, formatTable, measure, median, watchForeignLoad, type Contender } from '../../bench/harness.js';
import { NnzipError } from '../../src/ir/errors.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: a deterministic amount of work per call
  }
}

describe('bench harness', () => {
  it('median of odd and even counts; no values is an error', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.throws(() => median([]), NnzipError);
  });

  it('warms every contender up, then runs one sample of each per round, rotating who goes first', async () => {
    const log: string[] = [];
    const contenders: Contender[] = ['a', 'b', 'c'].map((name) => ({ name, run: () => void log.push(name) }));
    const timings = await measure(contenders, { rounds: 5, warmupMs: 0, warmupCalls: 2, minSampleMs: 0, maxRepeats: 1 });
    assert.deepEqual(log.slice(0, 6), ['a', 'a', 'b', 'b', 'c', 'c'], 'warm-up: 2 calls each, before any timing');
    const rounds = log.slice(6);
    assert.deepEqual(rounds, ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b', 'a', 'b', 'c', 'b', 'c', 'a']);
    assert.deepEqual(timings.map((t) => t.name), ['a', 'b', 'c'], 'results in the contenders order');
    for (const t of timings) {
      assert.equal(t.samples.length, 5);
      assert.equal(t.repeats, 1);
      assert.equal(t.ms, median(t.samples));
    }
  });

  it('a slow contender measures slower than a fast one; tiny calls are repeated to fill a sample', async () => {
    let fastCalls = 0;
    const [slow, fast] = await measure(
      [
        { name: 'slow', run: () => busy(4) },
        { name: 'fast', run: async () => void fastCalls++ },
      ],
      { rounds: 5, warmupMs: 5, minSampleMs: 2 },
    );
    assert.ok(slow.ms >= 3.5, `slow: ${slow.ms} ms per call, want about 4`);
    assert.ok(fast.ms < slow.ms / 4, `fast ${fast.ms} ms vs slow ${slow.ms} ms`);
    assert.equal(slow.repeats, 1);
    assert.ok(fast.repeats > 1, `fast repeats ${fast.repeats}`);
    assert.ok(fastCalls >= 5 * fast.repeats);
  });

  it('refuses fewer than 5 rounds, duplicate names, no contenders and negative options', async () => {
    const c: Contender = { name: 'x', run: () => {} };
    await assert.rejects(measure([c], { rounds: 4 }), /rounds=4; the median needs at least 5 rounds/);
    await assert.rejects(measure([c], { rounds: 5.5 }), NnzipError);
    await assert.rejects(measure([c, { ...c }]), /contender "x" given twice/);
    await assert.rejects(measure([]), /no contenders/);
    await assert.rejects(measure([c], { pauseMs: -1 }), /pauseMs=-1/);
    await assert.rejects(measure([c], { maxRepeats: 0 }), /maxRepeats=0/);
  });

  it('watchForeignLoad gives the cores other processes used (a number >= 0 on Linux)', () => {
    const stop = watchForeignLoad();
    busy(30);
    const load = stop();
    if (process.platform === 'linux') assert.ok(load !== undefined && Number.isFinite(load) && load >= 0, `load ${load}`);
  });

  it('formats milliseconds to 3 significant digits, ratios with an x, and aligns table columns', () => {
    assert.equal(formatMs(0.012345), '0.0123');
    assert.equal(formatMs(1.2345), '1.23');
    assert.equal(formatMs(1234.5), '1235');
    assert.equal(formatMs(undefined), '-');
    assert.equal(formatRatio(3, 1.5), '2.00x');
    assert.equal(formatRatio(250, 1), '250x');
    assert.equal(formatRatio(1, undefined), '-');
    assert.equal(formatRatio(1, 0), '-');
    const t = formatTable(['model', 'ms'], [['LeNet-5', '1.23*'], ['VGG-S', '12.3']]).split('\n');
    assert.deepEqual(t, ['model       ms', '-------  -----', 'LeNet-5  1.23*', 'VGG-S     12.3']);
  });
});
