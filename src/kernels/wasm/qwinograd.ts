// The integer Winograd conv F(m×m, 3×3) in WebAssembly (qwinograd_codegen.ts): int8 / uint8
// NCHW in, int8 / uint8 out, bit for bit the direct integer conv (im2col8 + the integer
// GEMM) of the same constants. Per chunk of tile rows of one image: the input transform
// into α² i16 matrices, one call of α² integer GEMMs against the filters transformed once
// (ir/winograd.ts transformFiltersInt, packed as the GEMM's A panels), the output transform
// with bias, requantization and clamp. Chunks are independent: with threads, each takes
// whole chunks into its own scratch set. The calls are described once (qwinogradCalls) for
// this class (tests, benchmarks) and the runtime's step binder.
import { fail } from '../../ir/errors.js';
import { MAX_REQUANT_SHIFT } from '../../ir/quant.js';
import { outHW, type Window2d } from '../../ir/window.js';
import { integerWinograd, R, tileGrid, transformFiltersInt, winogradApplies, type IntWinogradTile } from '../../ir/winograd.js';
import { checkConv, type Conv2dParams } from './conv_params.js';
import { GEMM_COST } from './gemm.js';
import { compileCached, instantiate } from './loader.js';
import { epilogueBlock, type QEpilogue, type QInType, type WasmQGemm } from './qgemm.js';
import { QWINOGRAD_EXPORTS, qwinogradModule, qwinogradVariantKey } from './qwinograd_codegen.js';
import type { PoolCall } from './thread_pool.js';
import { callsHere, regionBytes } from './winograd.js';

export interface QWinogradExports {
  input(...a: number[]): void;
  gemms(...a: number[]): void;
  output(...a: number[]): void;
  outputTiles(...a: number[]): void;
  outputPool(...a: number[]): void;
  outputTilesPool(...a: number[]): void;
}

/** An integer Winograd conv on one input shape: N images of C×H×W → M×OH×OW. */
export interface QWinogradShape {
  N: number; C: number; H: number; W: number; M: number; OH: number; OW: number;
  win: Window2d;
}

/**
 * Bytes one chunk's transforms and products take: the sizing rule of the chunks. 1 MB rather
 * than 512 KB: several small images per chunk pad fewer GEMM columns (VGG-S 28×28 at F(4,3):
 * 49 tiles → 56 columns for one image, 152 for three; its GEMMs 13 % faster at batch 64).
 */
const CHUNK_BYTES = 1024 << 10;

const up = (n: number, k: number): number => Math.ceil(n / k) * k;

/**
 * How the conv is cut into chunks and one scratch set's regions (bytes). A chunk is tile rows
 * of one image, or whole images (small images: one GEMM for several), their tiles one after
 * the other in the GEMM's columns.
 */
export interface QWinogradLayout {
  m: IntWinogradTile;
  alpha: number;
  tilesH: number;
  tilesW: number;
  rowsPerChunk: number;
  /** Images per chunk (> 1 only when a chunk holds all tilesH rows of each). */
  imagesPerChunk: number;
  chunks: number;
  /** Bytes of a band row of the input transform; i16 pair rows of the transformed inputs and int32 rows of the products (elements). */
  rowBytes: number; ldv: number; ldm: number;
  /** The output transform 4 tiles of the chunk at a time (short tile rows), else 4 of a tile row. */
  outByTiles: boolean;
  /** One transform position's inputs and products. */
  vStride: number; mStride: number;
  band: number; gs: number; v: number; out: number; stage: number; setBytes: number;
}

/**
 * Tile rows per chunk: as many as keep a chunk's transforms and products under CHUNK_BYTES
 * (past tilesH: whole images, a multiple of tilesH), leaving at least `parts` chunks when there is work for them.
 */
export function qwinogradChunkRows(s: QWinogradShape, m: IntWinogradTile, parts = 1): number {
  const { tilesH, tilesW } = tileGrid(s.OH, s.OW, m);
  const perRow = (m + 2) ** 2 * tilesW * (2 * s.C + 4 * s.M);
  const fit = Math.max(1, Math.floor(CHUNK_BYTES / perRow));
  if (fit >= tilesH && s.N > 1) return tilesH * Math.max(1, Math.min(Math.floor(fit / tilesH), Math.ceil(s.N / parts)));
  return Math.max(1, Math.min(fit, tilesH, s.N >= parts ? tilesH : Math.ceil(tilesH / Math.ceil(parts / s.N))));
}

export function qwinogradLayout(s: QWinogradShape, m: IntWinogradTile, rowsPerChunk: number, gemmScratch: number): QWinogradLayout {
  const { tilesH, tilesW } = tileGrid(s.OH, s.OW, m);
  const images = rowsPerChunk > tilesH ? Math.min(s.N, Math.floor(rowsPerChunk / tilesH)) : 1;
  const alpha = m + 2, a2 = alpha * alpha, Rt = Math.max(1, Math.min(rowsPerChunk, tilesH)), T = images * Rt * tilesW;
  // the input transform reads 4 tiles (and 20 bytes) past a row's last tile and writes 4 tiles past the chunk's; the output reads 4
  // a group of 4 loose tiles costs more stores than one of a tile row: when they save 40% of the groups
  const outByTiles = outputGroups(images * Rt, tilesW, true) <= 0.6 * outputGroups(images * Rt, tilesW, false);
  const rowBytes = up(tilesW, 4) * m + 32, ldv = up(T, 8) + 8, ldm = up(T, 4) + 4;
  const vStride = regionBytes(Math.ceil(s.C / 2) * ldv * 4), mStride = regionBytes(s.M * ldm * 4);
  const sizes = [2 * rowBytes * (Rt * m + 2) + 64, gemmScratch, a2 * vStride + 64, a2 * mStride + 64, 64];
  const at = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + up(b, 64), 0));
  return {
    m, alpha, tilesH, tilesW, rowsPerChunk: Rt, imagesPerChunk: images, chunks: images > 1 ? Math.ceil(s.N / images) : s.N * Math.ceil(tilesH / Rt), rowBytes, ldv, ldm, outByTiles, vStride, mStride,
    band: at[0], gs: at[1], v: at[2], out: at[3], stage: at[4], setBytes: at[4] + up(sizes[4], 64),
  };
}

/**
 * Cost in ns, fitted on VGG-S's 3×3 layers at batch 1 and 8 (one thread, the stages timed
 * apart, fastest of 30 rounds): input per group (4 tiles of a tile row, a pair of input
 * channels; band copy included; refitted 2026-12-03 at batch 1 and 64 under load),
 * output per 4 tiles and output channel (requantization and stores included), the GEMMs
 * per multiply-add (padded to the register tile: 23–29 ps, 1.7× the f32 GEMM's
 * GEMM_COST.mac), and each chunk's three calls.
 */
export const QWINOGRAD_COST = {
  input: { 2: 30, 4: 85 } as Record<IntWinogradTile, number>,
  output: { 2: 18, 4: 67 } as Record<IntWinogradTile, number>,
  mac: GEMM_COST.mac / 1.7, chunk: 500,
};

/** Groups of the input transform (4 tiles of a tile row, two channels) for `rows` tile rows of tilesW tiles. */
function inputGroups(rows: number, tilesW: number): number {
  return rows * Math.ceil(tilesW / 4);
}

/** 4-lane groups of the output transform for `rows` tile rows of tilesW tiles: by tiles or by tile rows. */
function outputGroups(rows: number, tilesW: number, byTiles: boolean): number {
  return byTiles ? Math.ceil((rows * tilesW) / 4) : rows * Math.ceil(tilesW / 4);
}

/** Estimated ns of the conv on `parts` threads (chunks round-robin). */
export function qwinogradNs(s: QWinogradShape, m: IntWinogradTile, parts = 1): number {
  const l = qwinogradLayout(s, m, qwinogradChunkRows(s, m, parts), 0), c = QWINOGRAD_COST;
  const perThread = new Array<number>(Math.max(1, Math.min(parts, l.chunks))).fill(0);
  chunkList(s, l).forEach((k, i) => {
    const rows = k.images * k.Rt;
    perThread[i % perThread.length] += c.chunk * k.images + c.input[m] * Math.ceil(s.C / 2) * inputGroups(rows, l.tilesW) + c.output[m] * s.M * outputGroups(rows, l.tilesW, l.outByTiles)
      + l.alpha ** 2 * c.mac * up(s.M, 4) * up(s.C, 2) * up(rows * l.tilesW, 8);
  });
  return Math.max(...perThread);
}

/** The chunks: first image, images, first tile row and tile rows of each. */
function chunkList(s: QWinogradShape, l: QWinogradLayout): { n0: number; images: number; R0: number; Rt: number }[] {
  const out: { n0: number; images: number; R0: number; Rt: number }[] = [];
  if (l.imagesPerChunk > 1) {
    for (let n0 = 0; n0 < s.N; n0 += l.imagesPerChunk) out.push({ n0, images: Math.min(l.imagesPerChunk, s.N - n0), R0: 0, Rt: l.tilesH });
  } else {
    for (let n0 = 0; n0 < s.N; n0++) for (let R0 = 0; R0 < l.tilesH; R0 += l.rowsPerChunk) out.push({ n0, images: 1, R0, Rt: Math.min(l.rowsPerChunk, l.tilesH - R0) });
  }
  return out;
}

/**
 * Why a layer cannot run on the integer Winograd F(m,3), or undefined: `bound` is the
 * largest |Σ x·w + bias| its inputs can give (compile/int_layer.ts), which must stay below
 * 2^31 after the transforms' 2^e; the requantization shift grows by e.
 */
export function qwinogradRefusal(m: IntWinogradTile, bound: number, shift: number, out: string): string | undefined {
  const e = integerWinograd(m).shift;
  if (out !== 'int8' && out !== 'uint8') return `the output is ${out} (the integer Winograd stores 8 bits)`;
  if (bound * 2 ** e >= 2 ** 31) return `int32 sums ≤ 2^${Math.log2(bound).toFixed(1)} leave no room for F(${m},3)'s 2^${e}`;
  if (shift + e > MAX_REQUANT_SHIFT) return `the requantization shift ${shift} + ${e} passes ${MAX_REQUANT_SHIFT}`;
  return undefined;
}

/** The constants of one layer, once: U'' packed as the GEMM's A panels, bias and multipliers, the two epilogue blocks. */
export interface QWinogradConstants { filters: number; filterStride: number; bias: number; mult: number; ep: number; epInt: number }

/**
 * The layer's int8 weights [M, C, 3, 3], int32 bias and requantization into the arena:
 * the output transform leaves 2^e·(Σ x·w) (ir/winograd.ts), so the bias is taken 2^e times
 * (mod 2^32, like the sums) and the shift e more.
 */
export function qwinogradConstants(q: WasmQGemm, m: IntWinogradTile, M: number, C: number, weight: Int8Array, bias: Int32Array, e: QEpilogue): QWinogradConstants {
  const w = integerWinograd(m), a2 = w.alpha ** 2, U = transformFiltersInt(weight, M, C, m);
  const size = q.packedASize(M, C), mr = q.variant.mr, kp = Math.ceil(C / 2), packed = new Int16Array((a2 * size) / 2);
  for (let p = 0; p < a2; p++) {
    for (let o = 0; o < M; o++) {
      const panel = p * (size / 2) + Math.floor(o / mr) * kp * mr * 2 + (o % mr) * 2;
      for (let c = 0; c < C; c++) packed[panel + (c >> 1) * mr * 2 + (c & 1)] = U[(p * M + o) * C + c];
    }
  }
  const scale = 2 ** w.shift;
  return {
    filters: q.upload(new Uint8Array(packed.buffer)), filterStride: size, bias: q.upload(bias.map((b) => Math.imul(b, scale))), mult: q.upload(e.mult),
    ep: q.upload(epilogueBlock({ ...e, shift: e.shift + w.shift }, true)), epInt: q.upload(epilogueBlock(undefined, true)),
  };
}

/** Where a bound conv reads and writes (byte offsets in the arena) and its input's encoding. */
export interface QWinogradOperands {
  x: number;
  y: number;
  /** Bytes between consecutive output images (M·OH·OW unless the output is a concat's slice). */
  imageStride: number;
  constants: QWinogradConstants;
  input: QInType;
  /** The input's zero point as stored (the padding). */
  inZero: number;
  /** Start of each scratch set (layout.setBytes each). */
  sets: number[];
  /** A 2×2 stride-2 max pool fused into the output transform (qwinogradPools): y is the pooled output. */
  pool?: boolean;
}

/**
 * Whether a max pool after the conv can be fused into its output transform: a 2×2 window
 * of stride 2, no padding or dilation, floor rounding (OH = ⌊H/2⌋): every window lies inside
 * one tile (tiles start at multiples of m, which is even).
 */
export function qwinogradPools(p: { mode: string; win: Window2d; H: number; W: number; OH: number; OW: number }): boolean {
  const w = p.win;
  return p.mode === 'max' && w.kh === 2 && w.kw === 2 && w.sh === 2 && w.sw === 2 && w.dh === 1 && w.dw === 1
    && w.padT + w.padL + w.padB + w.padR === 0 && p.OH === Math.floor(p.H / 2) && p.OW === Math.floor(p.W / 2);
}

/**
 * The calls of every chunk: chunk i into set i mod sets (the caller runs part t on thread t).
 * A chunk of several images transforms them into consecutive columns of the same matrices (one
 * call per image, in order: the tiles an image's last row writes past its end are the next
 * image's, rewritten after), runs one set of GEMMs, and transforms the columns back (per
 * image, or all at once by tiles).
 */
export function qwinogradCalls(key: string, s: QWinogradShape, l: QWinogradLayout, o: QWinogradOperands): PoolCall[][] {
  const parts: PoolCall[][] = o.sets.map(() => []), k = o.constants, xor = o.input === 'uint8' ? 1 : 0;
  chunkList(s, l).forEach(({ n0, images, R0, Rt }, i) => {
    const set = o.sets[i % o.sets.length], calls = parts[i % o.sets.length], cols = Rt * l.tilesW;
    for (let j = 0; j < images; j++) {
      calls.push({ key, fn: QWINOGRAD_EXPORTS.input, args: [o.x + (n0 + j) * s.C * s.H * s.W, s.C, s.H, s.W, s.win.padT, s.win.padL, R0, Rt, l.tilesW,
        set + l.band, l.rowBytes, set + l.v + j * cols * 4, l.ldv, l.vStride, o.inZero & 0xff, xor] });
    }
    // columns up to the next 8: the products' rows (ldm) and the inputs' (ldv) have them, so the GEMM's 8-wide tiles need no edge copies
    calls.push({ key, fn: QWINOGRAD_EXPORTS.gemms, args: [k.filters, k.filterStride, set + l.v, l.vStride, l.ldv, set + l.out, l.mStride, l.ldm, s.M, up(images * cols, 8), s.C,
      k.epInt, set + l.gs, l.alpha ** 2] });
    const fn = o.pool ? [QWINOGRAD_EXPORTS.outputPool, QWINOGRAD_EXPORTS.outputTilesPool] : [QWINOGRAD_EXPORTS.output, QWINOGRAD_EXPORTS.outputTiles];
    const [OH, OW] = o.pool ? [s.OH >> 1, s.OW >> 1] : [s.OH, s.OW];
    const output = (j: number, more: number[]): PoolCall => ({ key, fn: fn[more.length ? 1 : 0],
      args: [set + l.out + j * cols * 4, l.mStride, l.ldm, s.M, o.y + (n0 + j) * o.imageStride, OH, OW, l.tilesW, R0, Rt, k.bias, k.mult, k.ep, set + l.stage, ...more] });
    if (l.outByTiles) calls.push(output(0, [images, o.imageStride]));
    else for (let j = 0; j < images; j++) calls.push(output(j, []));
  });
  return parts;
}

/** The module for a tile size on the integer GEMM's arena, registered with its pool. */
export function qwinogradKernel(q: WasmQGemm, m: IntWinogradTile): { key: string; exports: QWinogradExports } {
  const v = { m, mr: q.variant.mr, nr: q.variant.nr, shared: q.arena.shared };
  const key = qwinogradVariantKey(v);
  const mod = compileCached(key, () => qwinogradModule(v));
  q.threads?.register(key, mod);
  return { key, exports: instantiate<QWinogradExports>(mod, q.arena) };
}

export interface WasmQWinogradOptions {
  m: IntWinogradTile;
  input: QInType;
  inZero: number;
  bias: Int32Array;
  epilogue: QEpilogue;
  rowsPerChunk?: number;
  /** A 2×2 stride-2 max pool after the conv (floor), fused into the output transform. */
  pool?: boolean;
}

/** An integer Winograd conv layer on arrays (tests, benchmarks; the runtime binds the same calls). */
export class WasmQWinograd {
  private readonly kernel: { key: string; exports: QWinogradExports };
  private readonly constants: QWinogradConstants;
  private readonly win: Window2d;

  constructor(readonly q: WasmQGemm, readonly params: Conv2dParams, weight: Int8Array, readonly opts: WasmQWinogradOptions) {
    const what = `int8 winograd F(${opts.m},3)`;
    const { group, win } = checkConv(what, params);
    if (!winogradApplies(win, group)) fail(`${what}: needs a 3×3 window, stride 1, dilation 1 and one group`);
    if (weight.length !== params.M * params.C * R * R) fail(`${what}: weights have ${weight.length} values, [${params.M},${params.C},3,3] needs ${params.M * params.C * 9}`);
    const absSum = Math.max(...Array.from({ length: params.M }, (_, o) => weight.subarray(o * params.C * 9, (o + 1) * params.C * 9).reduce((a, v) => a + Math.abs(v), 0)));
    const bound = 255 * absSum + Math.max(...Array.from(opts.bias, Math.abs));
    const why = qwinogradRefusal(opts.m, bound, opts.epilogue.shift, opts.epilogue.out);
    if (why) fail(`${what}: ${why}`);
    this.win = win;
    this.kernel = qwinogradKernel(q, opts.m);
    this.constants = qwinogradConstants(q, opts.m, params.M, params.C, weight, opts.bias, opts.epilogue);
  }

  shape(N: number, H: number, W: number): QWinogradShape {
    const [OH, OW] = outHW('int8 winograd conv', H, W, this.win);
    return { N, C: this.params.C, H, W, M: this.params.M, OH, OW, win: this.win };
  }

  /** Bytes of one output plane (pooled: ⌊OH/2⌋·⌊OW/2⌋). */
  private outPlane(s: QWinogradShape): number {
    return this.opts.pool ? (s.OH >> 1) * (s.OW >> 1) : s.OH * s.OW;
  }

  /** y = conv(x) on byte offsets in the arena: x [N, C, H, W], y [N, M, OH, OW] (8-bit; pooled, the pooled size). */
  run(N: number, H: number, W: number, x: number, y: number): void {
    const s = this.shape(N, H, W), q = this.q, ar = q.arena, threads = q.threads?.size ?? 1;
    const l = qwinogradLayout(s, this.opts.m, this.opts.rowsPerChunk ?? qwinogradChunkRows(s, this.opts.m, threads), q.scratchBytes());
    const mark = ar.used;
    try {
      const sets = Array.from({ length: Math.min(threads, l.chunks) }, () => ar.alloc(l.setBytes));
      const parts = qwinogradCalls(this.kernel.key, s, l, {
        x, y, imageStride: s.M * this.outPlane(s), constants: this.constants, input: this.opts.input, inZero: this.opts.inZero, sets, pool: this.opts.pool,
      });
      if (parts.length > 1) q.threads!.run(parts);
      else callsHere(parts[0], (c) => this.kernel.exports[c.fn as keyof QWinogradExports])();
    } finally {
      ar.reset(mark);
    }
  }

  conv(N: number, H: number, W: number, x: Int8Array | Uint8Array): Int8Array | Uint8Array {
    const s = this.shape(N, H, W), inSize = N * s.C * H * W, outSize = N * s.M * this.outPlane(s), ar = this.q.arena;
    if (x.length !== inSize) fail(`int8 winograd conv: input has ${x.length} values, [${N},${s.C},${H},${W}] needs ${inSize}`);
    const mark = ar.used;
    try {
      const xAt = this.q.upload(x), yAt = ar.alloc(outSize + 64);
      this.run(N, H, W, xAt, yAt);
      const Ctor = this.opts.epilogue.out === 'uint8' ? Uint8Array : Int8Array;
      return new Ctor(ar.memory.buffer.slice(yAt, yAt + outSize));
    } finally {
      ar.reset(mark);
    }
  }
}
