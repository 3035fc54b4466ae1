// The integer GEMM in WebAssembly (qgemm_codegen.ts): int8 / uint8 operands,
// int32 accumulators, a requantizing epilogue. Offset-level calls for the runtime
// (packA / packB / gemm on arena offsets, constant weights packed once) and an
// array-level qgemm() for tests and callers outside the runtime.
//
// The kernel sums a'·b' where a', b' are the stored integers (uint8 read as
// x − 128); zero points are folded into the bias by the caller (foldZeroPoints).
import { fail } from '../../ir/errors.js';
import { isPointwise, type Window2d } from '../../ir/window.js';
import { WasmArena } from './arena.js';
import { wasmFeatures } from './features.js';
import { compileCached, instantiate } from './loader.js';
import {
  EP, EPILOGUE_BYTES, QGEMM_EXPORTS, QOUT, QOUT_BYTES, qgemmModule, qgemmScratchBytes, type QGemmVariant, type QOutType,
} from './qgemm_codegen.js';
import { CHUNKS_PER_THREAD, type PoolCall, type ThreadPool } from './thread_pool.js';

/**
 * Whether a conv window packs its GEMM operand straight from the image (packConv: no padding,
 * so every window lies inside it; 1×1 windows need no packing of patches at all).
 */
export function packsFromImage(w: Window2d): boolean {
  return w.padT + w.padL + w.padB + w.padR === 0 && !isPointwise(w);
}

/** The default tile: 4×8 int32 accumulators (8 of the 15 vector registers), 2 B vectors, 1 A splat. */
export const DEFAULT_QGEMM_TILE: Omit<QGemmVariant, 'shared'> = { mr: 4, nr: 8, unroll: 1 };

/** Bytes of A packed for the tile (M rounded up to whole panels, K to pairs of i16). */
export function qgemmPackedASize(M: number, K: number, tile: Pick<QGemmVariant, 'mr'> = DEFAULT_QGEMM_TILE): number {
  return Math.ceil(M / tile.mr) * tile.mr * Math.ceil(K / 2) * 4;
}

/** Bytes of B packed for the tile (N rounded up to whole panels, K to pairs of i16). */
export function qgemmPackedBSize(K: number, N: number, tile: Pick<QGemmVariant, 'nr'> = DEFAULT_QGEMM_TILE): number {
  return Math.ceil(N / tile.nr) * tile.nr * Math.ceil(K / 2) * 4;
}

export type QInType = 'int8' | 'uint8';

export interface QGemmExports {
  packA(src: number, lda: number, rows: number, K: number, dst: number, xor: number): void;
  packB(src: number, ldb: number, cols: number, K: number, dst: number, xor: number): void;
  gemm(pa: number, pb: number, c: number, ldc: number, M: number, N: number, K: number, bias: number, mult: number, ep: number, scratch: number): void;
  packConv(...args: number[]): void;
}

/** What the epilogue does after the int32 sums (absent = keep the int32 accumulators). */
export interface QEpilogue {
  /** Multipliers per channel (ir/quant.ts requantMultipliers) and their common shift. */
  mult: Int32Array;
  shift: number;
  zero: number;
  lo: number;
  hi: number;
  out: Exclude<QOutType, 'int32'>;
}

/** The epilogue block the kernels read (EP offsets); int32 output when `e` is undefined. */
export function epilogueBlock(e: QEpilogue | undefined, perRow: boolean): Int32Array {
  const b = new Int32Array(EPILOGUE_BYTES / 4);
  b[EP.out / 4] = QOUT[e ? e.out : 'int32'];
  b[EP.perRow / 4] = perRow ? 1 : 0;
  if (e) {
    b[EP.shift / 4] = e.shift;
    b[EP.zero / 4] = e.zero;
    b[EP.lo / 4] = e.lo;
    b[EP.hi / 4] = e.hi;
  }
  return b;
}

/** Arguments of one driver call, in the export's order. */
export interface QGemmArgs {
  pa: number; pb: number; c: number; ldc: number; M: number; N: number; K: number;
  bias: number; mult: number; ep: number;
}

export class WasmQGemm {
  readonly arena: WasmArena;
  readonly variant: QGemmVariant;
  readonly exports: QGemmExports;
  readonly key: string;
  readonly threads?: ThreadPool;
  private readonly scratch: number[];
  private readonly chunkScratch: number[]; // per chunk of a dynamically scheduled run()

  constructor(opts: { arena?: WasmArena; threads?: ThreadPool; tile?: Partial<Omit<QGemmVariant, 'shared'>> } = {}) {
    if (!wasmFeatures().simd) fail('wasm qgemm: this engine has no WebAssembly SIMD; use a newer Node (>= 16.4) or browser');
    this.arena = opts.arena ?? opts.threads?.arena ?? new WasmArena({ maximumBytes: 1 << 30 });
    if (opts.threads && opts.threads.arena !== this.arena) fail('wasm qgemm: the thread pool works on another arena; pass the same one');
    this.variant = { ...DEFAULT_QGEMM_TILE, ...opts.tile, shared: this.arena.shared };
    const t = this.variant;
    this.key = `qgemm:mr${t.mr}:nr${t.nr}:u${t.unroll}:${t.shared ? 'shared' : 'private'}`;
    const mod = compileCached(this.key, () => qgemmModule(this.variant));
    this.exports = instantiate<QGemmExports>(mod, this.arena);
    this.threads = opts.threads;
    this.scratch = Array.from({ length: this.threads?.size ?? 1 }, () => this.arena.alloc(this.scratchBytes()));
    const chunks = this.threads && this.threads.size > 1 ? CHUNKS_PER_THREAD * this.threads.size : 0;
    this.chunkScratch = Array.from({ length: chunks }, () => this.arena.alloc(this.scratchBytes()));
    this.threads?.register(this.key, mod);
  }

  scratchBytes(): number {
    return qgemmScratchBytes(this.variant);
  }

  packedASize(M: number, K: number): number {
    return qgemmPackedASize(M, K, this.variant);
  }

  packedBSize(K: number, N: number): number {
    return qgemmPackedBSize(K, N, this.variant);
  }

  /** Uploads bytes (weights, bias, multipliers, an epilogue block) into the arena; returns the offset. */
  upload(data: Int8Array | Uint8Array | Int32Array): number {
    const at = this.arena.alloc(data.byteLength);
    new Uint8Array(this.arena.memory.buffer, at, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return at;
  }

  /** Packs constant A (M×K row-major) once; the unpacked copy is dropped. */
  prepackA(a: Int8Array | Uint8Array, M: number, K: number): number {
    const dst = this.arena.alloc(this.packedASize(M, K));
    const mark = this.arena.used;
    this.exports.packA(this.upload(a), K, M, K, dst, a instanceof Uint8Array ? 1 : 0);
    this.arena.reset(mark);
    return dst;
  }

  /** Packs constant B once, given as N×K row-major (a layer's weights, one row per output) or K×N. */
  prepackB(b: Int8Array | Uint8Array, K: number, N: number, transB: boolean): number {
    const kn = transB ? transposeBytes(b, N, K) : b;
    const dst = this.arena.alloc(this.packedBSize(K, N));
    const mark = this.arena.used;
    this.exports.packB(this.upload(kn), N, N, K, dst, b instanceof Uint8Array ? 1 : 0);
    this.arena.reset(mark);
    return dst;
  }

  /** The driver on this thread. */
  gemmWith(g: QGemmArgs, thread = 0): void {
    this.exports.gemm(g.pa, g.pb, g.c, g.ldc, g.M, g.N, g.K, g.bias, g.mult, g.ep, this.scratch[thread]);
  }

  /**
   * The driver on the pool's threads when it has several (else on this thread): more chunks than
   * threads (splitQGemm), taken dynamically as WasmGemm does, so that a worker slow to wake or
   * descheduled costs only what is left of its share. perRow: channels are rows.
   */
  run(g: QGemmArgs, perRow: boolean, outBytes: number): void {
    const pool = this.threads;
    if (!pool || pool.size < 2) return this.gemmWith(g);
    const chunks = splitQGemm(g, this.variant, this.chunkScratch.length, outBytes, perRow).filter((c) => c.M > 0 && c.N > 0);
    pool.runDynamic(chunks.map((c, i) => this.chunkCall(c, i)));
  }

  /** The pool call that runs one driver call on thread t. */
  call(g: QGemmArgs, thread: number): PoolCall {
    return this.callWithScratch(g, this.scratch[thread]);
  }

  /**
   * The pool call that runs one driver call as chunk `i` of a dynamically scheduled run (any
   * thread may take it): chunk i's own scratch; i < CHUNKS_PER_THREAD × the pool's threads.
   */
  chunkCall(g: QGemmArgs, i: number): PoolCall {
    if (!(i < this.chunkScratch.length)) throw new Error(`wasm qgemm: chunk ${i} of a dynamic run; this pool has scratch for ${this.chunkScratch.length}`);
    return this.callWithScratch(g, this.chunkScratch[i]);
  }

  private callWithScratch(g: QGemmArgs, scratch: number): PoolCall {
    return { key: this.key, fn: QGEMM_EXPORTS.gemm, args: [g.pa, g.pb, g.c, g.ldc, g.M, g.N, g.K, g.bias, g.mult, g.ep, scratch] };
  }

  packBCall(src: number, ldb: number, cols: number, K: number, dst: number, xor: boolean): PoolCall {
    return { key: this.key, fn: QGEMM_EXPORTS.packB, args: [src, ldb, cols, K, dst, xor ? 1 : 0] };
  }

  /** B panels of output pixels P0 .. P0 + cols packed from one image's C planes at x (packsFromImage windows). */
  packConvCall(x: number, C: number, H: number, W: number, w: Window2d, OW: number, P0: number, cols: number, dst: number, xor: boolean): PoolCall {
    return { key: this.key, fn: QGEMM_EXPORTS.packConv, args: [x, C, H, W, w.kh, w.kw, w.sh, w.sw, w.dh, w.dw, OW, P0, cols, dst, xor ? 1 : 0] };
  }

  /**
   * C[M×N] = epilogue(A·B + bias) on arrays (copied in and out): A M×K, B K×N (N×K
   * when transB), bias one int32 per row or per column (biasPer), multipliers likewise.
   */
  qgemm(M: number, N: number, K: number, a: Int8Array | Uint8Array, b: Int8Array | Uint8Array,
    o: { transB?: boolean; bias?: Int32Array; perRow?: boolean; epilogue?: QEpilogue } = {}): Int8Array | Uint8Array | Int16Array | Int32Array {
    for (const [k, v] of Object.entries({ M, N, K })) if (!Number.isInteger(v) || v < 0) fail(`qgemm: ${k}=${v} must be a non-negative integer`);
    if (a.length < M * K || b.length < K * N) fail(`qgemm: A has ${a.length} values and B ${b.length}; ${M}×${K} and ${K}×${N} need ${M * K} and ${K * N}`);
    const channels = o.perRow ? M : N;
    if (o.bias && o.bias.length !== channels) fail(`qgemm: bias has ${o.bias.length} values, needs ${channels}`);
    if (o.epilogue && o.epilogue.mult.length !== channels) fail(`qgemm: ${o.epilogue.mult.length} multipliers, needs ${channels}`);
    const out = o.epilogue?.out ?? 'int32';
    const ar = this.arena, mark = ar.used;
    try {
      const pb = this.prepackB(b, K, N, o.transB ?? false);
      const pa = ar.alloc(this.packedASize(M, K));
      this.exports.packA(this.upload(a), K, M, K, pa, a instanceof Uint8Array ? 1 : 0);
      const c = ar.alloc(M * N * QOUT_BYTES[out]);
      const bias = o.bias ? this.upload(o.bias) : 0, mult = o.epilogue ? this.upload(o.epilogue.mult) : 0;
      const ep = this.upload(epilogueBlock(o.epilogue, o.perRow ?? false));
      this.gemmWith({ pa, pb, c, ldc: N, M, N, K, bias, mult, ep });
      const Ctor = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, int32: Int32Array }[out];
      return new Ctor(ar.memory.buffer.slice(c, c + M * N * QOUT_BYTES[out]));
    } finally {
      ar.reset(mark);
    }
  }
}

/** rows×cols bytes → cols×rows. */
export function transposeBytes<T extends Int8Array | Uint8Array>(src: T, rows: number, cols: number): T {
  const out = new (src.constructor as { new (n: number): T })(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/**
 * One driver call split into `parts` independent ones over whole panels, as splitGemm does for
 * f32: along N (B panels; B, C and, when the channels are the columns, bias and multipliers
 * offset) when there are at least as many B panels as A panels, else along M (A panels; A, C
 * and, when perRow, bias and multipliers offset). Empty parts get M = 0 or N = 0 (the driver
 * then does nothing). eb: bytes per output element.
 */
export function splitQGemm(g: QGemmArgs, tile: Pick<QGemmVariant, 'mr' | 'nr'>, parts: number, eb: number, perRow = false): QGemmArgs[] {
  const panelsN = Math.ceil(g.N / tile.nr), panelsM = Math.ceil(g.M / tile.mr), alongN = panelsN >= panelsM;
  const panels = alongN ? panelsN : panelsM;
  return Array.from({ length: parts }, (_, t) => {
    const p0 = Math.floor((t * panels) / parts), p1 = Math.floor(((t + 1) * panels) / parts);
    const shift = (ptr: number, channels: boolean, first: number): number => (ptr && channels ? ptr + first * 4 : ptr);
    if (alongN) {
      const j0 = p0 * tile.nr, j1 = Math.min(g.N, p1 * tile.nr);
      return {
        ...g, N: Math.max(0, j1 - j0), pb: g.pb + p0 * qgemmPackedBSize(g.K, tile.nr, tile), c: g.c + j0 * eb,
        bias: shift(g.bias, !perRow, j0), mult: shift(g.mult, !perRow, j0),
      };
    }
    const i0 = p0 * tile.mr, i1 = Math.min(g.M, p1 * tile.mr);
    return {
      ...g, M: Math.max(0, i1 - i0), pa: g.pa + p0 * qgemmPackedASize(tile.mr, g.K, tile), c: g.c + i0 * g.ldc * eb,
      bias: shift(g.bias, perRow, i0), mult: shift(g.mult, perRow, i0),
    };
  });
}
