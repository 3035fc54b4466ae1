// The compute backend the training engine runs its heavy work on: one GEMM.
// All convolutions and linear layers reduce to it (im2col + GEMM, GEMM + col2im),
// so plugging in a faster GEMM (WASM SIMD) speeds up all of training.
import { sgemmTs } from './gemm_ts.js';

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

let current: Backend = tsBackend;

/** The backend new tapes use unless told otherwise. */
export function defaultBackend(): Backend {
  return current;
}

export function setDefaultBackend(b: Backend): void {
  current = b;
}
