// The binary and ternary tensor bodies (docs/format.md §4.2): the channel axis,
// the per-channel levels as a centroid block, then 1 bit per weight (binary) or
// the weights' ternary digits five to a symbol (3^5 = 243 ≤ 256: 1.6 bits per
// weight at fixed width, less when Huffman-coded: a pruned ternary layer's zeros).
import { NnzipError } from '../ir/errors.js';
import { channelLevels, levelValues, symmetricLevels, trit, type ChannelLevels, type SignsKind } from '../ir/binary.js';
import { BitReader, BitWriter } from './bits.js';
import { readCentroids, writeCentroids } from './codebook.js';
import { readSymbolStream, writeSymbolStream, type SymbolStreamOptions } from './huffman.js';

/** Trits per symbol of the ternary stream, and the stream's alphabet (3^5). */
export const TRITS_PER_SYMBOL = 5;
export const TRIT_ALPHABET = 243;

/** The levels of a tensor as stored: kind, channel axis and values. */
export interface SignsForm {
  kind: SignsKind;
  axis: number;
  levels: ChannelLevels;
}

/** The levels of `data` along `axis` if it is of `kind` there, else undefined. */
export function signsForm(data: Float32Array, shape: readonly number[], axis: number, kind: SignsKind): SignsForm | undefined {
  if (data.length === 0) return undefined; // nothing to sign: raw says it in fewer bytes
  const levels = channelLevels(data, shape, axis, kind);
  return typeof levels === 'string' ? undefined : { kind, axis, levels };
}

// varint axis; bits(1) symmetric; bits(1) one pair for every channel (TTQ's per-layer
// scales); centroid block: pos[0..k) then, unless symmetric, neg[0..k) (k = 1 or count)
function writeLevels(w: BitWriter, f: SignsForm): void {
  const sym = symmetricLevels(f.levels), { pos, neg, count } = f.levels;
  const shared = count > 1 && pos.every((p, c) => p === pos[0] && neg[c] === neg[0]);
  const k = shared ? 1 : count;
  w.writeVarint(f.axis);
  w.writeBit(sym);
  w.writeBit(shared);
  const block = new Float32Array(sym ? k : 2 * k);
  block.set(pos.subarray(0, k));
  if (!sym) block.set(neg.subarray(0, k), k);
  writeCentroids(w, block);
}

function readLevels(r: BitReader, shape: readonly number[], kind: SignsKind): { axis: number; levels: ChannelLevels } {
  const axis = r.readVarint();
  if (axis >= Math.max(1, shape.length)) throw new NnzipError(`${r.where}: ${kind} axis ${axis} for shape [${shape.join(',')}]; the file is corrupt`);
  const sym = r.readBit(), shared = r.readBit();
  const block = readCentroids(r);
  const count = shape.length ? shape[axis] : 1, k = shared ? 1 : count;
  if (block.length !== (sym ? k : 2 * k)) {
    throw new NnzipError(`${r.where}: ${block.length} ${kind} levels for ${k} channels (axis ${axis} of [${shape.join(',')}]); the file is corrupt`);
  }
  const bad = block.findIndex((v) => !(Number.isFinite(v) && (kind === 'ternary' ? v >= 0 : v > 0)));
  if (bad >= 0) throw new NnzipError(`${r.where}: ${kind} level ${block[bad]} is not ${kind === 'ternary' ? '≥ 0' : '> 0'}; the file is corrupt`);
  const each = (v: Float32Array) => (shared ? new Float32Array(count).fill(v[0]) : v);
  const pos = each(block.slice(0, k)), neg = sym ? pos.slice() : each(block.slice(k));
  return { axis, levels: { kind, pos, neg, inner: shape.slice(axis + 1).reduce((p, d) => p * d, 1), count } };
}

export function writeBinary(w: BitWriter, data: Float32Array, f: SignsForm): void {
  writeLevels(w, f);
  for (let i = 0; i < data.length; i++) w.writeBit(data[i] > 0);
}

export function readBinary(r: BitReader, shape: readonly number[], n: number): { data: Float32Array; form: SignsForm } {
  const { axis, levels } = readLevels(r, shape, 'binary');
  if (n > r.bitsLeft) {
    throw new NnzipError(`${r.where}: a binary [${shape.join(',')}] tensor needs ${n} sign bits but the section holds ${r.bitsLeft}; the file is corrupt`);
  }
  const trits = new Uint8Array(n);
  for (let i = 0; i < n; i++) trits[i] = r.readBit() ? 1 : 2;
  if (r.bitsLeft >= 8) {
    throw new NnzipError(`${r.where}: a binary [${shape.join(',')}] tensor holds ${n} sign bits but the section has ${r.bitsLeft} more; the file is corrupt`);
  }
  return { data: levelValues(levels, trits), form: { kind: 'binary', axis, levels } };
}

export function writeTernary(w: BitWriter, data: Float32Array, f: SignsForm, streams: SymbolStreamOptions): boolean {
  writeLevels(w, f);
  const symbols = new Uint32Array(Math.ceil(data.length / TRITS_PER_SYMBOL));
  for (let i = data.length - 1; i >= 0; i--) {
    const s = Math.floor(i / TRITS_PER_SYMBOL);
    symbols[s] = symbols[s] * 3 + trit(data[i]);
  }
  return writeSymbolStream(w, symbols, TRIT_ALPHABET, streams).huffman;
}

export function readTernary(r: BitReader, shape: readonly number[], n: number): { data: Float32Array; form: SignsForm; huffman: boolean } {
  const { axis, levels } = readLevels(r, shape, 'ternary');
  const groups = Math.ceil(n / TRITS_PER_SYMBOL);
  const huffman = groups > 0 && r.peekBits(1) === 1;
  const symbols = readSymbolStream(r, groups, TRIT_ALPHABET);
  const trits = new Uint8Array(groups * TRITS_PER_SYMBOL);
  for (let s = 0; s < groups; s++) {
    let v = symbols[s];
    for (let j = 0; j < TRITS_PER_SYMBOL; j++, v = Math.floor(v / 3)) trits[s * TRITS_PER_SYMBOL + j] = v % 3;
  }
  if (trits.subarray(n).some((t) => t !== 0)) throw new NnzipError(`${r.where}: the ternary digits past element ${n} are not 0; the file is corrupt`);
  return { data: levelValues(levels, trits.subarray(0, n)), form: { kind: 'ternary', axis, levels }, huffman };
}
