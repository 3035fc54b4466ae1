// Pooling on int8 / uint8 values: max pooling on the WebAssembly kernel (exact on
// the integers, kernels/wasm/qops_codegen.ts); average pooling in JS on the
// reference loops (ir/ref/pool.ts), exact sums and the mean rounded half to even
// (what dequantize → average → quantize gives with one scale).
import type { QPoolStep } from '../../compile/plan_types.js';
import { roundHalfEven } from '../../ir/quant.js';
import { avgPool2d, type Pool2dGeom } from '../../ir/ref/pool.js';
import { at, scratchAt, type BindEnv, type StepExecutor } from './env.js';

export function bindQPool(s: QPoolStep, env: BindEnv): StepExecutor {
  const views = env.views, x = at(env, s.inputs[0]), y = at(env, s.outputs[0]), w = s.win;
  const { N, C, H, W, OH, OW } = s, plane = OH * OW;
  // whole batch in one call when the output is contiguous, else image by image (a slice of a concat)
  const images = s.outImageStride === C * plane ? [[0, N]] : Array.from({ length: N }, (_, n) => [n, n + 1]);
  if (s.mode === 'max') {
    const k = env.kernels.qops().exports, pool = s.dtype === 'int8' ? k.maxpool8s : k.maxpool8u, rowbuf = scratchAt(env, s);
    const calls = images.map(([n0, n1]) => [x + n0 * C * H * W, y + n0 * s.outImageStride, (n1 - n0) * C, H, W, OH, OW, w.kh, w.kw, w.sh, w.sw, w.dh, w.dw, w.padT, w.padL, rowbuf]);
    return { run: () => { for (const a of calls) pool(...a); } };
  }
  const sum = new Float64Array(N * C * plane);
  return {
    run: () => {
      for (const [n0, n1] of images) {
        const g: Pool2dGeom = { planes: (n1 - n0) * C, H, W, OH, OW, win: w };
        const xs = views.typed(s.dtype, x + n0 * C * H * W, g.planes * H * W) as Int8Array;
        const ys = views.typed(s.dtype, y + n0 * s.outImageStride, g.planes * plane) as Int8Array;
        const m = sum.subarray(0, g.planes * plane);
        avgPool2d(g, Float64Array.from(xs), m, s.countIncludePad);
        for (let i = 0; i < m.length; i++) ys[i] = roundHalfEven(m[i]);
      }
    },
  };
}
