// Fully connected layers (Gemm / MatMul with a constant weight) in C.
// Batch 1 with many stored weights per input: the scatter form, y += w·x[k] for
// each input k that is not zero, over the weights stored by input (Wᵀ): after a
// ReLU or on an MNIST image most inputs are zero and their weights are never read.
// Otherwise (few weights per input, where the skip's branch costs more than it
// saves, or a batch): one dot product per output over the weights stored by row.
// 8-bit layers: int32 sums of (x − zero)·q, then the ONNX requantization.
import { quantizeValue } from '../../../../ir/quant.js';
import type { FcStep, LayerQuant } from '../../../plan_types.js';
import { biasOf, clampLines, indent, layer, signature, valueType, type CEmitter, type CLayer, type CStepCtx } from '../layer.js';
import { matrixOf, storeMatrix } from '../weights.js';
import { cFloat, cInt, type CArray } from '../writer.js';

/** x[m][k] of the step's input (Gemm transA reads it transposed). */
function xAt(s: FcStep, m: string, k: string): string {
  return s.transA ? `x[(${k}) * ${s.M} + ${m}]` : `x[(${m}) * ${s.K} + ${k}]`;
}

function scatter(s: FcStep, ctx: CStepCtx): CLayer {
  const st = storeMatrix(matrixOf(s.weight, s.K, s.N, true), ctx.id);
  const b = biasOf(ctx, s.bias);
  const code = [
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]]),
    '  int n, k;',
    `  for (n = 0; n < ${s.N}; n++) y[n] = ${b.at('n')};`,
    `  for (k = 0; k < ${s.K}; k++) {`,
    '    const float xk = x[k];',
    '    if (xk == 0.0f) continue;',
    ...indent(st.loop('k', ['y[col] += w * xk;'], true), '    '),
    '  }',
    ...(s.clamp ? [`  for (n = 0; n < ${s.N}; n++) {`, '    float v = y[n];', ...indent(clampLines('v', s.clamp), '    '), '    y[n] = v;', '  }'] : []),
    '}',
  ];
  return layer({
    code, args: [s.inputs[0], s.outputs[0]], arrays: [...st.arrays, ...b.arrays], helpers: st.helpers,
    kernel: 'fc scatter (zero inputs skipped)', weights: `${st.kind}: ${st.detail}`,
  });
}

function rows(s: FcStep, ctx: CStepCtx): CLayer {
  const st = storeMatrix(matrixOf(s.weight, s.N, s.K), ctx.id);
  const b = biasOf(ctx, s.bias);
  const code = [
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]]),
    '  int m, n;',
    `  for (m = 0; m < ${s.M}; m++) {`,
    `    for (n = 0; n < ${s.N}; n++) {`,
    `      float acc = ${b.at('n')};`,
    ...indent(st.loop('n', [`acc += w * ${xAt(s, 'm', 'col')};`], true), '      '),
    ...indent(clampLines('acc', s.clamp), '      '),
    `      y[m * ${s.N} + n] = acc;`,
    '    }',
    '  }',
    '}',
  ];
  return layer({ code, args: [s.inputs[0], s.outputs[0]], arrays: [...st.arrays, ...b.arrays], helpers: st.helpers, kernel: 'fc rows', weights: `${st.kind}: ${st.detail}` });
}

/** Saturation bounds of an 8-bit output with a fused Clip / ReLU (quantization is monotonic). */
export function outputRange(q: LayerQuant, clamp: [number, number] | undefined): [number, number] {
  const o = q.output;
  if (!clamp) return [o.lo, o.hi];
  const lo = clamp[0] === -Infinity ? o.lo : Math.max(o.lo, quantizeValue(clamp[0], o.scale, o.zero, o.lo, o.hi));
  const hi = clamp[1] === Infinity ? o.hi : Math.min(o.hi, quantizeValue(clamp[1], o.scale, o.zero, o.lo, o.hi));
  return [lo, hi];
}

/** An 8-bit layer's constants (int8 weights, sIn·sW per row, float bias) and its requantization of `acc`. */
export function int8Layer(ctx: CStepCtx, q: LayerQuant, bias: Float32Array | undefined, clamp: [number, number] | undefined, shape: string) {
  const mul = Float32Array.from(q.scale, (sw) => Math.fround(q.input.scale * sw));
  const b = biasOf(ctx, bias);
  const arrays: CArray[] = [
    { name: `${ctx.id}_q`, type: 'int8_t', values: q.q, what: `int8 weights ${shape}` },
    { name: `${ctx.id}_mul`, type: 'float', values: mul, what: `input scale x weight scale (${mul.length === 1 ? 'per tensor' : 'per channel'})` },
    ...b.arrays,
  ];
  const [lo, hi] = outputRange(q, clamp);
  /** nnz_quant of the int32 sum `acc` of output channel `row`. */
  const requant = (row: string) => {
    const m = mul.length === 1 ? `${ctx.id}_mul[0]` : `${ctx.id}_mul[${row}]`;
    return `nnz_quant((float)acc * ${m} + ${b.at(row)}, ${cFloat(q.output.scale)}, ${cInt(q.output.zero)}, ${cInt(lo)}, ${cInt(hi)})`;
  };
  return { arrays, requant, what: `int8, ${mul.length === 1 ? 'per-tensor' : 'per-channel'} scales, int32 sums` };
}

function int8(s: FcStep, ctx: CStepCtx, q: LayerQuant): CLayer {
  const yt = valueType(ctx, s.outputs[0]);
  const l = int8Layer(ctx, q, s.bias, s.clamp, `[${s.N}][${s.K}]`);
  const code = [
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]]),
    '  int m, n, k;',
    `  for (m = 0; m < ${s.M}; m++) {`,
    `    for (n = 0; n < ${s.N}; n++) {`,
    `      const int8_t *w = ${ctx.id}_q + n * ${s.K};`,
    '      int32_t acc = 0;',
    `      for (k = 0; k < ${s.K}; k++) acc += ((int32_t)${xAt(s, 'm', 'k')} - ${cInt(q.input.zero)}) * (int32_t)w[k];`,
    `      y[m * ${s.N} + n] = (${yt})${l.requant('n')};`,
    '    }',
    '  }',
    '}',
  ];
  return layer({
    code, args: [s.inputs[0], s.outputs[0]], arrays: l.arrays, helpers: ['quant'], kernel: 'fc 8-bit', weights: l.what,
  });
}

/** Stored weights per input from which skipping the zero inputs pays for its unpredictable branch. */
const SCATTER_PER_INPUT = 8;

function stored(s: FcStep): number {
  let n = 0;
  for (const v of s.weight.data) if (v !== 0) n++;
  return n;
}

export const emitFc: CEmitter<FcStep> = (s, ctx) => {
  if (s.quant) return int8(s, ctx, s.quant);
  return s.M === 1 && !s.transA && stored(s) >= SCATTER_PER_INPUT * s.K ? scatter(s, ctx) : rows(s, ctx);
};
