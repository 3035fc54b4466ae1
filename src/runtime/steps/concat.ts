// Concat: the inputs that their producers did not write in place are copied as
// bytes (any dtype) into their slice of every outer block; constant inputs come
// from their own arrays.
import type { ConcatStep } from '../../compile/plan_types.js';
import { at, constant, type BindEnv, type StepExecutor } from './env.js';

interface Copy { src: number; data?: Uint8Array; dst: number; bytes: number; srcStep: number }

export function bindConcat(s: ConcatStep, env: BindEnv): StepExecutor {
  const views = env.views, eb = s.elemBytes, y = at(env, s.outputs[0]);
  const copies: Copy[] = s.parts.map((p) => {
    const c = constant(env, p.value);
    const data = c ? new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength) : undefined;
    return { src: c ? 0 : at(env, p.value), data, dst: y + p.at * eb, bytes: p.block * eb, srcStep: p.block * eb };
  });
  const outer = s.outer, outStep = s.outBlock * eb;
  return {
    run: () => {
      const u8 = views.u8;
      for (const c of copies) {
        for (let o = 0; o < outer; o++) {
          const from = c.src + o * c.srcStep, to = c.dst + o * outStep;
          if (c.data) u8.set(c.data.subarray(from, from + c.bytes), to);
          else u8.copyWithin(to, from, from + c.bytes);
        }
      }
    },
  };
}
