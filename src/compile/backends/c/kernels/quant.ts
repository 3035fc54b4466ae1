// QuantizeLinear, DequantizeLinear and a Q→DQ pair left as steps (where a graph
// is not all 8-bit), per tensor or per axis, with the arithmetic of ir/quant.ts:
// q = saturate(round_half_even(x / scale) + zero), x' = (q − zero)·scale.
import type { QuantStep } from '../../../plan_types.js';
import { layer, signature, valueType, type CEmitter } from '../layer.js';
import type { CArray } from '../writer.js';

export const emitQuant: CEmitter<QuantStep> = (s, ctx) => {
  const { q } = s;
  const yt = valueType(ctx, s.outputs[0]);
  const arrays: CArray[] = [
    { name: `${ctx.id}_sc`, type: 'float', values: q.scale, what: 'scales' },
    { name: `${ctx.id}_z`, type: 'int32_t', values: q.zero, what: 'zero points' },
  ];
  const quant = `nnz_quant(x[i], ${ctx.id}_sc[k], ${ctx.id}_z[k], ${q.lo}, ${q.hi})`;
  const dequant = (v: string) => `(float)(${v} - ${ctx.id}_z[k]) * ${ctx.id}_sc[k]`;
  const body = { quantize: `y[i] = (${yt})${quant};`, dequantize: `y[i] = ${dequant('(int32_t)x[i]')};`, fakequant: `y[i] = ${dequant(quant)};` }[s.kind];
  const code = [
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]]),
    '  int i, k = 0, left = 0;',
    `  for (i = 0; i < ${s.n}; i++) {`,
    `    if (left == 0) { left = ${q.inner}; if (i > 0 && ++k == ${q.count}) k = 0; }`,
    '    left--;',
    `    ${body}`,
    '  }',
    '}',
  ];
  const how = q.count === 1 ? 'per tensor' : `per axis (${q.count} scales)`;
  return layer({ code, args: [s.inputs[0], s.outputs[0]], arrays, helpers: s.kind === 'dequantize' ? [] : ['quant'], kernel: `${s.kind} ${how}` });
};
