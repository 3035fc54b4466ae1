// 2-D max / average pooling (NCHW, ONNX MaxPool / AveragePool semantics: pads,
// strides, dilations (max), ceil_mode, count_include_pad) on a kernel specialised
// per window geometry (pool_codegen.ts).
import { fail } from '../../ir/errors.js';
import { checkWindow2d, outHW, type Window2d } from '../../ir/window.js';
import type { WasmArena } from './arena.js';
import type { Conv2dParams } from './conv_params.js';
import { compileCached, instantiate } from './loader.js';
import { poolModule, type PoolGeometry } from './pool_codegen.js';

/** A pool as the direct API takes it: a conv's window attributes, the kind, ceil_mode and count_include_pad. */
export interface Pool2dParams extends Pick<Conv2dParams, 'kh' | 'kw' | 'pads' | 'strides' | 'dilations'> {
  kind: 'max' | 'avg';
  /** ONNX ceil_mode: round the output size up. */
  ceil?: boolean;
  /** AveragePool: count padded positions in the divisor. */
  countIncludePad?: boolean;
}

interface PoolExports {
  pool(x: number, y: number, planes: number, H: number, W: number, OH: number, OW: number, pbuf: number, PH: number,
    PW: number, padT: number, padL: number, invH: number, invW: number): void;
}

/** Reciprocal divisors along one axis (avg pooling): taps inside the input, or inside the padded input. */
export function axisInverses(out: number, inSize: number, k: number, padBegin: number, padEnd: number, s: number, d: number,
  includePad: boolean): Float32Array {
  const inv = new Float32Array(Math.ceil(out / 4) * 4);
  for (let o = 0; o < out; o++) {
    const start = o * s - padBegin;
    let n = 0;
    if (includePad) n = Math.min(start + k, inSize + padEnd) - start;
    else for (let i = 0; i < k; i++) { const at = start + i * d; if (at >= 0 && at < inSize) n++; }
    inv[o] = n > 0 ? 1 / n : 0;
  }
  return inv;
}

/** The padded plane the pool kernel copies each input plane into (ceil mode may reach past the pads). */
export function poolPadded(p: { H: number; W: number; OH: number; OW: number; win: Window2d }): { PH: number; PW: number } {
  const { win } = p;
  const PH = Math.max(p.H + win.padT + win.padB, (p.OH - 1) * win.sh + (win.kh - 1) * win.dh + 1);
  const PW = Math.ceil((Math.max(p.W + win.padL + win.padR, (p.OW - 1) * win.sw + (win.kw - 1) * win.dw + 1) + 8) / 4) * 4;
  return { PH, PW };
}

export class WasmPool2d {
  private readonly exports: PoolExports;
  readonly win: Window2d;

  constructor(readonly arena: WasmArena, readonly params: Pool2dParams) {
    const what = params.kind === 'max' ? 'MaxPool' : 'AveragePool';
    if (params.kind !== 'max' && params.kind !== 'avg') fail(`pool: kind "${String(params.kind)}" must be "max" or "avg"`);
    this.win = checkWindow2d(what, params);
    if (params.kind === 'avg' && params.countIncludePad && (this.win.dh > 1 || this.win.dw > 1)) {
      fail(`${what}: count_include_pad with dilations is not supported; use dilations 1 or count_include_pad=0`);
    }
    const w = this.win;
    const geo: PoolGeometry = { kind: params.kind, kh: w.kh, kw: w.kw, sh: w.sh, sw: w.sw, dh: w.dh, dw: w.dw, shared: arena.shared };
    const key = `pool:${geo.kind}:${w.kh}x${w.kw}:s${w.sh},${w.sw}:d${w.dh},${w.dw}:${geo.shared ? 'shared' : 'private'}`;
    this.exports = instantiate<PoolExports>(compileCached(key, () => poolModule(geo)), arena);
  }

  outShape(N: number, C: number, H: number, W: number): [number, number, number, number] {
    const [OH, OW] = outHW(this.params.kind === 'max' ? 'MaxPool' : 'AveragePool', H, W, this.win, this.params.ceil);
    return [N, C, OH, OW];
  }

  /** y [N, C, OH, OW] = pool(x [N, C, H, W]) on byte offsets in the arena. */
  run(N: number, C: number, H: number, W: number, x: number, y: number): void {
    const w = this.win;
    const [, , OH, OW] = this.outShape(N, C, H, W);
    const { PH, PW } = poolPadded({ H, W, OH, OW, win: w });
    const ar = this.arena, mark = ar.used;
    try {
      const pbuf = ar.alloc(PH * PW * 4);
      let invH = 0, invW = 0;
      if (this.params.kind === 'avg') {
        const inc = this.params.countIncludePad ?? false;
        const ih = axisInverses(OH, H, w.kh, w.padT, w.padB, w.sh, w.dh, inc), iw = axisInverses(OW, W, w.kw, w.padL, w.padR, w.sw, w.dw, inc);
        invH = ar.allocF32(ih.length); ar.f32(invH, ih.length).set(ih);
        invW = ar.allocF32(iw.length); ar.f32(invW, iw.length).set(iw);
      }
      this.exports.pool(x, y, N * C, H, W, OH, OW, pbuf, PH, PW, w.padT, w.padL, invH, invW);
    } finally {
      ar.reset(mark);
    }
  }

  /** Pooling on arrays (copied in and out of the arena). */
  pool(N: number, C: number, H: number, W: number, x: Float32Array): Float32Array {
    const s = this.outShape(N, C, H, W);
    const inSize = N * C * H * W, outSize = s[0] * s[1] * s[2] * s[3];
    if (x.length !== inSize) fail(`pool: input has ${x.length} values, [${N},${C},${H},${W}] needs ${inSize}`);
    return this.arena.onCopy(x, outSize, 0, (xAt, yAt) => this.run(N, C, H, W, xAt, yAt));
  }
}
