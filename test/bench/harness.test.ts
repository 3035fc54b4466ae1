// The timing harness: warm-up before timing, interleaved rounds in a rotating order,
// the median per contender, calls per sample, CPU time, option checks, and contenders
// hosted in worker threads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contender, measure, median, type Contender } from '../../bench/harness.js';
import { watchForeignLoad, workerContender } from '../../bench/harness_node.js';
import { NnzipError } from '../../src/ir/errors.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: a deterministic amount of work per call
  }
}

const QUICK = { settleMs: 0 };

describe('bench harness', () => {
  it('median of odd and even counts; no values is an error', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.throws(() => median([]), NnzipError);
  });

  it('warms every contender up, then runs one sample of each per round, rotating who goes first', async () => {
    const log: string[] = [];
    const contenders = ['a', 'b', 'c'].map((name) => contender(name, () => void log.push(name)));
    const timings = await measure(contenders, { ...QUICK, rounds: 5, warmupMs: 0, warmupCalls: 2, minSampleMs: 0, maxCalls: 1 });
    assert.deepEqual(log.slice(0, 6), ['a', 'a', 'b', 'b', 'c', 'c'], 'warm-up: 2 calls each, before any timing');
    const rounds = log.slice(6);
    assert.deepEqual(rounds, ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b', 'a', 'b', 'c', 'b', 'c', 'a']);
    assert.deepEqual(timings.map((t) => t.name), ['a', 'b', 'c'], 'results in the contenders order');
    for (const t of timings) {
      assert.equal(t.samples.length, 5);
      assert.equal(t.cpu.length, 5);
      assert.equal(t.calls, 1);
      assert.equal(t.ms, median(t.samples));
    }
  });

  it('a slow contender measures slower than a fast one; short calls are repeated to fill a sample', async () => {
    let fastCalls = 0;
    let inFlight = 0;
    let mostInFlight = 0;
    const fastCall = async () => {
      fastCalls++;
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      await null;
      inFlight--;
    };
    const [slow, fast] = await measure(
      [contender('slow', () => busy(4)), contender('fast', fastCall)],
      { rounds: 5, warmupMs: 5, minSampleMs: 2, settleMs: 100 },
    );
    assert.ok(slow.ms >= 3.5, `slow: ${slow.ms} ms per call, want about 4`);
    assert.ok(fast.ms < slow.ms / 4, `fast ${fast.ms} ms vs slow ${slow.ms} ms`);
    assert.equal(slow.calls, 1);
    assert.ok(fast.calls > 1, `fast calls ${fast.calls}`);
    assert.ok(fastCalls >= 5 * fast.calls);
    assert.equal(mostInFlight, 1, 'a returned promise is awaited before the next call');
  });

  it('counts the CPU time of the process per call: a computing call uses it, a sleeping one hardly', async () => {
    // a fixed amount of work, not of wall time, so that a loaded machine changes its wall time only
    const work = () => {
      let s = 0;
      for (let i = 1; i < 6e6; i++) s += Math.sqrt(i);
      return s > 0 ? undefined : s;
    };
    const sleep = () => new Promise((resolve) => setTimeout(resolve, 4));
    const [spin, idle] = await measure([contender('work', work), contender('sleep', sleep)], { ...QUICK, rounds: 5, warmupMs: 5, minSampleMs: 2 });
    assert.ok(median(spin.cpu) > 5 * median(idle.cpu), `CPU ms per call: work ${spin.cpu}, sleep ${idle.cpu}`);
    assert.ok(median(spin.cpu) < 2 * spin.ms, `work: CPU ${spin.cpu} ms per call, more than twice its wall time ${spin.ms} ms`);
    // cores (CPU per wall time) depend on what else the machine runs: only that they are counted is certain
    for (const t of [spin, idle]) assert.ok(t.cores > 0 && Number.isFinite(t.cores), `${t.name}: ${t.cores} cores`);
    assert.ok(idle.ms >= 3.5, `sleep: ${idle.ms} ms per call`);
  });

  it('a contender as long as a sample is called once per sample after a one-call warm-up', async () => {
    let calls = 0;
    const [t] = await measure([contender('long', () => { calls++; busy(3); })], { ...QUICK, rounds: 5, warmupMs: 0, minSampleMs: 2 });
    assert.equal(t.calls, 1);
    assert.equal(calls, 6, 'one warm-up call, then one call in each of the 5 rounds');
  });

  it('refuses fewer than 5 rounds, duplicate names, no contenders and negative options', async () => {
    const c = contender('x', () => {});
    await assert.rejects(measure([c], { rounds: 4 }), /rounds=4; the median needs at least 5 rounds/);
    await assert.rejects(measure([c], { rounds: 5.5 }), NnzipError);
    await assert.rejects(measure([c, { ...c }]), /contender "x" given twice/);
    await assert.rejects(measure([]), /no contenders/);
    await assert.rejects(measure([c], { pauseMs: -1 }), /pauseMs=-1/);
    await assert.rejects(measure([c], { maxCalls: 0 }), /maxCalls=0/);
  });

  it('watchForeignLoad gives the cores other processes used (a number >= 0 on Linux)', () => {
    const stop = watchForeignLoad();
    busy(30);
    const load = stop();
    if (process.platform === 'linux') assert.ok(load !== undefined && Number.isFinite(load) && load >= 0, `load ${load}`);
  });
});

describe('bench harness: contenders in worker threads', () => {
  const compareModule = new URL('../../bench/compare.js', import.meta.url);

  it('a worker contender is made there, reports its name and threads, and is timed alongside local ones', async () => {
    const task = { kind: 'matmul', M: 16, N: 16, K: 16 };
    const remote: Contender = await workerContender(compareModule, 'opContender', 'ort-web', task, 1);
    try {
      assert.equal(remote.name, 'ort-web');
      assert.equal(remote.threads, 1);
      const [w, l] = await measure([remote, contender('local', () => busy(0.05))], { ...QUICK, rounds: 5, warmupMs: 10, minSampleMs: 1 });
      assert.ok(w.ms > 0 && Number.isFinite(w.ms) && l.ms > 0, `worker ${w.ms} ms, local ${l.ms} ms`);
    } finally {
      await remote.close!();
    }
  });

  it('a factory that fails or does not exist is named in the error', async () => {
    await assert.rejects(workerContender(compareModule, 'noSuchFactory'), (e: unknown) => e instanceof NnzipError && /exports no function "noSuchFactory"/.test(e.message));
    await assert.rejects(
      workerContender(compareModule, 'opContender', 'ort-node', { kind: 'matmul', M: 4, N: 4, K: 4 }, 0),
      (e: unknown) => e instanceof NnzipError && /opContender\("ort-node".*threads=0/.test(e.message),
    );
  });
});
