// What a step executor is bound with: the plan, where each value lives in the
// arena, the session's kernels and views, and a cache of prepared weights
// (packed once per session, shared by the plans of every batch size).
import type { Plan, PlanStep } from '../../compile/plan_types.js';
import type { Tensor } from '../../ir/tensor.js';
import { share, type PoolCall, type ThreadPool } from '../../kernels/wasm/thread_pool.js';
import { CALL_WORDS } from '../../kernels/wasm/thread_protocol.js';
import type { KernelSet } from '../kernel_set.js';
import type { ArenaViews } from '../views.js';

/** One bound step: all offsets and sizes fixed, run() allocates nothing. */
export interface StepExecutor {
  run(): void;
}

export interface BindEnv {
  plan: Plan;
  kernels: KernelSet;
  views: ArenaViews;
  pool?: ThreadPool;
  /** Byte offset of the activation region in the arena. */
  regionStart: number;
  /** Prepared weights by key (see prepared()). */
  weights: Map<string, unknown>;
}

/** Absolute byte offset of a value computed at run time. */
export function at(env: BindEnv, name: string): number {
  const v = env.plan.values.get(name);
  if (!v || v.buffer < 0) throw new Error(`runtime: value "${name}" has no buffer`);
  return env.regionStart + env.plan.memory.buffers[v.buffer].offset + v.offset;
}

/** The constant behind a value, if it is one. */
export function constant(env: BindEnv, name: string): Tensor | undefined {
  return env.plan.values.get(name)?.const;
}

/** Absolute byte offset of the step's scratch. */
export function scratchAt(env: BindEnv, s: PlanStep): number {
  return env.regionStart + s.scratchAt;
}

/**
 * Weights prepared once per session for a step and kernel (the same under every batch
 * size's plan). Keyed by the step's output value: value names are unique, node names need not be.
 */
export function prepared<T>(env: BindEnv, s: PlanStep, what: string, make: () => T): T {
  const key = `${s.kind}:${what}:${s.outputs[0]}`;
  let w = env.weights.get(key) as T | undefined;
  if (w === undefined) {
    w = make();
    env.weights.set(key, w);
  }
  return w;
}

/**
 * Chunks of consecutive images taken dynamically by the threads, chunk c of every round with
 * scratch set c (`calls` makes a chunk's calls: images [n0, n1) with set c); a batch whose calls
 * do not fit one dynamic run (the team queue's CALL_WORDS) goes in rounds.
 */
export function imageChunkRunner(pool: ThreadPool, N: number, sets: number, calls: (n0: number, n1: number, c: number) => PoolCall[]): () => void {
  const words = calls(0, 1, 0).reduce((w, c) => w + 2 + c.args.length, 0); // one image's
  const perItem = Math.max(1, Math.min(Math.ceil(N / sets), Math.floor((Math.floor(CALL_WORDS / sets) - 1) / words)));
  const rounds = Math.ceil(N / (sets * perItem)), items = rounds * sets;
  return dynamicRunner(pool, Array.from({ length: rounds }, (_, r) => Array.from({ length: sets }, (_, c) => {
    const [n0, n1] = share(N, items, r * sets + c);
    return calls(n0, n1, c);
  }).filter((l) => l.length > 0)));
}

/** Runs rounds of items one after the other, each round dynamically (a worker that wakes late leaves its items to the caller). */
export function dynamicRunner(pool: ThreadPool, rounds: readonly (readonly (PoolCall | readonly PoolCall[])[])[]): () => void {
  if (rounds.length === 1) {
    const only = rounds[0];
    return () => pool.runDynamic(only);
  }
  return () => { for (const r of rounds) pool.runDynamic(r); };
}

/**
 * Runs per-part call lists on the pool: each part is one item of a dynamic run (its calls in
 * order on whichever thread takes it; a part's scratch is its own, not its thread's), so a
 * worker that is asleep or descheduled leaves its part to the caller instead of holding the
 * step up for its wake-up. Parts whose calls do not fit one dynamic run (the team queue's
 * CALL_WORDS, shared by all parts) go in rounds: round r runs chunk r of every part.
 */
export function poolRunner(pool: ThreadPool, parts: PoolCall[][]): () => void {
  const budget = Math.floor(CALL_WORDS / parts.length) - 1; // a list also takes a word for its length
  const rounds: PoolCall[][][] = [];
  parts.forEach((calls, t) => {
    let round = 0, words = 0;
    for (const c of calls) {
      const w = 2 + c.args.length;
      if (words + w > budget) { round++; words = 0; }
      words += w;
      while (rounds.length <= round) rounds.push(parts.map(() => []));
      rounds[round][t].push(c);
    }
  });
  return dynamicRunner(pool, rounds.map((r) => r.filter((l) => l.length > 0)));
}
