// A bump allocator over one WebAssembly.Memory: kernels work on byte offsets
// into it, so a runtime whose tensors live there pays no copy. Allocations are
// 64-byte aligned (a cache line; v128 loads need 16) and never move; the memory
// grows in whole pages when needed.
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

  /** Reserves `bytes` bytes and returns their offset (64-byte aligned). */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`wasm arena: bad allocation size ${bytes}`);
    const at = this.top;
    const end = at + Math.ceil(bytes / ALIGN) * ALIGN + ALIGN; // + one line of slack for vector over-reads
    this.ensure(end);
    this.top = end;
    return at;
  }

  /** Reserves room for n float32 values. */
  allocF32(n: number): number {
    return this.alloc(n * 4);
  }

  /** Frees everything allocated after `mark` (a value of `used` taken earlier). */
  reset(mark = ALIGN): void {
    this.top = mark;
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
