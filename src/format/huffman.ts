// Length-limited canonical Huffman codes (package-merge, so the lengths are optimal
// under the limit), a compact code-length table, and symbol streams that are
// either fixed-width or Huffman-coded, whichever is smaller.
//
// Canonical codes are assigned as in DEFLATE (RFC 1951 §3.2.2): shorter codes first,
// within a length in symbol order. Codes are written first bit first into the
// LSB-first stream (i.e. bit-reversed), so decoding peeks bits and looks them up.
// A code with exactly one used symbol spends 0 bits per symbol.
import { BitReader, BitWriter, bitsFor } from './bits.js';
import { NnzipError } from '../ir/errors.js';

export const MAX_CODE_LENGTH = 24;
export const DEFAULT_CODE_LIMIT = 16;
const PRIMARY_BITS = 11; // decode table covers codes up to this length; longer ones take the slow path

/** Optimal code lengths (0 = unused symbol) with no code longer than `limit`. */
export function huffmanLengths(freqs: ArrayLike<number>, limit = DEFAULT_CODE_LIMIT): Uint8Array {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_CODE_LENGTH) {
    throw new NnzipError(`huffman: code length limit ${limit} is outside 1..${MAX_CODE_LENGTH}`);
  }
  const lengths = new Uint8Array(freqs.length);
  const used: number[] = [];
  for (let s = 0; s < freqs.length; s++) if (freqs[s] > 0) used.push(s);
  if (used.length === 1) lengths[used[0]] = 1;
  if (used.length <= 1) return lengths;
  if (used.length > 2 ** limit) {
    throw new NnzipError(`huffman: ${used.length} symbols cannot have codes of at most ${limit} bits; raise the limit`);
  }
  used.sort((a, b) => freqs[a] - freqs[b] || a - b);
  const depth = packageMerge(used.map((s) => freqs[s]), Math.min(limit, used.length - 1));
  for (let i = 0; i < used.length; i++) lengths[used[i]] = depth[i];
  return lengths;
}

/**
 * Package-merge (Larmore & Hirschberg 1990) over weights sorted ascending.
 * Items are leaves (index < n) or packages of two earlier items; the first 2n−2
 * items of the last list, expanded to leaves, give each leaf's code length.
 */
function packageMerge(weights: number[], limit: number): Uint8Array {
  const n = weights.length;
  const weight: number[] = weights.slice();
  const left: number[] = new Array(n).fill(-1);
  const right: number[] = new Array(n).fill(-1);
  const leaves = Array.from({ length: n }, (_, i) => i);
  let list = leaves;
  for (let level = 1; level < limit; level++) {
    const merged: number[] = [];
    let li = 0;
    let pi = 0;
    const packages: number[] = [];
    for (let i = 0; i + 1 < list.length; i += 2) {
      weight.push(weight[list[i]] + weight[list[i + 1]]);
      left.push(list[i]);
      right.push(list[i + 1]);
      packages.push(weight.length - 1);
    }
    while (li < n || pi < packages.length) {
      const takeLeaf = pi >= packages.length || (li < n && weight[leaves[li]] <= weight[packages[pi]]);
      merged.push(takeLeaf ? leaves[li++] : packages[pi++]);
    }
    list = merged;
  }
  const depth = new Uint8Array(n);
  const stack: number[] = list.slice(0, 2 * n - 2);
  while (stack.length) {
    const item = stack.pop()!;
    if (item < n) depth[item]++;
    else stack.push(left[item], right[item]);
  }
  return depth;
}

/** Canonical codes (most significant bit = first bit) for the lengths. */
export function canonicalCodes(lengths: ArrayLike<number>): Uint32Array {
  let maxLen = 0;
  for (let s = 0; s < lengths.length; s++) maxLen = Math.max(maxLen, lengths[s]);
  const count = new Array<number>(maxLen + 1).fill(0);
  for (let s = 0; s < lengths.length; s++) if (lengths[s]) count[lengths[s]]++;
  const next = new Array<number>(maxLen + 1).fill(0);
  let code = 0;
  for (let len = 1; len <= maxLen; len++) {
    next[len] = code;
    code = (code + count[len]) * 2;
  }
  const codes = new Uint32Array(lengths.length);
  for (let s = 0; s < lengths.length; s++) if (lengths[s]) codes[s] = next[lengths[s]]++;
  return codes;
}

function reverseBits(code: number, len: number): number {
  let r = 0;
  for (let i = 0; i < len; i++) r = r * 2 + (Math.floor(code / 2 ** i) & 1);
  return r;
}

function usedCount(lengths: ArrayLike<number>): number {
  let used = 0;
  for (let s = 0; s < lengths.length; s++) if (lengths[s]) used++;
  return used;
}

export class HuffmanEncoder {
  readonly lengths: Uint8Array;
  private readonly width: Uint8Array; // bits written per symbol: 0 for the lone symbol of a one-symbol code
  private readonly reversed: Uint32Array;

  constructor(lengths: Uint8Array) {
    this.lengths = lengths;
    const single = usedCount(lengths) === 1;
    this.width = single ? new Uint8Array(lengths.length) : lengths;
    const codes = canonicalCodes(lengths);
    this.reversed = new Uint32Array(lengths.length);
    for (let s = 0; s < lengths.length; s++) this.reversed[s] = reverseBits(codes[s], lengths[s]);
  }

  write(w: BitWriter, symbol: number): void {
    if (!(this.lengths[symbol] > 0)) throw new NnzipError(`huffman: symbol ${symbol} has no code (its frequency was 0)`);
    w.writeBits(this.reversed[symbol], this.width[symbol]);
  }
}

export class HuffmanDecoder {
  private readonly single: number = -1;
  /** Bits the shortest code takes (0 for a one-symbol code, which spends none). */
  readonly minBits: number;
  private readonly tableBits: number;
  private readonly table: Int32Array; // (symbol << 5) | length, or -1 (longer code or invalid)
  private readonly maxLen: number;
  private readonly count: number[]; // codes per length
  private readonly sorted: number[]; // symbols ordered by (length, symbol)
  private readonly where: string;

  /** Checks the lengths form a prefix code (a corrupt table → NnzipError naming `where`). */
  constructor(lengths: Uint8Array, where = 'huffman table') {
    this.where = where;
    let maxLen = 0;
    for (let s = 0; s < lengths.length; s++) maxLen = Math.max(maxLen, lengths[s]);
    if (maxLen > MAX_CODE_LENGTH) throw new NnzipError(`${where}: code length ${maxLen} exceeds ${MAX_CODE_LENGTH}; the file is corrupt`);
    this.maxLen = maxLen;
    this.count = new Array<number>(maxLen + 1).fill(0);
    this.sorted = [];
    let kraft = 0; // in units of 2^-maxLen
    for (let len = 1; len <= maxLen; len++) {
      for (let s = 0; s < lengths.length; s++) if (lengths[s] === len) this.sorted.push(s);
    }
    for (const s of this.sorted) {
      this.count[lengths[s]]++;
      kraft += 2 ** (maxLen - lengths[s]);
    }
    if (kraft > 2 ** maxLen) throw new NnzipError(`${where}: code lengths are over-subscribed; the file is corrupt`);
    if (this.sorted.length === 1) this.single = this.sorted[0];
    this.minBits = this.sorted.length === 1 ? 0 : this.sorted.length ? lengths[this.sorted[0]] : 1;
    this.tableBits = Math.min(maxLen, PRIMARY_BITS);
    this.table = new Int32Array(2 ** this.tableBits).fill(-1);
    const codes = canonicalCodes(lengths);
    for (const s of this.sorted) {
      const len = lengths[s];
      if (len > this.tableBits) continue;
      for (let j = reverseBits(codes[s], len); j < this.table.length; j += 2 ** len) this.table[j] = (s << 5) | len;
    }
  }

  read(r: BitReader): number {
    if (this.single >= 0) return this.single;
    const e = this.table[r.peekBits(this.tableBits)];
    if (e >= 0) {
      r.skipBits(e & 31);
      return e >>> 5;
    }
    return this.readSlow(r);
  }

  /** Canonical decoding one bit at a time, for codes longer than the table (as zlib's puff.c). */
  private readSlow(r: BitReader): number {
    const bits = r.peekBits(this.maxLen);
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len <= this.maxLen; len++) {
      code += (bits >>> (len - 1)) & 1;
      const c = this.count[len];
      if (code - first < c) {
        r.skipBits(len);
        return this.sorted[index + code - first];
      }
      index += c;
      first = (first + c) * 2;
      code *= 2;
    }
    throw new NnzipError(`${this.where}: invalid Huffman code at bit ${r.bitPosition}; the file is corrupt`);
  }
}

// ---- code-length table -------------------------------------------------------
// varint used (= last used symbol + 1; 0 = empty code); then 5 bits maxLen,
// 1 bit method, and `used` lengths: method 0 = bitsFor(maxLen) bits each,
// method 1 = Exp-Golomb of the zigzag difference from the previous length (0 before the first).

const zigzag = (d: number): number => (d < 0 ? -2 * d - 1 : 2 * d);
const unzigzag = (z: number): number => (z % 2 ? -(z + 1) / 2 : z / 2);

export function writeHuffmanTable(w: BitWriter, lengths: ArrayLike<number>): void {
  let used = 0;
  let maxLen = 0;
  for (let s = 0; s < lengths.length; s++) {
    if (lengths[s]) used = s + 1;
    maxLen = Math.max(maxLen, lengths[s]);
  }
  w.writeVarint(used);
  if (used === 0) return;
  w.writeBits(maxLen, 5);
  const width = bitsFor(maxLen);
  let deltaBits = 0;
  for (let s = 0, prev = 0; s < used; prev = lengths[s], s++) deltaBits += expGolombBits(zigzag(lengths[s] - prev));
  const delta = deltaBits < width * used;
  w.writeBit(delta);
  for (let s = 0, prev = 0; s < used; prev = lengths[s], s++) {
    if (delta) w.writeExpGolomb(zigzag(lengths[s] - prev));
    else w.writeBits(lengths[s], width);
  }
}

function expGolombBits(v: number): number {
  return 2 * bitsFor(v + 1) - 1;
}

export function readHuffmanTable(r: BitReader, alphabetSize: number): Uint8Array {
  const lengths = new Uint8Array(alphabetSize);
  const used = r.readVarint();
  if (used > alphabetSize) throw new NnzipError(`${r.where}: Huffman table lists ${used} symbols but the alphabet has ${alphabetSize}; the file is corrupt`);
  if (used === 0) return lengths;
  const maxLen = r.readBits(5);
  if (maxLen < 1 || maxLen > MAX_CODE_LENGTH) throw new NnzipError(`${r.where}: Huffman code length limit ${maxLen} is outside 1..${MAX_CODE_LENGTH}; the file is corrupt`);
  const delta = r.readBit();
  const width = bitsFor(maxLen);
  for (let s = 0, prev = 0; s < used; s++) {
    const len = delta ? prev + unzigzag(r.readExpGolomb()) : r.readBits(width);
    if (len < 0 || len > maxLen) throw new NnzipError(`${r.where}: Huffman code length ${len} is outside 0..${maxLen}; the file is corrupt`);
    lengths[s] = prev = len;
  }
  return lengths;
}

/** Bits that writeHuffmanTable spends on these lengths. */
export function huffmanTableBits(lengths: ArrayLike<number>): number {
  const w = new BitWriter(64);
  writeHuffmanTable(w, lengths);
  return w.bitLength;
}

// ---- symbol streams ----------------------------------------------------------
// count symbols of an alphabet known to both sides; count 0 writes nothing.
// Otherwise 1 bit: 0 = fixed width (bitsFor(alphabetSize − 1) bits each),
// 1 = a Huffman table, then the codes.

export interface SymbolStreamOptions {
  /** true/false forces Huffman on/off; 'auto' (default) takes the smaller. */
  huffman?: boolean | 'auto';
  /** Longest Huffman code (1..24). */
  limit?: number;
}

export interface SymbolStreamPlan {
  bits: number;
  huffman: boolean;
  lengths?: Uint8Array;
}

export function histogram(symbols: ArrayLike<number>, alphabetSize: number): Float64Array {
  const freqs = new Float64Array(alphabetSize);
  for (let i = 0; i < symbols.length; i++) {
    const s = symbols[i];
    if (!(s >= 0 && s < alphabetSize)) throw new NnzipError(`huffman: symbol ${s} at ${i} is outside the alphabet 0..${alphabetSize - 1}`);
    freqs[s]++;
  }
  return freqs;
}

/** Exact bits of the stream for these symbol frequencies, and which coding gives them. */
export function planSymbolStream(freqs: ArrayLike<number>, options: SymbolStreamOptions = {}): SymbolStreamPlan {
  let count = 0;
  for (let s = 0; s < freqs.length; s++) count += freqs[s];
  if (count === 0) return { bits: 0, huffman: false };
  const fixed = 1 + count * bitsFor(freqs.length - 1);
  const mode = options.huffman ?? 'auto';
  if (mode === false) return { bits: fixed, huffman: false };
  let used = 0;
  for (let s = 0; s < freqs.length; s++) if (freqs[s] > 0) used++;
  // a limit too short for the alphabet is raised just enough
  const limit = Math.min(Math.max(options.limit ?? DEFAULT_CODE_LIMIT, bitsFor(used - 1)), MAX_CODE_LENGTH);
  const lengths = huffmanLengths(freqs, limit);
  let codeBits = 0;
  if (usedCount(lengths) > 1) for (let s = 0; s < freqs.length; s++) codeBits += freqs[s] * lengths[s];
  const huff = 1 + huffmanTableBits(lengths) + codeBits;
  return mode === true || huff < fixed ? { bits: huff, huffman: true, lengths } : { bits: fixed, huffman: false };
}

export function writeSymbolStream(w: BitWriter, symbols: ArrayLike<number>, alphabetSize: number, options: SymbolStreamOptions = {}): SymbolStreamPlan {
  const plan = planSymbolStream(histogram(symbols, alphabetSize), options);
  if (symbols.length === 0) return plan;
  w.writeBit(plan.huffman);
  if (plan.huffman) {
    writeHuffmanTable(w, plan.lengths!);
    const enc = new HuffmanEncoder(plan.lengths!);
    for (let i = 0; i < symbols.length; i++) enc.write(w, symbols[i]);
  } else {
    const width = bitsFor(alphabetSize - 1);
    for (let i = 0; i < symbols.length; i++) w.writeBits(symbols[i], width);
  }
  return plan;
}

export function readSymbolStream(r: BitReader, count: number, alphabetSize: number): Uint32Array {
  if (count === 0) return new Uint32Array(0);
  const need = (bits: number): void => {
    // checked before allocating: only a one-symbol code spends no bits per symbol
    if (count * bits > r.bitsLeft) throw new NnzipError(`${r.where}: ${count} symbols of at least ${bits} bits do not fit the ${r.bitsLeft} bits left; the file is truncated or corrupt`);
  };
  if (r.readBit()) {
    const dec = new HuffmanDecoder(readHuffmanTable(r, alphabetSize), r.where);
    need(dec.minBits);
    const out = new Uint32Array(count);
    for (let i = 0; i < count; i++) out[i] = dec.read(r);
    return out;
  }
  const width = bitsFor(alphabetSize - 1);
  need(width);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const v = r.readBits(width);
    if (v >= alphabetSize) throw new NnzipError(`${r.where}: symbol ${v} is outside the alphabet 0..${alphabetSize - 1}; the file is corrupt`);
    out[i] = v;
  }
  return out;
}

/** Self-contained Huffman coding of a symbol array (table + codes, byte-aligned). */
export function huffmanEncode(symbols: ArrayLike<number>, alphabetSize: number, limit = DEFAULT_CODE_LIMIT): Uint8Array {
  const w = new BitWriter(symbols.length + 64);
  writeSymbolStream(w, symbols, alphabetSize, { huffman: true, limit });
  return w.finish();
}

export function huffmanDecode(bytes: Uint8Array, count: number, alphabetSize: number): Uint32Array {
  return readSymbolStream(new BitReader(bytes, 'huffman stream'), count, alphabetSize);
}
