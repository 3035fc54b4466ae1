// The WASM SIMD backend: each tape's buffers are views of one block in a
// WebAssembly memory of its own (src/kernels/wasm's arena), so GEMMs run on them
// by offset, without copies (only the GEMM's own packing); im2col (from
// src/kernels/wasm), col2im, clip, max pooling and BatchNorm's plane kernels
// (src/train/wasm) run there as SIMD kernels too. All memory is reserved when
// the tape is finalized, so the memory never grows afterwards and the views
// stay valid. With a thread pool the buffers live in the pool's shared memory
// and every GEMM big enough is split over the threads (by rows and columns of C,
// so the sums, and the trained weights, do not depend on the thread count).
import { fail } from '../ir/errors.js';
import { WasmArena } from '../kernels/wasm/arena.js';
import { WasmGemm } from '../kernels/wasm/gemm.js';
import { im2colModule } from '../kernels/wasm/im2col_codegen.js';
import { compileCached, instantiate } from '../kernels/wasm/loader.js';
import type { ThreadPool } from '../kernels/wasm/thread_pool.js';
import type { Backend, GemmCall, TapeMemory } from './backend.js';
import { sgemmStrided } from './gemm_ts.js';
import { trainKernelsModule, type TrainKernelExports } from './wasm/kernels.js';
import type { ColPlan } from './ops/im2col.js';
import type { Window2d } from './ops/window.js';

interface Im2colExports {
  im2col(x: number, C: number, H: number, W: number, kh: number, kw: number, padT: number, padL: number,
    sh: number, sw: number, dh: number, dw: number, OH: number, OW: number, dst: number): void;
}

class WasmTapeMemory implements TapeMemory {
  readonly buffers: Float32Array[];
  private readonly arena: WasmArena;
  private readonly gemmK: WasmGemm;
  private readonly packA: number;
  private readonly packB: number;
  private readonly im2colK: Im2colExports;
  private readonly k: TrainKernelExports;
  /** The buffer object this tape's views were made on (a shared memory's changes when it grows). */
  private readonly heap: ArrayBufferLike;

  constructor(sizes: readonly number[], gemms: readonly (readonly [number, number, number])[], pool?: ThreadPool) {
    let total = 0;
    const offsets = sizes.map((n) => {
      const at = total;
      total += Math.ceil(n / 16) * 16; // 64-byte aligned
      return at;
    });
    // wasm32 addresses 4 GiB; keep room for the packing buffers and the GEMM's scratch.
    if (total * 4 > 0xf0000000) {
      fail(`the training buffers need ${Math.ceil((total * 4) / 2 ** 20)} MB, more than a WebAssembly memory holds (4 GB); use a smaller batch size`);
    }
    this.arena = pool?.arena ?? new WasmArena({ initialBytes: 1 << 16 });
    this.gemmK = new WasmGemm({ arena: this.arena, threads: pool });
    let maxA = 0;
    let maxB = 0;
    for (const [M, N, K] of gemms) {
      maxA = Math.max(maxA, this.gemmK.packedASize(M, K));
      maxB = Math.max(maxB, this.gemmK.packedBSize(K, N));
    }
    this.packA = this.arena.alloc(maxA);
    this.packB = this.arena.alloc(maxB);
    const base = this.arena.allocF32(total);
    // No allocation after this point: the memory keeps its size, the views stay attached.
    this.heap = this.arena.memory.buffer;
    this.buffers = sizes.map((n, i) => this.arena.f32(base + offsets[i] * 4, n));
    const shared = this.arena.shared;
    const tag = shared ? 'shared' : 'private';
    this.im2colK = instantiate<Im2colExports>(compileCached(`train-im2col:${tag}`, () => im2colModule(shared)), this.arena);
    this.k = instantiate<TrainKernelExports>(compileCached(`train-kernels:${tag}`, () => trainKernelsModule(shared)), this.arena);
  }

  /** Byte address of element `off` of a view of this memory. */
  private addr(a: Float32Array | Int32Array, off: number, what: string): number {
    if (a.buffer !== this.heap) throw new Error(`wasm tape memory: GEMM operand ${what} is not in the tape's memory`);
    return a.byteOffset + off * 4;
  }

  gemm(g: GemmCall): void {
    const { M, N, K } = g;
    if (M === 0 || N === 0) return;
    if (K === 0) {
      sgemmStrided(g); // zero (or keep) C, add the bias
      return;
    }
    const k = this.gemmK;
    if (!g.reuseA) k.packA(this.addr(g.a, g.aOff, 'A'), g.lda, g.transA, M, K, this.packA);
    k.packB(this.addr(g.b, g.bOff, 'B'), g.ldb, g.transB, K, N, this.packB);
    k.gemmPacked(M, N, K, this.packA, this.packB, this.addr(g.c, g.cOff, 'C'), {
      ldc: g.ldc,
      accumulate: g.accumulate,
      bias: g.bias ? this.addr(g.bias, g.biasOff, 'bias') : 0,
      biasPer: g.biasPer,
    });
  }

  im2col(x: Float32Array, xOff: number, C: number, H: number, W: number, plan: ColPlan, cols: Float32Array, colsOff: number): void {
    const w = plan.g;
    this.im2colK.im2col(this.addr(x, xOff, 'x'), C, H, W, w.kh, w.kw, w.pt, w.pl, w.sh, w.sw, w.dh, w.dw, w.oh, w.ow, this.addr(cols, colsOff, 'cols'));
  }

  col2im(cols: Float32Array, colsOff: number, C: number, H: number, W: number, plan: ColPlan, dx: Float32Array, dxOff: number): void {
    const w = plan.g;
    this.k.col2im(this.addr(cols, colsOff, 'cols'), C, H, W, w.kh, w.kw, w.pt, w.pl, w.sh, w.sw, w.dh, w.dw, w.oh, w.ow, this.addr(dx, dxOff, 'dx'));
  }

  clip(x: Float32Array, y: Float32Array, lo: number, hi: number): void {
    this.k.clip(this.addr(x, 0, 'x'), this.addr(y, 0, 'y'), x.length, lo, hi);
  }

  clipBack(x: Float32Array, dy: Float32Array, dx: Float32Array, lo: number, hi: number): void {
    this.k.clipBack(this.addr(x, 0, 'x'), this.addr(dy, 0, 'dy'), this.addr(dx, 0, 'dx'), x.length, lo, hi);
  }

  maxPool(x: Float32Array, y: Float32Array, arg: Int32Array, planes: number, H: number, W: number, g: Window2d): void {
    if (g.kh === 2 && g.kw === 2 && g.sh === 2 && g.sw === 2 && g.dh === 1 && g.dw === 1 && g.pt === 0 && g.pl === 0 && 2 * g.oh <= H && 2 * g.ow <= W) {
      this.k.maxPool2x2(this.addr(x, 0, 'x'), this.addr(y, 0, 'y'), this.addr(arg, 0, 'arg'), planes, H, W, g.oh, g.ow);
      return;
    }
    this.k.maxPool(this.addr(x, 0, 'x'), this.addr(y, 0, 'y'), this.addr(arg, 0, 'arg'), planes, H, W, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw);
  }

  planeStats(a: Float32Array, b: Float32Array, planes: number, C: number, HW: number, ca: Float32Array, cb: Float32Array, s1: Float32Array, s2: Float32Array): void {
    this.k.planeStats(this.addr(a, 0, 'a'), this.addr(b, 0, 'b'), planes, C, HW, this.addr(ca, 0, 'ca'), this.addr(cb, 0, 'cb'), this.addr(s1, 0, 's1'), this.addr(s2, 0, 's2'));
  }

  planeLinear(a: Float32Array, b: Float32Array, out: Float32Array, planes: number, C: number, HW: number, ka: Float32Array, kb: Float32Array, k0: Float32Array, acc: boolean): void {
    this.k.planeLinear(this.addr(a, 0, 'a'), this.addr(b, 0, 'b'), this.addr(out, 0, 'out'), planes, C, HW,
      this.addr(ka, 0, 'ka'), this.addr(kb, 0, 'kb'), this.addr(k0, 0, 'k0'), acc ? 1 : 0);
  }

  maxPoolBack(dy: Float32Array, arg: Int32Array, dx: Float32Array): void {
    this.k.maxPoolBack(this.addr(dy, 0, 'dy'), this.addr(arg, 0, 'arg'), this.addr(dx, 0, 'dx'), dy.length);
  }
}

/** The WASM backend; with `threads` (a pool over shared memory, see threads_node.ts) GEMMs run on all its threads. */
export function wasmBackend(opts: { threads?: ThreadPool } = {}): Backend {
  const pool = opts.threads;
  return {
    name: pool && pool.size > 1 ? `wasm x${pool.size}` : 'wasm',
    ownsMemory: true,
    allocate: (sizes, gemms) => new WasmTapeMemory(sizes, gemms, pool),
  };
}
