// The plain TypeScript backend: JavaScript arrays, the reference kernels
// (src/ir/ref: GEMM, im2col, pooling) and the TypeScript training kernels
// (src/kernels/ts). Runs anywhere; the WASM backend is ~10× faster.
import { gemmRef } from '../ir/ref/gemm_ref.js';
import { col2im, im2col } from '../ir/ref/im2col.js';
import { maxPool2d, maxPoolBack } from '../ir/ref/pool.js';
import { planeLinear, planeStats } from '../kernels/ts/batchnorm.js';
import { clip, clipBack } from '../kernels/ts/activation.js';
import { gemmCol2imSerial, im2colGemmSerial, type Backend, type TapeMemory } from './backend.js';

export const tsBackend: Backend = {
  name: 'ts',
  ownsMemory: false,
  allocate(sizes) {
    const mem: TapeMemory = {
      buffers: sizes.map((n) => new Float32Array(n)), gemm: gemmRef, im2col, col2im, clip, clipBack, maxPoolBack, planeStats, planeLinear,
      maxPool: (x, y, arg, g) => maxPool2d(g, x, y, arg),
      im2colGemm: (g, b) => im2colGemmSerial(mem, g, b),
      gemmCol2im: (g, b) => gemmCol2imSerial(mem, g, b),
    };
    return mem;
  },
};
