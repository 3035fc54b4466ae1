// XNOR-Net convolution (compile/lower_xnor.ts): the weights as bit-planes with
// per-row levels (read back from the values, so a folded BatchNorm's scaling is
// in them), the border tables of this input size made while binding (before the
// activation region is placed), then per call: pack each image's sign bits into the
// step's scratch and run the popcount kernel (bias and clamp fused). One thread.
import type { ConvStep } from '../../compile/plan_types.js';
import { signRows } from '../../ir/binary.js';
import type { Conv2dParams } from '../../kernels/wasm/conv_params.js';
import type { XnorLayer } from '../../kernels/wasm/xnor.js';
import { at, prepared, scratchAt, type BindEnv, type StepExecutor } from './env.js';

export function bindXnorConv(s: ConvStep, env: BindEnv): StepExecutor {
  const xnor = env.kernels.xnor, w = s.win, K = s.C * w.kh * w.kw;
  const layer: XnorLayer = prepared(env, s, 'xnor', () => {
    const rows = signRows(s.weight.data, s.M, K);
    if (typeof rows === 'string') throw new Error(`node "${s.name}": weight "${s.weight.name}" is not binary or ternary row by row (${rows})`);
    const params: Conv2dParams = { C: s.C, M: s.M, kh: w.kh, kw: w.kw, pads: [w.padT, w.padL, w.padB, w.padR] as const, strides: [w.sh, w.sw], dilations: [w.dh, w.dw] };
    return xnor.prepareConv(rows, params, { bias: s.bias, clamp: s.clamp });
  });
  xnor.borderTables(layer, s.H, s.W);
  xnor.kernelFor(layer, xnor.grid(layer, s.H, s.W).Wp);
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]), scratch = scratchAt(env, s);
  return { run: () => xnor.convAt(layer, s.N, s.H, s.W, x, y, scratch, s.outImageStride) };
}
