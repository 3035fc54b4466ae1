// Depthwise convolution (group = C = M, NCHW) with bias and fused clamp, on a
// kernel specialised per window geometry (depthwise_codegen.ts).
import { fail } from '../../ir/errors.js';
import type { WasmArena } from './arena.js';
import { outHW, type Window2d } from '../../ir/window.js';
import { DEPTHWISE_EXPORTS, DEPTHWISE_SLACK, depthwiseModule, type DepthwiseGeometry } from './depthwise_codegen.js';
import { wasmFeatures } from './features.js';
import { compileCached, instantiate } from './loader.js';
import type { PoolCall, ThreadPool } from './thread_pool.js';

interface DepthwiseExports {
  depthwise(x: number, y: number, C: number, H: number, W: number, OH: number, OW: number, w: number, bias: number,
    clampAt: number, pbuf: number, PH: number, PW: number, padT: number, padL: number): void;
}

export class WasmDepthwise {
  private readonly exports: DepthwiseExports;
  private readonly wAt: number;
  private readonly biasAt: number;
  private readonly clampAt: number;

  private readonly key: string;

  /** weights [C, 1, kh, kw]; bias [C]; clamp [lo, hi]; with a pool, channels are split over its threads. */
  constructor(readonly arena: WasmArena, readonly params: { C: number; win: Window2d }, weights: Float32Array,
    bias?: Float32Array, clamp?: readonly [number, number], readonly pool?: ThreadPool) {
    if (pool && pool.arena !== arena) fail('depthwise conv: the thread pool works on another arena; pass the same one');
    const { C, win } = params;
    if (weights.length !== C * win.kh * win.kw) fail(`depthwise conv: weights have ${weights.length} values, [${C},1,${win.kh},${win.kw}] needs ${C * win.kh * win.kw}`);
    if (bias && bias.length !== C) fail(`depthwise conv: bias has ${bias.length} values, needs ${C}`);
    const geo: DepthwiseGeometry = {
      kh: win.kh, kw: win.kw, sh: win.sh, sw: win.sw, dh: win.dh, dw: win.dw, fma: wasmFeatures().relaxedSimd, shared: arena.shared,
    };
    const key = `depthwise:${geo.kh}x${geo.kw}:s${geo.sh},${geo.sw}:d${geo.dh},${geo.dw}:${geo.fma ? 'fma' : 'muladd'}:${geo.shared ? 'shared' : 'private'}`;
    const mod = compileCached(key, () => depthwiseModule(geo));
    this.exports = instantiate<DepthwiseExports>(mod, arena);
    this.key = key;
    pool?.register(key, mod);
    this.wAt = arena.allocF32(weights.length);
    arena.f32(this.wAt, weights.length).set(weights);
    this.biasAt = bias ? arena.allocF32(C) : 0;
    if (bias) arena.f32(this.biasAt, C).set(bias);
    this.clampAt = clamp ? arena.allocF32(2) : 0;
    if (clamp) arena.f32(this.clampAt, 2).set(clamp);
  }

  /** y [N, C, OH, OW] = depthwise(x [N, C, H, W]) on byte offsets in the arena. */
  run(N: number, H: number, W: number, x: number, y: number): void {
    const { C, win } = this.params;
    const [OH, OW] = outHW('depthwise conv', H, W, win);
    const PH = H + win.padT + win.padB, PW = W + win.padL + win.padR + DEPTHWISE_SLACK;
    const threads = this.pool && C >= this.pool.size ? this.pool.size : 1;
    const mark = this.arena.used;
    try {
      const parts: PoolCall[][] = [];
      for (let t = 0; t < threads; t++) {
        const pbuf = this.arena.alloc(PH * PW * 4);
        const c0 = Math.floor((t * C) / threads), c1 = Math.floor(((t + 1) * C) / threads);
        const calls: PoolCall[] = [];
        for (let n = 0; n < N; n++) {
          calls.push({ key: this.key, fn: DEPTHWISE_EXPORTS.depthwise, args: [
            x + (n * C + c0) * H * W * 4, y + (n * C + c0) * OH * OW * 4, c1 - c0, H, W, OH, OW, this.wAt + c0 * win.kh * win.kw * 4,
            this.biasAt ? this.biasAt + c0 * 4 : 0, this.clampAt, pbuf, PH, PW, win.padT, win.padL] });
        }
        parts.push(calls);
      }
      if (threads > 1) this.pool!.run(parts);
      else for (const c of parts[0]) (this.exports.depthwise as (...a: readonly number[]) => void)(...c.args);
    } finally {
      this.arena.reset(mark);
    }
  }
}
