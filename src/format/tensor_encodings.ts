// The tensor encodings of the .nnz format (docs/format.md §4): their names in code
// order, what a codec is, and the plain, codebook and relative-index ones; grids are
// in grid_encodings.ts, the range-coded ones in ctx_encodings.ts, Winograd transforms in
// winograd_encoding.ts, the table in codecs.ts.
// Every codec says when it applies, writes a tensor's body to a bit stream and
// reads it back bit-exactly, keeping the compressed form for sparse/codebook kernels.
import { NnzipError } from '../ir/errors.js';
import { DType, Tensor, TensorData } from '../ir/tensor.js';
import { BitReader, BitWriter } from './bits.js';
import { histogram, readSymbolStream, SymbolStreamOptions, writeSymbolStream } from './huffman.js';
import { chooseGapBits, entryPositions, MAX_GAP_BITS, nonzeroPositions, relativeEntries } from './relative_index.js';
import { Codebook, codebookValues, IndexArray, indexArray, readCentroids, writeCentroids } from './codebook.js';
import { fromFloat16Bits, isExactFloat16, toFloat16Bits } from './float16.js';
import type { PatternFormat } from '../ir/tensor_format.js';
import type { WinogradTile } from '../ir/winograd.js';
import type { Grid } from './grid.js';
import type { SignsForm } from './signs.js';

/** Index = the code stored in the file. */
export const ENCODINGS = ['raw', 'ints', 'f16', 'codebook', 'sparse-codebook', 'sparse-f32', 'grid', 'sparse-grid', 'codebook-ctx', 'grid-ctx', 'f32-ctx', 'winograd', 'binary', 'ternary', 'map-ctx', 'pattern'] as const;
export type TensorEncoding = (typeof ENCODINGS)[number];

/** The compressed form of a sparse tensor, ready for a sparse kernel. */
export interface SparseForm {
  gapBits: number;
  /** Flat (row-major) positions of the stored nonzeros, ascending; fillers left out. */
  positions: Uint32Array;
  values: Float32Array;
  /** Codebook index of each stored nonzero (sparse-codebook only). */
  indices?: IndexArray;
  fillers: number;
}

/** A 3×3 filter stored as its Winograd transform (ir/tensor_format.ts WinogradFormat). */
export interface WinogradForm {
  tile: WinogradTile;
  transformed: Float32Array;
}

export interface TensorBody {
  tensor: Tensor;
  /** The transform the winograd encoding stored (tensor holds the filters recovered from it). */
  winograd?: WinogradForm;
  /** Centroids and per-element indices (codebook and sparse-codebook encodings). */
  codebook?: Codebook;
  /** Integers and scales (grid and sparse-grid encodings). */
  grid?: Grid;
  sparse?: SparseForm;
  /** The patterns of a pattern-pruned 3×3 conv weight (pattern encoding). */
  pattern?: PatternFormat;
  /** The levels of a binary or ternary tensor (binary and ternary encodings). */
  signs?: SignsForm;
  /** Which symbol streams were Huffman-coded. */
  huffman: { indices?: boolean; gaps?: boolean; values?: boolean };
}

export interface EncodeContext {
  where: string;
  tensor: Tensor;
  /** Lossy float16 allowed. */
  f16: boolean;
  gapBits?: number;
  /** The transformed filters to store (the winograd encoding; asked for, never chosen by size). */
  winograd?: WinogradForm;
  streams: SymbolStreamOptions;
  /** The given codebook, or the exact one of the values (undefined if none fits). */
  codebook(): Codebook | undefined;
  /** The given patterns, or those its zeros follow (undefined if none). */
  pattern(): PatternFormat | undefined;
  /** The given grid, or the exact one of the values (undefined if they are not on one). */
  grid(): Grid | undefined;
  /** The tensor's levels if it is binary (resp. ternary) along the given axis or axis 0. */
  signs(kind: 'binary' | 'ternary'): SignsForm | undefined;
}

export interface DecodeContext {
  where: string;
  dtype: DType;
  shape: number[];
  n: number;
}

export interface Codec {
  /** The dtypes this encoding can hold (checked when reading, too). */
  holds(dtype: DType): boolean;
  /** Whether to try it for this tensor (forced = the caller asked for it). */
  applies(ctx: EncodeContext, forced: boolean): boolean;
  /** Writes the body; says which streams were Huffman-coded and, for map-ctx, whether the codebook or the grid was stored. */
  write(w: BitWriter, ctx: EncodeContext): TensorBody['huffman'] & { stored?: 'codebook' | 'grid' };
  read(r: BitReader, ctx: DecodeContext): TensorBody;
}

const INT_DTYPES = new Set<DType>(['int8', 'uint8', 'int16', 'uint16', 'int32', 'int64', 'bool']);
export const isF32 = (dtype: DType): boolean => dtype === 'float32';
export const f32Data = (t: Tensor): Float32Array => t.data as Float32Array;
export const u32View = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The element bytes in little-endian order (a copy). */
function rawBytes(t: Tensor): Uint8Array {
  const d = t.data;
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
  if (!LITTLE_ENDIAN) swapBytes(bytes, d.BYTES_PER_ELEMENT);
  return bytes;
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

const CTORS: { [D in DType]: new (buf: ArrayBuffer) => TensorData[D] } = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array,
  uint16: Uint16Array, int32: Int32Array, int64: BigInt64Array, bool: Uint8Array,
};

const raw: Codec = {
  holds: () => true,
  applies: () => true,
  write(w, ctx) {
    w.writeBytes(rawBytes(ctx.tensor));
    return {};
  },
  read(r, ctx) {
    const ctor = CTORS[ctx.dtype];
    const width = (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    const bytes = r.readBytes(ctx.n * width).slice();
    if (!LITTLE_ENDIAN) swapBytes(bytes, width);
    return { tensor: new Tensor(ctx.dtype, ctx.shape, new ctor(bytes.buffer)), huffman: {} };
  },
};

// ints: zigzag varint minimum, 7 bits width w (0..64), then value − minimum in w bits each
const ints: Codec = {
  holds: (dtype) => INT_DTYPES.has(dtype),
  applies: () => true,
  write(w, ctx) {
    const vals = Array.from(ctx.tensor.data as ArrayLike<number | bigint>, (v) => BigInt(v));
    const min = vals.reduce((a, b) => (b < a ? b : a), vals[0] ?? 0n);
    const max = vals.reduce((a, b) => (b > a ? b : a), vals[0] ?? 0n);
    w.writeBigVarint(min < 0n ? -2n * min - 1n : 2n * min);
    const width = (max - min).toString(2).length - (max === min ? 1 : 0);
    w.writeBits(width, 7);
    for (const v of vals) writeBig(w, v - min, width);
    return {};
  },
  read(r, ctx) {
    const z = r.readBigVarint();
    const min = z & 1n ? -(z + 1n) / 2n : z / 2n;
    const width = r.readBits(7);
    if (width > 64) throw new NnzipError(`${r.where}: integer width ${width} is over 64; the file is corrupt`);
    needBits(r, ctx.n, width, `integers of ${width} bits`);
    const t = new Tensor(ctx.dtype, ctx.shape);
    const d = t.data as unknown as { [i: number]: number | bigint };
    const big = ctx.dtype === 'int64';
    if (!big && width <= 32) {
      // every other dtype fits a double exactly: no BigInt per element
      const lo = Number(min);
      for (let i = 0; i < ctx.n; i++) d[i] = lo + r.readBits(width);
    } else {
      for (let i = 0; i < ctx.n; i++) {
        const v = readBig(r, width) + min;
        d[i] = big ? v : Number(v);
      }
    }
    return { tensor: t, huffman: {} };
  },
};

function writeBig(w: BitWriter, v: bigint, width: number): void {
  if (width <= 32) return w.writeBits(Number(v), width);
  w.writeBits(Number(v & 0xffffffffn), 32);
  w.writeBits(Number(v >> 32n), width - 32);
}

function readBig(r: BitReader, width: number): bigint {
  if (width <= 32) return BigInt(r.readBits(width));
  const lo = BigInt(r.readBits(32));
  return lo | (BigInt(r.readBits(width - 32)) << 32n);
}

const f16: Codec = {
  holds: isF32,
  applies: (ctx, forced) => forced || ctx.f16 || isExactFloat16(f32Data(ctx.tensor)),
  write(w, ctx) {
    for (const v of f32Data(ctx.tensor)) w.writeBits(toFloat16Bits(v), 16);
    return {};
  },
  read(r, ctx) {
    needBits(r, ctx.n, 16, 'float16 values');
    const out = new Float32Array(ctx.n);
    for (let i = 0; i < ctx.n; i++) out[i] = fromFloat16Bits(r.readBits(16));
    return { tensor: new Tensor('float32', ctx.shape, out), huffman: {} };
  },
};

// codebook: centroids, 1 bit "has zeros", then every element's index (alphabet k, or k+1 with zeros)
const codebook: Codec = {
  holds: isF32,
  applies: (ctx) => ctx.codebook() !== undefined,
  write(w, ctx) {
    const cb = ctx.codebook()!;
    const k = cb.centroids.length;
    writeCentroids(w, cb.centroids);
    const hasZero = cb.indices.includes(k);
    w.writeBit(hasZero);
    return { indices: writeSymbolStream(w, cb.indices, k + (hasZero ? 1 : 0), ctx.streams).huffman };
  },
  read(r, ctx) {
    const centroids = readCentroids(r);
    const k = centroids.length;
    const hasZero = r.readBit();
    const { symbols, huffman } = readStream(r, ctx.n, k + (hasZero ? 1 : 0));
    const indices = indexArray(ctx.n, k);
    indices.set(symbols);
    const cb = { centroids, indices };
    return { tensor: new Tensor('float32', ctx.shape, codebookValues(cb)), codebook: cb, huffman: { indices: huffman } };
  },
};

/** A symbol stream and whether it was Huffman-coded (the stream's first bit). */
export function readStream(r: BitReader, count: number, alphabetSize: number): { symbols: Uint32Array; huffman: boolean } {
  const huffman = count > 0 && r.peekBits(1) === 1;
  return { symbols: readSymbolStream(r, count, alphabetSize), huffman };
}

// sparse bodies share: 5 bits gap width b, varint entry count, the gap stream (alphabet 2^b)
export function writeGaps(w: BitWriter, gaps: Uint32Array, b: number, streams: SymbolStreamOptions): boolean {
  w.writeBits(b, 5);
  w.writeVarint(gaps.length);
  return writeSymbolStream(w, gaps, 2 ** b, streams).huffman;
}

/** Refuses `count` items of `bits` bits each that the bits left cannot hold (checked before allocating). */
function needBits(r: BitReader, count: number, bits: number, what: string): void {
  if (count * bits > r.bitsLeft) throw new NnzipError(`${r.where}: ${count} ${what} do not fit the ${r.bitsLeft} bits left; the file is truncated or corrupt`);
}

/** `entryBits`: bits each entry takes after the gap stream (32 for sparse-f32's values). */
export function readGaps(r: BitReader, ctx: DecodeContext, entryBits = 0): { b: number; positions: Uint32Array; huffman: boolean } {
  const b = r.readBits(5);
  if (b < 1 || b > MAX_GAP_BITS) throw new NnzipError(`${r.where}: gap width ${b} is outside 1..${MAX_GAP_BITS}; the file is corrupt`);
  const count = r.readVarint();
  if (count > ctx.n) throw new NnzipError(`${r.where}: ${count} sparse entries for ${ctx.n} elements; the file is corrupt`);
  needBits(r, count, entryBits, 'sparse entries');
  const { symbols, huffman } = readStream(r, count, 2 ** b);
  return { b, positions: entryPositions(symbols, ctx.n, r.where, symbols), huffman };
}

export function positionsOf(indices: IndexArray, zero: number): Uint32Array {
  let n = 0;
  for (let i = 0; i < indices.length; i++) if (indices[i] !== zero) n++;
  const out = new Uint32Array(n);
  for (let i = 0, j = 0; i < indices.length; i++) if (indices[i] !== zero) out[j++] = i;
  return out;
}

// sparse-codebook (Han): centroids, gaps, then one value symbol per entry (alphabet k+1; k = filler)
const sparseCodebook: Codec = {
  holds: isF32,
  applies: (ctx) => ctx.codebook() !== undefined,
  write(w, ctx) {
    const cb = ctx.codebook()!;
    const k = cb.centroids.length;
    const positions = positionsOf(cb.indices, k);
    const realSymbols = Array.from(positions, (p) => cb.indices[p]);
    const valueFreqs = histogram(realSymbols, k + 1);
    const b = ctx.gapBits ?? chooseGapBits(positions, { ...ctx.streams, valueFreqs }).gapBits;
    const { gaps, source } = relativeEntries(positions, b);
    const symbols = Array.from(source, (s) => (s >= 0 ? realSymbols[s] : k));
    writeCentroids(w, cb.centroids);
    const gapsHuffman = writeGaps(w, gaps, b, ctx.streams);
    return { gaps: gapsHuffman, values: writeSymbolStream(w, symbols, k + 1, ctx.streams).huffman };
  },
  read(r, ctx) {
    const centroids = readCentroids(r);
    const k = centroids.length;
    const g = readGaps(r, ctx);
    const v = readStream(r, g.positions.length, k + 1);
    const indices = indexArray(ctx.n, k).fill(k);
    let kept = 0;
    for (let j = 0; j < g.positions.length; j++) {
      if (v.symbols[j] < k) {
        indices[g.positions[j]] = v.symbols[j];
        kept++;
      }
    }
    // plain loops: typed-array filter/from would first build a list as long as the entries
    const sparse: SparseForm = { gapBits: g.b, positions: new Uint32Array(kept), indices: indexArray(kept, k), values: new Float32Array(kept), fillers: g.positions.length - kept };
    for (let j = 0, i = 0; j < g.positions.length; j++) {
      const s = v.symbols[j];
      if (s >= k) continue;
      sparse.positions[i] = g.positions[j];
      sparse.indices![i] = s;
      sparse.values[i++] = centroids[s];
    }
    const cb = { centroids, indices };
    return { tensor: new Tensor('float32', ctx.shape, codebookValues(cb)), codebook: cb, sparse, huffman: { gaps: g.huffman, values: v.huffman } };
  },
};

// sparse-f32: gaps, then each entry's float32 bits (fillers hold +0)
const sparseF32: Codec = {
  holds: isF32,
  applies: () => true,
  write(w, ctx) {
    const bits = u32View(f32Data(ctx.tensor));
    const positions = nonzeroPositions(f32Data(ctx.tensor));
    const b = ctx.gapBits ?? chooseGapBits(positions, { ...ctx.streams, fillerBits: 32 }).gapBits;
    const { gaps, source } = relativeEntries(positions, b);
    const gapsHuffman = writeGaps(w, gaps, b, ctx.streams);
    for (let j = 0; j < source.length; j++) w.writeBits(source[j] >= 0 ? bits[positions[source[j]]] : 0, 32);
    return { gaps: gapsHuffman };
  },
  read(r, ctx) {
    const g = readGaps(r, ctx, 32);
    const count = g.positions.length;
    needBits(r, count, 32, 'sparse values');
    const data = new Float32Array(ctx.n);
    const bits = u32View(data);
    for (let j = 0; j < count; j++) bits[g.positions[j]] = r.readBits(32);
    const keep = g.positions.filter((p) => bits[p] !== 0);
    const sparse: SparseForm = { gapBits: g.b, positions: keep, values: Float32Array.from(keep, (p) => data[p]), fillers: count - keep.length };
    return { tensor: new Tensor('float32', ctx.shape, data), sparse, huffman: { gaps: g.huffman } };
  },
};

/** The codecs of this file (the table of all is codecs.ts). */
export const BASE_CODECS = { raw, ints, f16, codebook, 'sparse-codebook': sparseCodebook, 'sparse-f32': sparseF32 } as const;

export function gather(indices: IndexArray, positions: Uint32Array, k: number): IndexArray {
  const out = indexArray(positions.length, k);
  for (let j = 0; j < positions.length; j++) out[j] = indices[positions[j]];
  return out;
}
