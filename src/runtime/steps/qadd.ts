// The integer Add of two 8-bit tensors on the WebAssembly kernel (kernels/wasm/qops_codegen.ts add8).
import type { QAddStep } from '../../compile/plan_types.js';
import { at, scratchAt, type BindEnv, type StepExecutor } from './env.js';

export function bindQAdd(s: QAddStep, env: BindEnv): StepExecutor {
  const k = env.kernels.qops().exports;
  const args = [at(env, s.inputs[0]), at(env, s.inputs[1]), at(env, s.outputs[0]), s.n, s.za, s.zb, s.ma, s.mb, s.shift, s.zy, s.lo, s.hi,
    s.dtype === 'uint8' ? 1 : 0, scratchAt(env, s)] as const;
  return { run: () => k.add8(...args) };
}
