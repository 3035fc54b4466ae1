// The optimizers' WASM SIMD path: the state (momentum, Adam's m and v) lives in a
// WebAssembly memory of the optimizer's own, sized once for the parameters of
// the first step; each step copies the weights and gradients in (native
// memcpy), runs the update kernel and copies the weights out. Several times
// faster than the JS loops on large layers.
import { WasmArena } from '../kernels/wasm/arena.js';
import { wasmFeatures } from '../kernels/wasm/features.js';
import { compileCached, instantiate } from '../kernels/wasm/loader.js';
import type { Param } from './autograd.js';
import { trainKernelsModule, type TrainKernelExports } from '../kernels/wasm/train_codegen.js';

/** Byte offsets of one parameter's regions: weights, gradient, then `states` state arrays. */
interface Slot { w: number; g: number; s: number[]; n: number; fresh: boolean; t: number }

export class WasmOptimState {
  private readonly arena: WasmArena;
  private readonly k: TrainKernelExports;
  private readonly slots = new Map<Param, Slot>();
  private readonly heap: Float32Array;

  /** null when this engine has no WASM SIMD (the optimizer then uses its JS loops). */
  static create(params: readonly Param[], states: number): WasmOptimState | null {
    return wasmFeatures().simd ? new WasmOptimState(params, states) : null;
  }

  private constructor(params: readonly Param[], states: number) {
    let total = 0;
    const plan = params.map((p) => {
      const n = Math.ceil(p.size / 16) * 16;
      const at = total;
      total += n * (2 + states);
      return { p, at, n };
    });
    this.arena = new WasmArena({ initialBytes: 1 << 16 });
    const base = this.arena.allocF32(total);
    this.heap = this.arena.f32(0, this.arena.memory.buffer.byteLength / 4); // no growth after this point
    for (const { p, at, n } of plan) {
      const b = base + at * 4;
      this.slots.set(p, { w: b, g: b + n * 4, s: Array.from({ length: states }, (_, i) => b + (2 + i) * n * 4), n: p.size, fresh: true, t: 0 });
    }
    this.k = instantiate<TrainKernelExports>(compileCached('train-kernels:private', () => trainKernelsModule(false)), this.arena);
  }

  has(p: Param): boolean {
    return this.slots.has(p);
  }

  /** Copies master and grad in, runs `update` on the slot, copies master back; `fresh` is true on the first update. */
  private run(p: Param, update: (k: TrainKernelExports, s: Slot, fresh: boolean) => void): void {
    const s = this.slots.get(p)!;
    this.heap.set(p.master, s.w / 4);
    this.heap.set(p.grad, s.g / 4);
    update(this.k, s, s.fresh);
    s.fresh = false;
    p.master.set(this.heap.subarray(s.w / 4, s.w / 4 + s.n));
  }

  sgd(p: Param, lr: number, mu: number, damp: number, wd: number, nesterov: boolean): void {
    // PyTorch's first step sets buf = g: with buf = 0 that is damping 1.
    this.run(p, (k, s, fresh) => k.sgd(s.w, s.g, s.s[0], s.n, lr, mu, fresh ? 1 : damp, wd, nesterov ? 1 : 0));
  }

  /** One Adam step; bias correction counts this parameter's steps (as PyTorch does). */
  adam(p: Param, lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean): void {
    this.run(p, (k, s) => {
      s.t++;
      k.adam(s.w, s.g, s.s[0], s.s[1], s.n, lr, b1, b2, eps, wd, decoupled ? 1 : 0, 1 / (1 - b1 ** s.t), 1 / (1 - b2 ** s.t));
    });
  }
}
