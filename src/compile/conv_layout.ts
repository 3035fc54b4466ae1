// How a conv step shares its work among threads and lays out its scratch: decided
// once by the planner and carried by the step, so binding only reads it.
// Dense (im2col / 1×1): `sets` copies of [patches | packed panels], one per chunk of images or band of rows;
// depthwise: one padded plane per thread; sparse (csr): `sets` patch matrices,
// one per chunk of images or per band of output rows; Winograd: one set of
// transform buffers per thread. C target: the rows of a conv made per band when
// the pool after it is fused (convBand).
import { IM2COL_NS } from '../kernels/wasm/conv.js';
import { gemmScratchBytes } from '../kernels/wasm/gemm_codegen.js';
import { winogradLayout, winogradSplit } from '../kernels/wasm/winograd.js';
import { convKernelCosts } from '../kernels/wasm/sparse.js';
import { sparseParts } from '../kernels/wasm/sparse_split.js';
import { CALL_WORDS } from '../kernels/wasm/thread_protocol.js';
import { CHUNKS_PER_THREAD } from '../kernels/wasm/thread_pool.js';
import { DEPTHWISE_SLACK } from '../kernels/wasm/depthwise_codegen.js';
import { isPointwise } from '../ir/window.js';
import { tileGrid } from '../ir/winograd.js';
import { accBytes, paddedBytes, patternGeometry, partsOwnPlanes } from '../kernels/wasm/pattern.js';
import { patternCounts } from '../ir/pattern.js';
import { storedCount } from './cost.js';
import { patternParams } from './pattern_choice.js';
import type { ConvLayout, ConvStep, PoolStep, QConvStep } from './plan_types.js';

/** Extra bytes after each scratch area: vector loads and stores may run up to a line past the end. */
export const SLACK = 64;

/** Patch matrices of all chunks of a dynamically shared conv together stay under this (more chunks are not worth the memory). */
const CHUNK_SCRATCH_BYTES = 16 << 20;

export const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * Scratch sets of a dense or integer im2col conv layout: one per thread, or when its threads take
 * chunks of whole images dynamically, CHUNKS_PER_THREAD per thread, no more than the images, nor
 * (beyond one per thread) than CHUNK_SCRATCH_BYTES of sets (everything a set holds, a fused pool's
 * plane too).
 */
export function imageChunks(N: number, l: Omit<ConvLayout, 'sets'>): number {
  if (!l.byImages || l.split <= 1) return l.split;
  return Math.min(N, l.split * CHUNKS_PER_THREAD, Math.max(l.split, Math.floor(CHUNK_SCRATCH_BYTES / setBytes(l))));
}

/** Words of an im2col call in a dynamic run (2 + 15; none for a 1×1 conv, which reads its input as it is). */
const im2colWords = (s: ConvStep): number => (isPointwise(s.win) ? 0 : 17);

/** Words of one chunk of rows' calls in a dynamic dense run: an im2col, a packB (2 + 6) and a GEMM (2 + 14). */
function gemmChunkWords(s: ConvStep): number {
  return im2colWords(s) + 8 + 16;
}

/** Words of one group's calls in a dynamic sparse run: an im2col and an spmm (2 + 13). */
export function sparseWordsPerGroup(s: ConvStep): number {
  return im2colWords(s) + 15;
}

/**
 * Whether a split conv gives each thread whole images (else each thread takes a band
 * of output rows of every image): when the images divide evenly, or are many enough
 * that one left over matters little.
 */
function splitsImages(N: number, split: number): boolean {
  return split > 1 && N >= split && (N % split === 0 || N >= 4 * split);
}

/** Estimated ns of one image of a sparse conv on one thread: per group, the spmm and the im2col. */
function sparseImageNs(s: ConvStep): number {
  const K = (s.C / s.group) * s.win.kh * s.win.kw, P = s.OH * s.OW;
  const nnzPerGroup = Math.round(storedCount(s.weight) / s.group); // an average is enough to decide
  const im2col = isPointwise(s.win) ? 0 : IM2COL_NS * K * P;
  return s.group * (convKernelCosts(s.M / s.group, K, nnzPerGroup, P).csr + im2col);
}

/**
 * The sparse conv's split: chunks of images taken dynamically (as many patch
 * matrices as chunks in flight), or bands of output rows of each image.
 */
function sparseLayout(s: ConvStep, threads: number, K: number): ConvLayout {
  const parts = sparseParts(s.N * sparseImageNs(s), threads);
  const direct = isPointwise(s.win), patchBytes = (pixels: number) => (direct ? 0 : K * pixels * 4 + SLACK);
  const whole = { split: 1, byImages: true, sets: 1, pixels: s.OH * s.OW };
  let l = whole;
  if (parts > 1 && splitsImages(s.N, parts)) {
    const perImage = s.group * sparseWordsPerGroup(s);
    let most = Math.min(parts * CHUNKS_PER_THREAD, Math.floor(CALL_WORDS / (perImage + 1)));
    if (!direct) most = Math.min(most, Math.max(parts, Math.floor(CHUNK_SCRATCH_BYTES / (K * s.OH * s.OW * 4))));
    if (most >= 2) l = { split: parts, byImages: true, sets: Math.min(s.N, most), pixels: s.OH * s.OW };
  }
  if (parts > 1 && l === whole) { // bands of output rows, at most one per row (also when two images' calls do not fit a run)
    const bands = Math.min(parts, s.OH);
    l = { split: bands, byImages: false, sets: bands, pixels: Math.ceil(s.OH / bands) * s.OW };
  }
  const patches = roundUp(patchBytes(l.pixels), 64);
  return { split: l.split, byImages: l.byImages, sets: l.sets, patches, panels: 0, plane: 0 };
}

/** The pattern conv's image sets (padded image + accumulators each) together stay under this. */
const PATTERN_SETS_BYTES = 8 << 20;

/**
 * A pattern conv estimated at this much or more (ns on one thread) shares one image over the
 * threads (lower than the sparse kernels' SPARSE_SPLIT_NS: its parts duplicate only a pad of
 * ~1 µs). VGG-S, 2 threads, batch 1 (bench/pattern.js): features.7 and .14 (est 32 µs, 22–23 µs
 * measured) 1.24× and 1.27× faster split; a dynamic run of two empty items costs 1.2–1.8 µs.
 */
export const PATTERN_SPLIT_NS = 15_000;

/** Ranges per thread of one image's FKW rows (row tiles; each with its own accumulators). */
const PATTERN_RANGES_PER_THREAD = 2;

/**
 * The parts a pattern conv split over `split` threads shares one image into (runtime/steps/pattern_conv.ts,
 * WasmPatternConv.imageParts): one per thread when each part pads the image into planes of its own
 * (plane, pairs: a block of filters each, whose halves cost 1.03–1.11× the whole on VGG-S, so more
 * parts would cost more than they balance), or PATTERN_RANGES_PER_THREAD blocks of filters per thread
 * of one padded image (row tiles).
 */
export function patternParts(split: number, ownPlanes: boolean): number {
  return split > 1 ? split * (ownPlanes ? 1 : PATTERN_RANGES_PER_THREAD) : 1;
}

/**
 * The pattern conv's split (`split` from its own flops, or all threads from PATTERN_SPLIT_NS): chunks
 * of whole images taken dynamically, each set [padded image | accumulators] its own (up to 4 per
 * thread); or one image shared in patternParts parts: plane, pairs one set per part (each padding
 * what it reads: a block of filters, or a range of output rows of every filter when there are fewer
 * filters than parts, WasmPatternConv.imageParts), row tiles blocks of filters of one padded image
 * (one set: the padded image, then each block's accumulators in `patches`).
 */
function patternLayout(s: ConvStep, split: number, threads: number): ConvLayout {
  split = Math.max(split, sparseParts(s.estNs ?? 0, threads, PATTERN_SPLIT_NS));
  const byImages = splitsImages(s.N, split), v = s.pattern!.variant;
  const geo = patternGeometry(patternParams(s));
  const plane = roundUp(paddedBytes(geo, v), 64), acc = roundUp(accBytes(geo, v), 64);
  if (byImages) {
    const sets = Math.max(split, Math.min(s.N, split * CHUNKS_PER_THREAD, Math.floor(PATTERN_SETS_BYTES / (plane + acc))));
    return { split, byImages, sets, patches: acc, panels: 0, plane };
  }
  if (partsOwnPlanes(v)) return { split, byImages, sets: patternParts(split, true), patches: acc, panels: 0, plane };
  return { split, byImages, sets: 1, patches: patternParts(split, false) * acc, panels: 0, plane };
}

/**
 * The layout of a conv step whose kernel (`impl`) is chosen: dense steps split
 * over `split` threads (whole images when they share out evenly, else bands of
 * output rows); sparse steps decide their own split from the cost model.
 */
export function convLayout(s: ConvStep, split: number, threads: number, tile: { mr: number; nr: number }): ConvLayout {
  const { win } = s, nr = tile.nr;
  const K = (s.C / s.group) * win.kh * win.kw;
  if (s.impl === 'csr') return sparseLayout(s, threads, K);
  if (s.impl === 'pattern') return patternLayout(s, split, threads);
  if (s.impl === 'winograd') return winogradConvLayout(s, split, tile);
  if (s.impl === 'depthwise') {
    const plane = (s.H + win.padT + win.padB) * (s.W + win.padL + win.padR + DEPTHWISE_SLACK) * 4 + SLACK;
    return { split, byImages: false, sets: split, patches: 0, panels: 0, plane };
  }
  const byImages = splitsImages(s.N, split);
  if (split > 1 && !byImages && s.OH < split) split = 1; // too few output rows to share
  const band = split > 1 && !byImages ? Math.ceil(s.OH / split) : s.OH;
  const sized = (rows: number) => {
    const P = rows * s.OW; // pixels one set holds
    const patches = s.impl === 'im2col' ? K * P * 4 + SLACK : 0;
    const panels = roundUp(P, nr) * K * 4 + SLACK;
    const l = { split, byImages: split > 1 && byImages, patches, panels, plane: 0, ...(rows < band ? { rows } : {}) };
    return { ...l, sets: imageChunks(s.N, l) };
  };
  const l = sized(gemmRows(s.impl === 'im2col' ? 2 * K : K, s.OW, band));
  if (!l.byImages || !l.rows) return l;
  // threads taking whole images: an image's calls go in one item of a dynamic run (its share of CALL_WORDS)
  const chunks = Math.max(1, Math.floor((Math.floor(CALL_WORDS / l.sets) - 1) / (gemmChunkWords(s) * s.group)));
  return chunks * l.rows >= s.OH ? l : sized(Math.ceil(s.OH / chunks));
}

/** A dense conv's GEMM takes a chunk of output rows whose patches and packed panels stay under this (in L2, with the packed weights). */
export const GEMM_CHUNK_BYTES = 512 << 10;

/** ... and at least this many output pixels (the GEMM's columns), whatever their bytes. */
export const GEMM_CHUNK_PIXELS = 512;

/**
 * Output rows per GEMM of a dense conv with `floatsPerPixel` floats of scratch a pixel (patches and
 * panels) and rows of OW pixels, out of `rows`: a stem conv's 7×7 patches over 112×112 outputs take
 * 14.8 MB at once, streamed through memory three times (written, packed, read); in chunks they stay in L2.
 */
export function gemmRows(floatsPerPixel: number, OW: number, rows: number): number {
  const fit = Math.floor(GEMM_CHUNK_BYTES / (floatsPerPixel * 4 * OW));
  return Math.min(rows, Math.max(fit, Math.ceil(GEMM_CHUNK_PIXELS / OW), 1));
}

/** Winograd: chunks of tile rows shared round-robin by `split` threads, or each chunk by output channels; one set of transform buffers per thread (kernels/wasm/winograd.ts). */
function winogradConvLayout(s: ConvStep, split: number, tile: { mr: number; nr: number }): ConvLayout {
  const shape = { N: s.N, C: s.C, H: s.H, W: s.W, M: s.M, OH: s.OH, OW: s.OW, win: s.win };
  const { rowsPerChunk, byChannels } = winogradSplit(shape, s.tile!, split);
  const l = winogradLayout(shape, s.tile!, rowsPerChunk, tile.nr, gemmScratchBytes(tile));
  const sets = byChannels ? split : Math.min(split, l.chunks);
  return { split: sets, byImages: false, sets, patches: 0, panels: 0, plane: 0, winograd: { rowsPerChunk, byChannels, setBytes: l.setBytes } };
}

/** Bytes of one scratch set of a conv layout. */
export function setBytes(l: Omit<ConvLayout, 'sets'>): number {
  return l.patches + l.panels + l.plane + (l.winograd?.setBytes ?? 0);
}

/** Scratch bytes of a conv layout, all sets together. */
export function convScratchBytes(l: ConvLayout): number {
  return l.sets * setBytes(l);
}

/** Bytes of band scratch a fused conv may take beyond one pooled row's: this fraction of its pooled output. */
const BAND_SHARE = 1 / 8;

/**
 * C target, a pool fused into the conv before it: how many pooled rows each band of
 * conv rows makes. Consecutive pooled rows must read disjoint conv rows. A band
 * holds at least one pooled row's rows and, to spread the per-weight overhead over
 * more rows, as many pooled rows (a divisor of all of them) as fit in 1/8 of the
 * pooled output: RAM grows by at most that much.
 */
export function convBand(s: ConvStep, p: PoolStep): { pooled: number; rows: number } | undefined {
  const win = p.win, span = (win.kh - 1) * win.dh + 1;
  if (win.sh < span || s.N !== p.N) return undefined;
  const rowsFor = (d: number) => (d - 1) * win.sh + span;
  const budget = Math.max(rowsFor(1) * s.OW * 4, (p.C * p.OH * p.OW * 4) * BAND_SHARE);
  let pooled = 1;
  for (let d = 2; d <= p.OH; d++) if (p.OH % d === 0 && rowsFor(d) * s.OW * 4 <= budget) pooled = d;
  return { pooled, rows: rowsFor(pooled) };
}

/** Output planes up to this many pixels are too small for a pass per stored weight to pay (see cConvKernel). */
const SMALL_PLANE = 256;

/**
 * C target: how a float conv runs. By default one pass per stored weight over the
 * output rows ('taps', no scratch). A padded conv (group 1) with small output planes
 * runs input channel by input channel instead ('channels'): the kh·kw shifted copies
 * of one input plane (zeros where the padding is, kh·kw·OH·OW floats of scratch) make
 * every stored weight one contiguous axpy over a whole output plane, instead of a
 * pass clipped at the edges that is mostly overhead on a 7×7 plane.
 */
export function cConvKernel(s: ConvStep): { cKernel: NonNullable<ConvStep['cKernel']>; scratch: number } {
  const w = s.win, padded = w.padT + w.padB + w.padL + w.padR > 0;
  if (s.impl === 'pattern') return { cKernel: 'pattern', scratch: cPatternPlanes(s).bytes };
  if (s.impl === 'winograd') return { cKernel: 'winograd', scratch: cWinogradPlanes(s).bytes };
  if (!padded || s.group !== 1 || s.OH * s.OW > SMALL_PLANE) return { cKernel: 'taps', scratch: 0 };
  return { cKernel: 'channels', scratch: w.kh * w.kw * s.OH * s.OW * 4 };
}

/** Floats a pattern conv's flat pass is rounded up to when its input is padded (a 256-bit vector: no scalar tail). */
const PATTERN_PASS_ROUND = 8;

/** Padded rows of a pattern conv are widened to a multiple of this many floats (a 512-bit vector) when it costs at most ALIGNED_ROW_COST× the floats. */
const ALIGNED_ROW = 16;
const ALIGNED_ROW_COST = 1.15;

/**
 * Band sizes (output rows) a pattern conv may use, ascending: divisors of OH, and with a fused
 * pool one whose windows tile the rows (no overlap, no pads) only multiples of its stride, so
 * each pooled row's conv rows lie in one band; other pools need the whole plane.
 */
export function cPatternBands(s: ConvStep): number[] {
  const p = s.pool, w = p?.win;
  const tiles = !w || (w.kh <= w.sh && w.padT === 0 && w.dh === 1);
  const out: number[] = [];
  for (let b = 1; b <= s.OH; b++) if (s.OH % b === 0 && (b === s.OH || (tiles && (!w || b % w.sh === 0)))) out.push(b);
  return out;
}

/** A 2×2 stride-2 max pool without pads or dilation (a pattern conv takes it straight from its pass). */
export function isMaxPool2(p: PoolStep | undefined): boolean {
  const w = p?.win;
  return !!p && !!w && p.mode === 'max' && w.kh === 2 && w.kw === 2 && w.sh === 2 && w.sw === 2 && w.dh === 1 && w.dw === 1 &&
    w.padT + w.padL + w.padB + w.padR === 0;
}

/** Where a pattern conv's pass holds its output rows: `lines` rows of PW floats, `fold` output rows side by side in each (segments of PW / fold). */
export interface PatternPlanes {
  padded: boolean;
  PW: number;
  /** Floats of one input channel's padded planes (H·W when read in place). */
  plane: number;
  span: number;
  /** Output rows per band. */
  rows: number;
  fold: 1 | 2;
  lines: number;
  /** Floats from one copy of the padded planes to the next shifted by a column (3 copies: every tap loads aligned); 0 = one copy. */
  shift: number;
  /** Bytes the scratch pointer is rounded up to (rows of whole vectors); 0 = as given. */
  align: number;
  /** Stride 2: floats of one of a channel's four phase planes (cPhasePlanes); 0 = stride 1. */
  phase: number;
  bytes: number;
}

/** Bytes of a core's L1 data cache the shifted copies a filter reads should fit in (see cPatternPlanes): beyond it the copies cost more in misses than the aligned loads save. */
const SHIFTED_CACHE_BYTES = 48 << 10;

/** Whether a filter's kernels (on average) read their three shifted copies of `plane` floats from a core's L1 cache. */
function shiftsFit(s: ConvStep, plane: number): boolean {
  const kept = s.pattern ? patternCounts(s.pattern.format).kept : s.M * s.C;
  return (kept / s.M) * plane * 3 * 4 <= SHIFTED_CACHE_BYTES;
}

/**
 * C target, pattern conv (3×3, stride 1; stride 2: cPhasePlanes): one filter's output made a band of `rows` output rows
 * at a time (s.patternRows, else the whole plane), as rows − 1 rows of PW floats and OW more (the
 * last PW − OW columns of a row are not outputs), so every tap is one constant offset into a flat
 * pass over `span` floats. A padded conv first copies the band's rows + 2 of every input channel
 * into padded planes of PW columns (`plane` floats each; zeros outside the input; a row's right
 * pad is the next row's left pad), rows widened to whole 512-bit vectors when that costs little
 * (the taps of the first column then load aligned); an unpadded one reads its input in place
 * (`plane` = H·W, whole planes). Planes at most half a vector wide are folded (fold 2, whole
 * planes only): row r and row r + lines side by side in one line of ALIGNED_ROW floats, so the
 * pass runs over lines of whole vectors. Rows of whole vectors also get two more copies of the
 * padded planes shifted by one and two columns (`shifted`, s.patternShifted; by default when a
 * filter's kernels read them from a core's L1 cache, SHIFTED_CACHE_BYTES), so every tap of the
 * pass loads aligned. With padding the pass is rounded up to whole vectors,
 * which reads past the last plane (scratch) into outputs never kept. Scratch: the pass, then
 * the padded planes.
 */
export function cPatternPlanes(s: ConvStep, rows = s.patternRows ?? s.OH, shifted = s.patternShifted): PatternPlanes {
  if (s.win.sh === 2) return cPhasePlanes(s, rows);
  const w = s.win, g = patternGeometry({ C: s.C, M: s.M, H: s.H, W: s.W, pads: [w.padT, w.padL, w.padB, w.padR] });
  const padded = g.PH !== s.H || g.PW !== s.W;
  if (!padded) rows = g.OH;
  const least = padded && w.padR <= w.padL ? s.W + w.padL : g.PW, aligned = roundUp(least, ALIGNED_ROW);
  const fold = padded && rows === g.OH && least <= ALIGNED_ROW / 2 && (!s.pool || isMaxPool2(s.pool)) ? 2 : 1;
  const PW = fold === 2 || (padded && aligned <= least * ALIGNED_ROW_COST) ? aligned : least;
  const lines = Math.ceil(rows / fold);
  const exact = (lines - 1) * PW + (fold === 2 ? PW : g.OW);
  const span = padded ? roundUp(exact, PW % ALIGNED_ROW ? PATTERN_PASS_ROUND : ALIGNED_ROW) : exact;
  const plane = padded ? (lines + 2) * PW : s.H * s.W;
  const copy = padded ? s.C * plane + span - exact + w.padR : 0, aligned16 = padded && PW % ALIGNED_ROW === 0;
  const shift = (shifted ?? shiftsFit(s, plane)) && aligned16 ? roundUp(copy + 2, ALIGNED_ROW) : 0;
  const align = aligned16 ? ALIGNED_ROW * 4 : 0;
  return { padded, PW, plane, span, rows, fold, lines, shift, align, phase: 0, bytes: (span + (shift ? 3 * shift : copy)) * 4 + align };
}

/**
 * C target, stride-2 pattern conv: a band's rows of each input channel copied as the padded
 * image's four phase planes (its even or odd rows × even or odd columns), rows + 1 rows of PW =
 * OW + 1 floats each, as the WASM kernel's (pattern_plane_codegen.ts). Tap (ky, kx) of output
 * position i is then phase (ky mod 2, kx mod 2) at i + ⌊ky/2⌋·PW + ⌊kx/2⌋: the flat
 * pass of stride 1 unchanged. No folding, shifted copies or fused pool. Each phase plane has
 * room for the pass's round-up past its last output.
 */
function cPhasePlanes(s: ConvStep, rows: number): PatternPlanes {
  const PW = s.OW + 1, exact = (rows - 1) * PW + s.OW, span = roundUp(exact, PATTERN_PASS_ROUND);
  const phase = (rows + 1) * PW + span - exact, plane = 4 * phase;
  return { padded: true, PW, plane, span, rows, fold: 1, lines: rows, shift: 0, align: 0, phase, bytes: (span + s.C * plane) * 4 };
}

/**
 * C target, Winograd F(m×m, 3×3): the input in padded planes of whole tiles (tilesH·m + 2
 * rows of tilesW·m + 2 columns, the conv's pads at the top and left, zeros elsewhere), then
 * the transformed input of one row of tiles, α² floats per (channel, tile), and one
 * filter's sums over that row (α² per tile).
 */
export function cWinogradPlanes(s: ConvStep): { PH: number; PW: number; tilesH: number; tilesW: number; bytes: number } {
  const m = s.tile!, { tilesH, tilesW } = tileGrid(s.OH, s.OW, m), a = m + 2;
  const PH = tilesH * m + 2, PW = tilesW * m + 2;
  return { PH, PW, tilesH, tilesW, bytes: (s.C * (PH * PW + tilesW * a * a) + tilesW * a * a) * 4 };
}

/**
 * C target, integer conv of stride 1 (backends/c/kernels/qlayer.ts): one filter's int32
 * sums as OH rows of PW (the padded width; the last columns of a row are not outputs),
 * every tap a constant offset into a flat pass over `span` values; with padding, one
 * input channel at a time copied into a padded plane of bytes (the input zero point
 * around it), the pass rounded up to PATTERN_PASS_ROUND. Other strides: no scratch
 * (each output pixel on its own).
 */
export function cQConvPlanes(s: Pick<QConvStep, 'H' | 'W' | 'OH' | 'OW' | 'win'>): { flat: boolean; padded: boolean; PW: number; plane: number; span: number; bytes: number } {
  const w = s.win, PH = s.H + w.padT + w.padB, PW = s.W + w.padL + w.padR, padded = PH !== s.H || PW !== s.W;
  const flat = w.sh === 1 && w.sw === 1, exact = (s.OH - 1) * PW + s.OW;
  const span = padded ? roundUp(exact, PATTERN_PASS_ROUND) : exact;
  const bytes = flat ? span * 4 + (padded ? roundUp(PH * PW + span - exact, 4) : 0) : 0;
  return { flat, padded, PW, plane: PH * PW, span, bytes };
}
