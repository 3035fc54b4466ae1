// Range-coded occupancy map (docs/format.md §5.7): every element of a sparse tensor
// gets one coded decision "stored or zero", then a stored element its value symbol
// as in the entry lists of range_models.ts. The decision's context is how often its
// column (the element's index within a row: rows are the first dimension, e.g. a
// Gemm weight's output neurons) was stored in the rows before, and whether its left
// neighbour was: pruning keeps or drops whole inputs (border pixels of an image,
// dead features) far more consistently than a gap length can say.
import { NnzipError } from '../ir/errors.js';
import type { BitReader } from './bits.js';
import { probabilities, RangeDecoder, RangeEncoder } from './range_coder.js';
import { models, valueContext, type Models } from './range_models.js';

/** Column rates in RATE_BINS bins of √rate (finer where keeping is rare), one more for the first row. */
const RATE_BINS = 8;
const MAP_CONTEXTS = (RATE_BINS + 1) * 2;
/** A coded decision costs at least −log2(2017/2048) = 0.022 bits (probabilities stop at 2017/2048). */
const MAX_ELEMENTS_PER_BYTE = 360;

/** Rows and columns of a tensor as the map walks it: the first dimension, and the rest. */
export function mapGeometry(shape: readonly number[]): { rows: number; cols: number } {
  const n = shape.reduce((p, d) => p * d, 1);
  if (shape.length < 2 || shape[0] === 0) return { rows: 1, cols: n };
  return { rows: shape[0], cols: n / shape[0] };
}

/** The context of the decision at (row, column): ⌊RATE_BINS·√(kept / row)⌋ in integers, × left neighbour. */
function mapContext(row: number, kept: number, left: number): number {
  if (row === 0) return RATE_BINS * 2 + left;
  let bin = 0;
  while (bin < RATE_BINS - 1 && (bin + 1) * (bin + 1) * row <= kept * RATE_BINS * RATE_BINS) bin++;
  return bin * 2 + left;
}

class MapModel {
  readonly occupancy = probabilities(MAP_CONTEXTS);
  readonly kept: Uint32Array;
  readonly m: Models;
  constructor(cols: number, readonly alphabet: number) {
    this.kept = new Uint32Array(cols);
    this.m = models(alphabet);
  }
  valueBase(previous: number, x: number): number {
    return valueContext(this.m, previous, this.alphabet, 32 - Math.clz32(x)) << this.m.valueBits;
  }
}

/** Range-codes a tensor of `shape` whose stored elements are at `positions` (ascending) with `symbols` below `alphabet`. */
export function encodeMap(shape: readonly number[], positions: ArrayLike<number>, symbols: ArrayLike<number>, alphabet: number): Uint8Array {
  const { rows, cols } = mapGeometry(shape);
  const model = new MapModel(cols, alphabet);
  const e = new RangeEncoder();
  let j = 0, prevPos = -1, prevSymbol = -1;
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++, i++) {
      const stored = j < positions.length && positions[j] === i ? 1 : 0;
      e.bit(model.occupancy, mapContext(r, model.kept[c], c > 0 && prevPos === i - 1 ? 1 : 0), stored);
      if (!stored) continue;
      model.kept[c]++;
      e.tree(model.m.values, model.valueBase(prevSymbol, i - prevPos), model.m.valueBits, symbols[j]);
      [prevPos, prevSymbol] = [i, symbols[j++]];
    }
  }
  return e.finish();
}

/** Decodes a map of a tensor of `shape`; every symbol is checked against the alphabet. */
export function decodeMap(bytes: Uint8Array, shape: readonly number[], alphabet: number, where: string): { positions: Uint32Array; symbols: Uint32Array } {
  const corrupt = (what: string): never => {
    throw new NnzipError(`${where}: ${what}; the file is corrupt`);
  };
  const { rows, cols } = mapGeometry(shape);
  if (rows * cols > MAX_ELEMENTS_PER_BYTE * bytes.length) corrupt(`an occupancy map of ${rows * cols} elements in ${bytes.length} bytes`);
  const model = new MapModel(cols, alphabet);
  const d = new RangeDecoder(bytes, where);
  // at most every element is stored: 8 bytes an element, within docs/format.md §7's bound
  const positions = new Uint32Array(rows * cols);
  const symbols = new Uint32Array(rows * cols);
  let count = 0, prevPos = -1, prevSymbol = -1;
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++, i++) {
      if (!d.bit(model.occupancy, mapContext(r, model.kept[c], c > 0 && prevPos === i - 1 ? 1 : 0))) continue;
      model.kept[c]++;
      const s = d.tree(model.m.values, model.valueBase(prevSymbol, i - prevPos), model.m.valueBits);
      if (s >= alphabet) corrupt(`symbol ${s} at position ${i} is outside the alphabet 0..${alphabet - 1}`);
      positions[count] = i;
      symbols[count++] = s;
      [prevPos, prevSymbol] = [i, s];
    }
  }
  if (!d.done) corrupt('range-coded stream has bytes left after its map');
  return { positions: positions.subarray(0, count), symbols: symbols.subarray(0, count) };
}

/** A map as map-ctx stores it: varint byte length, then the range-coded bytes (byte-aligned). */
export function readMap(r: BitReader, shape: readonly number[], alphabet: number): { positions: Uint32Array; symbols: Uint32Array } {
  return decodeMap(r.readBytes(r.readVarint()), shape, alphabet, r.where);
}
