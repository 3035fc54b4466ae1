// Pattern-pruned 3×3 convolution on the FKW arrays (format/fkw.ts), with the
// per-layer generated kernel of pattern_codegen.ts. The weights are uploaded once
// as the kernel reads them (byte offsets precomputed: each kernel's channel plane
// in the padded input, each row's output plane); each image is padded into the
// layer's padded planes, then the FKW rows run. Threads share one image by output
// rows (plane, pairs: each part pads the rows it reads into planes of its own) or by
// FKW rows of equal kernel counts (row tiles). The reference is the dense conv
// (src/ir/ref) on the decoded weights.
import { fail } from '../../ir/errors.js';
import { KERNEL_TAPS, maskTaps } from '../../ir/pattern.js';
import type { PatternFormat } from '../../ir/tensor_format.js';
import { buildFkw, filterKernels, type Fkw } from '../../format/fkw.js';
import type { WasmArena } from './arena.js';
import { wasmFeatures } from './features.js';
import { compileCached, instantiate } from './loader.js';
import { patternModule } from './pattern_codegen.js';
import { planeAccBytes, planeFloats, planeFits, planeVectors } from './pattern_plane_codegen.js';
import { pairKernels, type PairsLayout } from './pattern_pairs.js';
import { PATTERN_EXPORTS, padSlackFloats, patternModuleKey, planePadded, type FusedPool, type PatternGeometry, type PatternVariant } from './pattern_spec.js';
import { rowRanges } from './sparse_split.js';
import type { PoolCall, ThreadPool } from './thread_pool.js';

export interface PatternExports {
  pad(x: number, xpad: number, c0: number, c1: number, y0: number, y1: number): void;
  conv(xpad: number, y: number, r0: number, r1: number, rowOut: number, rowBias: number, rowIdx: number, rowW: number,
    stride: number, index: number, weights: number, clampAt: number, acc: number, y0: number, y1: number, groups: number): void;
  touch(at: number, bytes: number): number;
}

/**
 * The variant before tuning: where the pads allow the plane padding, the pairs layout in
 * groups of PAIRS_GROUP filters (fewer when their accumulators would pass PAIRS_ACC_BYTES),
 * 4 vectors at a time (measured fastest on VGG-S's layers: 1.1–1.3× the plane layout), or
 * the plane layout where not even 2 filters' accumulators fit; else row tiles of up to 4
 * vectors across and rows to make 8 accumulators (28 wide: 2 × 4; 14: 2 × 4; 7: 4 × 2), with LRE.
 */
export function defaultPatternVariant(g: PatternGeometry): PatternVariant {
  if (!planeFits(g)) {
    if (g.S !== 1) fail(`pattern conv: stride ${g.S} needs pads of at most 1 above and left (pads ${g.padT}, ${g.padL})`);
    return rowsPatternVariant(g);
  }
  const group = pairsGroup(g, PAIRS_GROUP);
  if (group < 2) return { storage: 'fkw', layout: 'plane', rows: 1, vecs: 4, lre: false, order: 'filter', unroll: 1 };
  return { storage: 'fkw', layout: 'pairs', rows: group, vecs: 4, lre: false, order: 'filter', unroll: 1 };
}

/**
 * Filters per group of the default pairs layout (at most; fewer where PAIRS_ACC_BYTES caps it; thread parts
 * form groups within each part): in larger groups more kernels find a partner (VGG-S: 95–98% against
 * 90% in groups of 32), and the whole VGG-S ran 4–5% faster than in groups of 32 (1 and 2 threads, batch 1 and 64).
 */
export const PAIRS_GROUP = 128;

/** A pairs group's accumulator planes stay under this (in L2 with the input; VGG-S's 28×28 layer: 32 × 3.3 KB). */
export const PAIRS_ACC_BYTES = 256 << 10;

/** Up to `group` filters per pairs group, as many as PAIRS_ACC_BYTES holds the accumulators of. */
export function pairsGroup(g: PatternGeometry, group: number): number {
  return Math.min(group, Math.floor(PAIRS_ACC_BYTES / planeAccBytes(g)));
}

/** The row-tile variant (any pads): 8 accumulators, LRE. */
export function rowsPatternVariant(g: { OH: number; OW: number }): PatternVariant {
  const vecs = Math.min(4, Math.ceil(g.OW / 4));
  return { storage: 'fkw', layout: 'rows', rows: Math.max(1, Math.min(g.OH, Math.floor(8 / vecs))), vecs, lre: true, order: 'filter', unroll: 1 };
}

export interface PatternConvParams {
  C: number;
  M: number;
  H: number;
  W: number;
  /** [top, left, bottom, right]. */
  pads: readonly [number, number, number, number];
  /** The same stride both ways: 1 (default) or 2 (plane layouts only). */
  stride?: number;
}

/** The padded planes and output of a 3×3 conv. */
export function patternGeometry(p: PatternConvParams): PatternGeometry {
  const [padT, padL, padB, padR] = p.pads, S = p.stride ?? 1;
  if (S !== 1 && S !== 2) fail(`pattern conv: stride ${S}; the pattern kernel takes stride 1 or 2`);
  const PH = p.H + padT + padB, PW = p.W + padL + padR;
  if (PH < 3 || PW < 3) fail(`pattern conv: input ${p.H}×${p.W} with pads [${p.pads.join(',')}] is smaller than the 3×3 window`);
  return { C: p.C, H: p.H, W: p.W, OH: Math.floor((PH - 3) / S) + 1, OW: Math.floor((PW - 3) / S) + 1, padT, padL, PH, PW, S };
}

/** Bytes of one input channel's padded plane in a layout (stride 2: its four phase planes). */
export function channelBytes(g: PatternGeometry, v: PatternVariant): number {
  return (planePadded(v) ? g.S * g.S * planeFloats(g) : g.PH * g.PW) * 4;
}

/** Bytes of one image's padded planes (with the tail the last tile over-reads). */
export function paddedBytes(g: PatternGeometry, v: PatternVariant): number {
  return g.C * channelBytes(g, v) + padSlackFloats(g) * 4;
}

/** Scratch of one conv call: the plane layout's accumulators (a group's for 'pairs', none for rows). */
export function accBytes(g: PatternGeometry, v: PatternVariant): number {
  return v.layout === 'plane' ? planeAccBytes(g) : v.layout === 'pairs' ? v.rows * planeAccBytes(g) : 0;
}

/** Whether each part of an image threads share pads the rows it reads into planes of its own (plane, pairs; row tiles: one padded image). */
export const partsOwnPlanes = (v: PatternVariant): boolean => planePadded(v);

/** A thread's part of one image: FKW rows r0..r1, output rows y0..y1. */
export interface ImagePart { r0: number; r1: number; y0: number; y1: number }

export interface PatternConvOptions {
  bias?: Float32Array;
  /** Fused clamp [lo, hi] (relu = [0, Infinity]). */
  clamp?: readonly [number, number];
  variant?: PatternVariant;
  /** FKR row order (default true; false = filters in order, the ablation). */
  reorder?: boolean;
  /** f32x4.relaxed_madd (default: when the engine has relaxed SIMD). */
  fma?: boolean;
  /** A 2×2 stride-2 max pool fused into the pad: the input is [C, H0, W0] with ⌊H0/2⌋ = H, ⌊W0/2⌋ = W. */
  maxPool?: FusedPool;
  pool?: ThreadPool;
  /**
   * Parts threads share one image in (default: the pool's threads): the filters in as many contiguous
   * ranges of about equal kernel counts, FKR within each, so that each part writes one block of output
   * channels. Parts writing interleaved rows or planes of the output took 1.15–1.8× as long side by side
   * as one at a time (VGG-S, 2 threads; not when writing separate buffers): the prefetchers pull the
   * other core's lines across every boundary (docs/pattern.md, Threads).
   */
  parts?: number;
}

/** The arrays the kernel reads, in the arena (byte offsets). */
interface Uploaded { rowOut: number; rowBias: number; rowIdx: number; rowW: number; stride: number; index: number; weights: number; clampAt: number; groups: number }

export class WasmPatternConv {
  readonly geo: PatternGeometry;
  readonly fkw: Fkw;
  readonly variant: PatternVariant;
  readonly key: string;
  readonly exports: PatternExports;
  /** Parts one image is shared in (opts.parts). */
  readonly parts: number;
  /** ('pairs') the groups' passes. */
  readonly pairs?: PairsLayout;
  private readonly at: Uploaded;

  constructor(readonly arena: WasmArena, readonly params: PatternConvParams, w: Float32Array, format: PatternFormat, readonly opts: PatternConvOptions = {}) {
    const { C, M } = params;
    if (w.length !== M * C * KERNEL_TAPS) fail(`pattern conv: weights have ${w.length} values, [${M},${C},3,3] needs ${M * C * KERNEL_TAPS}`);
    if (opts.bias && opts.bias.length !== M) fail(`pattern conv: bias has ${opts.bias.length} values, needs M=${M}`);
    if (opts.pool && opts.pool.arena !== arena) fail('pattern conv: the thread pool works on another arena; pass the same one');
    this.geo = patternGeometry(params);
    this.variant = opts.variant ?? defaultPatternVariant(this.geo);
    if (planePadded(this.variant) && (!planeFits(this.geo) || this.variant.storage !== 'fkw')) {
      fail(`pattern conv: the ${this.variant.layout} layout needs pads of 1 on the left and right (stride 2: at most 1 above and left) and FKW storage (pads [${params.pads.join(',')}], stride ${this.geo.S})`);
    }
    if (!planePadded(this.variant) && this.geo.S !== 1) fail(`pattern conv: the rows layout takes stride 1, not ${this.geo.S}; use plane or pairs`);
    if (this.variant.layout === 'pairs' && !(Number.isInteger(this.variant.rows) && this.variant.rows >= 1)) fail(`pattern conv: the pairs layout needs groups of 1 or more filters, not ${this.variant.rows}`);
    this.parts = opts.parts ?? opts.pool?.size ?? 1;
    if (!Number.isInteger(this.parts) || this.parts < 1) fail(`pattern conv: parts=${this.parts} must be an integer ≥ 1`);
    const kernels = filterKernels(format, M, C), prefix = new Int32Array(M + 1);
    kernels.forEach((k, m) => { prefix[m + 1] = prefix[m] + k; });
    // a filter's bias, clamp and store cost about one kernel's multiply-adds (patternConvNs: 0.6 vs 4 × 0.19 per vector)
    const ranges = rowRanges(prefix, 0, M, this.parts, 1);
    this.fkw = buildFkw(w, [M, C, 3, 3], format, { reorder: opts.reorder, groups: this.variant.layout === 'pairs' ? this.variant.rows : undefined, parts: ranges });
    this.pairs = this.variant.layout === 'pairs' ? pairKernels(this.fkw, this.variant.rows) : undefined;
    const mp = opts.maxPool;
    if (mp && this.geo.S !== 1) fail('pattern conv: a fused max pool needs a stride-1 conv');
    if (mp && (Math.floor(mp.H0 / 2) !== params.H || Math.floor(mp.W0 / 2) !== params.W)) {
      fail(`pattern conv: a fused 2×2 pool of ${mp.H0}×${mp.W0} gives ${Math.floor(mp.H0 / 2)}×${Math.floor(mp.W0 / 2)}, not the conv's ${params.H}×${params.W}`);
    }
    const spec = { geo: this.geo, masks: this.fkw.masks, variant: this.variant, pairKinds: this.pairs?.kinds, fma: opts.fma ?? wasmFeatures().relaxedSimd, maxPool: mp, shared: arena.shared };
    this.key = patternModuleKey(spec);
    const mod = compileCached(this.key, () => patternModule(spec));
    this.exports = instantiate<PatternExports>(mod, arena);
    opts.pool?.register(this.key, mod);
    this.at = this.upload();
  }

  private upload(): Uploaded {
    const { fkw, geo, arena } = this;
    const plane = channelBytes(geo, this.variant), M = fkw.M;
    const i32 = (a: ArrayLike<number>) => { const o = arena.alloc(a.length * 4); new Int32Array(arena.memory.buffer, o, a.length).set(a); return o; };
    const f32 = (a: ArrayLike<number>) => { const o = arena.alloc(a.length * 4); new Float32Array(arena.memory.buffer, o, a.length).set(a); return o; };
    const rowBias = f32(Array.from(fkw.reorder, (m) => this.opts.bias?.[m] ?? 0));
    const rowOut = i32(Array.from(fkw.reorder, (m) => m * geo.OH * geo.OW * 4));
    const clampAt = this.opts.clamp ? f32(this.opts.clamp) : 0;
    const pairs = this.pairs;
    if (pairs) {
      const groups = i32(pairs.starts);
      // per group its counts, first pass (bytes from index) and first weight (bytes from weights)
      const acc = planeAccBytes(geo), entries = Array.from(pairs.entries, (v, i) => (i % 3 === 0 ? v * plane : v * acc));
      return {
        rowOut, rowBias, clampAt, rowIdx: i32(Array.from(pairs.firstEntry, (e) => e * 12)), rowW: i32(Array.from(pairs.firstWeight, (w) => w * 4)),
        stride: i32(pairs.counts), index: i32(entries), weights: f32(pairs.weights), groups,
      };
    }
    if (this.variant.storage === 'fkw') {
      return {
        rowOut, rowBias, clampAt, rowIdx: i32(Array.from(fkw.offset.subarray(0, M), (k) => k * 4)),
        rowW: i32(Array.from(fkw.weightOffset.subarray(0, M), (v) => v * 4)), stride: i32(fkw.stride),
        index: i32(Array.from(fkw.index, (c) => c * plane)), weights: f32(fkw.weights), groups: 0,
      };
    }
    // 'csr': one offset per weight (channel plane + tap), one count per row
    const taps = fkw.masks.map(maskTaps), K = fkw.masks.length, offsets: number[] = [];
    let k = 0;
    for (let r = 0; r < M; r++) {
      for (let p = 0; p < K; p++) {
        for (let j = 0; j < fkw.stride[r * K + p]; j++, k++) {
          for (const t of taps[p]) offsets.push(fkw.index[k] * plane + (Math.floor(t / 3) * geo.PW + (t % 3)) * 4);
        }
      }
    }
    const wo = Array.from(fkw.weightOffset.subarray(0, M), (v) => v * 4);
    return {
      rowOut, rowBias, clampAt, rowIdx: i32(wo), rowW: i32(wo), stride: i32(Array.from({ length: M }, (_, r) => fkw.weightOffset[r + 1] - fkw.weightOffset[r])),
      index: i32(offsets), weights: f32(fkw.weights), groups: 0,
    };
  }

  /** The output rows split into at most `parts` contiguous ranges of about equal size (none empty). */
  outputRanges(parts: number): [number, number][] {
    const OH = this.geo.OH, n = Math.min(parts, OH);
    return Array.from({ length: n }, (_, t) => [Math.floor((t * OH) / n), Math.floor(((t + 1) * OH) / n)]);
  }

  /**
   * One image's work in `parts` items for threads to share: the FKW parts (contiguous blocks of
   * output channels; row tiles: of one padded image, plane and pairs: each padding the whole image
   * into planes of its own), or, plane and pairs with fewer filters than parts, ranges of output
   * rows of every filter (each padding the rows it reads).
   */
  imageParts(): ImagePart[] {
    const { parts, M } = this.fkw, OH = this.geo.OH;
    if (parts.length - 1 < this.parts && partsOwnPlanes(this.variant)) return this.outputRanges(this.parts).map(([y0, y1]) => ({ r0: 0, r1: M, y0, y1 }));
    return Array.from({ length: parts.length - 1 }, (_, t) => ({ r0: parts[t], r1: parts[t + 1], y0: 0, y1: OH }));
  }

  /** The pad call for image planes x → xpad (channels c0..c1, the rows output rows y0..y1 read). */
  padCall(x: number, xpad: number, c0 = 0, c1 = this.geo.C, y0 = 0, y1 = this.geo.OH): PoolCall {
    return { key: this.key, fn: PATTERN_EXPORTS.pad, args: [x, xpad, c0, c1, y0, y1] };
  }

  /** Bytes of one image's padded input, and of one conv call's accumulators. */
  get padBytes(): number { return paddedBytes(this.geo, this.variant); }
  get accBytes(): number { return accBytes(this.geo, this.variant); }

  /** The conv call of FKW rows [r0, r1) and output rows [y0, y1) from a padded image into the output image y (acc: accBytes). */
  convCall(xpad: number, y: number, acc: number, r0 = 0, r1 = this.fkw.M, y0 = 0, y1 = this.geo.OH): PoolCall {
    const a = this.at;
    if (!planePadded(this.variant) && (y0 !== 0 || y1 !== this.geo.OH)) throw new Error('pattern conv: row tiles run whole output planes');
    const [from, to] = this.pairs ? [this.groupOf(r0), this.groupOf(r1)] : [r0, r1];
    return { key: this.key, fn: PATTERN_EXPORTS.conv, args: [xpad, y, from, to, a.rowOut, a.rowBias, a.rowIdx, a.rowW, a.stride, a.index, a.weights, a.clampAt, acc, y0, y1, a.groups] };
  }

  /** ('pairs') The group that starts at FKW row r (M: the number of groups); a call runs whole groups. */
  private groupOf(r: number): number {
    const g = this.pairs!.starts.indexOf(r);
    if (g < 0) throw new Error(`pattern conv: FKW row ${r} does not start a group of the pairs layout (${[...this.pairs!.starts].join(',')})`);
    return g;
  }

  /** Bytes of one input image (before the fused pool, if any). */
  get inImageBytes(): number {
    const g = this.geo, p = this.opts.maxPool;
    return g.C * (p ? p.H0 * p.W0 : g.H * g.W) * 4;
  }

  /** Scratch run() needs: padded planes and accumulators per part of an image (one part without the pool). */
  get scratchBytes(): number {
    const parts = this.opts.pool ? this.imageParts().length : 1;
    return partsOwnPlanes(this.variant) ? parts * (this.padBytes + this.accBytes) : this.padBytes + parts * this.accBytes;
  }

  /** y [N, M, OH, OW] = conv(x [N, C, H, W]) on byte offsets; `scratch` holds scratchBytes. */
  run(N: number, x: number, y: number, scratch: number): void {
    const g = this.geo, inImage = this.inImageBytes, outImage = this.fkw.M * g.OH * g.OW * 4;
    const pool = this.opts.pool, parts = this.imageParts(), own = partsOwnPlanes(this.variant);
    const e = this.exports;
    if (!pool || parts.length === 1) {
      // one thread: the calls' arguments made once (the tuner times this path)
      const args = this.convCall(scratch, y, scratch + this.padBytes).args.slice() as Parameters<typeof e.conv>;
      for (let n = 0; n < N; n++) {
        e.pad(x + n * inImage, scratch, 0, g.C, 0, g.OH);
        args[1] = y + n * outImage;
        e.conv(...args);
      }
      return;
    }
    for (let n = 0; n < N; n++) {
      const xn = x + n * inImage, yn = y + n * outImage;
      if (!own) e.pad(xn, scratch, 0, g.C, 0, g.OH);
      pool.runDynamic(this.imageItems(xn, yn, scratch, parts, this.padBytes, this.accBytes));
    }
  }

  /**
   * One image's parts (imageParts) as pool items. Plane, pairs: each part pads the rows it reads
   * into its own set at scratch + t · (plane + acc), its accumulators after the planes. Row tiles:
   * each part runs on the one padded image at scratch (the caller pads it first), its accumulators
   * at scratch + plane + t · acc.
   */
  imageItems(x: number, y: number, scratch: number, parts: readonly ImagePart[], plane: number, acc: number): PoolCall[][] {
    const own = partsOwnPlanes(this.variant);
    return parts.map(({ r0, r1, y0, y1 }, t) => {
      const set = own ? scratch + t * (plane + acc) : scratch, accAt = own ? set + plane : scratch + plane + t * acc;
      return [...(own ? [this.padCall(x, set, 0, this.geo.C, y0, y1)] : []), this.convCall(set, y, accAt, r0, r1, y0, y1)];
    });
  }

  /** y = conv(x) on arrays (copied in and out of the arena). */
  conv(N: number, x: Float32Array): Float32Array {
    const g = this.geo, outSize = N * this.fkw.M * g.OH * g.OW, inSize = (N * this.inImageBytes) / 4;
    if (x.length !== inSize) fail(`pattern conv: input has ${x.length} values, ${N} images of ${this.inImageBytes / 4} need ${inSize}`);
    return this.arena.onCopy(x, outSize, this.scratchBytes, (xAt, yAt, pad) => this.run(N, xAt, yAt, pad));
  }
}

// ---- cost model ------------------------------------------------------------------

/** What the cost of a pattern conv depends on, besides the geometry. */
export interface PatternCounts {
  /** Filters (FKW rows). */
  rows: number;
  /** Kept kernels. */
  kernels: number;
  /** Stored weights (the taps of the kept kernels). */
  weights: number;
}

/**
 * ns per image ≈ Σ term·cost (patternCostTerms), fitted by `node dist/bench/pattern_calibrate.js`
 * on the reference machine (process CPU time, real-time priority; the main terms fitted,
 * the small ones (pads, per-filter passes, the call) set by hand where the fit is ill-posed,
 * within ±20% on VGG-like layers): per weight and output
 * vector (a load, a multiply and an add), per kernel and output vector (the plane layout's
 * accumulator load and store; the row tiles' index, address and weight splats per tile),
 * per filter and output vector (bias, clamp, stores), the padding copy per float, and a call.
 */
const PATTERN_COST: Record<PatternVariant['layout'], number[]> = {
  plane: [0.24, 0, 0.6, 0.15, 500],
  pairs: [0.19, 0, 0.6, 0.15, 500],
  rows: [0.21, 6, 2, 0.15, 500],
};

/**
 * The cost model's terms: (weights + kernels)·vectors for the plane layout (each weight's
 * load, multiply and add; each kernel's accumulator load and store) or weights·vectors and
 * kernels·tiles for row tiles; filters·vectors (or tiles); padded floats; 1.
 */
export function patternCostTerms(g: PatternGeometry, c: PatternCounts, v: PatternVariant): number[] {
  if (v.layout !== 'rows') {
    const vectors = planeVectors(g);
    return [(c.weights + c.kernels) * vectors, 0, c.rows * vectors, g.C * g.PH * g.PW, 1];
  }
  const tiles = Math.ceil(g.OH / v.rows) * Math.ceil(Math.ceil(g.OW / 4) / v.vecs);
  return [c.weights * g.OH * Math.ceil(g.OW / 4), c.kernels * tiles, c.rows * tiles, g.C * g.PH * g.PW, 1];
}

export function patternConvNs(g: PatternGeometry, c: PatternCounts, v: PatternVariant = defaultPatternVariant(g)): number {
  const k = PATTERN_COST[v.layout];
  return patternCostTerms(g, c, v).reduce((s, t, i) => s + t * k[i], 0);
}
