// The compute backend the training engine runs its heavy work on: the interface
// the tape calls. All convolutions and linear layers reduce to GEMMs (im2col +
// GEMM, GEMM + col2im), so a faster GEMM speeds up all of training. A backend
// allocates each tape's buffers (so a WASM backend can put them in its own
// memory and run GEMMs on them without copies) and runs strided GEMMs and the
// memory-bound kernels around them (im2col, col2im, clip, pooling, BatchNorm
// planes). Two exist, both only calling kernels of src/ir/ref and src/kernels:
// plain TypeScript (backend_ts.ts, runs anywhere) and WASM SIMD
// (backend_wasm.ts, ~10× faster); default_backend.ts picks one.
import type { Patches } from '../ir/ref/im2col.js';
import type { Pool2dGeom } from '../ir/ref/pool.js';

/**
 * One GEMM: C[M×N] (+)= op(A)·op(B) (+ bias), row-major with explicit row strides
 * (ld = the stored matrix's row length) and element offsets. op(A) is M×K, stored
 * K×M when transA; op(B) is K×N, stored N×K when transB. Ops keep one descriptor
 * per call site and update it, so a training step allocates nothing.
 */
export interface GemmCall {
  M: number; N: number; K: number;
  a: Float32Array; aOff: number; lda: number; transA: boolean;
  b: Float32Array; bOff: number; ldb: number; transB: boolean;
  c: Float32Array; cOff: number; ldc: number;
  accumulate: boolean;
  /** The caller promises A is exactly the previous call's A (the backend may skip re-packing it). */
  reuseA: boolean;
  /** Added after the product: per row of C (M values) or per column (N values); null = none. */
  bias: Float32Array | null;
  biasOff: number;
  biasPer: 'row' | 'col';
}

export function gemmCall(): GemmCall {
  const none = new Float32Array(0);
  return {
    M: 0, N: 0, K: 0, a: none, aOff: 0, lda: 0, transA: false, b: none, bOff: 0, ldb: 0, transB: false,
    c: none, cOff: 0, ldc: 0, accumulate: false, reuseA: false, bias: null, biasOff: 0, biasPer: 'row',
  };
}

/**
 * The images of one convolution group, as independent work: image n reads x at
 * xOff + n·xStride (C planes of H×W) and owns the columns at colsOff + n·colsStride
 * (colsStride 0: one scratch block shared by all images, which forbids running
 * them in parallel). A backend with threads may run different images at once.
 */
export interface ImageBatch {
  N: number;
  x: Float32Array; xOff: number; xStride: number;
  /** One image's patches (the C planes of one group). */
  p: Patches;
  cols: Float32Array; colsOff: number; colsStride: number;
  /** Per-image advance of g.bOff (gemmCol2im) and of g.cOff (im2colGemm). */
  bStride: number; cStride: number;
}

export function imageBatch(): ImageBatch {
  const none = new Float32Array(0);
  return { N: 0, x: none, xOff: 0, xStride: 0, p: null as unknown as Patches, cols: none, colsOff: 0, colsStride: 0, bStride: 0, cStride: 0 };
}

/** A tape's buffers and the kernels that run on them. */
export interface TapeMemory {
  /** One zeroed buffer per requested size (in floats). */
  readonly buffers: Float32Array[];
  /** Gives the buffers' memory back (a shared arena reuses it); the tape must not run after. */
  release?(): void;
  gemm(g: GemmCall): void;
  /** cols [C·KH·KW × P] at colsOff = im2col of one image (C planes at xOff). */
  im2col(x: Float32Array, xOff: number, p: Patches, cols: Float32Array, colsOff: number): void;
  /** dx (one image at dxOff) += col2im(cols at colsOff): the adjoint of im2col. */
  col2im(cols: Float32Array, colsOff: number, p: Patches, dx: Float32Array, dxOff: number): void;
  /** Conv forward: per image n, cols_n = im2col(x_n), then g with B = cols_n and C at g.cOff + n·cStride (g.bOff is ignored). */
  im2colGemm(g: GemmCall, b: ImageBatch): void;
  /** Conv data gradient: per image n, g with B at g.bOff + n·bStride writing C = cols_n (g.cOff is ignored), then x_n += col2im(cols_n). */
  gemmCol2im(g: GemmCall, b: ImageBatch): void;
  /** y = min(max(x, lo), hi) over whole arrays (Relu: lo 0, hi +∞). */
  clip(x: Float32Array, y: Float32Array, lo: number, hi: number): void;
  /** dx += dy where lo < x < hi. */
  clipBack(x: Float32Array, dy: Float32Array, dx: Float32Array, lo: number, hi: number): void;
  /** Max pooling over g.planes H×W planes; arg = flat index of each window's first maximum. */
  maxPool(x: Float32Array, y: Float32Array, arg: Int32Array, g: Pool2dGeom): void;
  /** dx[arg[o]] += dy[o]. */
  maxPoolBack(dy: Float32Array, arg: Int32Array, dx: Float32Array): void;
  /** Per H×W plane p of channel c = p mod C: s1[p] = Σ a, s2[p] = Σ (a − ca[c])·(b − cb[c]). */
  planeStats(a: Float32Array, b: Float32Array, planes: number, C: number, HW: number, ca: Float32Array, cb: Float32Array, s1: Float32Array, s2: Float32Array): void;
  /** out (+= when acc) ka[c]·a + kb[c]·b + k0[c], per plane as above. */
  planeLinear(a: Float32Array, b: Float32Array, out: Float32Array, planes: number, C: number, HW: number, ka: Float32Array, kb: Float32Array, k0: Float32Array, acc: boolean): void;
}

export interface Backend {
  readonly name: string;
  /** True when GEMM operands must live in the backend's memory: the tape then mirrors the parameters there. */
  readonly ownsMemory: boolean;
  /** Allocates a tape's buffers; `gemms` lists the [M, N, K] of every GEMM the tape will run (for packing space). */
  allocate(sizes: readonly number[], gemms: readonly (readonly [number, number, number])[]): TapeMemory;
}

/** im2colGemm one image after the other (A is packed once: reuseA from the second image on). g is left as it was. */
export function im2colGemmSerial(m: TapeMemory, g: GemmCall, b: ImageBatch): void {
  const c0 = g.cOff, reuse = g.reuseA;
  for (let n = 0; n < b.N; n++) {
    const co = b.colsOff + n * b.colsStride;
    m.im2col(b.x, b.xOff + n * b.xStride, b.p, b.cols, co);
    g.bOff = co;
    g.cOff = c0 + n * b.cStride;
    g.reuseA = reuse || n > 0;
    m.gemm(g);
  }
  g.cOff = c0;
  g.reuseA = reuse;
}

/** gemmCol2im one image after the other. g is left as it was. */
export function gemmCol2imSerial(m: TapeMemory, g: GemmCall, b: ImageBatch): void {
  const b0 = g.bOff, reuse = g.reuseA;
  for (let n = 0; n < b.N; n++) {
    const co = b.colsOff + n * b.colsStride;
    g.bOff = b0 + n * b.bStride;
    g.cOff = co;
    g.reuseA = reuse || n > 0;
    m.gemm(g);
    m.col2im(b.cols, co, b.p, b.x, b.xOff + n * b.xStride);
  }
  g.bOff = b0;
  g.reuseA = reuse;
}
