// Side-by-side timing: every contender runs in the same process, warm-up first,
// then interleaved rounds (one sample of each contender per round, the order
// rotating so no one always runs first), and the median of the rounds is the result.
import { readFileSync } from 'node:fs';
import { NnzipError } from '../src/ir/errors.js';

export interface Contender {
  name: string;
  /** One call = one inference; awaited when it returns a promise. */
  run: () => unknown;
}

export interface HarnessOptions {
  /** Timed rounds; the median is taken over them. At least 5 (default 7). */
  rounds?: number;
  /** Warm-up lasts at least this long per contender (default 200 ms) ... */
  warmupMs?: number;
  /** ... and at least this many calls (default 1: the first call already pays JIT and lazy set-up). */
  warmupCalls?: number;
  /** A sample repeats the call until it lasts this long, so tiny models beat timer noise (default 20 ms). */
  minSampleMs?: number;
  /** Upper bound on repeats per sample (default 1000). */
  maxRepeats?: number;
  /**
   * Idle time before every sample (default 0). Thread pools that spin after a run
   * (onnxruntime's do) would otherwise steal cores from the next contender.
   */
  pauseMs?: number;
  /** Called (untimed) before every sample, e.g. global.gc, so one contender's garbage is not collected on another's clock. */
  between?: () => void;
}

export interface Timing {
  name: string;
  /** Median milliseconds per call. */
  ms: number;
  /** Milliseconds per call of each round, in round order. */
  samples: number[];
  /** Calls per sample. */
  repeats: number;
}

const DEFAULTS = { rounds: 7, warmupMs: 200, warmupCalls: 1, minSampleMs: 20, maxRepeats: 1000, pauseMs: 0 };

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new NnzipError('median of no values', 1);
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function checkOptions(contenders: Contender[], o: Required<Omit<HarnessOptions, 'between'>>): void {
  if (contenders.length === 0) throw new NnzipError('bench harness: no contenders to time');
  const names = new Set<string>();
  for (const c of contenders) {
    if (names.has(c.name)) throw new NnzipError(`bench harness: contender "${c.name}" given twice; names must be unique`);
    names.add(c.name);
  }
  if (!Number.isInteger(o.rounds) || o.rounds < 5) {
    throw new NnzipError(`bench harness: rounds=${o.rounds}; the median needs at least 5 rounds`);
  }
  for (const key of ['warmupMs', 'warmupCalls', 'minSampleMs', 'maxRepeats', 'pauseMs'] as const) {
    if (!Number.isFinite(o[key]) || o[key] < 0) throw new NnzipError(`bench harness: ${key}=${o[key]} must be a number >= 0`);
  }
  if (o.maxRepeats < 1) throw new NnzipError(`bench harness: maxRepeats=${o.maxRepeats} must be at least 1`);
}

async function timeCalls(c: Contender, calls: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await c.run();
  return performance.now() - t0;
}

/** Warms a contender up and returns how many calls one sample needs. */
async function warmUp(c: Contender, o: Required<Omit<HarnessOptions, 'between'>>): Promise<number> {
  const times: number[] = [];
  let spent = 0;
  const more = () =>
    times.length < Math.max(1, o.warmupCalls) ||
    spent < o.warmupMs ||
    (times.length < 3 && times[times.length - 1] < o.minSampleMs); // a cheap call: a few more to calibrate on
  // a very fast contender stops after 1000 calls: enough warm-up
  while (more() && times.length < 1000) {
    times.push(await timeCalls(c, 1));
    spent += times[times.length - 1];
  }
  // the fastest warm-up call (the first, paying JIT and set-up, left out) sets the repeats:
  // a call preempted by another process must not make the samples too short
  const perCall = Math.min(...(times.length > 1 ? times.slice(1) : times));
  const repeats = Math.ceil(o.minSampleMs / Math.max(perCall, 1e-3));
  return Math.min(o.maxRepeats, Math.max(1, repeats));
}

/** Times the contenders side by side; results come back in the contenders' order. */
export async function measure(contenders: Contender[], options: HarnessOptions = {}): Promise<Timing[]> {
  const o = { ...DEFAULTS, ...options };
  checkOptions(contenders, o);
  // Warm-up first (JIT, caches, lazily built kernels), then calibrate repeats per contender.
  const repeats: number[] = [];
  for (const c of contenders) {
    if (o.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, o.pauseMs));
    repeats.push(await warmUp(c, o));
  }
  const samples: number[][] = contenders.map(() => []);
  for (let r = 0; r < o.rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (r + k) % contenders.length; // rotate the order each round
      if (o.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, o.pauseMs));
      options.between?.();
      samples[i].push((await timeCalls(contenders[i], repeats[i])) / repeats[i]);
    }
  }
  return contenders.map((c, i) => ({ name: c.name, ms: median(samples[i]), samples: samples[i], repeats: repeats[i] }));
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

/** Milliseconds with 3 significant digits (0.0123, 1.23, 123, 1234). */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms >= 100) return ms.toFixed(0);
  return ms.toPrecision(3);
}

/** A ratio a/b as "1.23x" ('-' when either side is missing). */
export function formatRatio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !(b > 0) || !Number.isFinite(a)) return '-';
  const r = a / b;
  return `${r >= 100 ? r.toFixed(0) : r.toPrecision(3)}x`;
}

/** A plain-text table: text columns left-aligned, columns whose cells all look numeric right-aligned. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^(-|[0-9.,]+[x*!]*)$/.test(r[i] ?? '-')));
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
