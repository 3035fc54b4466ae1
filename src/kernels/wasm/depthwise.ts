// Depthwise convolution (group = C = M, NCHW) with bias and fused clamp, on a
// kernel specialised per window geometry (depthwise_codegen.ts).
import { fail } from '../../ir/errors.js';
import type { WasmArena } from './arena.js';
import { outHW, type Window2dFull } from './conv_params.js';
import { DEPTHWISE_SLACK, depthwiseModule, type DepthwiseGeometry } from './depthwise_codegen.js';
import { wasmFeatures } from './features.js';
import { compileCached, instantiate } from './loader.js';

interface DepthwiseExports {
  depthwise(x: number, y: number, C: number, H: number, W: number, OH: number, OW: number, w: number, bias: number,
    clampAt: number, pbuf: number, PH: number, PW: number, padT: number, padL: number): void;
}

export class WasmDepthwise {
  private readonly exports: DepthwiseExports;
  private readonly wAt: number;
  private readonly biasAt: number;
  private readonly clampAt: number;

  /** weights [C, 1, kh, kw]; bias [C]; clamp [lo, hi]. */
  constructor(readonly arena: WasmArena, readonly params: { C: number; win: Window2dFull }, weights: Float32Array,
    bias?: Float32Array, clamp?: readonly [number, number]) {
    const { C, win } = params;
    if (weights.length !== C * win.kh * win.kw) fail(`depthwise conv: weights have ${weights.length} values, [${C},1,${win.kh},${win.kw}] needs ${C * win.kh * win.kw}`);
    if (bias && bias.length !== C) fail(`depthwise conv: bias has ${bias.length} values, needs ${C}`);
    const geo: DepthwiseGeometry = {
      kh: win.kh, kw: win.kw, sh: win.sh, sw: win.sw, dh: win.dh, dw: win.dw, fma: wasmFeatures().relaxedSimd, shared: arena.shared,
    };
    const key = `depthwise:${geo.kh}x${geo.kw}:s${geo.sh},${geo.sw}:d${geo.dh},${geo.dw}:${geo.fma ? 'fma' : 'muladd'}:${geo.shared ? 'shared' : 'private'}`;
    this.exports = instantiate<DepthwiseExports>(compileCached(key, () => depthwiseModule(geo)), arena);
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
    const mark = this.arena.used;
    try {
      const pbuf = this.arena.alloc(PH * PW * 4);
      for (let n = 0; n < N; n++) {
        this.exports.depthwise(x + n * C * H * W * 4, y + n * C * OH * OW * 4, C, H, W, OH, OW, this.wAt, this.biasAt,
          this.clampAt, pbuf, PH, PW, win.padT, win.padL);
      }
    } finally {
      this.arena.reset(mark);
    }
  }
}
