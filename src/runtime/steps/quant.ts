// QuantizeLinear, DequantizeLinear and a fused Q→DQ pair, with the reference
// kernel's arithmetic: q = saturate(round_half_even(f32(x / scale)) + zero),
// x' = f32(q − zero) · scale; per tensor or per axis (one scale per `inner` run).
import type { QuantStep } from '../../compile/plan_types.js';
import { DTYPE_BYTES, type AnyData } from '../../ir/tensor.js';
import { at, type BindEnv, type StepExecutor } from './env.js';

type Num = Exclude<AnyData, BigInt64Array>;

function quantize(v: number, inv: number, z: number, lo: number, hi: number): number {
  const s = Math.fround(v / inv);
  let r = Math.round(s); // ties go up: make them go to even
  if (r - s === 0.5 && r % 2 !== 0) r -= 1;
  const q = r + z;
  return q < lo ? lo : q > hi ? hi : q;
}

export function bindQuant(s: QuantStep, env: BindEnv): StepExecutor {
  const views = env.views, plan = env.plan;
  const xd = plan.values.get(s.inputs[0])!.dtype, yd = plan.values.get(s.outputs[0])!.dtype;
  if (xd === 'int64' || yd === 'int64') throw new Error(`runtime: quant step "${s.name}" on ${xd} → ${yd}`);
  const x = at(env, s.inputs[0]) / DTYPE_BYTES[xd], y = at(env, s.outputs[0]) / DTYPE_BYTES[yd];
  const { n, q, kind } = s, { scale, zero, inner, count, lo, hi } = q;
  return {
    run: () => {
      const X = views.of[xd], Y = views.of[yd] as Num;
      for (let start = 0, k = 0; start < n; start += inner) {
        const sc = scale[k], z = zero[k], end = Math.min(n, start + inner);
        if (kind === 'quantize') for (let i = start; i < end; i++) Y[y + i] = quantize(X[x + i], sc, z, lo, hi);
        else if (kind === 'dequantize') for (let i = start; i < end; i++) Y[y + i] = Math.fround(X[x + i] - z) * sc;
        else for (let i = start; i < end; i++) Y[y + i] = Math.fround(quantize(X[x + i], sc, z, lo, hi) - z) * sc;
        if (++k === count) k = 0;
      }
    },
  };
}
