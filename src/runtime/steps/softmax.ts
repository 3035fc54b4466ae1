// Softmax along one axis, as the reference kernel computes it: the maximum
// subtracted, exponentials and their sum in float64, one division each. Safe in
// place (every group is read before it is written).
import type { SoftmaxStep } from '../../compile/plan_types.js';
import { at, type BindEnv, type StepExecutor } from './env.js';

export function bindSoftmax(s: SoftmaxStep, env: BindEnv): StepExecutor {
  const views = env.views, { outer, D, inner } = s;
  const x = at(env, s.inputs[0]) >> 2, y = at(env, s.outputs[0]) >> 2;
  const e = new Float64Array(D);
  return {
    run: () => {
      const f = views.f32;
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * D * inner + i;
          let max = -Infinity;
          for (let d = 0; d < D; d++) max = Math.max(max, f[x + base + d * inner]);
          let sum = 0;
          for (let d = 0; d < D; d++) { e[d] = Math.exp(f[x + base + d * inner] - max); sum += e[d]; }
          for (let d = 0; d < D; d++) f[y + base + d * inner] = e[d] / sum;
        }
      }
    },
  };
}
