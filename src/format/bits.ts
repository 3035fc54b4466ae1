// Bit I/O for the .nnz format. Bit order is LSB-first, as in DEFLATE (RFC 1951):
// the first bit written is bit 0 of byte 0, and a value of n bits is written
// least significant bit first. Huffman codes are written bit-reversed so that
// their first (most significant) code bit comes first (see huffman.ts).
import { NnzipError } from '../ir/errors.js';

const MASKS: number[] = Array.from({ length: 33 }, (_, n) => 2 ** n - 1);

function checkWidth(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 32) throw new RangeError(`bit width ${n} is outside 0..32`);
}

export class BitWriter {
  private buf: Uint8Array;
  private len = 0; // whole bytes written
  private acc = 0; // pending bits (fewer than 8 after each write)
  private nacc = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(Math.max(16, initialBytes));
  }

  /** Bits written so far. */
  get bitLength(): number {
    return this.len * 8 + this.nacc;
  }

  private ensure(extraBytes: number): void {
    if (this.len + extraBytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extraBytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Writes the low n bits (0..32) of value. */
  writeBits(value: number, n: number): void {
    checkWidth(n);
    if (n > 16) {
      // keep the accumulator below 2^24 so 32-bit bitwise ops stay exact
      this.writeBits(value & 0xffff, 16);
      this.writeBits(Math.floor((value >>> 0) / 65536), n - 16);
      return;
    }
    if (n === 0) return;
    this.acc |= (value & MASKS[n]) << this.nacc;
    this.nacc += n;
    this.ensure(3);
    while (this.nacc >= 8) {
      this.buf[this.len++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.nacc -= 8;
    }
  }

  writeBit(bit: boolean | number): void {
    this.writeBits(bit ? 1 : 0, 1);
  }

  /** Unsigned LEB128 in 8-bit groups (works unaligned); exact up to 2^53. */
  writeVarint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint ${value} is not a safe unsigned integer`);
    let v = value;
    while (v >= 0x80) {
      this.writeBits((v % 0x80) | 0x80, 8);
      v = Math.floor(v / 0x80);
    }
    this.writeBits(v, 8);
  }

  /** Signed integer as a zigzag varint (0, -1, 1, -2 ... → 0, 1, 2, 3 ...). */
  writeSignedVarint(value: number): void {
    this.writeVarint(value < 0 ? -2 * value - 1 : 2 * value);
  }

  /** Unsigned LEB128 for a bigint of any size. */
  writeBigVarint(value: bigint): void {
    if (value < 0n) throw new RangeError(`varint ${value} is negative`);
    let v = value;
    while (v >= 0x80n) {
      this.writeBits(Number(v & 0x7fn) | 0x80, 8);
      v >>= 7n;
    }
    this.writeBits(Number(v), 8);
  }

  /** Exp-Golomb (order 0) code of value ≥ 0: m−1 zero bits, a one bit, then the low m−1 bits of value+1 (m = its bit count). */
  writeExpGolomb(value: number): void {
    const v = value + 1;
    const m = bitsFor(v);
    this.writeBits(0, m - 1);
    this.writeBits(1, 1);
    this.writeBits(v - 2 ** (m - 1), m - 1);
  }

  /** Pads with zero bits to the next byte boundary. */
  alignToByte(): void {
    if (this.nacc > 0) this.writeBits(0, 8 - this.nacc);
  }

  /** Aligns, then copies bytes. */
  writeBytes(bytes: Uint8Array): void {
    this.alignToByte();
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  /** Aligns and returns the bytes written (a copy). */
  finish(): Uint8Array {
    this.alignToByte();
    return this.buf.slice(0, this.len);
  }
}

export class BitReader {
  private readonly bytes: Uint8Array;
  private readonly totalBits: number;
  private next = 0; // next byte to load
  private bitbuf = 0; // loaded bits, LSB = next bit
  private nbits = 0;
  private consumed = 0;
  /** Names the data in error messages, e.g. `model.nnz: section 3 (tensor "fc1")`. */
  readonly where: string;

  constructor(bytes: Uint8Array, where = 'bit stream', bitLimit = bytes.length * 8) {
    this.bytes = bytes;
    this.totalBits = Math.min(bitLimit, bytes.length * 8);
    this.where = where;
  }

  get bitPosition(): number {
    return this.consumed;
  }

  get bitsLeft(): number {
    return this.totalBits - this.consumed;
  }

  /** Fills the buffer to at least 25 bits; past the end it pads with zeros (checked on consume). */
  private refill(): void {
    while (this.nbits <= 24) {
      const b = this.next < this.bytes.length ? this.bytes[this.next] : 0;
      this.next++;
      this.bitbuf = (this.bitbuf | (b << this.nbits)) >>> 0;
      this.nbits += 8;
    }
  }

  private truncated(n: number): never {
    throw new NnzipError(`${this.where}: truncated data (needs ${n} more bits at bit ${this.consumed}, ${this.bitsLeft} left); the file is cut short or corrupt`);
  }

  /** The next n (0..24) bits without consuming them (zeros past the end). */
  peekBits(n: number): number {
    this.refill();
    return this.bitbuf & MASKS[n];
  }

  /** Consumes n (0..24) bits previously peeked. */
  skipBits(n: number): void {
    if (n > this.bitsLeft) this.truncated(n);
    this.refill();
    this.bitbuf >>>= n;
    this.nbits -= n;
    this.consumed += n;
  }

  readBits(n: number): number {
    if (n > 24) {
      checkWidth(n);
      const lo = this.readBits(16);
      return lo + this.readBits(n - 16) * 65536;
    }
    const v = this.peekBits(n);
    this.skipBits(n);
    return v;
  }

  readBit(): boolean {
    return this.readBits(1) === 1;
  }

  readVarint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.readBits(8);
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) break;
        return result;
      }
      scale *= 0x80;
    }
    throw new NnzipError(`${this.where}: varint at bit ${this.consumed} is too long; the file is corrupt`);
  }

  readSignedVarint(): number {
    const z = this.readVarint();
    return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
  }

  readBigVarint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.readBits(8);
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new NnzipError(`${this.where}: varint at bit ${this.consumed} is too long; the file is corrupt`);
  }

  readExpGolomb(): number {
    let zeros = 0;
    while (this.readBits(1) === 0) {
      if (++zeros > 32) throw new NnzipError(`${this.where}: bad Exp-Golomb code at bit ${this.consumed}; the file is corrupt`);
    }
    return 2 ** zeros + this.readBits(zeros) - 1;
  }

  alignToByte(): void {
    const r = this.consumed % 8;
    if (r) this.skipBits(8 - r);
  }

  /** Aligns, then returns the next n bytes (a view, no copy). */
  readBytes(n: number): Uint8Array {
    this.alignToByte();
    if (n * 8 > this.bitsLeft) this.truncated(n * 8);
    const start = this.consumed / 8;
    // drop the buffered lookahead and restart loading after the copied bytes
    this.consumed += n * 8;
    this.next = this.consumed / 8;
    this.bitbuf = 0;
    this.nbits = 0;
    return this.bytes.subarray(start, start + n);
  }
}

/** Bits needed to write any value in 0..maxValue (0 for maxValue 0). */
export function bitsFor(maxValue: number): number {
  let b = 0;
  while (b < 53 && 2 ** b <= maxValue) b++;
  return b;
}

/** Bits per symbol to tell n levels apart: ceil(log2 n), at least 1 (a codebook's index, a grid's integer). */
export function levelBits(n: number): number {
  return Math.max(1, bitsFor(n - 1));
}
