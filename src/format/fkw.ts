// Filter-kernel-weight (FKW) storage of a pattern-pruned [M, C, 3, 3] weight
// (PatDNN §5.2): filters reordered so that similar ones sit together (FKR), the
// kept kernels of each filter grouped by pattern, one input-channel index per
// kernel and only its pattern's taps as weights. The kernels run from these
// arrays, and the .nnz `pattern` encoding stores them (docs/format.md §4).
import { NnzipError } from '../ir/errors.js';
import { KERNEL_TAPS, maskTaps, popcount, REMOVED_KERNEL } from '../ir/pattern.js';
import type { PatternFormat } from '../ir/tensor_format.js';
import { BitReader, BitWriter, bitsFor } from './bits.js';
import { fromFloat16Bits, isExactFloat16, toFloat16Bits } from './float16.js';

export interface Fkw {
  M: number;
  C: number;
  masks: number[];
  /** FKR: the filter (output channel) of each row. */
  reorder: Int32Array;
  /**
   * First row of each part (one more entry than parts, the last M): a part's rows are one
   * contiguous range of filters (output channels) in FKR order, so threads sharing an image
   * part by part write separate blocks of the output. [0, M] for one part (and from a file).
   */
  parts: Int32Array;
  /** Kernels of pattern p in row r at stride[r·K + p]; a row's kernels come pattern by pattern. */
  stride: Int32Array;
  /** First kernel of each row (M + 1 entries). */
  offset: Int32Array;
  /** First weight of each row (M + 1 entries). */
  weightOffset: Int32Array;
  /** Input channel of each kept kernel; ascending within a row's pattern group. */
  index: Int32Array;
  /** Each kept kernel's values at its pattern's taps (ascending tap order). */
  weights: Float32Array;
}

/**
 * FKR order: filters with more kernels first, then by their pattern mix (filters
 * with the same histogram end up adjacent), then by index — similar rows run the
 * same pattern loops back to back.
 */
function filterOrder(filters: readonly number[], K: number, hist: Int32Array, counts: Int32Array): Int32Array {
  const key = (m: number) => Array.from(hist.subarray(m * K, (m + 1) * K));
  const order = [...filters];
  order.sort((a, b) => {
    if (counts[a] !== counts[b]) return counts[b] - counts[a];
    const ka = key(a), kb = key(b);
    for (let p = 0; p < K; p++) if (ka[p] !== kb[p]) return kb[p] - ka[p];
    return a - b;
  });
  return Int32Array.from(order);
}

/**
 * FKR order for filters run in groups of G (the pairs layout): the FKR order dealt into the groups,
 * each filter to the group with the fewest kernels so far that has room (groups of even work; FKR
 * alone puts the filters with the most kernels in the first group), each group's filters in FKR order.
 */
function groupOrder(order: Int32Array, counts: Int32Array, G: number): Int32Array {
  const M = order.length, n = Math.ceil(M / G);
  const groups = Array.from({ length: n }, (_, g) => ({ room: Math.min(G, M - g * G), kernels: 0, rows: [] as number[] }));
  for (const m of order) {
    let best = -1;
    groups.forEach((g, i) => { if (g.rows.length < g.room && (best < 0 || g.kernels < groups[best].kernels)) best = i; });
    groups[best].rows.push(m);
    groups[best].kernels += counts[m];
  }
  return Int32Array.from(groups.flatMap((g) => g.rows));
}

/** Kept kernels of each filter of an [M, C, 3, 3] pattern weight. */
export function filterKernels(f: PatternFormat, M: number, C: number): Int32Array {
  const counts = new Int32Array(M);
  for (let m = 0; m < M; m++) for (let c = 0; c < C; c++) if (f.assign[m * C + c] !== REMOVED_KERNEL) counts[m]++;
  return counts;
}

/**
 * The FKW arrays of a pattern-pruned weight; `reorder: false` keeps the filters in order (the ablation
 * without FKR); `groups`: the rows run in groups of that many filters (FKR balances the groups' kernels);
 * `parts`: contiguous ranges [m0, m1) of filters covering 0..M in order, each reordered (and grouped)
 * on its own, so each part's rows write one block of output channels.
 */
export function buildFkw(w: Float32Array, shape: readonly number[], f: PatternFormat,
  opts: { reorder?: boolean; groups?: number; parts?: readonly (readonly [number, number])[] } = {}): Fkw {
  const [M, C] = shape, K = f.masks.length;
  const hist = new Int32Array(M * K), counts = filterKernels(f, M, C);
  f.assign.forEach((a, i) => { if (a !== REMOVED_KERNEL) hist[Math.floor(i / C) * K + a]++; });
  const ranges = opts.parts ?? [[0, M]];
  if (ranges[0]?.[0] !== 0 || ranges.at(-1)![1] !== M || ranges.some(([a, b], i) => b <= a || (i > 0 && a !== ranges[i - 1][1]))) {
    throw new Error(`FKW: parts ${JSON.stringify(ranges)} must be non-empty contiguous ranges covering filters 0..${M}`);
  }
  const order = (m0: number, m1: number): Int32Array => {
    const filters = Array.from({ length: m1 - m0 }, (_, i) => m0 + i);
    if (opts.reorder === false) return Int32Array.from(filters);
    const fkr = filterOrder(filters, K, hist, counts);
    return opts.groups && opts.groups < filters.length ? groupOrder(fkr, counts, opts.groups) : fkr;
  };
  const reorder = Int32Array.from(ranges.flatMap(([m0, m1]) => [...order(m0, m1)]));
  const parts = Int32Array.from([0, ...ranges.map(([, m1]) => m1)]);
  const taps = f.masks.map(maskTaps);
  const stride = new Int32Array(M * K), offset = new Int32Array(M + 1), weightOffset = new Int32Array(M + 1);
  const index: number[] = [], weights: number[] = [];
  reorder.forEach((m, r) => {
    for (let p = 0; p < K; p++) {
      for (let c = 0; c < C; c++) {
        if (f.assign[m * C + c] !== p) continue;
        index.push(c);
        for (const t of taps[p]) weights.push(w[(m * C + c) * KERNEL_TAPS + t]);
      }
      stride[r * K + p] = hist[m * K + p];
    }
    offset[r + 1] = index.length;
    weightOffset[r + 1] = weights.length;
  });
  return { M, C, masks: [...f.masks], reorder, parts, stride, offset, weightOffset, index: Int32Array.from(index), weights: Float32Array.from(weights) };
}

// ---- the .nnz `pattern` encoding body -------------------------------------------------

/**
 * varint K, K × bits(9) masks; M × bits(b) reorder (b = bit width of M − 1);
 * M·K × expgolomb stride; per row and pattern group the channels as expgolomb
 * gaps (c − previous − 1, previous = −1 at a group's start); bits(1) precision
 * (1 = every weight is exactly a float16) then the weights as bits(16) or bits(32).
 */
export function writeFkw(wr: BitWriter, fkw: Fkw): void {
  const K = fkw.masks.length;
  wr.writeVarint(K);
  for (const m of fkw.masks) wr.writeBits(m, KERNEL_TAPS);
  const b = bitsFor(fkw.M - 1);
  for (const m of fkw.reorder) wr.writeBits(m, b);
  for (const s of fkw.stride) wr.writeExpGolomb(s);
  let k = 0;
  for (let g = 0; g < fkw.stride.length; g++) {
    let prev = -1;
    for (let j = 0; j < fkw.stride[g]; j++, k++) {
      wr.writeExpGolomb(fkw.index[k] - prev - 1);
      prev = fkw.index[k];
    }
  }
  const half = isExactFloat16(fkw.weights);
  wr.writeBit(half);
  const bits = new Uint32Array(fkw.weights.buffer, fkw.weights.byteOffset, fkw.weights.length);
  for (let i = 0; i < bits.length; i++) wr.writeBits(half ? toFloat16Bits(fkw.weights[i]) : bits[i], half ? 16 : 32);
}

function corrupt(r: BitReader, what: string): never {
  throw new NnzipError(`${r.where}: ${what}; the file is corrupt`);
}

/** Reads the body back: the FKW arrays, the dense weight (bit for bit) and its PatternFormat. */
export function readFkw(r: BitReader, shape: readonly number[]): { fkw: Fkw; dense: Float32Array; format: PatternFormat } {
  if (shape.length !== 4 || shape[2] !== 3 || shape[3] !== 3) corrupt(r, `a pattern tensor must be [M, C, 3, 3], not [${shape.join(',')}]`);
  const [M, C] = shape;
  const K = r.readVarint();
  if (K < 1 || K > 56) corrupt(r, `${K} patterns (1 to 56 allowed)`);
  const masks = Array.from({ length: K }, () => r.readBits(KERNEL_TAPS));
  if (masks.some((m) => m === 0) || new Set(masks).size !== K) corrupt(r, 'a pattern mask is empty or repeated');
  const b = bitsFor(M - 1);
  const reorder = Int32Array.from({ length: M }, () => r.readBits(b));
  if (new Set(reorder).size !== M || reorder.some((m) => m >= M)) corrupt(r, 'the filter order is not a permutation');
  const stride = Int32Array.from({ length: M * K }, () => r.readExpGolomb());
  const offset = new Int32Array(M + 1), weightOffset = new Int32Array(M + 1);
  const assign = new Uint8Array(M * C).fill(REMOVED_KERNEL);
  const index: number[] = [];
  for (let row = 0; row < M; row++) {
    const m = reorder[row];
    let width = 0;
    for (let p = 0; p < K; p++) {
      let c = -1;
      for (let j = 0; j < stride[row * K + p]; j++) {
        c += r.readExpGolomb() + 1;
        if (c >= C || assign[m * C + c] !== REMOVED_KERNEL) corrupt(r, `filter ${m} lists channel ${c} twice or past ${C - 1}`);
        assign[m * C + c] = p;
        index.push(c);
      }
      width += stride[row * K + p] * popcount(masks[p]);
    }
    offset[row + 1] = index.length;
    weightOffset[row + 1] = weightOffset[row] + width;
  }
  const count = weightOffset[M];
  const half = r.readBit();
  if (count * (half ? 16 : 32) > r.bitsLeft) corrupt(r, `${count} pattern weights do not fit the section`);
  const weights = new Float32Array(count);
  const bits = new Uint32Array(weights.buffer);
  for (let i = 0; i < count; i++) {
    if (half) weights[i] = fromFloat16Bits(r.readBits(16));
    else bits[i] = r.readBits(32);
  }
  const fkw: Fkw = { M, C, masks, reorder, parts: Int32Array.of(0, M), stride, offset, weightOffset, index: Int32Array.from(index), weights };
  return { fkw, dense: denseOf(fkw), format: { kind: 'pattern', masks, assign } };
}

/** The dense [M, C, 3, 3] weight of FKW arrays (removed kernels and taps outside patterns +0). */
export function denseOf(fkw: Fkw): Float32Array {
  const K = fkw.masks.length, taps = fkw.masks.map(maskTaps);
  const out = new Float32Array(fkw.M * fkw.C * KERNEL_TAPS);
  const src = new Uint32Array(fkw.weights.buffer, fkw.weights.byteOffset, fkw.weights.length), dst = new Uint32Array(out.buffer);
  let k = 0, v = 0;
  for (let row = 0; row < fkw.M; row++) {
    for (let p = 0; p < K; p++) {
      for (let j = 0; j < fkw.stride[row * K + p]; j++, k++) {
        const base = (fkw.reorder[row] * fkw.C + fkw.index[k]) * KERNEL_TAPS;
        for (const t of taps[p]) dst[base + t] = src[v++];
      }
    }
  }
  return out;
}
