// The backend new models use unless told otherwise: WASM SIMD when the engine
// has it, else plain TypeScript.
import { wasmFeatures } from '../kernels/wasm/features.js';
import type { Backend } from './backend.js';
import { tsBackend } from './backend_ts.js';
import { wasmBackend } from './backend_wasm.js';

let current: Backend | null = null;

export function defaultBackend(): Backend {
  current ??= wasmFeatures().simd ? wasmBackend() : tsBackend;
  return current;
}

export function setDefaultBackend(b: Backend): void {
  current = b;
}
