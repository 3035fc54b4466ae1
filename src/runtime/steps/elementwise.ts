// Elementwise steps: clamp (Relu / Clip) on the WebAssembly kernel; Sigmoid,
// Tanh, LeakyRelu and a standalone BatchNormalization as plain loops over the
// arena's float view (same formulas as the reference kernels). All may run in place.
import type { AffineStep, ClampStep, UnaryStep } from '../../compile/plan_types.js';
import { at, type BindEnv, type StepExecutor } from './env.js';

export function bindClamp(s: ClampStep, env: BindEnv): StepExecutor {
  const e = env.kernels.elementwise().exports;
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]), { n, lo, hi } = s;
  return { run: () => e.clamp(x, y, n, lo, hi) };
}

type Loop = (f: Float32Array, x: number, y: number, n: number, alpha: number) => void;

const UNARY: Record<UnaryStep['fn'], Loop> = {
  Sigmoid: (f, x, y, n) => {
    for (let i = 0; i < n; i++) {
      const v = f[x + i];
      // two forms so that exp never overflows
      if (v >= 0) f[y + i] = 1 / (1 + Math.exp(-v));
      else { const e = Math.exp(v); f[y + i] = e / (1 + e); }
    }
  },
  Tanh: (f, x, y, n) => { for (let i = 0; i < n; i++) f[y + i] = Math.tanh(f[x + i]); },
  LeakyRelu: (f, x, y, n, alpha) => { for (let i = 0; i < n; i++) { const v = f[x + i]; f[y + i] = v < 0 ? alpha * v : v; } },
};

export function bindUnary(s: UnaryStep, env: BindEnv): StepExecutor {
  const loop = UNARY[s.fn], views = env.views;
  const x = at(env, s.inputs[0]) >> 2, y = at(env, s.outputs[0]) >> 2, { n, alpha } = s;
  return { run: () => loop(views.f32, x, y, n, alpha) };
}

export function bindAffine(s: AffineStep, env: BindEnv): StepExecutor {
  const views = env.views, { outer, C, inner, scale, shift } = s;
  const x = at(env, s.inputs[0]) >> 2, y = at(env, s.outputs[0]) >> 2;
  return {
    run: () => {
      const f = views.f32;
      for (let o = 0, i = 0; o < outer; o++) {
        for (let c = 0; c < C; c++) {
          const k = scale[c], b = shift[c];
          for (const end = i + inner; i < end; i++) f[y + i] = f[x + i] * k + b;
        }
      }
    },
  };
}
