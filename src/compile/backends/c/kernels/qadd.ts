// The integer Add of two 8-bit tensors of one shape (compile/fuse_int.ts), with the
// arithmetic of ir/quant.ts addValue and the WASM kernel (kernels/wasm/qops_codegen.ts
// add8): ((a − za)·ma + (b − zb)·mb + 2^(shift−1)) >> shift (floor) + zy, clamped to
// [lo, hi] (a fused ReLU / Clip). |sum| < 2^31 (addMultipliers keeps ma, mb < 2^21),
// so the int32 WASM lanes never wrap; C sums in int64_t and shifts it as nnz_requant does.
import type { QAddStep } from '../../../plan_types.js';
import { layer, signature, valueType, type CEmitter } from '../layer.js';
import { cInt } from '../writer.js';

export const emitQAdd: CEmitter<QAddStep> = (s, ctx) => {
  const t = valueType(ctx, s.outputs[0]);
  const code = [
    signature(ctx, [['a', s.inputs[0]], ['b', s.inputs[1]]], [['y', s.outputs[0]]]),
    '  int i;',
    `  for (i = 0; i < ${s.n}; i++) {`,
    `    const int64_t sum = (int64_t)((int32_t)a[i] - ${cInt(s.za)}) * ${s.ma} + (int64_t)((int32_t)b[i] - ${cInt(s.zb)}) * ${s.mb} + ((int64_t)1 << ${s.shift - 1});`,
    `    const int64_t v = (sum >> ${s.shift}) + ${cInt(s.zy)};`,
    `    y[i] = (${t})(v < ${cInt(s.lo)} ? ${cInt(s.lo)} : v > ${cInt(s.hi)} ? ${cInt(s.hi)} : v);`,
    '  }',
    '}',
  ];
  return layer({ code, args: [s.inputs[0], s.inputs[1], s.outputs[0]], kernel: `add 8-bit (integer, >> ${s.shift})${s.lo > (s.dtype === 'uint8' ? 0 : -128) || s.hi < (s.dtype === 'uint8' ? 255 : 127) ? ' + clamp' : ''}` });
};
