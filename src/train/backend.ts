// The compute backend the training engine runs its heavy work on: one GEMM.
// All convolutions and linear layers reduce to it (im2col + GEMM, GEMM + col2im),
// so plugging in a faster GEMM speeds up all of training. Two exist: the
// plain-TS one (runs anywhere) and the WASM SIMD one (src/kernels/wasm, ~10×
// faster); the default is WASM when the engine supports SIMD.
import { wasmFeatures } from '../kernels/wasm/features.js';
import { sgemmTs } from './gemm_ts.js';
import { wasmBackend } from './backend_wasm.js';

export interface Backend {
  readonly name: string;
  /**
   * C[M×N] (+)= op(A)·op(B), row-major, float32.
   * op(A) is M×K: A is stored M×K, or K×M when transA.
   * op(B) is K×N: B is stored K×N, or N×K when transB.
   * accumulate=false overwrites C; true adds to it. Arrays may be subarray views.
   */
  sgemm(
    M: number, N: number, K: number,
    a: Float32Array, transA: boolean,
    b: Float32Array, transB: boolean,
    c: Float32Array, accumulate: boolean,
  ): void;
}

/** Cache-blocked, register-tiled plain TypeScript GEMM: runs anywhere, no setup. */
export const tsBackend: Backend = { name: 'ts', sgemm: sgemmTs };

export type BackendName = 'ts' | 'wasm';

let current: Backend | null = null;

/** The backend new models use unless told otherwise: WASM SIMD when available, else TS. */
export function defaultBackend(): Backend {
  current ??= wasmFeatures().simd ? wasmBackend() : tsBackend;
  return current;
}

export function setDefaultBackend(b: Backend): void {
  current = b;
}
