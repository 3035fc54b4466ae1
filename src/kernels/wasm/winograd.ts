// Winograd convolution F(m×m, 3×3) in WebAssembly (3×3, stride 1, no dilation, one
// group, any padding; NCHW), with bias and a fused clamp. Per chunk of tile rows
// (several images at a small size, part of one at a large one):
//   input transform → α² packed B matrices [C × tiles]  (winograd_codegen.ts)
//   α² GEMMs U_p [M × C] · V_p, one strided call        (gemm_codegen.ts)
//   output transform + bias + clamp → NCHW tiles         (winograd_codegen.ts)
// The filters are transformed once (kernels/winograd.ts) and packed as the GEMM's A
// panels. Chunks are independent: with threads, each takes whole chunks into its own
// scratch set. The calls are described once (winogradCalls) for this class (tests,
// benchmarks) and the runtime's step binder.
import { fail } from '../../ir/errors.js';
import { outHW, type Window2d } from '../../ir/window.js';
import { R, tileGrid, transformFilters, winogradApplies, type WinogradTile } from '../../ir/winograd.js';
import { checkConv, type Conv2dParams } from './conv_params.js';
import { GEMM_COST, gemmArgs, type WasmGemm } from './gemm.js';
import { compileCached, instantiate } from './loader.js';
import type { PoolCall } from './thread_pool.js';
import {
  bandWidth, WINOGRAD_EXPORTS, winogradHbufBytes, winogradModule, winogradVariantKey, type WinogradVariant,
} from './winograd_codegen.js';

export interface WinogradExports {
  input(x: number, H: number, W: number, C: number, padT: number, padL: number, tilesH: number, tilesW: number, R0: number,
    Rt: number, pbuf: number, Wp: number, hbuf: number, dst: number, pStride: number): void;
  output(src: number, pStride: number, ldm: number, M: number, y: number, imageStride: number, OH: number, OW: number,
    tilesH: number, tilesW: number, R0: number, count: number, bias: number, lo: number, hi: number, hbuf: number): void;
}

/** A Winograd conv on one input shape: N images of C×H×W → M×OH×OW. */
export interface WinogradShape {
  N: number; C: number; H: number; W: number; M: number; OH: number; OW: number;
  win: Window2d;
}

/** Bytes one chunk's transforms and products take: the sizing rule of the chunks. */
const CHUNK_BYTES = 768 << 10;

/** How a Winograd conv is cut into chunks of tile rows and where each chunk's scratch lies (all byte sizes). */
export interface WinogradLayout {
  m: WinogradTile;
  alpha: number;
  tilesH: number;
  tilesW: number;
  /** Tile rows of all images (N·tilesH), and per chunk. */
  rows: number;
  rowsPerChunk: number;
  chunks: number;
  /** Padded width of a band row (floats). */
  Wp: number;
  /** Row stride (floats) of the GEMMs' outputs [M × tiles]. */
  ldm: number;
  /** One transform position's packed input [C × tiles] and output [M × ldm]. */
  vBytes: number;
  mBytes: number;
  /** One set of scratch: [bands | transform scratch | GEMM scratch | α² inputs | α² outputs]. */
  pbuf: number; hbuf: number; gs: number; v: number; out: number; setBytes: number;
}

const up = (n: number, k: number): number => Math.ceil(n / k) * k;

/**
 * Bytes of one of α² same-size regions, as an odd number of cache lines: a group's α²
 * values (one per region, at the same offset) then fall in α² different L1 sets,
 * where a power-of-two size (16 tiles × 64 channels × 4 = 4096) puts them all in one.
 */
export function regionBytes(bytes: number): number {
  const lines = Math.ceil(bytes / 64);
  return 64 * (lines % 2 ? lines : lines + 1);
}

/** Tile rows per chunk: as many as keep its transforms and products under CHUNK_BYTES, and at least `parts` chunks when there are rows for them. */
export function chunkRows(s: WinogradShape, m: WinogradTile, parts = 1, budget = CHUNK_BYTES): number {
  const { tilesH, tilesW } = tileGrid(s.OH, s.OW, m);
  const rows = s.N * tilesH, a2 = (m + 2) ** 2;
  const perRow = a2 * tilesW * (s.C + s.M) * 4;
  const fit = Math.max(1, Math.floor(budget / perRow));
  return Math.max(1, Math.min(fit, Math.ceil(rows / parts)));
}

/** The chunks and one scratch set of a Winograd conv (nr: the GEMM's panel width; gemmScratch: its per-call scratch bytes). */
export function winogradLayout(s: WinogradShape, m: WinogradTile, rowsPerChunk: number, nr: number, gemmScratch: number): WinogradLayout {
  const { tilesH, tilesW } = tileGrid(s.OH, s.OW, m);
  const alpha = m + 2, rows = s.N * tilesH;
  const Rt = Math.max(1, Math.min(rowsPerChunk, rows));
  const tiles = Rt * tilesW, Wp = bandWidth(m, tilesW), ldm = up(tiles, 4);
  const vBytes = regionBytes(up(tiles, nr) * s.C * 4), mBytes = regionBytes(s.M * ldm * 4);
  const sizes = [Rt * alpha * Wp * 4 + 64, winogradHbufBytes(m), gemmScratch, alpha * alpha * vBytes + 64, alpha * alpha * mBytes + 64];
  const at = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + up(b, 64), 0));
  return {
    m, alpha, tilesH, tilesW, rows, rowsPerChunk: Rt, chunks: Math.ceil(rows / Rt), Wp, ldm, vBytes, mBytes,
    pbuf: at[0], hbuf: at[1], gs: at[2], v: at[3], out: at[4], setBytes: at[4] + up(sizes[4], 64),
  };
}

/**
 * Cost per stage in ns, fitted by `node dist/bench/winograd.js --calibrate` (CPU time, min
 * of rounds; each stage measured against the GEMM's ns per multiply-add in the same run
 * and scaled to GEMM_COST, so the estimates compare with the dense conv's):
 *   input   per group of 4 tiles and input channel (the band copy included);
 *   output  per group of 4 tiles and output channel (bias and clamp included);
 *   gemm    the α² products at GEMM_COST.mac, `call` each (one strided call, no JS);
 *   chunk   per chunk (three calls from JS).
 */
export const WINOGRAD_COST = {
  input: { 2: 23, 4: 64, 6: 126 } as Record<WinogradTile, number>,
  output: { 2: 18, 4: 69, 6: 154 } as Record<WinogradTile, number>,
  call: 500, chunk: 0,
};

/** Estimated ns of one chunk of Rt tile rows, for `M` of the output channels. */
function chunkNs(s: WinogradShape, l: WinogradLayout, Rt: number, M: number): number {
  const c = WINOGRAD_COST, m = l.m, count = Rt * l.tilesW, groups = Math.ceil(count / 4);
  const gemm = l.alpha * l.alpha * (c.call + GEMM_COST.mac * up(M, 4) * s.C * up(count, 8));
  return c.chunk + s.C * c.input[m] * groups + gemm + c.output[m] * M * groups;
}

/** How a Winograd call is shared by `parts` threads: chunks of tile rows round-robin, or every chunk by output channels. */
export interface WinogradSplit {
  rowsPerChunk: number;
  byChannels: boolean;
  /** The slowest thread's estimated ns. */
  estNs: number;
}

/** The cheaper way to share a call over `parts` threads (one thread: whole chunks). */
export function winogradSplit(s: WinogradShape, m: WinogradTile, parts = 1): WinogradSplit {
  const byChunks = (): WinogradSplit => {
    const l = winogradLayout(s, m, chunkRows(s, m, parts), 8, 0);
    const perThread = new Array<number>(Math.min(parts, l.chunks)).fill(0);
    for (let i = 0; i < l.chunks; i++) perThread[i % perThread.length] += chunkNs(s, l, Math.min(l.rowsPerChunk, l.rows - i * l.rowsPerChunk), s.M);
    return { rowsPerChunk: l.rowsPerChunk, byChannels: false, estNs: Math.max(...perThread) };
  };
  const chunks = byChunks();
  if (parts === 1 || s.M < 8 * parts) return chunks;
  const l = winogradLayout(s, m, chunkRows(s, m), 8, 0);
  let est = 0;
  for (let i = 0; i < l.chunks; i++) est += chunkNs(s, l, Math.min(l.rowsPerChunk, l.rows - i * l.rowsPerChunk), Math.ceil(s.M / parts));
  return est < chunks.estNs ? { rowsPerChunk: l.rowsPerChunk, byChannels: true, estNs: est } : chunks;
}

/** Estimated ns of a Winograd call on `parts` threads. */
export function winogradNs(s: WinogradShape, m: WinogradTile, parts = 1): number {
  return winogradSplit(s, m, parts).estNs;
}

/** Where a bound Winograd conv reads and writes (byte offsets in the arena). */
export interface WinogradOperands {
  x: number;
  y: number;
  /** Elements between consecutive output images (M·OH·OW unless the output is a concat's slice). */
  imageStride: number;
  /** The α² packed filter matrices, packedASize(M, C) bytes apart (packFilters). */
  filters: number;
  bias: number;
  clamp?: readonly [number, number];
  /** Start of each scratch set (layout.setBytes each). */
  sets: number[];
}

/** Output channels [M0, M1) of part t of `parts`, cut at whole A panels of `mr` rows. */
function channelRange(M: number, mr: number, parts: number, t: number): [number, number] {
  const panels = Math.ceil(M / mr);
  return [Math.min(M, Math.floor((t * panels) / parts) * mr), Math.min(M, Math.floor(((t + 1) * panels) / parts) * mr)];
}

/**
 * The calls of every chunk. By chunks: chunk i on set i mod sets (the caller runs part t
 * on thread t). By channels (too few chunks to share): every part transforms each
 * chunk's input into its own set, then runs the GEMMs and output transform of its
 * share of the output channels; the same sums either way, so the same bits.
 */
export function winogradCalls(gemm: WasmGemm, key: string, s: WinogradShape, l: WinogradLayout, o: WinogradOperands, byChannels = false): PoolCall[][] {
  const win = s.win, [lo, hi] = o.clamp ?? [-Infinity, Infinity], mr = gemm.variant.mr, plane = s.OH * s.OW * 4;
  const parts: PoolCall[][] = o.sets.map(() => []);
  for (let i = 0; i < l.chunks; i++) {
    const R0 = i * l.rowsPerChunk, Rt = Math.min(l.rowsPerChunk, l.rows - R0), count = Rt * l.tilesW;
    for (let t = 0; t < o.sets.length; t++) {
      if (!byChannels && t !== i % o.sets.length) continue;
      const [M0, M1] = byChannels ? channelRange(s.M, mr, o.sets.length, t) : [0, s.M];
      if (M1 <= M0) continue;
      const set = o.sets[t], [pbuf, hbuf, v, out] = [set + l.pbuf, set + l.hbuf, set + l.v, set + l.out + M0 * l.ldm * 4];
      parts[t].push(
        { key, fn: WINOGRAD_EXPORTS.input, args: [o.x, s.H, s.W, s.C, win.padT, win.padL, l.tilesH, l.tilesW, R0, Rt, pbuf, l.Wp, hbuf, v, l.vBytes] },
        gemm.stridedCall(gemmArgs(M1 - M0, count, s.C, o.filters + M0 * s.C * 4, v, out, { ldc: l.ldm }),
          { count: l.alpha * l.alpha, strideA: gemm.packedASize(s.M, s.C), strideB: l.vBytes, strideC: l.mBytes }, set + l.gs),
        { key, fn: WINOGRAD_EXPORTS.output, args: [out, l.mBytes, l.ldm, M1 - M0, o.y + M0 * plane, o.imageStride, s.OH, s.OW, l.tilesH, l.tilesW, R0, count,
          o.bias && o.bias + M0 * 4, lo, hi, hbuf] },
      );
    }
  }
  return parts;
}

/** Packs transformed filters (ir/winograd.ts transformFilters' layout) as α² A matrices (M × C each) in the arena; returns the first one's offset. */
export function packFilters(gemm: WasmGemm, U: Float32Array, M: number, C: number, m: WinogradTile): number {
  const positions = (m + 2) ** 2, ar = gemm.arena, size = gemm.packedASize(M, C);
  const at = ar.alloc(positions * size);
  const mark = ar.used, tmp = ar.allocF32(U.length);
  ar.f32(tmp, U.length).set(U);
  for (let p = 0; p < positions; p++) gemm.packA(tmp + p * M * C * 4, C, false, M, C, at + p * size);
  ar.reset(mark);
  return at;
}

/** The Winograd module for a tile size on the GEMM's arena, registered with its pool; returns its key and exports. */
export function winogradKernel(gemm: WasmGemm, m: WinogradTile): { key: string; exports: WinogradExports } {
  const v: WinogradVariant = { m, nr: gemm.variant.nr, shared: gemm.arena.shared };
  const key = winogradVariantKey(v);
  const mod = compileCached(key, () => winogradModule(v));
  gemm.threads?.register(key, mod);
  return { key, exports: instantiate<WinogradExports>(mod, gemm.arena) };
}

/** A function that runs a list of calls on this thread (functions looked up once). */
export function callsHere(calls: readonly PoolCall[], lookup: (c: PoolCall) => (...args: number[]) => void): () => void {
  const fns = calls.map(lookup), args = calls.map((c) => c.args as number[]);
  return () => { for (let i = 0; i < fns.length; i++) fns[i](...args[i]); };
}

export interface WasmWinogradOptions {
  m: WinogradTile;
  bias?: Float32Array;
  /** Fused activation: [lo, hi] (relu = [0, Infinity]). */
  clamp?: readonly [number, number];
  /** Tile rows per chunk (tests of the chunk edges); default winogradSplit's. */
  rowsPerChunk?: number;
  /** With threads, share each chunk by output channels (default: winogradSplit's choice). */
  byChannels?: boolean;
}

/** A Winograd conv layer on arrays or arena offsets (tests, benchmarks; the runtime binds the same calls). */
export class WasmWinograd {
  private readonly filters: number;
  private readonly biasAt: number;
  private readonly kernel: { key: string; exports: WinogradExports };
  private readonly win: Window2d;

  constructor(readonly gemm: WasmGemm, readonly params: Conv2dParams, weights: Float32Array, readonly opts: WasmWinogradOptions) {
    const what = `winograd F(${opts.m},3)`;
    const { group, win } = checkConv(what, params);
    if (!winogradApplies(win, group)) fail(`${what}: needs a 3×3 window, stride 1, dilation 1 and one group`);
    if (weights.length !== params.M * params.C * R * R) fail(`${what}: weights have ${weights.length} values, [${params.M},${params.C},3,3] needs ${params.M * params.C * 9}`);
    if (opts.bias && opts.bias.length !== params.M) fail(`${what}: bias has ${opts.bias.length} values, needs M=${params.M}`);
    this.win = win;
    this.kernel = winogradKernel(gemm, opts.m);
    this.filters = packFilters(gemm, transformFilters(weights, params.M, params.C, opts.m), params.M, params.C, opts.m);
    this.biasAt = opts.bias ? gemm.arena.allocF32(params.M) : 0;
    if (opts.bias) gemm.arena.f32(this.biasAt, params.M).set(opts.bias);
  }

  shape(N: number, H: number, W: number): WinogradShape {
    const [OH, OW] = outHW('winograd conv', H, W, this.win);
    return { N, C: this.params.C, H, W, M: this.params.M, OH, OW, win: this.win };
  }

  /** y = conv(x) on byte offsets in the arena: x [N, C, H, W], y [N, M, OH, OW]. */
  run(N: number, H: number, W: number, x: number, y: number): void {
    const s = this.shape(N, H, W), g = this.gemm, pool = g.threads, ar = g.arena;
    const threads = pool?.size ?? 1;
    const split = winogradSplit(s, this.opts.m, threads);
    const l = winogradLayout(s, this.opts.m, this.opts.rowsPerChunk ?? split.rowsPerChunk, g.variant.nr, g.scratchBytes());
    const byChannels = this.opts.byChannels ?? split.byChannels;
    const mark = ar.used;
    try {
      const sets = Array.from({ length: byChannels ? threads : Math.min(threads, l.chunks) }, () => ar.alloc(l.setBytes));
      const parts = winogradCalls(g, this.kernel.key, s, l, {
        x, y, imageStride: s.M * s.OH * s.OW, filters: this.filters, bias: this.biasAt, clamp: this.opts.clamp, sets,
      }, byChannels);
      if (parts.length > 1) pool!.run(parts);
      else callsHere(parts[0], (c) => this.lookup(c))();
    } finally {
      ar.reset(mark);
    }
  }

  private lookup(c: PoolCall): (...args: number[]) => void {
    if (c.key === this.kernel.key) return this.kernel.exports[c.fn as keyof WinogradExports] as (...a: number[]) => void;
    return this.gemm.exports[c.fn as 'gemmStrided'] as (...a: number[]) => void;
  }

  /** y = conv(x) on arrays (copied in and out of the arena). */
  conv(N: number, H: number, W: number, x: Float32Array): Float32Array {
    const s = this.shape(N, H, W), inSize = N * s.C * H * W, outSize = N * s.M * s.OH * s.OW;
    if (x.length !== inSize) fail(`winograd conv: input has ${x.length} values, [${N},${s.C},${H},${W}] needs ${inSize}`);
    return this.gemm.arena.onCopy(x, outSize, 0, (xAt, yAt) => this.run(N, H, W, xAt, yAt));
  }
}

