// The timing harness of every benchmark in bench/: all contenders run in one process
// run (some in worker threads of it), each warmed up first; then the process is left
// to go idle, then interleaved rounds take one sample of each contender per round,
// the order rotating so that none always goes first, and the median is the result.
// Runs in Node and in a page (bench/browser_page.ts); what needs Node is in harness_node.ts.
import { NnzipError } from '../src/ir/errors.js';

/** Something timed: one call = one unit of work (an inference, a training step, a kernel call). */
export interface Contender {
  readonly name: string;
  /** Threads it really runs with, for the tables (fewer than asked when the platform cannot do more). */
  readonly threads?: number;
  /** Runs the work `calls` times back to back; resolves to milliseconds per call, timed where the work ran. */
  time(calls: number): Promise<number>;
  /** Releases what it holds (a worker, a session). */
  close?(): Promise<void>;
}

/** A contender calling `run` in this thread; a promise it returns is awaited before the next call, anything else is not. */
export function contender(name: string, run: () => unknown, more: { threads?: number; close?: () => Promise<void> } = {}): Contender {
  return {
    name,
    ...more,
    async time(calls) {
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) {
        const r = run();
        if (r instanceof Promise) await r;
      }
      return (performance.now() - t0) / calls;
    },
  };
}

export interface MeasureOptions {
  /** Timed rounds; the median is taken over them. At least 5 (default 7). */
  rounds?: number;
  /** Warm-up lasts at least this long per contender (default 200 ms) ... */
  warmupMs?: number;
  /** ... and at least this many calls (default 1: the first call already pays JIT and lazy set-up). */
  warmupCalls?: number;
  /** A sample repeats the call until it lasts this long, so that short calls beat timer noise (default 20 ms). */
  minSampleMs?: number;
  /** Upper bound on calls per sample (default 100000). */
  maxCalls?: number;
  /**
   * Idle time before every sample (default 0). Thread pools that spin after a run
   * (onnxruntime's do) would otherwise steal cores from the next contender.
   */
  pauseMs?: number;
  /** Called (untimed) before every sample, e.g. global.gc, so that one contender's garbage is not collected on another's clock. */
  between?: () => void;
  /**
   * After the warm-up, wait up to this long for the process to go idle (default 20 s; 0: no wait):
   * V8 keeps optimising big wasm modules (onnxruntime-web, TF.js) in background threads for
   * seconds after their first runs, which would steal a core from the first rounds.
   */
  settleMs?: number;
}

export interface Timing {
  name: string;
  /** Median milliseconds per call. */
  ms: number;
  /** Milliseconds per call of each round, in round order. */
  samples: number[];
  /** CPU milliseconds of the whole process (worker threads included) per call, each round. */
  cpu: number[];
  /** Calls per sample. */
  calls: number;
  /** CPU time of the process per wall time during the samples: shows spinning or idle threads. */
  cores: number;
}

type Settings = Required<Omit<MeasureOptions, 'between'>>;

const DEFAULTS: Settings = { rounds: 7, warmupMs: 200, warmupCalls: 1, minSampleMs: 20, maxCalls: 100_000, pauseMs: 0, settleMs: 20_000 };

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new NnzipError('median of no values', 1);
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function checkOptions(contenders: readonly Contender[], o: Settings): void {
  if (contenders.length === 0) throw new NnzipError('bench harness: no contenders to time');
  const names = new Set<string>();
  for (const c of contenders) {
    if (names.has(c.name)) throw new NnzipError(`bench harness: contender "${c.name}" given twice; names must be unique`);
    names.add(c.name);
  }
  if (!Number.isInteger(o.rounds) || o.rounds < 5) {
    throw new NnzipError(`bench harness: rounds=${o.rounds}; the median needs at least 5 rounds`);
  }
  for (const key of ['warmupMs', 'warmupCalls', 'minSampleMs', 'maxCalls', 'pauseMs', 'settleMs'] as const) {
    if (!Number.isFinite(o[key]) || o[key] < 0) throw new NnzipError(`bench harness: ${key}=${o[key]} must be a number >= 0`);
  }
  if (o.maxCalls < 1) throw new NnzipError(`bench harness: maxCalls=${o.maxCalls} must be at least 1`);
}

/** CPU milliseconds of this process so far (worker threads included); NaN in a page, which cannot tell. */
function cpuMs(): number {
  if (typeof process === 'undefined') return NaN;
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Warms a contender up and returns the calls one sample needs. Warm-up batches grow
 * to about a quarter of a sample; the fastest per-call time seen sets the calls (the
 * first call pays JIT and set-up, a preempted batch is slow: neither is the fastest),
 * so that another process taking the core does not make the samples too short.
 */
async function warmUp(c: Contender, o: Settings): Promise<number> {
  const t0 = performance.now();
  const first = await c.time(1);
  let made = 1;
  let best = first;
  const enough = () => made >= o.warmupCalls && performance.now() - t0 >= o.warmupMs;
  // at least 3 more batches while calls look shorter than a sample: one preempted batch must not set the count
  for (let batches = 0; !enough() || (batches < 3 && best < o.minSampleMs); batches++) {
    const calls = Math.min(o.maxCalls, Math.max(1, Math.floor(o.minSampleMs / 4 / best)));
    best = Math.min(best, await c.time(calls));
    made += calls;
  }
  return Math.min(o.maxCalls, Math.max(1, Math.ceil(o.minSampleMs / Math.max(best, 1e-6))));
}

/** Waits (up to `maxMs`) until this process uses under 5% of a core over a quarter second. */
async function settle(maxMs: number): Promise<void> {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const c0 = cpuMs();
    const w0 = performance.now();
    await sleep(250);
    if (!((cpuMs() - c0) / (performance.now() - w0) >= 0.05)) return;
  }
}

/** Times the contenders side by side; results come back in the contenders' order. */
export async function measure(contenders: readonly Contender[], options: MeasureOptions = {}): Promise<Timing[]> {
  const given = options as Record<string, number | undefined>;
  const o = Object.fromEntries(Object.entries(DEFAULTS).map(([k, v]) => [k, given[k] ?? v])) as Settings;
  checkOptions(contenders, o);
  const calls: number[] = [];
  for (const c of contenders) {
    if (o.pauseMs > 0) await sleep(o.pauseMs);
    calls.push(await warmUp(c, o));
  }
  if (o.settleMs > 0) await settle(o.settleMs);
  const samples: number[][] = contenders.map(() => []);
  const cpu: number[][] = contenders.map(() => []);
  const wall = contenders.map(() => 0);
  for (let r = 0; r < o.rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (r + k) % contenders.length; // rotate the order each round
      if (o.pauseMs > 0) await sleep(o.pauseMs);
      options.between?.();
      const c0 = cpuMs();
      const w0 = performance.now();
      samples[i].push(await contenders[i].time(calls[i]));
      wall[i] += performance.now() - w0;
      cpu[i].push((cpuMs() - c0) / calls[i]);
    }
  }
  return contenders.map((c, i) => ({
    name: c.name, ms: median(samples[i]), samples: samples[i], cpu: cpu[i], calls: calls[i],
    cores: (cpu[i].reduce((a, b) => a + b, 0) * calls[i]) / wall[i],
  }));
}
