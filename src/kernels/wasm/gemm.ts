// The f32 GEMM in WebAssembly: C[M×N] = op(A)·op(B) (+ bias) (+ clamp), row-major.
// Two levels of API:
//  - offsets: packA / packB / gemmPacked work on byte offsets within the arena's
//    memory, so a runtime whose tensors live there pays no copy;
//  - arrays: sgemm() copies Float32Arrays in and out (tests, training, callers
//    outside the runtime), and prepackB() keeps constant weights packed once.
import { fail } from '../../ir/errors.js';
import { WasmArena } from './arena.js';
import { wasmFeatures } from './features.js';
import { BIAS, GEMM_EXPORTS, gemmModule, gemmScratchBytes, type GemmVariant } from './gemm_codegen.js';
import { compileCached, instantiate } from './loader.js';
import { CHUNKS_PER_THREAD, type PoolCall, type ThreadPool } from './thread_pool.js';

/** The tuned default tile (see bench/gemm.ts); fma follows the engine. */
export const DEFAULT_GEMM_VARIANT: Omit<GemmVariant, 'fma' | 'shared'> = { mr: 4, nr: 8, unroll: 1, kc: 512, mc: 256 };

/**
 * The packed GEMM's cost: ns per call and per multiply-add of the tiles (rows padded
 * to MR = 4, columns to NR = 8), fitted with the sparse kernels' (sparse.ts) on the
 * reference machine: 2-core AMD EPYC, Node 20, one thread, no relaxed SIMD.
 */
export const GEMM_COST = { call: 400, mac: 0.045 };

/** Estimated ns of C[M×N] = A[M×K]·B[K×N] on packed operands. */
export function gemmNs(M: number, N: number, K: number): number {
  const { mr, nr } = DEFAULT_GEMM_VARIANT;
  return GEMM_COST.call + GEMM_COST.mac * Math.ceil(M / mr) * mr * K * Math.ceil(N / nr) * nr;
}

/** Registers V8 can allocate to a kernel's vectors on x64 (xmm0-14; xmm15 is its scratch register). */
const VECTOR_REGISTERS = 15;

/**
 * The tile shapes worth trying (the auto-tuner's search space; every one is
 * tested): V8 loads a whole K step before computing, so accumulators
 * (mr·nr/4), B vectors (nr/4) and A broadcasts (mr) must all fit in registers.
 */
export function gemmTiles(): { mr: number; nr: number }[] {
  const tiles: { mr: number; nr: number }[] = [];
  for (const nr of [4, 8, 12, 16]) {
    for (let mr = 1; mr <= 8; mr++) if ((mr * nr) / 4 + nr / 4 + mr <= VECTOR_REGISTERS) tiles.push({ mr, nr });
  }
  return tiles;
}

export interface GemmExports {
  packA(a: number, lda: number, iContiguous: number, rows: number, depth: number, dst: number): void;
  packB(b: number, ldb: number, iContiguous: number, rows: number, depth: number, dst: number): void;
  gemm(pa: number, pb: number, c: number, ldc: number, M: number, N: number, K: number, bias: number, biasMode: number,
    accumulate: number, clamp: number, lo: number, hi: number, scratch: number): void;
  gemmStrided(pa: number, pb: number, c: number, ldc: number, M: number, N: number, K: number, bias: number, biasMode: number,
    accumulate: number, clamp: number, lo: number, hi: number, scratch: number, count: number, strideA: number, strideB: number,
    strideC: number): void;
}

/** `count` GEMMs of one shape whose A, B and C lie a fixed number of bytes apart. */
export interface GemmBatch { count: number; strideA: number; strideB: number; strideC: number }

export interface GemmOptions {
  /** A is stored K×M (use its transpose). */
  transA?: boolean;
  /** B is stored N×K (use its transpose) — the layout of ONNX Gemm weights with transB=1. */
  transB?: boolean;
  /** Bias added per column (length N, the usual layer bias) or per row (length M, a conv's output channels). */
  bias?: Float32Array;
  biasPer?: 'col' | 'row';
  /** Add the product into C instead of overwriting it. */
  accumulate?: boolean;
  /** Clamp the result: relu = [0, +inf]; clip = [min, max]. */
  relu?: boolean;
  clip?: [min: number, max: number];
}

/** The clamp range the options ask for, or undefined for none. */
export function clampRange(opts: GemmOptions): [number, number] | undefined {
  if (opts.clip) {
    const [lo, hi] = opts.clip;
    return opts.relu ? [Math.max(0, lo), hi] : [lo, hi];
  }
  return opts.relu ? [0, Infinity] : undefined;
}

/** Epilogue options of the offset-level API. */
export interface PackedGemmOptions {
  /** Byte offset of the bias (0 = none) and whether it is per column (N values) or per row (M values). */
  bias?: number;
  biasPer?: 'col' | 'row';
  accumulate?: boolean;
  clamp?: [lo: number, hi: number];
  /** Row stride of C in elements (default N). */
  ldc?: number;
}

/** A B matrix packed once (weights are constant at inference). */
export interface PackedB {
  readonly offset: number;
  readonly K: number;
  readonly N: number;
}

export interface WasmGemmOptions {
  /** Memory to work in (default: the thread pool's arena, else a new private one). */
  arena?: WasmArena;
  /** Tile shape and tuning overrides (tests and the auto-tuner). */
  variant?: Partial<GemmVariant>;
  /** Worker threads sharing the arena's memory (see thread_pool_node.ts). */
  threads?: ThreadPool;
}

export function resolveGemmVariant(arena: WasmArena, over: Partial<GemmVariant> = {}): GemmVariant {
  const v = { ...DEFAULT_GEMM_VARIANT, fma: wasmFeatures().relaxedSimd, ...over, shared: arena.shared };
  return { ...v, mc: Math.max(v.mr, v.mc - (v.mc % v.mr)) }; // an M block holds whole A panels
}

export function gemmVariantKey(v: GemmVariant): string {
  return `gemm:mr${v.mr}:nr${v.nr}:u${v.unroll}:kc${v.kc}:mc${v.mc}:${v.fma ? 'fma' : 'muladd'}:${v.shared ? 'shared' : 'private'}`;
}

function checkDims(what: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 0) fail(`${what}: ${k}=${v} must be a non-negative integer`);
  }
}

function checkLength(what: string, name: string, arr: Float32Array, n: number): void {
  if (arr.length < n) fail(`${what}: ${name} has ${arr.length} values, needs ${n}; check the shapes`);
}

export class WasmGemm {
  readonly arena: WasmArena;
  readonly variant: GemmVariant;
  readonly exports: GemmExports;
  readonly threads?: ThreadPool;
  private readonly scratch: number[]; // per thread
  private readonly chunkScratch: number[]; // per chunk of a dynamically scheduled GEMM
  /** The module's key in the thread pool (its calls name it). */
  readonly key: string;

  constructor(opts: WasmGemmOptions = {}) {
    if (!wasmFeatures().simd) fail('wasm gemm: this engine has no WebAssembly SIMD; use a newer Node (>= 16.4) or browser');
    this.arena = opts.arena ?? opts.threads?.arena ?? new WasmArena({ maximumBytes: 1 << 30 });
    if (opts.threads && opts.threads.arena !== this.arena) fail('wasm gemm: the thread pool works on another arena; pass the same one');
    this.variant = resolveGemmVariant(this.arena, opts.variant);
    this.key = gemmVariantKey(this.variant);
    const mod = compileCached(this.key, () => gemmModule(this.variant));
    this.exports = instantiate<GemmExports>(mod, this.arena);
    this.threads = opts.threads;
    this.scratch = Array.from({ length: this.threads?.size ?? 1 }, () => this.arena.alloc(this.scratchBytes()));
    const chunks = this.threads && this.threads.size > 1 ? CHUNKS_PER_THREAD * this.threads.size : 0;
    this.chunkScratch = Array.from({ length: chunks }, () => this.arena.alloc(this.scratchBytes()));
    this.threads?.register(this.key, mod);
  }

  /** Bytes of per-thread scratch the driver needs (an edge tile and its bias). */
  scratchBytes(): number {
    return gemmScratchBytes(this.variant);
  }

  packedASize(M: number, K: number): number {
    return Math.ceil(M / this.variant.mr) * this.variant.mr * K * 4;
  }

  packedBSize(K: number, N: number): number {
    return Math.ceil(N / this.variant.nr) * this.variant.nr * K * 4;
  }

  /** Packs op(A) (M×K; stored K×M when transA) from byte offset `a` into `dst`. */
  packA(a: number, lda: number, transA: boolean, M: number, K: number, dst: number): void {
    this.exports.packA(a, lda, transA ? 1 : 0, M, K, dst);
  }

  /** Packs op(B) (K×N; stored N×K when transB) from byte offset `b` into `dst`. */
  packB(b: number, ldb: number, transB: boolean, K: number, N: number, dst: number): void {
    this.exports.packB(b, ldb, transB ? 0 : 1, N, K, dst);
  }

  /** C (at byte offset c) from packed A and B; all offsets are bytes in the arena's memory. Split over the pool's threads if any. */
  gemmPacked(M: number, N: number, K: number, pa: number, pb: number, c: number, o: PackedGemmOptions = {}): void {
    this.gemmWith(gemmArgs(M, N, K, pa, pb, c, o));
  }

  /** gemmPacked with the driver's arguments already assembled. */
  gemmWith(args: GemmArgs): void {
    const { M, N, K } = args;
    const pool = this.threads;
    if (pool && pool.size > 1 && worthSplitting(M, N, K)) {
      // more chunks than threads, taken dynamically: a late worker cannot hold the caller up for long
      const chunks = splitGemm(args, this.variant, this.chunkScratch.length).filter((g) => g.M > 0 && g.N > 0);
      pool.runDynamic(chunks.map((g, i) => this.callWithScratch(g, this.chunkScratch[i])));
    } else {
      callGemm(this.exports, args, this.scratch[0]);
    }
  }

  /** The pool call that runs one (unsplit) GEMM on thread t, for callers that schedule their own work per thread. */
  call(g: GemmArgs, thread: number): PoolCall {
    return this.callWithScratch(g, this.scratch[thread]);
  }

  /**
   * The pool call that runs one (unsplit) GEMM as chunk `i` of a dynamically scheduled run (any thread
   * may take it): chunk i's own scratch; i < CHUNKS_PER_THREAD × the pool's threads.
   */
  chunkCall(g: GemmArgs, i: number): PoolCall {
    if (!(i < this.chunkScratch.length)) throw new Error(`wasm gemm: chunk ${i} of a dynamic run; this pool has scratch for ${this.chunkScratch.length}`);
    return this.callWithScratch(g, this.chunkScratch[i]);
  }

  /** The same with a scratch area of the caller's (scratchBytes() at that offset), e.g. one per dynamically scheduled item. */
  callWithScratch(g: GemmArgs, scratch: number): PoolCall {
    return { key: this.key, fn: GEMM_EXPORTS.gemm, args: gemmArgList(g, scratch) };
  }

  /** The pool call that runs a batch of GEMMs (g is the first) with the scratch at `scratch`. */
  stridedCall(g: GemmArgs, b: GemmBatch, scratch: number): PoolCall {
    return { key: this.key, fn: GEMM_EXPORTS.gemmStrided, args: [...gemmArgList(g, scratch), b.count, b.strideA, b.strideB, b.strideC] };
  }

  /** Pool calls for packA / packB (same arguments as the methods). */
  packACall(a: number, lda: number, transA: boolean, M: number, K: number, dst: number): PoolCall {
    return { key: this.key, fn: GEMM_EXPORTS.packA, args: [a, lda, transA ? 1 : 0, M, K, dst] };
  }

  packBCall(b: number, ldb: number, transB: boolean, K: number, N: number, dst: number): PoolCall {
    return { key: this.key, fn: GEMM_EXPORTS.packB, args: [b, ldb, transB ? 0 : 1, N, K, dst] };
  }

  /** Packs constant weights B once; the result lives in the arena until it is reset. */
  prepackB(b: Float32Array, K: number, N: number, transB = false): PackedB {
    checkDims('prepackB', { K, N });
    checkLength('prepackB', 'B', b, K * N);
    const dst = this.arena.alloc(this.packedBSize(K, N));
    const src = this.arena.allocF32(K * N);
    this.arena.f32(src, K * N).set(b.subarray(0, K * N));
    this.packB(src, transB ? K : N, transB, K, N, dst);
    this.arena.reset(src); // drop the unpacked copy, keep the panels
    return { offset: dst, K, N };
  }

  /** C = op(A)·B with B prepacked (inference with constant weights). */
  sgemmPackedB(M: number, b: PackedB, a: Float32Array, c: Float32Array, opts: Omit<GemmOptions, 'transB'> = {}): void {
    this.run('sgemmPackedB', M, b.N, b.K, a, undefined, c, opts, b.offset);
  }

  /** C[M×N] = op(A)·op(B) (+ C) (+ bias) then relu/clip, on Float32Arrays (copied in and out). */
  sgemm(M: number, N: number, K: number, a: Float32Array, b: Float32Array, c: Float32Array, opts: GemmOptions = {}): void {
    this.run('sgemm', M, N, K, a, b, c, opts);
  }

  private run(what: string, M: number, N: number, K: number, a: Float32Array, b: Float32Array | undefined,
    c: Float32Array, opts: GemmOptions, packedB?: number): void {
    checkDims(what, { M, N, K });
    checkLength(what, 'A', a, M * K);
    if (b) checkLength(what, 'B', b, K * N);
    checkLength(what, 'C', c, M * N);
    if (opts.bias) checkLength(what, 'bias', opts.bias, opts.biasPer === 'row' ? M : N);
    const ar = this.arena;
    const mark = ar.used;
    try {
      const aOff = ar.allocF32(M * K), pa = ar.alloc(this.packedASize(M, K)), cOff = ar.allocF32(M * N);
      const biasOff = opts.bias ? ar.allocF32(opts.bias.length) : 0;
      let pb = packedB ?? 0;
      let bOff = 0;
      if (b) { bOff = ar.allocF32(K * N); pb = ar.alloc(this.packedBSize(K, N)); }
      ar.f32(aOff, M * K).set(a.subarray(0, M * K));
      if (b) ar.f32(bOff, K * N).set(b.subarray(0, K * N));
      if (opts.accumulate) ar.f32(cOff, M * N).set(c.subarray(0, M * N));
      if (opts.bias) ar.f32(biasOff, opts.bias.length).set(opts.bias);
      this.packA(aOff, opts.transA ? M : K, opts.transA ?? false, M, K, pa);
      if (b) this.packB(bOff, opts.transB ? K : N, opts.transB ?? false, K, N, pb);
      this.gemmPacked(M, N, K, pa, pb, cOff, {
        bias: biasOff, biasPer: opts.biasPer, accumulate: opts.accumulate, clamp: clampRange(opts),
      });
      c.set(ar.f32(cOff, M * N));
    } finally {
      ar.reset(mark);
    }
  }
}

/** Driver arguments from the offset API's options. */
export function gemmArgs(M: number, N: number, K: number, pa: number, pb: number, c: number, o: PackedGemmOptions = {}): GemmArgs {
  const [lo, hi] = o.clamp ?? [-Infinity, Infinity];
  return {
    pa, pb, c, ldc: o.ldc ?? N, M, N, K, bias: o.bias ?? 0, mode: o.bias ? BIAS[o.biasPer ?? 'col'] : BIAS.none,
    acc: o.accumulate ? 1 : 0, clamp: o.clamp ? 1 : 0, lo, hi,
  };
}

/** Arguments of one driver call, in the order of the wasm export. */
export interface GemmArgs {
  pa: number; pb: number; c: number; ldc: number; M: number; N: number; K: number;
  bias: number; mode: number; acc: number; clamp: number; lo: number; hi: number;
}

export function callGemm(e: GemmExports, g: GemmArgs, scratch: number): void {
  e.gemm(g.pa, g.pb, g.c, g.ldc, g.M, g.N, g.K, g.bias, g.mode, g.acc, g.clamp, g.lo, g.hi, scratch);
}

function gemmArgList(g: GemmArgs, scratch: number): number[] {
  return [g.pa, g.pb, g.c, g.ldc, g.M, g.N, g.K, g.bias, g.mode, g.acc, g.clamp, g.lo, g.hi, scratch];
}

/**
 * Splits one GEMM into `parts` independent ones over whole panels: along N (B
 * panels) when it has at least as many panels as M, else along M (A panels).
 * Empty parts get M = 0 or N = 0 (the driver then does nothing).
 */
export function splitGemm(g: GemmArgs, v: Pick<GemmVariant, 'mr' | 'nr'>, parts: number): GemmArgs[] {
  const panelsN = Math.ceil(g.N / v.nr), panelsM = Math.ceil(g.M / v.mr);
  const alongN = panelsN >= panelsM;
  const panels = alongN ? panelsN : panelsM;
  const out: GemmArgs[] = [];
  for (let t = 0; t < parts; t++) {
    const p0 = Math.floor((t * panels) / parts), p1 = Math.floor(((t + 1) * panels) / parts);
    if (alongN) {
      const j0 = p0 * v.nr, j1 = Math.min(g.N, p1 * v.nr);
      out.push({ ...g, N: Math.max(0, j1 - j0), pb: g.pb + p0 * g.K * v.nr * 4, c: g.c + j0 * 4,
        bias: g.mode === BIAS.col ? g.bias + j0 * 4 : g.bias });
    } else {
      const i0 = p0 * v.mr, i1 = Math.min(g.M, p1 * v.mr);
      out.push({ ...g, M: Math.max(0, i1 - i0), pa: g.pa + p0 * g.K * v.mr * 4, c: g.c + i0 * g.ldc * 4,
        bias: g.mode === BIAS.row ? g.bias + i0 * 4 : g.bias });
    }
  }
  return out;
}


/** Below ~1 MFLOP the thread hand-off costs more than it saves. */
function worthSplitting(M: number, N: number, K: number): boolean {
  return 2 * M * N * K >= 1 << 20;
}
