// Sparse and codebook layers in WebAssembly: pruned / weight-shared FC and conv
// layers run on their CSR weights, never densified. Two levels of API, as gemm.ts:
//  - offsets: fcAt / convAt work on byte offsets within the arena's memory;
//  - arrays:  fc / conv copy Float32Arrays in and out (tests, callers outside the runtime).
// Weights are uploaded once (prepareFc / prepareConv) and stay in the arena.
// chooseFcKernel / chooseConvKernel say when sparse beats the dense GEMM.
import { fail } from '../../ir/errors.js';
import { checkCsr, nnzOf, transposeCsr, type CsrMatrix } from '../sparse_format.js';
import { WasmArena } from './arena.js';
import { wasmFeatures } from './features.js';
import { compileCached, instantiate } from './loader.js';
import { sparseModule, sparseVariantKey, type SparseVariant } from './sparse_codegen.js';
import { convSizes, epilogueRange, type ConvGeometry, type ConvSizes, type SparseEpilogue } from './sparse_ref.js';

export type { ConvGeometry } from './sparse_ref.js';

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
}

// ---- cost model ------------------------------------------------------------------

export type FcKernel = 'dense' | 'csr' | 'csc';
export type ConvKernel = 'dense' | 'csr';

export interface FcChoiceOptions {
  /** Expected fraction of zero inputs (after a ReLU ~0.5, MNIST pixels ~0.8); the CSC kernel skips them. Default 0. */
  inputZeros?: number;
}

/**
 * Measured on this project's reference machine (2-core AMD EPYC, AVX-512, Node 20,
 * single thread; bench/sparse.ts --calibrate), time per call ≈ fixed + per-unit costs, ns.
 * Dense: helper-3's packed GEMM; its M is padded to whole 4-row panels.
 */
const COST = {
  denseMac: 0.09, denseFixed: 150,
  spmvNnz: 0.55, spmvRow: 2.0, spmvFixed: 40,
  spmvTNnz: 0.75, spmvTIn: 0.9, spmvTOut: 0.25, spmvTFixed: 40,
  spmmNnzCol: 0.11, spmmRowTile: 3, spmmTranspose: 0.5, spmmFixed: 80,
};

function checkCounts(what: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) if (!Number.isInteger(v) || v < 0) fail(`${what}: ${k}=${v} must be a non-negative integer`);
}

/** Estimated ns per call of each kernel for an FC layer (the cost model behind chooseFcKernel). */
export function fcKernelCosts(out: number, inDim: number, nnz: number, batch: number, o: FcChoiceOptions = {}): Record<FcKernel, number> {
  const z = Math.min(1, Math.max(0, o.inputZeros ?? 0));
  const tiles = Math.ceil(batch / 32) + (batch % 32 ? 1 : 0);
  const dense = COST.denseFixed + COST.denseMac * out * inDim * Math.ceil(batch / 4) * 4;
  const batched = COST.spmmFixed + COST.spmmNnzCol * nnz * Math.max(4, Math.ceil(batch / 4) * 4) +
    COST.spmmRowTile * out * tiles + COST.spmmTranspose * inDim * batch;
  const csr = batch === 1 ? COST.spmvFixed + COST.spmvNnz * nnz + COST.spmvRow * out : batched;
  const csc = batch === 1 ? COST.spmvTFixed + COST.spmvTNnz * nnz * (1 - z) + COST.spmvTIn * inDim + COST.spmvTOut * out : Infinity;
  return { dense, csr, csc };
}

/** The fastest kernel for Y[batch×out] = X[batch×in]·Wᵀ with nnz stored weights. */
export function chooseFcKernel(out: number, inDim: number, nnz: number, batch: number, o: FcChoiceOptions = {}): FcKernel {
  checkCounts('chooseFcKernel', { out, in: inDim, nnz, batch });
  if (nnz > out * inDim) fail(`chooseFcKernel: nnz=${nnz} exceeds out·in = ${out * inDim}`);
  const costs = fcKernelCosts(out, inDim, nnz, batch, o);
  return (Object.keys(costs) as FcKernel[]).reduce((best, k) => (costs[k] < costs[best] ? k : best), 'dense');
}

/** The faster kernel for a conv (per group: W [cout × k] with nnz stored weights, times im2col [k × pixels]). */
export function chooseConvKernel(cout: number, k: number, nnz: number, pixels: number, batch = 1): ConvKernel {
  checkCounts('chooseConvKernel', { cout, k, nnz, pixels, batch });
  if (nnz > cout * k) fail(`chooseConvKernel: nnz=${nnz} exceeds cout·k = ${cout * k}`);
  const dense = COST.denseMac * Math.ceil(cout / 4) * 4 * k * pixels;
  const sparse = COST.spmmNnzCol * nnz * Math.ceil(pixels / 4) * 4 + COST.spmmRowTile * cout * Math.ceil(pixels / 32);
  return sparse < dense ? 'csr' : 'dense';
}

// ---- weights in the arena ----------------------------------------------------------

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
}

export interface SparseFcLayer {
  readonly out: number;
  readonly in: number;
  readonly nnz: number;
  /** The batch-1 kernel: CSR gathers, or CSC scatter (skips zero inputs). Batches > 1 use CSR × Xᵀ. */
  readonly batch1: 'csr' | 'csc';
  readonly csr: UploadedCsr;
  readonly csc?: UploadedCsr;
  /** Byte offset of the bias (0 = none). */
  readonly bias: number;
}

export interface SparseConvLayer {
  readonly geometry: ConvGeometry;
  readonly sizes: ConvSizes;
  readonly csr: UploadedCsr;
  readonly bias: number;
  /** A 1×1, unit-stride, unpadded conv reads its input as the im2col matrix. */
  readonly direct: boolean;
}

export interface PrepareFcOptions {
  bias?: Float32Array;
  /** Batch-1 kernel (default: chooseFcKernel's pick between the two, with inputZeros). */
  batch1?: 'csr' | 'csc';
  inputZeros?: number;
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
}

export class WasmSparse {
  readonly arena: WasmArena;
  readonly fma: boolean;
  private readonly instances = new Map<string, SparseExports>();
  /** 8 bytes for the spmm clamp bounds (read through memory, see sparse_codegen.ts). */
  private readonly clampAt: number;
  private clampView?: Float32Array;

  constructor(opts: WasmSparseOptions = {}) {
    if (!wasmFeatures().simd) fail('wasm sparse: this engine has no WebAssembly SIMD; use a newer Node (>= 16.4) or browser');
    this.arena = opts.arena ?? new WasmArena({ maximumBytes: 1 << 30 });
    this.fma = opts.fma ?? wasmFeatures().relaxedSimd;
    this.clampAt = this.arena.alloc(16);
  }

  /** The compiled kernels for one weight layout (compiled once per process, instantiated once per arena). */
  exportsFor(codebook: boolean, wideIndex: boolean): SparseExports {
    const v: SparseVariant = { codebook, wideIndex, fma: this.fma, shared: this.arena.shared };
    const key = sparseVariantKey(v);
    let e = this.instances.get(key);
    if (!e) {
      e = instantiate<SparseExports>(compileCached(key, () => sparseModule(v)), this.arena);
      this.instances.set(key, e);
    }
    return e;
  }

  /** Checks a CSR matrix and copies it into the arena. */
  upload(m: CsrMatrix, where = 'sparse weight'): UploadedCsr {
    checkCsr(m, where);
    const nnz = nnzOf(m);
    const rowPtr = this.put(m.rowPtr);
    const colIdx = this.put(m.colIdx);
    const d = m.data;
    const vals = this.put(d.kind === 'f32' ? d.values : d.codes);
    const table = d.kind === 'codebook' ? this.put(d.centroids) : 0;
    const wide = m.colIdx instanceof Int32Array;
    return { rows: m.rows, cols: m.cols, nnz, codebook: d.kind === 'codebook', rowPtr, colIdx, vals, table, exports: this.exportsFor(d.kind === 'codebook', wide) };
  }

  /** Uploads an FC weight W [out × in] (CSR) and its bias. */
  prepareFc(w: CsrMatrix, o: PrepareFcOptions = {}): SparseFcLayer {
    checkCsr(w, 'sparse fc weight');
    if (o.bias && o.bias.length !== w.rows) fail(`sparse fc: bias has ${o.bias.length} values, the weight has ${w.rows} output rows`);
    const nnz = nnzOf(w);
    const batch1 = o.batch1 ?? (chooseFcKernel(w.rows, w.cols, nnz, 1, { inputZeros: o.inputZeros }) === 'csc' ? 'csc' : 'csr');
    const csr = this.upload(w, 'sparse fc weight');
    const csc = batch1 === 'csc' ? this.upload(transposeCsr(w), 'sparse fc weight (transposed)') : undefined;
    return { out: w.rows, in: w.cols, nnz, batch1, csr, csc, bias: o.bias ? this.put(o.bias) : 0 };
  }

  /** Scratch bytes fcAt needs for a batch (Xᵀ for batches > 1). */
  fcScratchBytes(layer: SparseFcLayer, batch: number): number {
    return batch > 1 ? layer.in * batch * 4 : 0;
  }

  /** Y[batch×out] at byte offset y from X[batch×in] at x (offsets in the arena). */
  fcAt(layer: SparseFcLayer, batch: number, x: number, y: number, o: SparseRunOptions = {}): void {
    checkCounts('sparse fc', { batch });
    const [lo, hi] = epilogueRange(o);
    if (batch === 0) return;
    if (batch === 1) {
      const w = layer.batch1 === 'csc' ? layer.csc! : layer.csr;
      if (layer.batch1 === 'csc') w.exports.spmvT(w.rowPtr, w.colIdx, w.vals, w.table, x, y, layer.bias, layer.in, layer.out, lo, hi);
      else w.exports.spmv(w.rowPtr, w.colIdx, w.vals, w.table, x, y, layer.bias, layer.out, lo, hi);
      return;
    }
    const w = layer.csr;
    this.withScratch(o.scratch, this.fcScratchBytes(layer, batch), (xt) => {
      w.exports.transpose(x, batch, layer.in, xt);
      this.setClamp(lo, hi);
      w.exports.spmm(w.rowPtr, w.colIdx, w.vals, w.table, xt, batch, y, layer.out, layer.bias, layer.out, batch, 1, this.clampAt);
    });
  }

  /** The FC layer on arrays: x [batch×in] → y [batch×out] (copied in and out). */
  fc(layer: SparseFcLayer, batch: number, x: Float32Array, y: Float32Array, o: Omit<SparseRunOptions, 'scratch'> = {}): void {
    checkCounts('sparse fc', { batch });
    if (x.length < batch * layer.in) fail(`sparse fc: x has ${x.length} values, needs batch·in = ${batch * layer.in}`);
    if (y.length < batch * layer.out) fail(`sparse fc: y has ${y.length} values, needs batch·out = ${batch * layer.out}`);
    this.inArena(x.subarray(0, batch * layer.in), batch * layer.out, y, (xo, yo) => this.fcAt(layer, batch, xo, yo, o));
  }

  /** Uploads a conv weight (CSR [Cout × C/group·KH·KW], OIHW flattened) for a geometry. */
  prepareConv(w: CsrMatrix, geometry: ConvGeometry, o: { bias?: Float32Array } = {}): SparseConvLayer {
    const sizes = convSizes(geometry);
    if (w.rows !== geometry.Cout || w.cols !== sizes.K) {
      fail(`sparse conv: weight is ${w.rows}×${w.cols}, the geometry needs Cout × C/group·KH·KW = ${geometry.Cout}×${sizes.K}`);
    }
    if (o.bias && o.bias.length !== geometry.Cout) fail(`sparse conv: bias has ${o.bias.length} values, needs Cout = ${geometry.Cout}`);
    const g = geometry;
    const direct = g.KH === 1 && g.KW === 1 && g.strides.every((s) => s === 1) && g.pads.every((p) => p === 0);
    return { geometry: { ...g }, sizes, csr: this.upload(w, 'sparse conv weight'), bias: o.bias ? this.put(o.bias) : 0, direct };
  }

  /** Scratch bytes convAt needs (one group's im2col matrix). */
  convScratchBytes(layer: SparseConvLayer): number {
    return layer.direct ? 0 : layer.sizes.K * layer.sizes.P * 4;
  }

  /**
   * y [batch×Cout×OH×OW] at byte offset y from x [batch×C×H×W] at x. A direct (1×1)
   * conv reads x with 16-byte vectors: up to 12 bytes past its end must be readable.
   */
  convAt(layer: SparseConvLayer, batch: number, x: number, y: number, o: SparseRunOptions = {}): void {
    checkCounts('sparse conv', { batch });
    const g = layer.geometry, s = layer.sizes, w = layer.csr, e = w.exports;
    const [lo, hi] = epilogueRange(o);
    this.setClamp(lo, hi);
    this.withScratch(o.scratch, this.convScratchBytes(layer), (col) => {
      for (let n = 0; n < batch; n++) {
        for (let grp = 0; grp < g.group; grp++) {
          const xg = x + (n * g.C + grp * s.cg) * g.H * g.W * 4;
          if (!layer.direct) {
            e.im2col(xg, s.cg, g.H, g.W, g.KH, g.KW, s.OH, s.OW, g.strides[0], g.strides[1], g.dilations[0], g.dilations[1],
              g.pads[0], g.pads[1], col);
          }
          e.spmm(w.rowPtr + grp * s.mg * 4, w.colIdx, w.vals, w.table, layer.direct ? xg : col, s.P,
            y + (n * g.Cout + grp * s.mg) * s.P * 4, s.P, layer.bias ? layer.bias + grp * s.mg * 4 : 0, s.mg, s.P, 0, this.clampAt);
        }
      }
    });
  }

  /** The conv layer on arrays (copied in and out). */
  conv(layer: SparseConvLayer, batch: number, x: Float32Array, y: Float32Array, o: Omit<SparseRunOptions, 'scratch'> = {}): void {
    checkCounts('sparse conv', { batch });
    const g = layer.geometry, s = layer.sizes;
    const nx = batch * g.C * g.H * g.W, ny = batch * g.Cout * s.P;
    if (x.length < nx) fail(`sparse conv: x has ${x.length} values, needs N·C·H·W = ${nx}`);
    if (y.length < ny) fail(`sparse conv: y has ${y.length} values, needs N·Cout·OH·OW = ${ny}`);
    this.inArena(x.subarray(0, nx), ny, y, (xo, yo) => this.convAt(layer, batch, xo, yo, o));
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
