// Winograd convolution F(m×m, 3×3): the filters transformed (or taken as the .nnz
// stored them) and packed once per session (U = G g Gᵀ, α² A matrices; the same
// under every batch size's plan), then
// per chunk of tile rows the input transform, one strided call of α² GEMMs and the
// output transform with bias and clamp (kernels/wasm/winograd.ts describes the calls).
// The planner's layout fixes the chunks and the scratch sets: with threads, thread t
// takes chunks t, t + split, ... into set t, or its share of every chunk's output channels.
import type { ConvStep } from '../../compile/plan_types.js';
import { transformFilters } from '../../ir/winograd.js';
import type { PoolCall } from '../../kernels/wasm/thread_pool.js';
import { callsHere, packFilters, winogradCalls, winogradLayout, type WinogradShape } from '../../kernels/wasm/winograd.js';
import { at, poolRunner, prepared, scratchAt, type BindEnv, type StepExecutor } from './env.js';

export function bindWinograd(s: ConvStep, env: BindEnv): StepExecutor {
  const k = env.kernels, gemm = k.gemm, m = s.tile!, wl = s.layout.winograd!;
  const f = s.weight.format, stored = f?.kind === 'winograd' && f.tile === m && !s.weight.derived ? f.transformed : undefined;
  const packed = prepared(env, s, `winograd${m}`, () => ({
    filters: packFilters(gemm, stored ?? transformFilters(s.weight.data, s.M, s.C, m), s.M, s.C, m), bias: s.bias ? k.upload(s.bias) : 0,
  }));
  const wino = k.winograd(m);
  const shape: WinogradShape = { N: s.N, C: s.C, H: s.H, W: s.W, M: s.M, OH: s.OH, OW: s.OW, win: s.win };
  const l = winogradLayout(shape, m, wl.rowsPerChunk, gemm.variant.nr, gemm.scratchBytes());
  const sets = Array.from({ length: s.layout.sets }, (_, t) => scratchAt(env, s) + t * wl.setBytes);
  const parts = winogradCalls(gemm, wino.key, shape, l, {
    x: at(env, s.inputs[0]), y: at(env, s.outputs[0]), imageStride: s.outImageStride, filters: packed.filters, bias: packed.bias,
    clamp: s.clamp, sets,
  }, wl.byChannels);
  if (parts.length > 1 && env.pool) return { run: poolRunner(env.pool, parts) };
  const lookup = (c: PoolCall) => (c.key === wino.key ? wino.exports[c.fn as 'input'] : gemm.exports[c.fn as 'gemmStrided']) as (...a: number[]) => void;
  return { run: callsHere(parts.flat(), lookup) };
}
