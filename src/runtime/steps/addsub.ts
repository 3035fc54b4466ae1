// Binary / ternary weights on float inputs (BWN, TWN, TTQ): conv and fc steps the cost
// model gave to the add/subtract kernel (kernels/wasm/addsub.ts). The weights become
// their bits and two levels per row while binding (read back from the values, so a
// folded BatchNorm's scaling is in them); no float copy of them goes to the arena. Convs
// split each image's columns over the session's threads (the plan's split); fc layers run on one.
import type { ConvStep, FcStep } from '../../compile/plan_types.js';
import { signRows } from '../../ir/binary.js';
import type { AddSubLayer } from '../../kernels/wasm/addsub.js';
import { at, prepared, scratchAt, type BindEnv, type StepExecutor } from './env.js';
import { plannedParts } from './fc.js';

function layerOf(s: ConvStep | FcStep, env: BindEnv, M: number, K: number, conv?: ConvStep): AddSubLayer {
  return prepared(env, s, 'addsub', () => {
    const r = signRows(s.weight.data, M, K);
    if (typeof r === 'string') throw new Error(`node "${s.name}": weight "${s.weight.name}" is not binary or ternary row by row (${r})`);
    const w = conv?.win;
    const params = conv && w ? { C: conv.C, M, kh: w.kh, kw: w.kw, pads: [w.padT, w.padL, w.padB, w.padR] as const, strides: [w.sh, w.sw] as const, dilations: [w.dh, w.dw] as const } : undefined;
    return env.kernels.addsub.prepare(r, M, K, { bias: s.bias, clamp: s.clamp }, params);
  });
}

export function bindAddSubConv(s: ConvStep, env: BindEnv): StepExecutor {
  const l = layerOf(s, env, s.M, s.C * s.win.kh * s.win.kw, s), k = env.kernels.addsub;
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]), scratch = scratchAt(env, s);
  const parts = plannedParts(s, env);
  return { run: k.convRunner(l, s.N, s.H, s.W, x, y, scratch, s.outImageStride, parts) };
}

/** y [M, N] from x [M, K]: the weight is [N×K], one row per output. */
export function bindAddSubFc(s: FcStep, env: BindEnv): StepExecutor {
  const l = layerOf(s, env, s.N, s.K), k = env.kernels.addsub;
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]), scratch = scratchAt(env, s);
  return { run: () => k.fcAt(l, s.M, x, y, scratch) };
}
