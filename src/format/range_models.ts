// What the range coder (range_coder.ts) codes, with which adaptive models
// (docs/format.md §5.5). Sparse entries (ascending positions, a value symbol
// each): a gap as its bit length, then its offset bits; a value symbol through a
// bit tree under the previous symbol's eighth of the alphabet and whether it
// comes right after it — neighbouring weights of a trained layer are alike,
// which order-0 Huffman codes cannot use; no fillers, no gap width. And the sign
// and exponent of float32 values, which take few values in a layer.
import { NnzipError } from '../ir/errors.js';
import { levelBits, type BitReader, type BitWriter } from './bits.js';
import { probabilities, RangeDecoder, RangeEncoder } from './range_coder.js';

/** Gap lengths 1..32 (bit length of gap + 1), coded as length − 1 in 5 bits. */
const LENGTH_BITS = 5;
/** Offset bits coded with a model (the rest are near uniform, coded direct). */
const MODELLED_OFFSET_BITS = 3;
/** Value contexts: the previous symbol's eighth of the alphabet (or none yet) × (adjacent or not). */
const VALUE_SLICES = 8;
const VALUE_CONTEXTS = (VALUE_SLICES + 1) * 2;
/** Wide alphabets (16-bit grids) learn too slowly split over contexts: one context. */
const MAX_CONTEXT_VALUE_BITS = 8;
const MAX_ENTRIES_PER_BYTE = 64;

interface Models {
  lengths: Uint16Array;
  offsets: Uint16Array;
  values: Uint16Array;
  valueBits: number;
  valueContexts: number;
}

function models(alphabet: number): Models {
  const valueBits = levelBits(alphabet);
  const valueContexts = valueBits <= MAX_CONTEXT_VALUE_BITS ? VALUE_CONTEXTS : 1;
  return {
    lengths: probabilities(1 << LENGTH_BITS),
    offsets: probabilities(33 << MODELLED_OFFSET_BITS),
    values: probabilities(valueContexts << valueBits),
    valueBits,
    valueContexts,
  };
}

const bitLength = (x: number): number => 32 - Math.clz32(x);
const gapClass = (length: number): number => (length === 1 ? 0 : 1);

function valueContext(m: Models, previous: number, alphabet: number, length: number): number {
  if (m.valueContexts === 1) return 0;
  const slice = previous < 0 ? VALUE_SLICES : Math.floor((previous * VALUE_SLICES) / alphabet);
  return slice * 2 + gapClass(length);
}

/** Range-codes the entries: positions ascending and below 2^31, symbols below `alphabet`. */
export function encodeEntries(positions: ArrayLike<number>, symbols: ArrayLike<number>, alphabet: number): Uint8Array {
  const m = models(alphabet);
  const e = new RangeEncoder();
  let prevPos = -1, prevSymbol = -1;
  for (let j = 0; j < positions.length; j++) {
    const x = positions[j] - prevPos; // gap + 1 ≥ 1
    const length = bitLength(x);
    e.tree(m.lengths, 0, LENGTH_BITS, length - 1);
    const rest = length - 1; // bits below the leading one
    const modelled = Math.min(rest, MODELLED_OFFSET_BITS);
    e.tree(m.offsets, length << MODELLED_OFFSET_BITS, modelled, (x >>> (rest - modelled)) & ((1 << modelled) - 1));
    e.direct(x & ((1 << (rest - modelled)) - 1), rest - modelled);
    e.tree(m.values, valueContext(m, prevSymbol, alphabet, length) << m.valueBits, m.valueBits, symbols[j]);
    [prevPos, prevSymbol] = [positions[j], symbols[j]];
  }
  return e.finish();
}

/** Decodes `count` entries of a tensor of n elements; every position and symbol is checked. */
export function decodeEntries(bytes: Uint8Array, n: number, count: number, alphabet: number, where: string): { positions: Uint32Array; symbols: Uint32Array } {
  const corrupt = (what: string): never => {
    throw new NnzipError(`${where}: ${what}; the file is corrupt`);
  };
  // a coded decision costs at least 0.022 bits (probabilities stop at 2017/2048), an entry at least 6 of them
  if (count > n || count > MAX_ENTRIES_PER_BYTE * bytes.length) corrupt(`${count} entries for ${n} elements in ${bytes.length} bytes`);
  const m = models(alphabet);
  const d = new RangeDecoder(bytes, where);
  const positions = new Uint32Array(count);
  const symbols = new Uint32Array(count);
  let prevPos = -1, prevSymbol = -1;
  for (let j = 0; j < count; j++) {
    const length = d.tree(m.lengths, 0, LENGTH_BITS) + 1;
    const rest = length - 1;
    const modelled = Math.min(rest, MODELLED_OFFSET_BITS);
    const high = (1 << modelled) | d.tree(m.offsets, length << MODELLED_OFFSET_BITS, modelled);
    const x = high * 2 ** (rest - modelled) + d.direct(rest - modelled);
    const pos = prevPos + x;
    if (pos >= n) corrupt(`entry ${j} lands at position ${pos}, past the tensor's ${n} elements`);
    const s = d.tree(m.values, valueContext(m, prevSymbol, alphabet, length) << m.valueBits, m.valueBits);
    if (s >= alphabet) corrupt(`symbol ${s} of entry ${j} is outside the alphabet 0..${alphabet - 1}`);
    positions[j] = pos;
    symbols[j] = s;
    [prevPos, prevSymbol] = [pos, s];
  }
  if (!d.done) corrupt('range-coded stream has bytes left after its entries');
  return { positions, symbols };
}

/** varint entry count, varint byte length, then the range-coded bytes (byte-aligned). */
export function writeContextEntries(w: BitWriter, positions: ArrayLike<number>, symbols: ArrayLike<number>, alphabet: number): void {
  const bytes = encodeEntries(positions, symbols, alphabet);
  w.writeVarint(positions.length);
  w.writeVarint(bytes.length);
  w.writeBytes(bytes);
}

export function readContextEntries(r: BitReader, n: number, alphabet: number): { positions: Uint32Array; symbols: Uint32Array } {
  const count = r.readVarint();
  const length = r.readVarint();
  return decodeEntries(r.readBytes(length), n, count, alphabet, r.where);
}

/** Sign and exponent (the top 9 bits) of each float32: varint byte length, then the range-coded bytes. */
export function writeSignExponents(w: BitWriter, bits: Uint32Array): void {
  const probs = probabilities(1 << 9);
  const e = new RangeEncoder();
  for (let i = 0; i < bits.length; i++) e.tree(probs, 0, 9, bits[i] >>> 23);
  const bytes = e.finish();
  w.writeVarint(bytes.length);
  w.writeBytes(bytes);
}

/** Reads what writeSignExponents wrote into the top 9 bits of `bits` (one per element). */
export function readSignExponents(r: BitReader, bits: Uint32Array): void {
  const bytes = r.readBytes(r.readVarint());
  if (bits.length > MAX_ENTRIES_PER_BYTE * bytes.length) throw new NnzipError(`${r.where}: ${bits.length} floats in ${bytes.length} bytes of exponents; the file is corrupt`);
  const probs = probabilities(1 << 9);
  const d = new RangeDecoder(bytes, r.where);
  for (let i = 0; i < bits.length; i++) bits[i] = d.tree(probs, 0, 9) << 23;
  if (!d.done) throw new NnzipError(`${r.where}: range-coded stream has bytes left after its exponents; the file is corrupt`);
}
