// The Node-only part of the bench harness: contenders in worker threads, and how much
// CPU other processes took during a run (Linux /proc/stat).
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { NnzipError } from '../src/ir/errors.js';
import type { Contender } from './harness.js';

/**
 * A contender made in a worker thread of its own, for peers whose settings are
 * process-wide (a thread count fixed when their wasm module starts): the worker
 * imports `module` and calls its export `factory` with `args`, which must give a
 * Contender; samples are timed inside the worker, so messaging costs nothing.
 */
export async function workerContender(module: URL, factory: string, ...args: unknown[]): Promise<Contender> {
  const w = new Worker(new URL('./contender_worker.js', import.meta.url), { workerData: { module: module.href, factory, args } });
  type Reply = { ms?: number; name?: string; threads?: number; error?: string };
  let pending: ((r: Reply) => void) | undefined;
  const answer = (r: Reply) => { const p = pending; pending = undefined; p?.(r); };
  w.on('message', answer);
  w.on('error', (e) => answer({ error: String(e) }));
  w.on('exit', (code) => answer({ error: `the worker exited (code ${code})` }));
  const ask = (msg?: unknown) => new Promise<Reply>((resolve) => { pending = resolve; if (msg !== undefined) w.postMessage(msg); });
  const ready = await ask();
  if (ready.error !== undefined) {
    await w.terminate();
    throw new NnzipError(`${factory}(${args.map((a) => JSON.stringify(a)).join(', ')}) in a worker: ${ready.error}`, 1);
  }
  return {
    name: ready.name!,
    threads: ready.threads,
    async time(calls) {
      const r = await ask({ calls });
      if (r.ms === undefined) throw new NnzipError(`${ready.name} (in a worker): ${r.error}`, 1);
      return r.ms;
    },
    async close() {
      w.removeAllListeners('exit');
      await w.terminate();
    },
  };
}

/** Busy CPU time of the whole machine in ms (Linux /proc/stat, in USER_HZ = 100 ticks a second), or undefined. */
function machineBusyMs(): number | undefined {
  try {
    const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = ticks[3] + (ticks[4] ?? 0); // idle + iowait
    return (ticks.reduce((a, b) => a + b, 0) - idle) * 10;
  } catch {
    return undefined;
  }
}

/**
 * Starts watching how much CPU other processes take; the returned function gives it
 * in cores (0 = a quiet machine, 1 = one core lost), or undefined off Linux.
 * This process's own threads (thread pools, workers) are not counted.
 */
export function watchForeignLoad(): () => number | undefined {
  const m0 = machineBusyMs();
  const p0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const m1 = machineBusyMs();
    if (m0 === undefined || m1 === undefined) return undefined;
    const own = process.cpuUsage(p0);
    const ownMs = (own.user + own.system) / 1000;
    return Math.max(0, (m1 - m0 - ownMs) / (performance.now() - t0));
  };
}

/** The foreign-load line every benchmark prints under its tables (nothing off Linux). */
export function foreignLoadLine(cores: number | undefined): string | undefined {
  if (cores === undefined) return undefined;
  return `other processes used ${cores.toFixed(2)} cores during the run${cores > 0.5 ? ' (timings noisy; ratios less so)' : ' (0 = a quiet machine)'}`;
}
