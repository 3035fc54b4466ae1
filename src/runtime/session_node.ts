// Node-only: a Session with worker threads. Makes a shared arena and a
// NodeThreadPool (worker_threads) for it; the session owns the pool and
// dispose() closes it. Import from Node entry points (CLI, benchmarks, tests),
// never from browser-safe code.
import { fail } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { WasmArena } from '../kernels/wasm/arena.js';
import { wasmFeatures } from '../kernels/wasm/features.js';
import { NodeThreadPool } from '../kernels/wasm/thread_pool_node.js';
import { Session, type SessionOptions } from './session.js';

export interface NodeSessionOptions extends Omit<SessionOptions, 'threadPool' | 'ownThreadPool'> {
  /** Upper bound of the shared memory in bytes (it is reserved up front; default 1 GiB). */
  maximumBytes?: number;
}

/** A session on `threads` threads (1 = no pool, as Session.create). */
export async function createNodeSession(model: Graph | Uint8Array, options: NodeSessionOptions = {}): Promise<Session> {
  const { maximumBytes, ...rest } = options;
  const threads = rest.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) fail(`session: threads=${threads}; give an integer >= 1`);
  if (threads === 1) return Session.create(model, rest);
  if (!wasmFeatures().threads) fail('session: this engine has no shared WebAssembly memory; use threads: 1');
  const max = maximumBytes ?? 1 << 30;
  const arena = new WasmArena({ shared: true, maximumBytes: max, whenFull: `pass createNodeSession a maximumBytes larger than ${max} (or use a smaller batch)` });
  const pool = new NodeThreadPool(arena, threads);
  return Session.create(model, { ...rest, threadPool: pool, ownThreadPool: true });
}
