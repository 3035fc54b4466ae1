// XNOR-Net convolution and fully connected layers (compile/lower_xnor.ts): the
// weights as bit-planes with per-row levels (read back from the values, so a folded
// BatchNorm's scaling is in them), the border tables of this input size made while
// binding (before the activation region is placed), then per call: pack the sign
// bits (each image's grid, or each sample's row) into the step's scratch and run the
// popcount kernel (bias and clamp fused). Convs split over the session's threads
// (whole images each, or the output rows of each image); fc layers run on one.
import type { ConvStep, FcStep } from '../../compile/plan_types.js';
import { signRows, type SignRows } from '../../ir/binary.js';
import type { Conv2dParams } from '../../kernels/wasm/conv_params.js';
import type { XnorLayer } from '../../kernels/wasm/xnor.js';
import { at, prepared, scratchAt, type BindEnv, type StepExecutor } from './env.js';
import { plannedParts } from './fc.js';

/** The step's weight as sign rows (a lowering chose xnor only for a weight stored so). */
function rowsOf(s: ConvStep | FcStep, rows: number, cols: number): SignRows {
  const r = signRows(s.weight.data, rows, cols);
  if (typeof r === 'string') throw new Error(`node "${s.name}": weight "${s.weight.name}" is not binary or ternary row by row (${r})`);
  return r;
}

export function bindXnorConv(s: ConvStep, env: BindEnv): StepExecutor {
  const xnor = env.kernels.xnor, w = s.win, K = s.C * w.kh * w.kw;
  const layer: XnorLayer = prepared(env, s, 'xnor', () => {
    const rows = rowsOf(s, s.M, K);
    const params: Conv2dParams = { C: s.C, M: s.M, kh: w.kh, kw: w.kw, pads: [w.padT, w.padL, w.padB, w.padR] as const, strides: [w.sh, w.sw], dilations: [w.dh, w.dw] };
    return xnor.prepareConv(rows, params, { bias: s.bias, clamp: s.clamp, pre: s.pre });
  });
  xnor.borderTables(layer, s.H, s.W);
  const Wp = xnor.grid(layer, s.H, s.W).Wp;
  xnor.kernelFor(layer, Wp);
  const parts = plannedParts(s, env);
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]), scratch = scratchAt(env, s);
  return { run: xnor.runner(layer, Wp, xnor.convCalls(layer, s.N, s.H, s.W, x, y, scratch, parts, s.outImageStride)) };
}

/** y [M, N] from x [M, K]: the weight is [N×K], one row per output. */
export function bindXnorFc(s: FcStep, env: BindEnv): StepExecutor {
  const xnor = env.kernels.xnor;
  const layer = prepared(env, s, 'xnor', () => xnor.prepareFc(rowsOf(s, s.N, s.K), s.N, s.K, { bias: s.bias, clamp: s.clamp, pre: s.pre }));
  xnor.borderTables(layer, s.M, 1);
  xnor.kernelFor(layer, 1);
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]), scratch = scratchAt(env, s);
  return { run: () => xnor.fcAt(layer, s.M, x, y, scratch) };
}
