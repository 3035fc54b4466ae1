// The oracle of the binary kernels (kernels/wasm/xnor*.ts): conv and fully
// connected layers with binary or ternary weights (ir/binary.ts SignRows) on
// binary activations, the sign of the input after an optional per-channel affine
// (a BatchNormalization before the Sign). Dot products are counted exactly as
// integers, element by element (no bits): S = Σ sign(w)·sign(x), T = Σ_{w≠0} sign(x)
// over the window (padding and zero inputs count nothing); then the float32
// epilogue in the kernels' order: y = S·a (+ T·b) + bias, clamped.
import type { SignRows } from '../binary.js';
import type { Window2d } from '../window.js';

export interface BinaryEpilogue {
  bias?: Float32Array;
  clamp?: readonly [number, number];
}

/** Per input channel: x' = x·scale + shift (float32, as the kernels) before the sign. */
export interface InputAffine {
  scale: Float32Array;
  shift: Float32Array;
}

const f = Math.fround;

/** The sign of x after the channel's affine: +1, −1, or 0 (for ±0 and NaN, as ONNX Sign). */
export function inputSign(x: number, c: number, pre?: InputAffine): number {
  const v = pre ? f(f(x * pre.scale[c]) + pre.shift[c]) : x;
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

/** The epilogue of output channel m from the exact counts. */
export function binaryEpilogue(S: number, T: number, m: number, w: SignRows, e: BinaryEpilogue): number {
  let v = f(S * w.a[m]);
  if (w.b) v = f(v + f(T * w.b[m]));
  return clampOut(f(v + (e.bias ? e.bias[m] : 0)), e.clamp);
}

/**
 * The binary kernels' fused clamp, as WebAssembly's f32x4.pmax / pmin (one instruction
 * each): v < lo ? lo : v, then hi < v ? hi : v. As Math.max / min but for −0, which stays −0.
 */
export function clampOut(v: number, clamp?: readonly [number, number]): number {
  if (!clamp) return v;
  const [lo, hi] = clamp;
  const u = v < lo ? lo : v;
  return hi < u ? hi : u;
}

/** y [N, M, OH, OW] from x [N, C, H, W] and weights [M, C, kh, kw] (ungrouped). */
export function binaryConvRef(x: Float32Array, N: number, C: number, H: number, W: number, M: number, win: Window2d,
  OH: number, OW: number, w: SignRows, e: BinaryEpilogue = {}, pre?: InputAffine): Float32Array {
  const y = new Float32Array(N * M * OH * OW);
  const { kh, kw } = win;
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let S = 0, T = 0;
          for (let c = 0; c < C; c++) {
            for (let ky = 0; ky < kh; ky++) {
              const ih = oh * win.sh - win.padT + ky * win.dh;
              if (ih < 0 || ih >= H) continue;
              for (let kx = 0; kx < kw; kx++) {
                const iw = ow * win.sw - win.padL + kx * win.dw;
                if (iw < 0 || iw >= W) continue;
                const t = w.trits[((m * C + c) * kh + ky) * kw + kx];
                const s = inputSign(x[((n * C + c) * H + ih) * W + iw], c, pre);
                if (t === 0 || s === 0) continue;
                S += t === 1 ? s : -s;
                T += s;
              }
            }
          }
          y[((n * M + m) * OH + oh) * OW + ow] = binaryEpilogue(S, T, m, w, e);
        }
      }
    }
  }
  return y;
}

/** y [N, M] from x [N, K] and weights [M, K] (the Gemm transB=1 layout). */
export function binaryFcRef(x: Float32Array, N: number, K: number, M: number, w: SignRows, e: BinaryEpilogue = {}, pre?: InputAffine): Float32Array {
  const y = new Float32Array(N * M);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      let S = 0, T = 0;
      for (let k = 0; k < K; k++) {
        const t = w.trits[m * K + k], s = inputSign(x[n * K + k], k, pre);
        if (t === 0 || s === 0) continue;
        S += t === 1 ? s : -s;
        T += s;
      }
      y[n * M + m] = binaryEpilogue(S, T, m, w, e);
    }
  }
  return y;
}
