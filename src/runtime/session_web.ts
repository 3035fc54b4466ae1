// A Session with Web Workers, for browsers: on a cross-origin isolated page
// (served with COOP same-origin and COEP require-corp) it makes a shared arena
// and a WebThreadPool; elsewhere shared memory does not exist, and the session
// runs on one thread (session.threads says which). The session owns the pool.
import { fail } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { WasmArena } from '../kernels/wasm/arena.js';
import { wasmFeatures } from '../kernels/wasm/features.js';
import { WebThreadPool } from '../kernels/wasm/thread_pool_web.js';
import { Session, type SessionOptions } from './session.js';

export interface WebSessionOptions extends Omit<SessionOptions, 'threadPool' | 'ownThreadPool'> {
  /** Upper bound of the shared memory in bytes (reserved up front; default 1 GiB). */
  maximumBytes?: number;
}

/** Whether this page can run a session on several threads (cross-origin isolated, shared WebAssembly memory). */
export function webThreadsAvailable(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true && wasmFeatures().threads;
}

/** A session on `threads` threads where the page allows it, else on one. */
export async function createWebSession(model: Graph | Uint8Array, options: WebSessionOptions = {}): Promise<Session> {
  const { maximumBytes, ...rest } = options;
  const threads = rest.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) fail(`session: threads=${threads}; give an integer >= 1`);
  if (threads === 1 || !webThreadsAvailable()) return Session.create(model, { ...rest, threads: 1 });
  const arena = new WasmArena({ shared: true, maximumBytes: maximumBytes ?? 1 << 30 });
  const pool = await WebThreadPool.create(arena, threads);
  return Session.create(model, { ...rest, threadPool: pool, ownThreadPool: true });
}
