// The WASM SIMD GEMM (src/kernels/wasm) behind the training Backend interface.
// It copies operands into its memory per call; at training sizes that costs far
// less than the ~10× it gains over the plain-TS GEMM.
import { WasmGemm } from '../kernels/wasm/gemm.js';
import type { Backend } from './backend.js';

export function wasmBackend(gemm?: WasmGemm): Backend {
  let g = gemm;
  return {
    name: 'wasm',
    sgemm(M, N, K, a, transA, b, transB, c, accumulate) {
      if (M === 0 || N === 0) return;
      if (K === 0) {
        if (!accumulate) c.fill(0, 0, M * N);
        return;
      }
      g ??= new WasmGemm(); // created on first use: models that never train pay nothing
      g.sgemm(M, N, K, a, b, c, { transA, transB, accumulate });
    },
  };
}
