// Sparse and codebook layers in WebAssembly: pruned / weight-shared FC and conv
// layers run on their CSR weights (kernels/csr.ts), never densified; their
// reference is the dense one (src/ir/ref) on the decoded weights. Two levels
// of API, as gemm.ts:
//  - offsets: fcAt / convAt work on byte offsets within the arena's memory;
//  - arrays:  fc / conv copy Float32Arrays in and out (tests, callers outside the runtime).
// Weights are uploaded once (prepareFc / prepareConv) and stay in the arena.
// chooseFcKernel / chooseConvKernel (the cost model, at the end) say which kernel
// wins, and when the dense GEMM wins instead.
import { fail } from '../../ir/errors.js';
import { isPointwise } from '../../ir/window.js';
import { checkCsr, nnzOf, transposeCsr, type CsrMatrix } from '../csr.js';
import { WasmArena } from './arena.js';
import { checkConv, convSizes, type Conv2dParams, type ConvSizes } from './conv_params.js';
import { wasmFeatures } from './features.js';
import { clampRange, GEMM_COST, gemmNs } from './gemm.js';
import { compileCached, instantiate } from './loader.js';
import { sparseModule, sparseVariantKey, type SparseVariant } from './sparse_codegen.js';
import type { ThreadPool } from './thread_pool.js';

/** Epilogue of every sparse kernel: per-output bias, then relu / clip. */
export interface SparseEpilogue {
  /** One value per output row (FC: out; conv: Cout). */
  bias?: Float32Array;
  relu?: boolean;
  clip?: [min: number, max: number];
}

/** The clamp bounds the epilogue asks for ([-inf, inf] = none). */
export function epilogueRange(o: SparseEpilogue): [number, number] {
  return clampRange(o) ?? [-Infinity, Infinity];
}

export interface SparseExports {
  spmv(rowPtr: number, colIdx: number, vals: number, table: number, x: number, y: number, bias: number, rows: number,
    lo: number, hi: number): void;
  spmvT(colPtr: number, rowIdx: number, vals: number, table: number, x: number, y: number, bias: number,
    inDim: number, outDim: number, lo: number, hi: number): void;
  spmm(rowPtr: number, colIdx: number, vals: number, table: number, b: number, ldb: number, c: number, ldc: number,
    bias: number, rows: number, width: number, transposed: number, clampAt: number): void;
  transpose(src: number, rows: number, cols: number, dst: number): void;
  im2col(x: number, C: number, H: number, W: number, KH: number, KW: number, OH: number, OW: number,
    sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, dst: number): void;
  zeros(x: number, n: number): number;
}

/** A CSR matrix copied into the arena, with the module that reads its layout. */
export interface UploadedCsr {
  readonly rows: number;
  readonly cols: number;
  readonly nnz: number;
  readonly codebook: boolean;
  readonly rowPtr: number;
  readonly colIdx: number;
  readonly vals: number;
  /** Centroid table (0 for f32 values). */
  readonly table: number;
  readonly exports: SparseExports;
  /** Key of its module in the thread pool (PoolCall.key), registered when the WasmSparse has one. */
  readonly key: string;
}

/** Batch-1 kernel: CSR row gathers, CSC scatter (skips zero inputs), or picked per call from the input's zeros. */
export type Batch1Kernel = 'csr' | 'csc' | 'auto';

export interface SparseFcLayer {
  readonly out: number;
  readonly in: number;
  readonly nnz: number;
  readonly batch1: Batch1Kernel;
  /** Always present: batches > 1 run CSR × Xᵀ. */
  readonly csr: UploadedCsr;
  /** Present for batch1 'csc' and 'auto'. */
  readonly csc?: UploadedCsr;
  /** 'auto': CSC runs when the input has at least this many zeros. */
  readonly cscFromZeros: number;
  /** Byte offset of the bias (0 = none). */
  readonly bias: number;
}

export interface SparseConvLayer {
  readonly params: Conv2dParams;
  readonly csr: UploadedCsr;
  readonly bias: number;
  /** A 1×1, unit-stride, unpadded conv reads its input as the im2col matrix. */
  readonly direct: boolean;
}

export interface PrepareFcOptions {
  bias?: Float32Array;
  /** Default 'auto' (uploads the weight twice, as CSR and CSC). */
  batch1?: Batch1Kernel;
}

/** Epilogue and scratch of one call at the offset level. */
export interface SparseRunOptions extends Omit<SparseEpilogue, 'bias'> {
  /** Byte offset of scratch (fcScratchBytes / convScratchBytes); allocated and freed per call when absent. */
  scratch?: number;
}

export interface WasmSparseOptions {
  arena?: WasmArena;
  /** Use f32x4.relaxed_madd (default: when the engine has relaxed SIMD). */
  fma?: boolean;
  /** Worker threads on the arena's memory: each module is registered with them (the callers split the work). */
  threads?: ThreadPool;
}

function checkBatch(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) fail(`${what}: batch=${n} must be a non-negative integer`);
}

export class WasmSparse {
  readonly arena: WasmArena;
  readonly fma: boolean;
  readonly threads?: ThreadPool;
  private readonly instances = new Map<string, SparseExports>();
  /** 8 bytes for the spmm clamp bounds (read through memory, see sparse_codegen.ts). */
  private readonly clampAt: number;
  private clampView?: Float32Array;

  constructor(opts: WasmSparseOptions = {}) {
    if (!wasmFeatures().simd) fail('wasm sparse: this engine has no WebAssembly SIMD; use a newer Node (>= 16.4) or browser');
    this.arena = opts.arena ?? opts.threads?.arena ?? new WasmArena({ maximumBytes: 1 << 30 });
    if (opts.threads && opts.threads.arena !== this.arena) fail('wasm sparse: the thread pool works on another arena; pass the same one');
    this.threads = opts.threads;
    this.fma = opts.fma ?? wasmFeatures().relaxedSimd;
    this.clampAt = this.arena.alloc(16);
  }

  /** The compiled kernels for one weight layout (compiled once per process, instantiated once per arena). */
  exportsFor(codebook: boolean, wideIndex: boolean): SparseExports {
    const key = this.keyFor(codebook, wideIndex);
    let e = this.instances.get(key);
    if (!e) {
      const v: SparseVariant = { codebook, wideIndex, fma: this.fma, shared: this.arena.shared };
      const mod = compileCached(key, () => sparseModule(v));
      e = instantiate<SparseExports>(mod, this.arena);
      this.threads?.register(key, mod);
      this.instances.set(key, e);
    }
    return e;
  }

  /** The module key of a weight layout (PoolCall.key of its kernels). */
  keyFor(codebook: boolean, wideIndex: boolean): string {
    return sparseVariantKey({ codebook, wideIndex, fma: this.fma, shared: this.arena.shared });
  }

  /** Checks a CSR matrix and copies it into the arena. */
  upload(m: CsrMatrix, where = 'sparse weight'): UploadedCsr {
    checkCsr(m, where);
    const d = m.data;
    const codebook = d.kind === 'codebook', wide = m.colIdx instanceof Int32Array;
    return {
      rows: m.rows, cols: m.cols, nnz: nnzOf(m), codebook,
      rowPtr: this.put(m.rowPtr), colIdx: this.put(m.colIdx), vals: this.put(d.kind === 'f32' ? d.values : d.codes),
      table: d.kind === 'codebook' ? this.put(d.centroids) : 0,
      exports: this.exportsFor(codebook, wide), key: this.keyFor(codebook, wide),
    };
  }

  /** Uploads an FC weight W [out × in] (CSR, the layout of Gemm transB=1 / Linear) and its bias. */
  prepareFc(w: CsrMatrix, o: PrepareFcOptions = {}): SparseFcLayer {
    checkCsr(w, 'sparse fc weight');
    if (o.bias && o.bias.length !== w.rows) fail(`sparse fc: bias has ${o.bias.length} values, the weight has ${w.rows} output rows`);
    const batch1 = o.batch1 ?? 'auto';
    if (!['csr', 'csc', 'auto'].includes(batch1)) fail(`sparse fc: batch1='${batch1}'; use 'csr', 'csc' or 'auto'`);
    const nnz = nnzOf(w);
    const csr = this.upload(w, 'sparse fc weight');
    const csc = batch1 === 'csr' ? undefined : this.upload(transposeCsr(w), 'sparse fc weight (transposed)');
    const cscFromZeros = Math.ceil(cscZeroThreshold(w.rows, w.cols, nnz) * w.cols);
    return { out: w.rows, in: w.cols, nnz, batch1, csr, csc, cscFromZeros, bias: o.bias ? this.put(o.bias) : 0 };
  }

  /** Scratch bytes fcAt needs for a batch (Xᵀ for batches > 1). */
  fcScratchBytes(layer: SparseFcLayer, batch: number): number {
    return batch > 1 ? layer.in * batch * 4 : 0;
  }

  /** The batch-1 kernel fcAt runs for the input at byte offset x. */
  batch1KernelFor(layer: SparseFcLayer, x: number): 'csr' | 'csc' {
    if (layer.batch1 !== 'auto') return layer.batch1;
    return layer.csr.exports.zeros(x, layer.in) >= layer.cscFromZeros ? 'csc' : 'csr';
  }

  /** Y[batch×out] at byte offset y from X[batch×in] at x (offsets in the arena). */
  fcAt(layer: SparseFcLayer, batch: number, x: number, y: number, o: SparseRunOptions = {}): void {
    checkBatch('sparse fc', batch);
    const [lo, hi] = epilogueRange(o);
    if (batch === 1) {
      if (this.batch1KernelFor(layer, x) === 'csc') {
        const w = layer.csc!;
        w.exports.spmvT(w.rowPtr, w.colIdx, w.vals, w.table, x, y, layer.bias, layer.in, layer.out, lo, hi);
      } else {
        const w = layer.csr;
        w.exports.spmv(w.rowPtr, w.colIdx, w.vals, w.table, x, y, layer.bias, layer.out, lo, hi);
      }
      return;
    }
    if (batch === 0) return;
    const w = layer.csr;
    this.withScratch(o.scratch, this.fcScratchBytes(layer, batch), (xt) => {
      w.exports.transpose(x, batch, layer.in, xt);
      this.setClamp(lo, hi);
      w.exports.spmm(w.rowPtr, w.colIdx, w.vals, w.table, xt, batch, y, layer.out, layer.bias, layer.out, batch, 1, this.clampAt);
    });
  }

  /** The FC layer on arrays: x [batch×in] → y [batch×out] (copied in and out). */
  fc(layer: SparseFcLayer, batch: number, x: Float32Array, y: Float32Array, o: Omit<SparseRunOptions, 'scratch'> = {}): void {
    checkBatch('sparse fc', batch);
    if (x.length < batch * layer.in) fail(`sparse fc: x has ${x.length} values, needs batch·in = ${batch * layer.in}`);
    if (y.length < batch * layer.out) fail(`sparse fc: y has ${y.length} values, needs batch·out = ${batch * layer.out}`);
    this.inArena(x.subarray(0, batch * layer.in), batch * layer.out, y, (xo, yo) => this.fcAt(layer, batch, xo, yo, o));
  }

  /** Uploads a conv weight: CSR [M × C/group·kh·kw] (OIHW flattened), parameters as the dense conv's. */
  prepareConv(w: CsrMatrix, params: Conv2dParams, o: { bias?: Float32Array } = {}): SparseConvLayer {
    const { Cg, win } = checkConv('sparse conv', params); // H and W come with each call
    const K = Cg * win.kh * win.kw;
    if (w.rows !== params.M || w.cols !== K) {
      fail(`sparse conv: weight is ${w.rows}×${w.cols}, the parameters need M × C/group·kh·kw = ${params.M}×${K}`);
    }
    if (o.bias && o.bias.length !== params.M) fail(`sparse conv: bias has ${o.bias.length} values, needs M = ${params.M}`);
    const direct = isPointwise(win);
    return { params: { ...params }, csr: this.upload(w, 'sparse conv weight'), bias: o.bias ? this.put(o.bias) : 0, direct };
  }

  /** Output shape [N, M, OH, OW] for an N×C×H×W input. */
  convOutShape(layer: SparseConvLayer, N: number, H: number, W: number): [number, number, number, number] {
    const s = convSizes(layer.params, H, W, 'sparse conv');
    return [N, layer.params.M, s.OH, s.OW];
  }

  /** Scratch bytes convAt needs: one group's im2col matrix, + 16 bytes the vector stores may run over. */
  convScratchBytes(layer: SparseConvLayer, H: number, W: number): number {
    const s = convSizes(layer.params, H, W, 'sparse conv');
    return layer.direct ? 0 : s.K * s.P * 4 + 16;
  }

  /**
   * y [N×M×OH×OW] at byte offset y from x [N×C×H×W] at x. A direct (1×1) conv reads
   * x with 16-byte vectors: up to 12 bytes past its end must be readable (arena
   * allocations are).
   */
  convAt(layer: SparseConvLayer, N: number, H: number, W: number, x: number, y: number, o: SparseRunOptions = {}): void {
    checkBatch('sparse conv', N);
    const s = convSizes(layer.params, H, W, 'sparse conv');
    const [lo, hi] = epilogueRange(o);
    this.setClamp(lo, hi);
    this.withScratch(o.scratch, this.convScratchBytes(layer, H, W), (col) => {
      for (let n = 0; n < N; n++) {
        for (let g = 0; g < s.group; g++) this.convGroup(layer, s, H, W, x + (n * layer.params.C + g * s.Cg) * H * W * 4, col, g,
          y + (n * layer.params.M + g * s.Mg) * s.P * 4);
      }
    });
  }

  /** The conv layer on arrays (copied in and out). */
  conv(layer: SparseConvLayer, N: number, H: number, W: number, x: Float32Array, y: Float32Array,
    o: Omit<SparseRunOptions, 'scratch'> = {}): void {
    checkBatch('sparse conv', N);
    const [, M, OH, OW] = this.convOutShape(layer, N, H, W);
    const nx = N * layer.params.C * H * W, ny = N * M * OH * OW;
    if (x.length < nx) fail(`sparse conv: x has ${x.length} values, needs N·C·H·W = ${nx}`);
    if (y.length < ny) fail(`sparse conv: y has ${y.length} values, needs N·M·OH·OW = ${ny}`);
    this.inArena(x.subarray(0, nx), ny, y, (xo, yo) => this.convAt(layer, N, H, W, xo, yo, o));
  }

  /** One group of one image: im2col (unless direct), then rows g·Mg.. of W times it, stored as NCHW rows. */
  private convGroup(layer: SparseConvLayer, s: ConvSizes, H: number, W: number, xg: number, col: number, g: number, yg: number): void {
    const w = layer.csr, e = w.exports, win = s.win;
    if (!layer.direct) e.im2col(xg, s.Cg, H, W, win.kh, win.kw, s.OH, s.OW, win.sh, win.sw, win.dh, win.dw, win.padT, win.padL, col);
    e.spmm(w.rowPtr + g * s.Mg * 4, w.colIdx, w.vals, w.table, layer.direct ? xg : col, s.P, yg, s.P,
      layer.bias ? layer.bias + g * s.Mg * 4 : 0, s.Mg, s.P, 0, this.clampAt);
  }

  private put(data: Int32Array | Uint16Array | Uint8Array | Float32Array): number {
    const off = this.arena.alloc(data.byteLength);
    new Uint8Array(this.arena.memory.buffer, off, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return off;
  }

  private setClamp(lo: number, hi: number): void {
    if (!this.clampView || this.clampView.buffer !== this.arena.memory.buffer) this.clampView = this.arena.f32(this.clampAt, 2);
    this.clampView[0] = lo;
    this.clampView[1] = hi;
  }

  private withScratch(given: number | undefined, bytes: number, body: (at: number) => void): void {
    if (given !== undefined || bytes === 0) { body(given ?? 0); return; }
    const mark = this.arena.used;
    try { body(this.arena.alloc(bytes)); } finally { this.arena.reset(mark); }
  }

  private inArena(x: Float32Array, ny: number, y: Float32Array, body: (x: number, y: number) => void): void {
    const a = this.arena, mark = a.used;
    try {
      const xo = a.allocF32(x.length), yo = a.allocF32(ny);
      a.f32(xo, x.length).set(x);
      body(xo, yo);
      y.set(a.f32(yo, ny));
    } finally {
      a.reset(mark);
    }
  }
}

// ---- cost model ------------------------------------------------------------------

export type FcKernelChoice = 'dense' | 'csr' | 'csc';
export type ConvKernelChoice = 'dense' | 'csr';

export interface FcChoiceOptions {
  /** Expected fraction of zero inputs (after a ReLU often ~0.5, MNIST pixels ~0.8); CSC skips them. Default 0. */
  inputZeros?: number;
}

/**
 * ns per call ≈ Σ count·cost, fitted to `node dist/bench/sparse.js --calibrate` (process
 * CPU time, min of 9 rounds) on the reference machine: 2-core AMD EPYC (AVX-512),
 * Node 20, one thread, no relaxed SIMD. Dense = the packed GEMM of gemm.ts (packA +
 * gemmPacked; rows padded to 4, columns to 8; at batch 1 it streams the weights).
 *
 * Measured dense/sparse crossover (sparse CSR wins at or below this density):
 *   batch   784→300  300→100  100→10
 *     1      0.35     0.35     always   (CSC with ≥ 50% zero inputs moves it to ~0.5)
 *     4      0.25     0.25     0.5
 *    16      0.5      0.7      always
 *    64      0.5      0.5      always
 * At 8% density (pruned LeNet-300-100) sparse is 4.7× (batch 1), 3.4× (4), 7.5× (16)
 * and 6.2× (64) faster than dense on 784→300.
 * Conv, one image (dense = conv.ts's im2col + GEMM conv): sparse wins from 0.5 on
 * LeNet-5 conv2 (20→50, 5×5, 12×12), 3×3 32→64 on 16×16 and 1×1 64→64 on 14×14;
 * at 8% it is 3.6×, 4.8× and 4.1× faster (im2col is then half of the sparse time).
 */
const COST = {
  denseWeightB1: 0.1, // the GEMM's other costs: gemm.ts GEMM_COST
  sparseCall: 30,
  spmvNnz: 0.3, spmvRow: 5,
  spmvTNnz: 0.5, spmvTIn: 2.5, spmvTZero: 1, spmvTOut: 0.3,
  spmmMac4: 0.08, spmmMac1: 0.14, spmmRowTile: 4.2, transposeElem: 0.2,
};

function checkCounts(what: string, dims: [string, number][]): void {
  for (const [k, v] of dims) if (!Number.isInteger(v) || v < 0) fail(`${what}: ${k}=${v} must be a non-negative integer`);
}

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/** CSR × dense B of `width` columns: 16-column tiles, then 4-column ones (sparse_codegen.ts SPMM_TILES). */
function spmmCost(rows: number, nnz: number, width: number): number {
  const wide = Math.floor(width / 16), rest = width % 16;
  return COST.sparseCall + nnz * spmmWeightNs(width) + COST.spmmRowTile * rows * (wide + Math.ceil(rest / 4));
}

/** ns per stored weight of an spmm over `width` columns (16-column tiles, then 4-column ones). */
export function spmmWeightNs(width: number): number {
  return 16 * Math.floor(width / 16) * COST.spmmMac4 + roundUp(width % 16, 4) * COST.spmmMac1;
}

/** Estimated ns per call of each kernel for Y[batch×out] = X[batch×in]·Wᵀ with nnz stored weights. */
export function fcKernelCosts(out: number, inDim: number, nnz: number, batch: number, o: FcChoiceOptions = {}): Record<FcKernelChoice, number> {
  checkCounts('fcKernelCosts', [['out', out], ['in', inDim], ['nnz', nnz], ['batch', batch]]);
  if (nnz > out * inDim) fail(`fcKernelCosts: nnz=${nnz} exceeds out·in = ${out * inDim}`);
  const z = Math.min(1, Math.max(0, o.inputZeros ?? 0));
  if (batch <= 1) {
    return {
      dense: GEMM_COST.call + COST.denseWeightB1 * roundUp(out, 8) * inDim,
      csr: COST.sparseCall + COST.spmvNnz * nnz + COST.spmvRow * out,
      csc: COST.sparseCall + (COST.spmvTNnz * nnz + COST.spmvTIn * inDim) * (1 - z) + COST.spmvTZero * inDim * z + COST.spmvTOut * out,
    };
  }
  return {
    dense: gemmNs(batch, out, inDim),
    csr: spmmCost(out, nnz, batch) + COST.transposeElem * inDim * batch,
    csc: Infinity,
  };
}

/** The fastest kernel for an FC layer (batch > 1 never picks 'csc'). */
export function chooseFcKernel(out: number, inDim: number, nnz: number, batch: number, o: FcChoiceOptions = {}): FcKernelChoice {
  const c = fcKernelCosts(out, inDim, nnz, batch, o);
  return c.csr <= c.dense && c.csr <= c.csc ? 'csr' : c.csc < c.dense ? 'csc' : 'dense';
}

/** Fraction of zero inputs from which the batch-1 CSC kernel beats CSR (1 = never). */
export function cscZeroThreshold(out: number, inDim: number, nnz: number): number {
  const at = (z: number) => fcKernelCosts(out, inDim, nnz, 1, { inputZeros: z });
  const c0 = at(0), c1 = at(1);
  // csc(z) is linear in z: solve csc(z) = csr
  if (c0.csc <= c0.csr) return 0;
  if (c1.csc > c1.csr) return 1;
  return (c0.csc - c0.csr) / (c0.csc - c1.csc);
}

/** Estimated ns per image and group: W [mg × k] (nnz stored) times the im2col matrix [k × pixels]. */
export function convKernelCosts(mg: number, k: number, nnz: number, pixels: number): Record<ConvKernelChoice, number> {
  checkCounts('convKernelCosts', [['M/group', mg], ['K', k], ['nnz', nnz], ['pixels', pixels]]);
  if (nnz > mg * k) fail(`convKernelCosts: nnz=${nnz} exceeds (M/group)·K = ${mg * k}`);
  return {
    dense: gemmNs(mg, pixels, k),
    csr: spmmCost(mg, nnz, pixels),
  };
}

/** The faster kernel for a conv group (the im2col pass costs both the same and is left out). */
export function chooseConvKernel(mg: number, k: number, nnz: number, pixels: number): ConvKernelChoice {
  const c = convKernelCosts(mg, k, nnz, pixels);
  return c.csr < c.dense ? 'csr' : 'dense';
}
