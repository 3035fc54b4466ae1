// Codebooks (weight sharing): float32 centroids plus one index per element,
// bit-packed at a fixed width of 1..16 bits (LSB-first, see bits.ts).
// An index equal to the codebook length stands for an exact zero (a pruned weight),
// so a codebook holds at most 65535 centroids and the index still fits 16 bits.
import { NnzipError } from '../ir/errors.js';
import { BitReader, BitWriter, bitsFor } from './bits.js';
import { fromFloat16Bits, isExactFloat16, toFloat16Bits } from './float16.js';

export const MAX_INDEX_BITS = 16;
export const MAX_CODEBOOK_SIZE = 65535;

export type IndexArray = Uint8Array | Uint16Array;

export interface Codebook {
  centroids: Float32Array;
  /** One per element; index === centroids.length means a pruned (zero) weight. */
  indices: IndexArray;
}

export function checkIndexBits(bits: number, option = 'bits'): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > MAX_INDEX_BITS) {
    throw new NnzipError(`codebook: option ${option}=${bits} is outside 1..${MAX_INDEX_BITS}; pick an integer number of bits in that range`);
  }
}

/** A zeroed index array of the smallest type that holds values up to maxIndex. */
export function indexArray(count: number, maxIndex: number): IndexArray {
  return maxIndex < 256 ? new Uint8Array(count) : new Uint16Array(count);
}

/** Packs indices at `bits` bits each; every index must be < 2^bits. */
export function packIndices(indices: ArrayLike<number>, bits: number): Uint8Array {
  checkIndexBits(bits);
  const w = new BitWriter(Math.ceil((indices.length * bits) / 8) + 8);
  writePackedIndices(w, indices, bits);
  return w.finish();
}

export function unpackIndices(bytes: Uint8Array, bits: number, count: number): IndexArray {
  checkIndexBits(bits);
  return readPackedIndices(new BitReader(bytes, 'packed indices'), bits, count);
}

export function writePackedIndices(w: BitWriter, indices: ArrayLike<number>, bits: number): void {
  const limit = 2 ** bits;
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    if (!(v >= 0 && v < limit && Number.isInteger(v))) {
      throw new NnzipError(`codebook: index ${v} at ${i} does not fit bits=${bits} (must be 0..${limit - 1})`);
    }
    w.writeBits(v, bits);
  }
}

export function readPackedIndices(r: BitReader, bits: number, count: number): IndexArray {
  const out = indexArray(count, 2 ** bits - 1);
  for (let i = 0; i < count; i++) out[i] = r.readBits(bits);
  return out;
}

/** The dense float32 values: centroid per index, +0 for the zero index. */
export function codebookValues(cb: Codebook): Float32Array {
  checkCodebook(cb);
  const out = new Float32Array(cb.indices.length);
  const k = cb.centroids.length;
  for (let i = 0; i < out.length; i++) {
    const j = cb.indices[i];
    if (j < k) out[i] = cb.centroids[j];
  }
  return out;
}

export function checkCodebook(cb: Codebook, where = 'codebook'): void {
  const k = cb.centroids.length;
  if (k > MAX_CODEBOOK_SIZE) throw new NnzipError(`${where}: ${k} centroids; at most ${MAX_CODEBOOK_SIZE} are allowed`);
  for (let i = 0; i < cb.indices.length; i++) {
    if (cb.indices[i] > k) throw new NnzipError(`${where}: index ${cb.indices[i]} at element ${i} is past the ${k} centroids (${k} itself means zero)`);
  }
}

/**
 * The most centroids an exact codebook of n values is worth trying with: one value
 * in 16 distinct at most (a table of near-unique values costs more than it saves),
 * at least 256 (an 8-bit grid or palette of a small tensor), at most 65535.
 */
export function codebookLimit(n: number): number {
  return Math.min(MAX_CODEBOOK_SIZE, Math.max(256, Math.floor(n / 16)));
}

/**
 * The exact codebook of a float32 array: its distinct nonzero values (by bits),
 * sorted ascending; undefined when there are more than maxSize of them.
 */
export function exactCodebook(weights: Float32Array, maxSize = MAX_CODEBOOK_SIZE): Codebook | undefined {
  const bits = new Uint32Array(weights.buffer, weights.byteOffset, weights.length);
  const seen = new Map<number, number>();
  for (let i = 0; i < bits.length; i++) {
    if (bits[i] === 0 || seen.has(bits[i])) continue;
    if (seen.size >= maxSize) return undefined;
    seen.set(bits[i], 0);
  }
  const keys = [...seen.keys()].sort((a, b) => totalOrderKey(a) - totalOrderKey(b));
  const centroids = new Float32Array(new Uint32Array(keys).buffer);
  keys.forEach((b, j) => seen.set(b, j));
  const k = centroids.length;
  const indices = indexArray(weights.length, k);
  for (let i = 0; i < bits.length; i++) indices[i] = bits[i] === 0 ? k : seen.get(bits[i])!;
  return { centroids, indices };
}

/** IEEE 754 totalOrder of float32 bit patterns, as a plain number (−NaN < −Inf < … < −0 < +0 < … < NaN). */
function totalOrderKey(bits: number): number {
  return bits >= 0x80000000 ? 0xffffffff - bits : bits + 0x80000000;
}

// ---- centroid tables in a bit stream -------------------------------------------
// varint k, 1 bit precision (0 = float32, 1 = float16, used only when exact), k values.

export function writeCentroids(w: BitWriter, centroids: Float32Array): void {
  w.writeVarint(centroids.length);
  if (centroids.length === 0) return;
  const half = isExactFloat16(centroids);
  w.writeBit(half);
  const bits = new Uint32Array(centroids.buffer, centroids.byteOffset, centroids.length);
  for (let i = 0; i < centroids.length; i++) {
    if (half) w.writeBits(toFloat16Bits(centroids[i]), 16);
    else w.writeBits(bits[i], 32);
  }
}

export function readCentroids(r: BitReader): Float32Array {
  const k = r.readVarint();
  if (k > MAX_CODEBOOK_SIZE || k * 16 > r.bitsLeft) {
    throw new NnzipError(`${r.where}: codebook of ${k} centroids does not fit the data left; the file is corrupt`);
  }
  const out = new Float32Array(k);
  if (k === 0) return out;
  const half = r.readBit();
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < k; i++) {
    if (half) out[i] = fromFloat16Bits(r.readBits(16));
    else bits[i] = r.readBits(32);
  }
  return out;
}

export function centroidsBits(centroids: Float32Array): number {
  const w = new BitWriter(16);
  w.writeVarint(centroids.length);
  return w.bitLength + (centroids.length === 0 ? 0 : 1 + centroids.length * (isExactFloat16(centroids) ? 16 : 32));
}

/** A self-contained codebook: centroids, varint count, varint bits, packed indices (bits default: just enough). */
export function encodeCodebook(cb: Codebook, bits = Math.max(1, bitsFor(cb.centroids.length))): Uint8Array {
  checkIndexBits(bits);
  checkCodebook(cb);
  const w = new BitWriter(cb.indices.length * 2 + 64);
  writeCentroids(w, cb.centroids);
  w.writeVarint(cb.indices.length);
  w.writeBits(bits - 1, 4);
  writePackedIndices(w, cb.indices, bits);
  return w.finish();
}

export function decodeCodebook(bytes: Uint8Array, where = 'codebook'): Codebook {
  const r = new BitReader(bytes, where);
  const centroids = readCentroids(r);
  const count = r.readVarint();
  const bits = r.readBits(4) + 1;
  if (count * bits > r.bitsLeft) throw new NnzipError(`${where}: ${count} indices of ${bits} bits do not fit the data left; the file is truncated`);
  const indices = readPackedIndices(r, bits, count);
  checkCodebook({ centroids, indices }, where);
  return { centroids, indices };
}
