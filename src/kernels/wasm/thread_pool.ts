// Worker threads for the kernels, as an interface: the runtime ships to browsers,
// so the Node implementation (thread_pool_node.ts, worker_threads) is imported
// only by Node entry points; browsers use Web Workers (thread_pool_web.ts). Both
// drive their workers the same way (thread_pool_atomics.ts).
import type { WasmArena } from './arena.js';
import type { WasmModule } from './wasm_api.js';

/** One call of an export of a registered module: numbers only (i32 offsets, f32 values). */
export interface PoolCall {
  key: string;
  fn: string;
  args: readonly number[];
}

export interface ThreadPool {
  /** The shared memory the workers run on; kernels using the pool must work in it. */
  readonly arena: WasmArena;
  /** Threads that share the work, the calling thread included. */
  readonly size: number;
  /** Makes a compiled kernel module callable under `key` on every thread, instantiated on the shared memory. */
  register(key: string, module: WasmModule): void;
  /**
   * Runs parts[t] (a list of calls, in order) on thread t, synchronously: part 0
   * on the calling thread, the others on the workers; returns when all are done.
   */
  run(parts: readonly (readonly PoolCall[])[]): void;
  /**
   * Runs independent items with dynamic scheduling: every thread, the caller
   * included, takes the next item from a shared queue until none is left. An
   * item is one call or a list of calls run in order on one thread. Robust when
   * a worker wakes late or runs on a slower (shared) core.
   */
  runDynamic(items: readonly (PoolCall | readonly PoolCall[])[]): void;
  /** Stops the workers. */
  close(): Promise<void>;
}

/**
 * Chunks per thread when work is taken dynamically (runDynamic): a worker that wakes late or is
 * preempted holds the others up for one small chunk at most.
 */
export const CHUNKS_PER_THREAD = 4;

/** [from, to) of part t when `count` items are shared by `parts`. */
export function share(count: number, parts: number, t: number): [number, number] {
  return [Math.floor((t * count) / parts), Math.floor(((t + 1) * count) / parts)];
}
