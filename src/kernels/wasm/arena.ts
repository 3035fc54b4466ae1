// A bump allocator over one WebAssembly.Memory: kernels work on byte offsets
// into it, so a runtime whose tensors live there pays no copy. Allocations are
// 64-byte aligned (a cache line; v128 loads need 16) and never move; the memory
// grows in whole pages when needed. Blocks given back with free() are reused
// (zeroed) by later allocations that fit: an arena shared by many short-lived
// users (training tapes on a thread pool's memory) then stays the size of the
// largest set alive at once.
import { fail } from '../../ir/errors.js';
import { PAGE, WA, type WasmMemory } from './wasm_api.js';

const ALIGN = 64;

export interface ArenaOptions {
  /** Initial size in bytes (rounded up to pages). */
  initialBytes?: number;
  /** Upper bound in bytes; required for shared memory (the engine reserves it). */
  maximumBytes?: number;
  /** Back the memory with a SharedArrayBuffer (for worker threads). */
  shared?: boolean;
  /** What to do when the memory is full, in the words of whoever made the arena (default: this option). */
  whenFull?: string;
}

export class WasmArena {
  readonly memory: WasmMemory;
  readonly shared: boolean;
  readonly maximumPages: number;
  private readonly whenFull: string;
  private top = ALIGN; // offset 0 stays unused so that 0 can mean "no buffer"
  /** Freed blocks below `top`, in address order. */
  private readonly freed: { at: number; bytes: number }[] = [];
  /** Bytes below this that free() gave back to the bump pointer may be dirty: alloc zeroes them. */
  private dirtyTop = 0;

  constructor(opts: ArenaOptions = {}) {
    const initial = Math.max(1, Math.ceil((opts.initialBytes ?? PAGE) / PAGE));
    this.shared = opts.shared ?? false;
    this.maximumPages = Math.ceil((opts.maximumBytes ?? (this.shared ? 1 << 30 : 4 * 2 ** 30 - PAGE)) / PAGE);
    if (initial > this.maximumPages) fail(`wasm arena: initial size ${initial} pages exceeds the maximum ${this.maximumPages}`);
    this.memory = new WA.Memory({ initial, maximum: this.maximumPages, shared: this.shared });
    this.whenFull = opts.whenFull ?? 'create it with a larger maximumBytes';
  }

  /** Bytes in use (the high-water mark of the bump pointer). */
  get used(): number {
    return this.top;
  }

  /** Reserves `bytes` bytes and returns their offset (64-byte aligned; zeroed). */
  alloc(bytes: number): number {
    const size = blockBytes(bytes);
    const reuse = this.bestFit(size);
    if (reuse >= 0) {
      const b = this.freed[reuse];
      if (b.bytes === size) this.freed.splice(reuse, 1);
      else this.freed[reuse] = { at: b.at + size, bytes: b.bytes - size };
      new Uint8Array(this.memory.buffer, b.at, size).fill(0);
      return b.at;
    }
    const at = this.top;
    this.ensure(at + size);
    this.top = at + size;
    if (at < this.dirtyTop) new Uint8Array(this.memory.buffer, at, Math.min(size, this.dirtyTop - at)).fill(0);
    return at;
  }

  /** Gives back a block from alloc(`bytes`) at `at`; it must not be used after. */
  free(at: number, bytes: number): void {
    const size = blockBytes(bytes);
    if (at < ALIGN || at + size > this.top || at % ALIGN) throw new Error(`wasm arena: free(${at}, ${bytes}) is not a block of this arena`);
    let i = 0;
    while (i < this.freed.length && this.freed[i].at < at) i++;
    const prev = this.freed[i - 1], next = this.freed[i];
    if ((prev && prev.at + prev.bytes > at) || (next && at + size > next.at)) throw new Error(`wasm arena: free(${at}, ${bytes}) overlaps a freed block (freed twice?)`);
    this.freed.splice(i, 0, { at, bytes: size });
    // merge with the neighbours, then give a free block at the top back to the bump pointer
    if (next && at + size === next.at) { this.freed[i].bytes += next.bytes; this.freed.splice(i + 1, 1); }
    if (prev && prev.at + prev.bytes === at) { prev.bytes += this.freed[i].bytes; this.freed.splice(i, 1); }
    const last = this.freed[this.freed.length - 1];
    if (last.at + last.bytes === this.top) {
      this.dirtyTop = Math.max(this.dirtyTop, this.top);
      this.top = last.at;
      this.freed.pop();
    }
  }

  /** Reserves room for n float32 values. */
  allocF32(n: number): number {
    return this.alloc(n * 4);
  }

  /** Frees everything allocated after `mark` (a value of `used` taken earlier). */
  reset(mark = ALIGN): void {
    this.top = mark;
    while (this.freed.length && this.freed[this.freed.length - 1].at >= mark) this.freed.pop();
    const last = this.freed[this.freed.length - 1];
    if (last && last.at + last.bytes > mark) last.bytes = mark - last.at;
  }

  /**
   * Runs a kernel on arrays: x copied in, `outSize` floats and `scratch` bytes reserved, the output
   * copied out, everything freed after (tests and one-off calls; sessions plan their memory).
   */
  onCopy(x: Float32Array, outSize: number, scratch: number, body: (x: number, y: number, scratch: number) => void): Float32Array {
    const mark = this.top;
    try {
      const xAt = this.allocF32(x.length), yAt = this.allocF32(outSize), sAt = this.alloc(scratch);
      this.f32(xAt, x.length).set(x);
      body(xAt, yAt, sAt);
      return this.f32(yAt, outSize).slice();
    } finally {
      this.reset(mark);
    }
  }

  /** A Float32Array view of n floats at a byte offset (recreate after growth: views detach). */
  f32(offset: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, n);
  }

  /** The index of the smallest freed block of at least `size` bytes, or −1. */
  private bestFit(size: number): number {
    let best = -1;
    this.freed.forEach((b, i) => { if (b.bytes >= size && (best < 0 || b.bytes < this.freed[best].bytes)) best = i; });
    return best;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    if (have / PAGE + pages > this.maximumPages) {
      fail(`wasm arena: needs ${end} bytes, over its maximum of ${this.maximumPages * PAGE} bytes; ${this.whenFull}`);
    }
    this.memory.grow(pages);
  }
}

/** The bytes a block of `bytes` takes: whole lines, plus one line of slack for vector over-reads. */
function blockBytes(bytes: number): number {
  if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`wasm arena: bad allocation size ${bytes}`);
  return Math.ceil(bytes / ALIGN) * ALIGN + ALIGN;
}
