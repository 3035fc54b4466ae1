// Pooling on int8 / uint8 values, in JS on the reference loops (ir/ref/pool.ts):
// max pooling is exact on the integers; average pooling sums exactly and rounds
// the mean half to even (what dequantize → average → quantize gives with one scale).
import type { QPoolStep } from '../../compile/plan_types.js';
import { roundHalfEven } from '../../ir/quant.js';
import { avgPool2d, maxPool2d, type Pool2dGeom } from '../../ir/ref/pool.js';
import { at, type BindEnv, type StepExecutor } from './env.js';

export function bindQPool(s: QPoolStep, env: BindEnv): StepExecutor {
  const views = env.views, x = at(env, s.inputs[0]), y = at(env, s.outputs[0]);
  const { N, C, H, W, OH, OW } = s, plane = OH * OW;
  // whole batch in one call when the output is contiguous, else image by image (a slice of a concat)
  const images = s.outImageStride === C * plane ? [[0, N]] : Array.from({ length: N }, (_, n) => [n, n + 1]);
  const sum = new Float64Array(s.mode === 'avg' ? N * C * plane : 0);
  return {
    run: () => {
      for (const [n0, n1] of images) {
        const g: Pool2dGeom = { planes: (n1 - n0) * C, H, W, OH, OW, win: s.win };
        const xs = views.typed(s.dtype, x + n0 * C * H * W, g.planes * H * W) as Int8Array;
        const ys = views.typed(s.dtype, y + n0 * s.outImageStride, g.planes * plane) as Int8Array;
        if (s.mode === 'max') { maxPool2d(g, xs, ys); continue; }
        const m = sum.subarray(0, g.planes * plane);
        avgPool2d(g, Float64Array.from(xs), m, s.countIncludePad);
        for (let i = 0; i < m.length; i++) ys[i] = roundHalfEven(m[i]);
      }
    },
  };
}
