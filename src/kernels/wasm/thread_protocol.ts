// The control block shared by a thread pool (thread_pool_atomics.ts) and its
// workers (thread_worker.ts): a few i32 words (sequence numbers, call count,
// error flag), then the calls as f64 words [fnId, nargs, args...] (f64 is exact
// for i32 offsets and carries f32 values).
import type { WasmMemory, WasmModule } from './wasm_api.js';

export const CTRL = {
  /** Bumped by the caller for each command. */
  seq: 0,
  /** Set to seq by the worker when the command is done. */
  done: 1,
  /** Number of calls in the command, or a command below. */
  calls: 2,
  /** Non-zero when the last command threw. */
  error: 3,
  words: 4,
  cmdRegister: -1,
  cmdExit: -2,
  /** Take calls from the shared team queue until it is empty. */
  cmdTeam: -3,
} as const;

/**
 * The team queue shared by all threads of a pool (dynamic scheduling): i32
 * [claim, count, finished, error, ..., offsets of each item], then the items as
 * f64 words: [number of calls, then each call as in a command]. `claim` packs the run's generation (high 15 bits)
 * and the next call index (low 16): a thread takes a call with compare-exchange,
 * so a worker that wakes up during a later run cannot take one of its calls by
 * mistake. Done calls are counted in `finished`; the caller waits for
 * finished = count, not for the workers, so a worker that wakes late costs nothing.
 */
export const TEAM = { claim: 0, count: 1, finished: 2, error: 3, offsets: 16, maxCalls: 1024 } as const;

/** The claim word for call `index` of run `gen`. */
export function claimWord(gen: number, index: number): number {
  return ((gen & 0x7fff) << 16) | index;
}

export function teamBytes(): number {
  return (TEAM.offsets + TEAM.maxCalls) * 4 + CALL_WORDS * 8;
}

/** f64 words for the calls of one command. */
export const CALL_WORDS = 4096;

/** Spin iterations before sleeping in Atomics.wait (a hand-off is then ~1 µs, not a futex wake-up). */
export const SPIN = 20000;

export function slotBytes(): number {
  return CTRL.words * 4 + CALL_WORDS * 8;
}

/** The constants a worker needs, as one plain object (the browser worker gets them as JSON). */
export const PROTOCOL = { CTRL, TEAM, SPIN } as const;
export type Protocol = typeof PROTOCOL;

/** What a worker starts with: the kernels' shared memory, its own control block, the team queue. */
export interface WorkerInit {
  memory: WasmMemory;
  control: SharedArrayBuffer;
  team: SharedArrayBuffer;
}

/** A compiled kernel module for every thread to instantiate, and the call ids of its exports. */
export interface ModuleMessage {
  module: WasmModule;
  names: string[];
  ids: number[];
}
