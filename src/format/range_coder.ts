// Adaptive binary range coding (the LZMA range coder): each bit is coded with an
// 11-bit probability that adapts after every bit, so a stream costs close to its
// adaptive entropy and needs no code table. Multi-bit symbols go through bit trees
// (one probability per tree node). Integer arithmetic only: the same bytes on
// every machine. docs/format.md §5.5.
import { NnzipError } from '../ir/errors.js';

const PROB_BITS = 11;
const PROB_ONE = 1 << PROB_BITS;
/** Adaptation speed: each bit moves its probability 1/2^5 of the way. */
const MOVE_BITS = 5;
const TOP = 2 ** 24;

/** Fresh probabilities (all one half) for `count` bit contexts. */
export function probabilities(count: number): Uint16Array {
  return new Uint16Array(count).fill(PROB_ONE / 2);
}

export class RangeEncoder {
  private low = 0; // up to 2^32 + carry, kept below 2^40: exact in a double
  private range = 0xffffffff;
  private cache = 0;
  private cacheSize = 1;
  private readonly out: number[] = [];

  /** Codes one bit with probability probs[i] (of a zero), then adapts it. */
  bit(probs: Uint16Array, i: number, bit: number): void {
    const p = probs[i];
    const bound = (this.range >>> PROB_BITS) * p;
    if (bit === 0) {
      this.range = bound;
      probs[i] = p + ((PROB_ONE - p) >>> MOVE_BITS);
    } else {
      this.low += bound;
      this.range -= bound;
      probs[i] = p - (p >>> MOVE_BITS);
    }
    while (this.range < TOP) {
      this.range = (this.range * 256) >>> 0;
      this.shiftLow();
    }
  }

  /** `count` bits of value, most significant first, each with probability one half. */
  direct(value: number, count: number): void {
    for (let i = count - 1; i >= 0; i--) {
      this.range = this.range >>> 1;
      if ((value >>> i) & 1) this.low += this.range;
      while (this.range < TOP) {
        this.range = (this.range * 256) >>> 0;
        this.shiftLow();
      }
    }
  }

  /** value (< 2^bits) through a bit tree of 2^bits probabilities starting at `base`. */
  tree(probs: Uint16Array, base: number, bits: number, value: number): void {
    let m = 1;
    for (let i = bits - 1; i >= 0; i--) {
      const b = (value >>> i) & 1;
      this.bit(probs, base + m, b);
      m = (m << 1) | b;
    }
  }

  private shiftLow(): void {
    if (this.low < 0xff000000 || this.low >= 2 ** 32) {
      const carry = this.low >= 2 ** 32 ? 1 : 0;
      let c = this.cache;
      do {
        this.out.push((c + carry) & 0xff);
        c = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor(this.low / 2 ** 24) & 0xff;
    }
    this.cacheSize++;
    this.low = (this.low % 2 ** 24) * 256;
  }

  /** The coded bytes (the first is always 0, as in LZMA). */
  finish(): Uint8Array {
    for (let i = 0; i < 5; i++) this.shiftLow();
    return Uint8Array.from(this.out);
  }
}

export class RangeDecoder {
  private range = 0xffffffff;
  private code = 0;
  private pos = 0;

  constructor(private readonly bytes: Uint8Array, private readonly where: string) {
    if (bytes.length < 5 || bytes[0] !== 0) throw new NnzipError(`${where}: range-coded stream does not start as one; the file is corrupt`);
    for (let i = 0; i < 5; i++) this.code = ((this.code * 256) >>> 0) + this.next();
  }

  private next(): number {
    if (this.pos >= this.bytes.length) throw new NnzipError(`${this.where}: range-coded stream ends early; the file is corrupt`);
    return this.bytes[this.pos++];
  }

  private normalize(): void {
    while (this.range < TOP) {
      this.range = (this.range * 256) >>> 0;
      this.code = ((this.code * 256) >>> 0) + this.next();
    }
  }

  bit(probs: Uint16Array, i: number): number {
    const p = probs[i];
    const bound = (this.range >>> PROB_BITS) * p;
    let bit: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((PROB_ONE - p) >>> MOVE_BITS);
      bit = 0;
    } else {
      this.code -= bound;
      this.range -= bound;
      probs[i] = p - (p >>> MOVE_BITS);
      bit = 1;
    }
    this.normalize();
    return bit;
  }

  direct(count: number): number {
    let v = 0;
    for (let i = 0; i < count; i++) {
      this.range = this.range >>> 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        b = 1;
      }
      v = v * 2 + b;
      this.normalize();
    }
    return v;
  }

  tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) | this.bit(probs, base + m);
    return m - (1 << bits);
  }

  /** Every byte was read: the stream was exactly as long as it said. */
  get done(): boolean {
    return this.pos === this.bytes.length;
  }
}
