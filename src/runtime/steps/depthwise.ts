// Depthwise convolution (group = C = M): the direct SIMD kernel specialised per
// window, bias and clamp fused; threads split the channels (each its own padded plane).
import type { ConvStep } from '../../compile/plan_types.js';
import { DEPTHWISE_EXPORTS, DEPTHWISE_SLACK } from '../../kernels/wasm/depthwise_codegen.js';
import { share, type PoolCall } from '../../kernels/wasm/thread_pool.js';
import { at, poolRunner, prepared, scratchAt, type BindEnv, type StepExecutor } from './env.js';
import { clampBounds } from './fc.js';

export function bindDepthwise(s: ConvStep, env: BindEnv): StepExecutor {
  const k = env.kernels, win = s.win;
  const kern = k.depthwise({ kh: win.kh, kw: win.kw, sh: win.sh, sw: win.sw, dh: win.dh, dw: win.dw });
  const w = prepared(env, s, 'depthwise', () => ({ w: k.upload(s.weight.data), bias: s.bias ? k.upload(s.bias) : 0 }));
  const clampAt = clampBounds(env, s);
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]);
  const { C, H, W, OH, OW, N } = s, os = s.outImageStride, taps = win.kh * win.kw;
  const PH = H + win.padT + win.padB, PW = W + win.padL + win.padR + DEPTHWISE_SLACK;
  const plane = s.layout.plane;
  /** The call for channels [c0, c1) of image n, padding in the plane at `pbuf`. */
  const args = (n: number, c0: number, c1: number, pbuf: number): number[] => [
    x + (n * C + c0) * H * W * 4, y + (n * os + c0 * OH * OW) * 4, c1 - c0, H, W, OH, OW,
    w.w + c0 * taps * 4, w.bias && w.bias + c0 * 4, clampAt, pbuf, PH, PW, win.padT, win.padL,
  ];
  if (s.split > 1 && env.pool) {
    const parts: PoolCall[][] = [];
    for (let t = 0; t < s.split; t++) {
      const [c0, c1] = share(C, s.split, t);
      const calls: PoolCall[] = [];
      for (let n = 0; n < N && c1 > c0; n++) calls.push({ key: kern.key, fn: DEPTHWISE_EXPORTS.depthwise, args: args(n, c0, c1, scratchAt(env, s) + t * plane) });
      parts.push(calls);
    }
    return { run: poolRunner(env.pool, parts) };
  }
  const e = kern.exports, pbuf = scratchAt(env, s);
  const imageIn = C * H * W * 4, imageOut = os * 4;
  return {
    run: () => {
      for (let n = 0; n < N; n++) {
        e.depthwise(x + n * imageIn, y + n * imageOut, C, H, W, OH, OW, w.w, w.bias, clampAt, pbuf, PH, PW, win.padT, win.padL);
      }
    },
  };
}
