// The WebAssembly kernels of one session, instantiated once on its arena (and
// registered with its thread pool): the GEMM, the sparse kernels, and the
// generated im2col / depthwise / pool / clamp / Winograd modules, each cached by variant.
import { WasmXnor } from '../kernels/wasm/xnor.js';
import { WasmAddSub } from '../kernels/wasm/addsub.js';
import type { WasmArena } from '../kernels/wasm/arena.js';
import { activationModule } from '../kernels/wasm/activation_codegen.js';
import { depthwiseModule, type DepthwiseGeometry } from '../kernels/wasm/depthwise_codegen.js';
import { wasmFeatures } from '../kernels/wasm/features.js';
import { WasmGemm } from '../kernels/wasm/gemm.js';
import { im2colModule, type Im2colExports } from '../kernels/wasm/im2col_codegen.js';
import { compileCached, instantiate } from '../kernels/wasm/loader.js';
import { poolModule, type PoolGeometry } from '../kernels/wasm/pool_codegen.js';
import { WasmQGemm } from '../kernels/wasm/qgemm.js';
import { qopsModule, type QopsExports } from '../kernels/wasm/qops_codegen.js';
import type { QWinogradExports } from '../kernels/wasm/qwinograd.js';
import { qwinogradModule, qwinogradVariantKey, type QWinogradVariant } from '../kernels/wasm/qwinograd_codegen.js';
import { WasmSparse } from '../kernels/wasm/sparse.js';
import type { ThreadPool } from '../kernels/wasm/thread_pool.js';
import type { WinogradExports } from '../kernels/wasm/winograd.js';
import { winogradModule, winogradVariantKey, type WinogradVariant } from '../kernels/wasm/winograd_codegen.js';
import type { IntWinogradTile, WinogradTile } from '../ir/winograd.js';

export type { Im2colExports };

export interface DepthwiseExports {
  depthwise(x: number, y: number, C: number, H: number, W: number, OH: number, OW: number, w: number, bias: number,
    clampAt: number, pbuf: number, PH: number, PW: number, padT: number, padL: number): void;
}

export interface PoolExports {
  pool(x: number, y: number, planes: number, H: number, W: number, OH: number, OW: number, pbuf: number, PH: number,
    PW: number, padT: number, padL: number, invH: number, invW: number): void;
}

type BinaryKernel = (a: number, b: number, y: number, n: number, lo: number, hi: number) => void;

/** activation_codegen.ts: clamp, and the same-shape binary ops with the clamp fused. */
export interface ElementwiseExports {
  clamp(src: number, dst: number, n: number, lo: number, hi: number): void;
  add: BinaryKernel; sub: BinaryKernel; mul: BinaryKernel; div: BinaryKernel;
}

/** A module's exports on this thread, and the key its functions have in the thread pool. */
export interface Kernel<T> {
  key: string;
  exports: T;
}

export class KernelSet {
  readonly gemm: WasmGemm;
  /** GEMM scratch for calls made directly on this thread (the pool's threads have their own). */
  readonly gemmScratch: number;
  readonly sparse: WasmSparse;
  readonly shared: boolean;
  private readonly instances = new Map<string, Kernel<unknown>>();
  private qgemmKernel?: WasmQGemm;

  constructor(readonly arena: WasmArena, readonly pool?: ThreadPool) {
    this.gemm = new WasmGemm({ arena, threads: pool });
    this.gemmScratch = arena.alloc(this.gemm.scratchBytes());
    this.sparse = new WasmSparse({ arena, threads: pool }); // modules registered with the pool: the sparse steps split over it
    this.shared = arena.shared;
  }

  private xnorKernels?: WasmXnor;

  /** The binary (XNOR-Net) layers, made on first use; single-threaded. */
  get xnor(): WasmXnor {
    this.xnorKernels ??= new WasmXnor({ arena: this.arena, threads: this.pool }); // modules registered with the pool: xnor convs split over it
    return this.xnorKernels;
  }

  private addsubKernels?: WasmAddSub;

  /** The add/subtract kernels (binary / ternary weights on float inputs), made on first use. */
  get addsub(): WasmAddSub {
    this.addsubKernels ??= new WasmAddSub({ arena: this.arena, threads: this.pool }); // modules registered with the pool: add/subtract convs split over it
    return this.addsubKernels;
  }

  private module<T>(key: string, generate: () => Uint8Array): Kernel<T> {
    let k = this.instances.get(key) as Kernel<T> | undefined;
    if (!k) {
      const mod = compileCached(key, generate);
      k = { key, exports: instantiate<T>(mod, this.arena) };
      this.pool?.register(key, mod);
      this.instances.set(key, k);
    }
    return k;
  }

  /** The integer GEMM (made on first use: float models never compile it). */
  get qgemm(): WasmQGemm {
    this.qgemmKernel ??= new WasmQGemm({ arena: this.arena, threads: this.pool });
    return this.qgemmKernel;
  }

  private get tag(): string {
    return this.shared ? 'shared' : 'private';
  }

  im2col(): Kernel<Im2colExports> {
    return this.module(`im2col:${this.tag}`, () => im2colModule(this.shared));
  }

  depthwise(g: Omit<DepthwiseGeometry, 'fma' | 'shared'>): Kernel<DepthwiseExports> {
    const geo: DepthwiseGeometry = { ...g, fma: wasmFeatures().relaxedSimd, shared: this.shared };
    const key = `depthwise:${geo.kh}x${geo.kw}:s${geo.sh},${geo.sw}:d${geo.dh},${geo.dw}:${geo.fma ? 'fma' : 'muladd'}:${this.tag}`;
    return this.module(key, () => depthwiseModule(geo));
  }

  pool2d(g: Omit<PoolGeometry, 'shared'>): Kernel<PoolExports> {
    const geo: PoolGeometry = { ...g, shared: this.shared };
    const key = `pool:${geo.kind}:${geo.kh}x${geo.kw}:s${geo.sh},${geo.sw}:d${geo.dh},${geo.dw}:${this.tag}`;
    return this.module(key, () => poolModule(geo));
  }

  /** Integer quantize / dequantize / max pooling. */
  qops(): Kernel<QopsExports> {
    return this.module(`qops:${this.tag}`, () => qopsModule(this.shared));
  }

  winograd(m: WinogradTile): Kernel<WinogradExports> {
    const v: WinogradVariant = { m, nr: this.gemm.variant.nr, shared: this.shared };
    return this.module(winogradVariantKey(v), () => winogradModule(v));
  }

  /** The integer Winograd conv of a tile size (its GEMM tile is the integer GEMM's). */
  qwinograd(m: IntWinogradTile): Kernel<QWinogradExports> {
    const v: QWinogradVariant = { m, mr: this.qgemm.variant.mr, nr: this.qgemm.variant.nr, shared: this.shared };
    return this.module(qwinogradVariantKey(v), () => qwinogradModule(v));
  }

  elementwise(): Kernel<ElementwiseExports> {
    return this.module(`activation:${this.tag}`, () => activationModule(this.shared));
  }

  /** Copies data into freshly allocated arena bytes (weights, tables); returns the offset. */
  upload(data: Float32Array | Int32Array | Uint8Array | Uint16Array | Int8Array): number {
    const at = this.arena.alloc(data.byteLength);
    new Uint8Array(this.arena.memory.buffer, at, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return at;
  }
}
