// The training module: the WASM SIMD kernels the trainer runs around its GEMMs
// (memory-bound work, several times slower as JS loops), one module so a tape
// instantiates it once. The emitters live with their families (im2col, pool,
// activation, batchnorm, optim codegen); each has a TypeScript reference
// (src/ir/ref, src/kernels/ts).
//   col2im(cols, C, H, W, kh, kw, padT, padL, sh, sw, dh, dw, OH, OW, dx)
//       dx (one image) += the adjoint of im2col (src/ir/ref/im2col.ts layout)
//   clip(x, y, n, lo, hi)            y = min(max(x, lo), hi)          (Relu: lo 0, hi +∞)
//   clipBack(x, dy, dx, n, lo, hi)   dx += dy where lo < x < hi
//   maxPool(x, y, arg, planes, H, W, OH, OW, kh, kw, sh, sw, pt, pl, dh, dw)
//       y = max over each window, arg = flat index of the (first) maximum in x
//   maxPool2x2(x, y, arg, planes, H, W, OH, OW)   the same for 2×2 stride-2 unpadded windows, 4 outputs per SIMD step
//   maxPoolBack(dy, arg, dx, n)      dx[arg[o]] += dy[o]
//   planeStats(a, b, planes, C, HW, ca, cb, s1, s2)  per H×W plane p of channel c = p mod C:
//       s1[p] = Σ a,  s2[p] = Σ (a − ca[c])·(b − cb[c])          (BatchNorm statistics and gradient sums)
//   planeLinear(a, b, out, planes, C, HW, ka, kb, k0, acc)
//       out (+)= ka[c]·a + kb[c]·b + k0[c]                          (BatchNorm apply and backward)
//   sgd(w, g, buf, n, lr, mu, damp, wd, nesterov)   one SGD-with-momentum update (PyTorch rule)
//   adam(w, g, m, v, n, lr, b1, b2, eps, wd, decoupled, ic1, ic2)   one Adam/AdamW update
// Addresses are byte offsets in a memory the caller owns; n counts elements.
import { emitClamp, emitClampBack } from './activation_codegen.js';
import { emitPlaneLinear, emitPlaneStats } from './batchnorm_codegen.js';
import { ModuleBuilder } from './emitter.js';
import { emitCol2im } from './im2col_codegen.js';
import { memoryImport } from './loader.js';
import { F32, I32, type ValType } from './opcodes.js';
import { emitAdam, emitSgd } from './optim_codegen.js';
import { emitMaxPool2x2Argmax, emitMaxPoolArgmax, emitMaxPoolBack } from './pool_codegen.js';

export interface TrainKernelExports {
  col2im(cols: number, C: number, H: number, W: number, kh: number, kw: number, padT: number, padL: number,
    sh: number, sw: number, dh: number, dw: number, OH: number, OW: number, dx: number): void;
  clip(x: number, y: number, n: number, lo: number, hi: number): void;
  clipBack(x: number, dy: number, dx: number, n: number, lo: number, hi: number): void;
  maxPool(x: number, y: number, arg: number, planes: number, H: number, W: number, OH: number, OW: number,
    kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, dh: number, dw: number): void;
  maxPool2x2(x: number, y: number, arg: number, planes: number, H: number, W: number, OH: number, OW: number): void;
  maxPoolBack(dy: number, arg: number, dx: number, n: number): void;
  planeStats(a: number, b: number, planes: number, C: number, HW: number, ca: number, cb: number, s1: number, s2: number): void;
  planeLinear(a: number, b: number, out: number, planes: number, C: number, HW: number, ka: number, kb: number, k0: number, acc: number): void;
  sgd(w: number, g: number, buf: number, n: number, lr: number, mu: number, damp: number, wd: number, nesterov: number): void;
  adam(w: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number, wd: number,
    decoupled: number, ic1: number, ic2: number): void;
}

/** The module over a private memory, or (shared) over worker threads' shared memory. */
export function trainKernelsModule(shared = false): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(shared));
  m.func('col2im', Array<ValType>(15).fill(I32), [], emitCol2im);
  m.func('clip', [I32, I32, I32, F32, F32], [], emitClamp);
  m.func('clipBack', [I32, I32, I32, I32, F32, F32], [], emitClampBack);
  m.func('maxPool', Array<ValType>(16).fill(I32), [], emitMaxPoolArgmax);
  m.func('maxPool2x2', Array<ValType>(8).fill(I32), [], emitMaxPool2x2Argmax);
  m.func('maxPoolBack', [I32, I32, I32, I32], [], emitMaxPoolBack);
  m.func('planeStats', Array<ValType>(9).fill(I32), [], emitPlaneStats);
  m.func('planeLinear', Array<ValType>(10).fill(I32), [], emitPlaneLinear);
  m.func('sgd', [I32, I32, I32, I32, F32, F32, F32, F32, I32], [], emitSgd);
  m.func('adam', [I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, I32, F32, F32], [], emitAdam);
  return m.build();
}
