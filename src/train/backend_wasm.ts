// The WASM SIMD backend: each tape's buffers are views of one block in a
// WebAssembly memory of its own (src/kernels/wasm's arena), so GEMMs run on them
// by offset, without copies (only the GEMM's own packing); im2col, col2im,
// clip, max pooling and BatchNorm's plane kernels (src/kernels/wasm's training
// module) run there as SIMD kernels too. All memory is reserved when
// the tape is finalized, so the memory never grows afterwards and the views
// stay valid. With a thread pool the buffers live in the pool's shared memory:
// the images of a convolution (im2col → pack → GEMM, and GEMM → col2im back)
// are shared out among the threads, and every other GEMM big enough is split
// by rows and columns of C. Each output is summed in the same order either way,
// so the trained weights do not depend on the thread count.
import { fail } from '../ir/errors.js';
import { WasmArena } from '../kernels/wasm/arena.js';
import { gemmArgs, WasmGemm, type PackedGemmOptions } from '../kernels/wasm/gemm.js';
import { IM2COL_EXPORTS, im2colModule, type Im2colExports } from '../kernels/wasm/im2col_codegen.js';
import { compileCached, instantiate } from '../kernels/wasm/loader.js';
import { CHUNKS_PER_THREAD, type PoolCall, type ThreadPool } from '../kernels/wasm/thread_pool.js';
import { trainKernelsModule, type TrainKernelExports } from '../kernels/wasm/train_codegen.js';
import { gemmRef } from '../ir/ref/gemm_ref.js';
import type { Patches } from '../ir/ref/im2col.js';
import type { Pool2dGeom } from '../ir/ref/pool.js';
import { gemmCol2imSerial, im2colGemmSerial, type Backend, type GemmCall, type ImageBatch, type TapeMemory } from './backend.js';

/** Images per pool run: keeps one run's calls well inside the pool's command area. */
const IMAGES_PER_RUN = 48;

/** One work item's own buffers: B's packed panels and the GEMM driver's scratch. */
interface Chunk { packB: number; scratch: number }

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
  private readonly pool?: ThreadPool;
  private readonly chunks: Chunk[] = [];
  /** Every block this tape took from the arena, [offset, bytes]: release() gives them back. */
  private readonly blocks: [number, number][] = [];
  private readonly keys: { im2col: string; kernels: string };

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
    this.packA = this.take(maxA);
    this.packB = this.take(maxB);
    if (pool && pool.size > 1) {
      this.pool = pool;
      for (let i = 0; i < CHUNKS_PER_THREAD * pool.size; i++) this.chunks.push({ packB: this.take(maxB), scratch: this.take(this.gemmK.scratchBytes()) });
    }
    const base = this.take(total * 4);
    // No allocation after this point: the memory keeps its size, the views stay attached.
    this.heap = this.arena.memory.buffer;
    this.buffers = sizes.map((n, i) => this.arena.f32(base + offsets[i] * 4, n));
    const shared = this.arena.shared;
    const tag = shared ? 'shared' : 'private';
    this.keys = { im2col: `train-im2col:${tag}`, kernels: `train-kernels:${tag}` };
    const im2colMod = compileCached(this.keys.im2col, () => im2colModule(shared));
    const kernelsMod = compileCached(this.keys.kernels, () => trainKernelsModule(shared));
    this.im2colK = instantiate<Im2colExports>(im2colMod, this.arena);
    this.k = instantiate<TrainKernelExports>(kernelsMod, this.arena);
    pool?.register(this.keys.im2col, im2colMod);
    pool?.register(this.keys.kernels, kernelsMod);
  }
  private take(bytes: number): number {
    const at = this.arena.alloc(bytes);
    this.blocks.push([at, bytes]);
    return at;
  }

  release(): void {
    for (const [at, bytes] of this.blocks.splice(0)) this.arena.free(at, bytes);
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
      gemmRef(g); // zero (or keep) C, add the bias
      return;
    }
    const k = this.gemmK;
    if (!g.reuseA) k.packA(this.addr(g.a, g.aOff, 'A'), g.lda, g.transA, M, K, this.packA);
    k.packB(this.addr(g.b, g.bOff, 'B'), g.ldb, g.transB, K, N, this.packB);
    k.gemmPacked(M, N, K, this.packA, this.packB, this.addr(g.c, g.cOff, 'C'), this.epilogue(g));
  }

  im2colGemm(g: GemmCall, b: ImageBatch): void {
    if (!this.parallel(g, b)) { im2colGemmSerial(this, g, b); return; }
    this.runImages(g, b, (n, c) => {
      const co = b.colsOff + n * b.colsStride;
      const cols = this.addr(b.cols, co, 'cols');
      return [
        { key: this.keys.im2col, fn: IM2COL_EXPORTS.im2col, args: [this.addr(b.x, b.xOff + n * b.xStride, 'x'), ...patchArgs(b.p), cols] },
        this.gemmK.packBCall(cols, g.ldb, g.transB, g.K, g.N, c.packB),
        this.chunkGemm(g, c, g.cOff + n * b.cStride),
      ];
    });
  }

  gemmCol2im(g: GemmCall, b: ImageBatch): void {
    if (!this.parallel(g, b)) { gemmCol2imSerial(this, g, b); return; }
    this.runImages(g, b, (n, c) => {
      const co = b.colsOff + n * b.colsStride;
      const cols = this.addr(b.cols, co, 'cols');
      return [
        this.gemmK.packBCall(this.addr(g.b, g.bOff + n * b.bStride, 'B'), g.ldb, g.transB, g.K, g.N, c.packB),
        this.chunkGemm(g, c, co),
        { key: this.keys.kernels, fn: 'col2im', args: [cols, ...patchArgs(b.p), this.addr(b.x, b.xOff + n * b.xStride, 'x')] },
      ];
    });
  }

  /** Whether a batch of images can be shared out: threads, more than one image, each with its own columns, a real GEMM. */
  private parallel(g: GemmCall, b: ImageBatch): boolean {
    return this.chunks.length > 0 && b.N > 1 && b.colsStride > 0 && g.M > 0 && g.N > 0 && g.K > 0;
  }

  /** Packs A once, then runs the images' calls on the pool, in chunks of consecutive images with their own buffers. */
  private runImages(g: GemmCall, b: ImageBatch, image: (n: number, c: Chunk) => PoolCall[]): void {
    if (!g.reuseA) this.gemmK.packA(this.addr(g.a, g.aOff, 'A'), g.lda, g.transA, g.M, g.K, this.packA);
    for (let n0 = 0; n0 < b.N; n0 += IMAGES_PER_RUN) {
      const count = Math.min(IMAGES_PER_RUN, b.N - n0);
      const parts = Math.min(count, this.chunks.length);
      const items: PoolCall[][] = [];
      for (let t = 0; t < parts; t++) {
        const calls: PoolCall[] = [];
        for (let n = n0 + Math.floor((t * count) / parts); n < n0 + Math.floor(((t + 1) * count) / parts); n++) calls.push(...image(n, this.chunks[t]));
        items.push(calls);
      }
      this.pool!.runDynamic(items);
    }
  }

  /** The GEMM call of one image: packed A (shared), the chunk's packed B, C at element cOff. */
  private chunkGemm(g: GemmCall, c: Chunk, cOff: number): PoolCall {
    return this.gemmK.callWithScratch(gemmArgs(g.M, g.N, g.K, this.packA, c.packB, this.addr(g.c, cOff, 'C'), this.epilogue(g)), c.scratch);
  }

  /** C's row stride, accumulation and bias of a GEMM call, as the packed driver takes them. */
  private epilogue(g: GemmCall): PackedGemmOptions {
    return { ldc: g.ldc, accumulate: g.accumulate, bias: g.bias ? this.addr(g.bias, g.biasOff, 'bias') : 0, biasPer: g.biasPer };
  }

  im2col(x: Float32Array, xOff: number, p: Patches, cols: Float32Array, colsOff: number): void {
    this.im2colK.im2col(this.addr(x, xOff, 'x'), ...patchArgs(p), this.addr(cols, colsOff, 'cols'));
  }

  col2im(cols: Float32Array, colsOff: number, p: Patches, dx: Float32Array, dxOff: number): void {
    this.k.col2im(this.addr(cols, colsOff, 'cols'), ...patchArgs(p), this.addr(dx, dxOff, 'dx'));
  }

  clip(x: Float32Array, y: Float32Array, lo: number, hi: number): void {
    this.k.clip(this.addr(x, 0, 'x'), this.addr(y, 0, 'y'), x.length, lo, hi);
  }

  clipBack(x: Float32Array, dy: Float32Array, dx: Float32Array, lo: number, hi: number): void {
    this.k.clipBack(this.addr(x, 0, 'x'), this.addr(dy, 0, 'dy'), this.addr(dx, 0, 'dx'), x.length, lo, hi);
  }

  maxPool(x: Float32Array, y: Float32Array, arg: Int32Array, g: Pool2dGeom): void {
    const { planes, H, W, OH, OW, win: w } = g;
    const [xa, ya, aa] = [this.addr(x, 0, 'x'), this.addr(y, 0, 'y'), this.addr(arg, 0, 'arg')];
    if (w.kh === 2 && w.kw === 2 && w.sh === 2 && w.sw === 2 && w.dh === 1 && w.dw === 1 && w.padT === 0 && w.padL === 0 && 2 * OH <= H && 2 * OW <= W) {
      this.k.maxPool2x2(xa, ya, aa, planes, H, W, OH, OW);
      return;
    }
    this.k.maxPool(xa, ya, aa, planes, H, W, OH, OW, w.kh, w.kw, w.sh, w.sw, w.padT, w.padL, w.dh, w.dw);
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

/** The (C, H, W, kh, kw, padT, padL, sh, sw, dh, dw, OH, OW) arguments of the im2col / col2im kernels. */
function patchArgs(p: Patches): [number, number, number, number, number, number, number, number, number, number, number, number, number] {
  const w = p.win;
  return [p.C, p.H, p.W, w.kh, w.kw, w.padT, w.padL, w.sh, w.sw, w.dh, w.dw, p.OH, p.OW];
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
