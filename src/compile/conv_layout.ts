// How a conv step shares its work among threads and lays out its scratch: decided
// once by the planner and carried by the step, so binding only reads it.
// Dense (im2col / 1×1): `sets` copies of [patches | packed panels], one per thread;
// depthwise: one padded plane per thread; sparse (csr): `sets` patch matrices,
// one per chunk of images or per band of output rows; Winograd: one set of
// transform buffers per thread.
import { IM2COL_NS } from '../kernels/wasm/conv.js';
import { gemmScratchBytes } from '../kernels/wasm/gemm_codegen.js';
import { winogradLayout, winogradSplit } from '../kernels/wasm/winograd.js';
import { convKernelCosts } from '../kernels/wasm/sparse.js';
import { sparseParts } from '../kernels/wasm/sparse_split.js';
import { CALL_WORDS } from '../kernels/wasm/thread_protocol.js';
import { DEPTHWISE_SLACK } from '../kernels/wasm/depthwise_codegen.js';
import { isPointwise } from '../ir/window.js';
import { accBytes, paddedBytes, patternGeometry } from '../kernels/wasm/pattern.js';
import { storedCount } from './cost.js';
import type { ConvLayout, ConvStep } from './plan_types.js';

/** Extra bytes after each scratch area: vector loads and stores may run up to a line past the end. */
export const SLACK = 64;

/** Sparse chunks of a batch per thread: taken dynamically, so a late or preempted worker holds the others up for one small chunk. */
const CHUNKS_PER_THREAD = 4;

/** Sparse patch matrices of all chunks together stay under this (more chunks are not worth the memory). */
const CHUNK_SCRATCH_BYTES = 16 << 20;

export const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/** Words of one group's calls in a dynamic sparse run: an im2col (2 + 15 words, none when 1×1) and an spmm (2 + 13). */
export function sparseWordsPerGroup(s: ConvStep): number {
  return (isPointwise(s.win) ? 0 : 17) + 15;
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

/**
 * The pattern conv's split (`split` from its own flops, or its estimate as the sparse kernels'): whole
 * images per thread, each set [padded image | accumulators] its own; or one padded
 * image whose FKW rows the threads share (one set: the padded image, then each
 * thread's accumulators in `patches`).
 */
function patternLayout(s: ConvStep, split: number, threads: number): ConvLayout {
  split = Math.max(split, sparseParts(s.estNs ?? 0, threads));
  const byImages = splitsImages(s.N, split);
  const geo = patternGeometry({ C: s.C, M: s.M, H: s.H, W: s.W, pads: [s.win.padT, s.win.padL, s.win.padB, s.win.padR] });
  const plane = roundUp(paddedBytes(geo, s.pattern!.variant), 64), acc = roundUp(accBytes(geo, s.pattern!.variant), 64);
  return { split, byImages, sets: byImages ? split : 1, patches: byImages ? acc : split * acc, panels: 0, plane };
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
  const P = (split > 1 && !byImages ? Math.ceil(s.OH / split) : s.OH) * s.OW; // pixels one set holds
  const patches = s.impl === 'im2col' ? K * P * 4 + SLACK : 0;
  const panels = roundUp(P, nr) * K * 4 + SLACK;
  return { split, byImages: split > 1 && byImages, sets: split, patches, panels, plane: 0 };
}

/** Winograd: chunks of tile rows shared round-robin by `split` threads, or each chunk by output channels; one set of transform buffers per thread (kernels/wasm/winograd.ts). */
function winogradConvLayout(s: ConvStep, split: number, tile: { mr: number; nr: number }): ConvLayout {
  const shape = { N: s.N, C: s.C, H: s.H, W: s.W, M: s.M, OH: s.OH, OW: s.OW, win: s.win };
  const { rowsPerChunk, byChannels } = winogradSplit(shape, s.tile!, split);
  const l = winogradLayout(shape, s.tile!, rowsPerChunk, tile.nr, gemmScratchBytes(tile));
  const sets = byChannels ? split : Math.min(split, l.chunks);
  return { split: sets, byImages: false, sets, patches: 0, panels: 0, plane: 0, winograd: { rowsPerChunk, byChannels, setBytes: l.setBytes } };
}

/** Scratch bytes of a conv layout, all sets together. */
export function convScratchBytes(l: ConvLayout): number {
  return l.sets * (l.patches + l.panels + l.plane + (l.winograd?.setBytes ?? 0));
}
