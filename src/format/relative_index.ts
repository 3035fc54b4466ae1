// Relative-index sparse storage (Han et al., Deep Compression, §2 and Fig. 2).
// The nonzero positions of a flat (row-major) tensor are stored as gaps: the
// number of zeros skipped since the previous entry (the first entry counts from
// the start). A gap is coded in b bits, so it is at most 2^b − 1; a longer run of
// zeros gets a filler entry with gap 2^b − 1 and value zero, which advances 2^b
// positions. (Han's "index difference" is gap + 1, which is at most 2^b.)
//
// "Zero" means the float32 bit pattern of +0; −0 is stored as a value, so
// decoding is bit-exact.
import { NnzipError } from '../ir/errors.js';
import { bitsFor } from './bits.js';
import { planSymbolStream, SymbolStreamOptions } from './huffman.js';

export const MAX_GAP_BITS = 16;

export function checkGapBits(gapBits: number, where = 'relative index', option = 'gapBits'): void {
  if (!Number.isInteger(gapBits) || gapBits < 1 || gapBits > MAX_GAP_BITS) {
    throw new NnzipError(`${where}: option ${option}=${gapBits} is outside 1..${MAX_GAP_BITS}; pick an integer number of bits in that range`);
  }
}

/** Flat positions whose float32 bits are not +0, ascending. */
export function nonzeroPositions(weights: Float32Array): Uint32Array {
  const bits = new Uint32Array(weights.buffer, weights.byteOffset, weights.length);
  let n = 0;
  for (let i = 0; i < bits.length; i++) if (bits[i] !== 0) n++;
  const out = new Uint32Array(n);
  for (let i = 0, j = 0; i < bits.length; i++) if (bits[i] !== 0) out[j++] = i;
  return out;
}

/** Zeros skipped before each position (the true gaps, unbounded). */
export function positionGaps(positions: ArrayLike<number>): Uint32Array {
  const gaps = new Uint32Array(positions.length);
  let prev = -1;
  for (let i = 0; i < positions.length; i++) {
    gaps[i] = positions[i] - prev - 1;
    prev = positions[i];
  }
  return gaps;
}

export interface RelativeEntries {
  /** Per entry: zeros skipped before it, 0..2^gapBits − 1. */
  gaps: Uint32Array;
  /** Per entry: index into the positions given, or −1 for a filler. */
  source: Int32Array;
  fillers: number;
}

/** Entries (with fillers) for ascending positions at gapBits bits per gap. */
export function relativeEntries(positions: ArrayLike<number>, gapBits: number): RelativeEntries {
  checkGapBits(gapBits);
  const span = 2 ** gapBits; // positions a filler advances
  const trueGaps = positionGaps(positions);
  let fillers = 0;
  for (let i = 0; i < trueGaps.length; i++) fillers += Math.floor(trueGaps[i] / span);
  const gaps = new Uint32Array(positions.length + fillers);
  const source = new Int32Array(positions.length + fillers);
  let j = 0;
  for (let i = 0; i < trueGaps.length; i++) {
    let g = trueGaps[i];
    while (g >= span) {
      gaps[j] = span - 1;
      source[j++] = -1;
      g -= span;
    }
    gaps[j] = g;
    source[j++] = i;
  }
  return { gaps, source, fillers };
}

/**
 * Flat position of every entry (fillers included); throws if one lands at or past `length`.
 * `out` may be `gaps` itself (decoders convert in place: no second array per entry).
 */
export function entryPositions(gaps: ArrayLike<number>, length: number, where = 'relative index', out: Uint32Array = new Uint32Array(gaps.length)): Uint32Array {
  let pos = -1;
  for (let i = 0; i < gaps.length; i++) {
    pos += gaps[i] + 1;
    if (pos >= length) throw new NnzipError(`${where}: entry ${i} lands at position ${pos}, past the tensor's ${length} elements; the file is corrupt`);
    out[i] = pos;
  }
  return out;
}

/** Han's form: gaps and float values, fillers holding 0. */
export interface RelativeIndexed {
  gapBits: number;
  /** Elements of the dense tensor. */
  length: number;
  gaps: Uint32Array;
  values: Float32Array;
}

export function encodeRelativeIndex(weights: Float32Array, gapBits: number): RelativeIndexed {
  const positions = nonzeroPositions(weights);
  const { gaps, source } = relativeEntries(positions, gapBits);
  const values = new Float32Array(gaps.length);
  for (let j = 0; j < gaps.length; j++) if (source[j] >= 0) values[j] = weights[positions[source[j]]];
  return { gapBits, length: weights.length, gaps, values };
}

export function decodeRelativeIndex(ri: RelativeIndexed): Float32Array {
  checkGapBits(ri.gapBits);
  if (ri.gaps.length !== ri.values.length) {
    throw new NnzipError(`relative index: ${ri.gaps.length} gaps but ${ri.values.length} values; they must pair up`);
  }
  const max = 2 ** ri.gapBits - 1;
  for (let i = 0; i < ri.gaps.length; i++) {
    if (ri.gaps[i] > max) throw new NnzipError(`relative index: gap ${ri.gaps[i]} at entry ${i} does not fit gapBits=${ri.gapBits}`);
  }
  const out = new Float32Array(ri.length);
  const pos = entryPositions(ri.gaps, ri.length);
  for (let i = 0; i < pos.length; i++) out[pos[i]] = ri.values[i];
  return out;
}

export interface GapBitsOptions extends SymbolStreamOptions {
  minBits?: number;
  maxBits?: number;
  /**
   * Histogram of the value symbols of the real entries over an alphabet whose last
   * symbol is the filler (its count here is ignored): fillers then cost what that
   * stream charges. Without it, each filler costs `fillerBits` (default 32: a float).
   */
  valueFreqs?: ArrayLike<number>;
  fillerBits?: number;
}

export interface GapBitsChoice {
  gapBits: number;
  /** Gap stream + value stream (or filler) bits + the entry count varint + 5 bits for b. */
  bits: number;
  fillers: number;
}

/** The gap width that minimises the total bits (ties → fewer bits). */
export function chooseGapBits(positions: ArrayLike<number>, options: GapBitsOptions = {}): GapBitsChoice {
  const trueGaps = positionGaps(positions);
  let maxGap = 0;
  for (let i = 0; i < trueGaps.length; i++) maxGap = Math.max(maxGap, trueGaps[i]);
  const lo = options.minBits ?? 1;
  checkGapBits(lo, 'relative index', 'minBits');
  checkGapBits(options.maxBits ?? MAX_GAP_BITS, 'relative index', 'maxBits');
  if ((options.maxBits ?? MAX_GAP_BITS) < lo) throw new NnzipError(`relative index: option maxBits=${options.maxBits} is below minBits=${lo}`);
  const hi = Math.min(options.maxBits ?? MAX_GAP_BITS, Math.max(lo, bitsFor(maxGap)));
  let best: GapBitsChoice | undefined;
  const valueBits = new Map<number, number>(); // value stream cost by filler count (most widths have the same)
  for (let b = lo; b <= hi; b++) {
    const choice = gapBitsCost(trueGaps, b, options, valueBits);
    if (!best || choice.bits < best.bits) best = choice;
  }
  return best!;
}

function gapBitsCost(trueGaps: Uint32Array, b: number, options: GapBitsOptions, valueBits: Map<number, number>): GapBitsChoice {
  const span = 2 ** b;
  const hist = new Float64Array(span);
  let fillers = 0;
  for (let i = 0; i < trueGaps.length; i++) {
    const f = Math.floor(trueGaps[i] / span);
    fillers += f;
    hist[trueGaps[i] - f * span]++;
  }
  hist[span - 1] += fillers;
  let bits = 5 + varintBits(trueGaps.length + fillers) + planSymbolStream(hist, options).bits;
  if (options.valueFreqs) {
    if (!valueBits.has(fillers)) {
      const vf = Float64Array.from(options.valueFreqs);
      vf[vf.length - 1] = fillers;
      valueBits.set(fillers, planSymbolStream(vf, options).bits);
    }
    bits += valueBits.get(fillers)!;
  } else {
    bits += fillers * (options.fillerBits ?? 32);
  }
  return { gapBits: b, bits, fillers };
}

function varintBits(v: number): number {
  let bytes = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    bytes++;
  }
  return bytes * 8;
}
