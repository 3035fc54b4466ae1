// QuantizeLinear, DequantizeLinear and a fused Q→DQ pair, with the arithmetic
// of ir/quant.ts; per tensor or per axis (one scale per `inner` run). 8-bit per
// tensor (the ends of an integer region) runs on the WebAssembly kernel, the rest in JS.
import type { QuantStep } from '../../compile/plan_types.js';
import { dequantizeValue, quantizeValue } from '../../ir/quant.js';
import { DTYPE_BYTES, type AnyData } from '../../ir/tensor.js';
import { at, scratchAt, type BindEnv, type StepExecutor } from './env.js';

type Num = Exclude<AnyData, BigInt64Array>;

export function bindQuant(s: QuantStep, env: BindEnv): StepExecutor {
  const views = env.views, plan = env.plan;
  const xd = plan.values.get(s.inputs[0])!.dtype, yd = plan.values.get(s.outputs[0])!.dtype;
  if (xd === 'int64' || yd === 'int64') throw new Error(`runtime: quant step "${s.name}" on ${xd} → ${yd}`);
  const x = at(env, s.inputs[0]) / DTYPE_BYTES[xd], y = at(env, s.outputs[0]) / DTYPE_BYTES[yd];
  const { n, q, kind } = s, { scale, zero, inner, count, lo, hi } = q;
  const bytes = kind === 'quantize' ? yd : xd;
  if (count === 1 && (bytes === 'int8' || bytes === 'uint8') && kind !== 'fakequant') {
    const k = env.kernels.qops().exports, [xa, ya, sc] = [at(env, s.inputs[0]), at(env, s.outputs[0]), scratchAt(env, s)];
    if (kind === 'quantize') return { run: () => k.quantize8(xa, ya, n, scale[0], zero[0], lo, hi, sc) };
    return { run: () => k.dequantize8(xa, ya, n, scale[0], zero[0], bytes === 'uint8' ? 1 : 0, sc) };
  }
  return {
    run: () => {
      const X = views.of[xd], Y = views.of[yd] as Num;
      for (let start = 0, k = 0; start < n; start += inner) {
        const sc = scale[k], z = zero[k], end = Math.min(n, start + inner);
        if (kind === 'quantize') for (let i = start; i < end; i++) Y[y + i] = quantizeValue(X[x + i], sc, z, lo, hi);
        else if (kind === 'dequantize') for (let i = start; i < end; i++) Y[y + i] = dequantizeValue(X[x + i], sc, z);
        else for (let i = start; i < end; i++) Y[y + i] = dequantizeValue(quantizeValue(X[x + i], sc, z, lo, hi), sc, z);
        if (++k === count) k = 0;
      }
    },
  };
}
