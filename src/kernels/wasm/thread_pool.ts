// Worker threads for the kernels, as an interface: the runtime ships to browsers,
// so the Node implementation (thread_pool_node.ts, worker_threads) is imported
// only by Node entry points, and a browser build can supply a Web Worker one.
import type { WasmArena } from './arena.js';
import type { WasmModule } from './wasm_api.js';

export interface ThreadPool {
  /** The shared memory the workers run on; kernels using the pool must work in it. */
  readonly arena: WasmArena;
  /** Threads that share the work, the calling thread included. */
  readonly size: number;
  /** Makes a compiled kernel module callable by the workers under `key`, instantiated on the pool's shared memory. */
  register(key: string, module: WasmModule): void;
  /**
   * Calls export `fn` of module `key` with args[t] on thread t, synchronously:
   * args[0] runs on the caller through `local`, the others on the workers.
   */
  run(key: string, fn: string, args: readonly (readonly number[])[], local: (args: readonly number[]) => void): void;
  /** Stops the workers. */
  close(): Promise<void>;
}
