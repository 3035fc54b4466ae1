// A padded float conv with small output planes, input channel by input channel
// (compile/conv_layout.ts, cConvKernel): the kh·kw shifted copies of one input
// plane go to scratch (zeros where the padding is), then every stored weight of
// that channel is one contiguous axpy of its copy into its output plane. The
// weights are stored by (input channel, ki, kj), each listing its output channels.
import type { ConvStep } from '../../../plan_types.js';
import { biasOf, clampLines, indent, layer, SCRATCH, signature, type CLayer, type CStepCtx } from '../layer.js';
import { matrixOf, storeMatrix } from '../weights.js';

/** Statements filling t[k·P + p] with input (channel ci) at output pixel p shifted by kernel position k, 0 outside. */
function shiftedCopies(s: ConvStep): string[] {
  const w = s.win, P = s.OH * s.OW;
  return [
    `for (k = 0; k < ${w.kh * w.kw}; k++) {`,
    `  const int ki = k / ${w.kw}, kj = k - ki * ${w.kw};`,
    `  for (oh = 0; oh < ${s.OH}; oh++) {`,
    `    const int ih = oh * ${w.sh} - ${w.padT} + ki * ${w.dh};`,
    `    for (ow = 0; ow < ${s.OW}; ow++) {`,
    `      const int iw = ow * ${w.sw} - ${w.padL} + kj * ${w.dw};`,
    `      t[k * ${P} + oh * ${s.OW} + ow] = ih >= 0 && ih < ${s.H} && iw >= 0 && iw < ${s.W} ? xc[ih * ${s.W} + iw] : 0.0f;`,
    '    }',
    '  }',
    '}',
  ];
}

export function channelsConv(s: ConvStep, ctx: CStepCtx): CLayer {
  const w = s.win, khw = w.kh * w.kw, P = s.OH * s.OW;
  const st = storeMatrix(matrixOf(s.weight, s.C * khw, s.M, true), ctx.id);
  const b = biasOf(ctx, s.bias);
  const clamp = clampLines('v', s.clamp);
  const code = [
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]], ['float *restrict t']),
    '  int n, m, ci, k, oh, ow, p;',
    `  for (n = 0; n < ${s.N}; n++) {`,
    `    float *restrict yn = y + n * ${s.outImageStride};`,
    `    for (m = 0; m < ${s.M}; m++) for (p = 0; p < ${P}; p++) yn[m * ${P} + p] = ${b.at('m')};`,
    `    for (ci = 0; ci < ${s.C}; ci++) {`,
    `      const float *xc = x + (n * ${s.C} + ci) * ${s.H * s.W};`,
    ...indent(shiftedCopies(s), '      '),
    `      for (k = 0; k < ${khw}; k++) {`,
    `        const float *restrict tk = t + k * ${P};`,
    ...indent(st.loop(`ci * ${khw} + k`, [`float *restrict ym = yn + col * ${P};`, `for (p = 0; p < ${P}; p++) ym[p] += w * tk[p];`]), '        '),
    '      }',
    '    }',
    ...(clamp.length ? [`    for (p = 0; p < ${s.M * P}; p++) {`, '      float v = yn[p];', ...indent(clamp, '      '), '      yn[p] = v;', '    }'] : []),
    '  }',
    '}',
  ];
  return layer({
    code, args: [s.inputs[0], s.outputs[0], SCRATCH], arrays: [...st.arrays, ...b.arrays], helpers: st.helpers,
    kernel: `conv ${w.kh}x${w.kw}/${w.sh} by input channel (${khw} shifted copies, a whole-plane axpy per weight)`, weights: `${st.kind} by input: ${st.detail}`,
  });
}
