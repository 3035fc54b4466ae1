// Fully connected layers (Gemm / MatMul with a constant weight) in C.
// Batch 1 with many stored weights per input: the scatter form, y += w·x[k] for
// each input k that is not zero, over the weights stored by input (Wᵀ): after a
// ReLU or on an MNIST image most inputs are zero and their weights are never read.
// Otherwise (few weights per input, where the skip's branch costs more than it
// saves, or a batch): one dot product per output over the weights stored by row.
// Integer (8-bit) fcs: qlayer.ts.
import type { FcStep } from '../../../plan_types.js';
import { biasOf, clampLines, indent, layer, signature, valueType, type CEmitter, type CLayer, type CStepCtx } from '../layer.js';
import { matrixOf, storeMatrix } from '../weights.js';

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

/** Stored weights per input from which skipping the zero inputs pays for its unpredictable branch. */
const SCATTER_PER_INPUT = 8;

function stored(s: FcStep): number {
  let n = 0;
  for (const v of s.weight.data) if (v !== 0) n++;
  return n;
}

export const emitFc: CEmitter<FcStep> = (s, ctx) => {
  return s.M === 1 && !s.transA && stored(s) >= SCATTER_PER_INPUT * s.K ? scatter(s, ctx) : rows(s, ctx);
};
