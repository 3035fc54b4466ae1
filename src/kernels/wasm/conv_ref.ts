// Plain references for the convolution family (NCHW, ONNX semantics): the
// oracles of conv.ts, depthwise.ts, pool.ts and activation.ts. Written for
// clarity, accumulated in f64.
import { checkConv, fullWindow, outHW, type Conv2dParams, type Window2d } from './conv_params.js';

export interface ClampOption {
  /** [lo, hi]; relu is [0, Infinity]. */
  clamp?: readonly [number, number];
}

function clampValue(v: number, c?: readonly [number, number]): number {
  return c ? Math.min(Math.max(v, c[0]), c[1]) : v;
}

/** y[N, M, OH, OW] = conv(x[N, C, H, W], w[M, C/group, kh, kw]) + bias[M], then clamp. */
export function conv2dRef(p: Conv2dParams & ClampOption, N: number, H: number, W: number, x: Float32Array, w: Float32Array,
  bias?: Float32Array): Float32Array {
  const { Cg, Mg, win } = checkConv('conv2dRef', p);
  const [OH, OW] = outHW('conv2dRef', H, W, win);
  const y = new Float32Array(N * p.M * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < p.M; m++) {
      const g = Math.floor(m / Mg);
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let s = bias ? bias[m] : 0;
          for (let c = 0; c < Cg; c++) {
            for (let i = 0; i < win.kh; i++) {
              const ih = oh * win.sh - win.padT + i * win.dh;
              if (ih < 0 || ih >= H) continue;
              for (let j = 0; j < win.kw; j++) {
                const iw = ow * win.sw - win.padL + j * win.dw;
                if (iw < 0 || iw >= W) continue;
                s += x[((n * p.C + g * Cg + c) * H + ih) * W + iw] * w[((m * Cg + c) * win.kh + i) * win.kw + j];
              }
            }
          }
          y[((n * p.M + m) * OH + oh) * OW + ow] = clampValue(s, p.clamp);
        }
      }
    }
  }
  return y;
}

export interface Pool2dParams extends Window2d {
  kind: 'max' | 'avg';
  /** ONNX ceil_mode: round the output size up. */
  ceil?: boolean;
  /** AveragePool: count padded positions in the divisor. */
  countIncludePad?: boolean;
}

/** y[N, C, OH, OW] = max/avg pool of x[N, C, H, W]. Padding never wins a max; avg divisors follow onnxruntime. */
export function pool2dRef(p: Pool2dParams, N: number, C: number, H: number, W: number, x: Float32Array): Float32Array {
  const win = fullWindow('pool2dRef', p);
  const [OH, OW] = outHW('pool2dRef', H, W, win, p.ceil);
  const y = new Float32Array(N * C * OH * OW);
  for (let nc = 0; nc < N * C; nc++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const h0 = oh * win.sh - win.padT, w0 = ow * win.sw - win.padL;
        let best = -Infinity, sum = 0, count = 0;
        for (let i = 0; i < win.kh; i++) {
          const ih = h0 + i * win.dh;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < win.kw; j++) {
            const iw = w0 + j * win.dw;
            if (iw < 0 || iw >= W) continue;
            const v = x[(nc * H + ih) * W + iw];
            best = Math.max(best, v);
            sum += v;
            count++;
          }
        }
        let out: number;
        if (p.kind === 'max') out = best;
        else if (p.countIncludePad) {
          // window clipped to the padded input (ceil mode may overhang it), as onnxruntime does
          const hEnd = Math.min(h0 + win.kh, H + win.padB), wEnd = Math.min(w0 + win.kw, W + win.padR);
          out = sum / ((hEnd - h0) * (wEnd - w0));
        } else out = sum / count;
        y[(nc * OH + oh) * OW + ow] = out;
      }
    }
  }
  return y;
}

/** Elementwise clamp (relu = [0, Infinity]). */
export function clampRef(x: Float32Array, lo: number, hi: number): Float32Array {
  return x.map((v) => Math.min(Math.max(v, lo), hi));
}
