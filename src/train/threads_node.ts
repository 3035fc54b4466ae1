// Node-only: training on worker threads. Makes a shared arena and a
// NodeThreadPool, makes the WASM backend over it the default for the duration
// of `run` (models built inside train on all threads), then restores the
// previous default and stops the workers. Import from Node entry points (CLI,
// benchmarks, tests), never from browser-safe code.
import { fail } from '../ir/errors.js';
import { WasmArena } from '../kernels/wasm/arena.js';
import { wasmFeatures } from '../kernels/wasm/features.js';
import { MAX_PAGES } from '../kernels/wasm/loader.js';
import { NodeThreadPool } from '../kernels/wasm/thread_pool_node.js';
import { PAGE } from '../kernels/wasm/wasm_api.js';
import { defaultBackend, setDefaultBackend } from './default_backend.js';
import { wasmBackend } from './backend_wasm.js';

/** A pool for training: training tapes keep every layer's activations and im2col columns, so its memory may use the whole wasm32 range. */
export function trainingPool(threads: number): NodeThreadPool {
  return new NodeThreadPool(new WasmArena({ shared: true, maximumBytes: MAX_PAGES * PAGE }), threads);
}

/** Runs `run` with new models training on `threads` threads (1: as without). */
export async function withTrainingThreads<T>(threads: number, run: () => T | Promise<T>): Promise<T> {
  if (!Number.isInteger(threads) || threads < 1) fail(`--threads ${threads}: give an integer >= 1`);
  if (threads === 1) return run();
  if (!wasmFeatures().simd || !wasmFeatures().threads) fail(`--threads ${threads}: this engine has no shared WebAssembly memory with SIMD; use --threads 1`);
  const pool = trainingPool(threads);
  const before = defaultBackend();
  setDefaultBackend(wasmBackend({ threads: pool }));
  try {
    return await run();
  } finally {
    setDefaultBackend(before);
    await pool.close();
  }
}
