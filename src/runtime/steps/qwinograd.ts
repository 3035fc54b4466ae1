// The integer Winograd conv step (kernels/wasm/qwinograd.ts): the int8 weights transformed
// and packed once per session (U'' = G'' g G''ᵀ as the integer GEMM's A panels, with the
// bias and requantization adjusted for the transforms' 2^e), then per chunk of tile rows the
// input transform, one call of α² integer GEMMs and the output transform with the
// requantization (and a fused 2×2 max pool). With threads, thread t takes chunks t, t + sets, ... into scratch set t.
import type { QConvStep } from '../../compile/plan_types.js';
import type { PoolCall } from '../../kernels/wasm/thread_pool.js';
import { qwinogradCalls, qwinogradConstants, qwinogradLayout, type QWinogradExports } from '../../kernels/wasm/qwinograd.js';
import { callsHere } from '../../kernels/wasm/winograd.js';
import { at, poolRunner, prepared, scratchAt, type BindEnv, type StepExecutor } from './env.js';

export function bindQWinograd(s: QConvStep, env: BindEnv): StepExecutor {
  const q = env.kernels.qgemm, m = s.tile!, wl = s.layout.winograd!, l = s.layer;
  if (!l.epilogue) throw new Error(`step ${s.name}: the integer Winograd conv needs a requantizing output`);
  const constants = prepared(env, s, `qwinograd${m}`, () => qwinogradConstants(q, m, s.M, s.C, l.weight, l.bias, l.epilogue!));
  const kernel = env.kernels.qwinograd(m);
  const shape = { N: s.N, C: s.C, H: s.H, W: s.W, M: s.M, OH: s.OH, OW: s.OW, win: s.win };
  const layout = qwinogradLayout(shape, m, wl.rowsPerChunk, q.scratchBytes());
  const sets = Array.from({ length: s.layout.sets }, (_, t) => scratchAt(env, s) + t * wl.setBytes);
  const parts = qwinogradCalls(kernel.key, shape, layout, {
    x: at(env, s.inputs[0]), y: at(env, s.outputs[0]), imageStride: s.outImageStride, constants, input: l.input, inZero: l.inZero, sets, pool: s.pool !== undefined,
  });
  if (parts.length > 1 && env.pool) return { run: poolRunner(env.pool, parts) };
  return { run: callsHere(parts.flat(), (c: PoolCall) => kernel.exports[c.fn as keyof QWinogradExports]) };
}
