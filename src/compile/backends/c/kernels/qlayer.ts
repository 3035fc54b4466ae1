// Integer convs and fcs in C: the steps compile/fuse_int.ts (QDQ units) and
// compile/lower_int.ts (QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger)
// make for both targets, with the constants of compile/int_layer.ts: int8 weights
// (w − w_zero), the int32 bias with the input zero point folded in, and the
// fixed-point requantization of ir/quant.ts (requantizeValue), so the C output is
// bit for bit the WASM kernels'. uint8 inputs are read as x − 128, as the WASM
// kernels read them (the bias is folded for that); a conv's padding is the input
// zero point. Sums wrap mod 2^32 like the WASM accumulators (int_layer.ts proves
// the final sum fits), so they are kept in uint32_t (no signed overflow in C).
// A fused max pool takes the largest of its window's pixels, computed on the spot
// (no scratch: an MCU's RAM holds only the 8-bit activations).
import type { IntLayer, QConvStep, QFcStep } from '../../../plan_types.js';
import { indent, layer, signature, valueType, type CEmitter, type CStepCtx } from '../layer.js';
import { cInt, type CArray } from '../writer.js';

/** The layer's arrays and the C expression of channel `row`'s output from its sum `acc` (uint32_t). */
function intConstants(ctx: CStepCtx, l: IntLayer, shape: string) {
  const e = l.epilogue;
  const arrays: CArray[] = [
    { name: `${ctx.id}_q`, type: 'int8_t', values: l.weight, what: `int8 weights ${shape}` },
    { name: `${ctx.id}_b`, type: 'int32_t', values: l.bias, what: 'int32 bias (input zero point folded in)' },
    ...(e ? [{ name: `${ctx.id}_m`, type: 'int32_t', values: e.mult, what: `requantization multipliers (>> ${e.shift})` }] : []),
  ];
  const out = (row: string) => e
    ? `nnz_requant((int32_t)acc, ${ctx.id}_m[${e.mult.length === 1 ? '0' : row}], ${e.shift}, ${cInt(e.zero)}, ${cInt(e.lo)}, ${cInt(e.hi)})`
    : '(int32_t)acc';
  const what = `int8, ${e ? `${e.mult.length === 1 ? 'one multiplier' : 'a multiplier per channel'} >> ${e.shift}` : 'int32 out'}, int32 sums`;
  return { arrays, out, what, helpers: e ? ['requant'] : [] };
}

/** x as the kernels read it: uint8 − 128. */
const offsetOf = (l: IntLayer) => (l.input === 'uint8' ? 128 : 0);

export const emitQFc: CEmitter<QFcStep> = (s, ctx) => {
  const l = s.layer, c = intConstants(ctx, l, `[${s.N}][${s.K}]`), yt = valueType(ctx, s.outputs[0]);
  const code = [
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]]),
    '  int m, n, k;',
    `  for (m = 0; m < ${s.M}; m++) {`,
    `    const ${valueType(ctx, s.inputs[0])} *xm = x + m * ${s.K};`,
    `    for (n = 0; n < ${s.N}; n++) {`,
    `      const int8_t *w = ${ctx.id}_q + n * ${s.K};`,
    `      uint32_t acc = (uint32_t)${ctx.id}_b[n];`,
    `      for (k = 0; k < ${s.K}; k++) acc += (uint32_t)(((int32_t)xm[k] - ${offsetOf(l)}) * (int32_t)w[k]);`,
    `      y[m * ${s.N} + n] = (${yt})${c.out('n')};`,
    '    }',
    '  }',
    '}',
  ];
  return layer({ code, args: [s.inputs[0], s.outputs[0]], arrays: c.arrays, helpers: c.helpers, kernel: 'fc 8-bit (integer)', weights: c.what });
};

/** The function giving output pixel (oh, ow) of channel m (requantized). */
function pixelFunction(s: QConvStep, ctx: CStepCtx, xt: string, out: string): string[] {
  const { win } = s, Cg = s.C / s.group, l = s.layer;
  return [
    `/* ${ctx.id}: output pixel (oh, ow) of channel m; padding reads the input zero point. */`,
    `static inline int32_t ${ctx.id}_px(const ${xt} *xg, int m, int oh, int ow) {`,
    `  const int8_t *wm = ${ctx.id}_q + m * ${Cg * win.kh * win.kw};`,
    `  uint32_t acc = (uint32_t)${ctx.id}_b[m];`,
    '  int c, i, j;',
    `  for (c = 0; c < ${Cg}; c++) {`,
    `    for (i = 0; i < ${win.kh}; i++) {`,
    `      const int ih = oh * ${win.sh} - ${win.padT} + i * ${win.dh};`,
    `      const int rin = ih >= 0 && ih < ${s.H};`,
    `      for (j = 0; j < ${win.kw}; j++) {`,
    `        const int iw = ow * ${win.sw} - ${win.padL} + j * ${win.dw};`,
    `        const int32_t v = rin && iw >= 0 && iw < ${s.W} ? (int32_t)xg[(c * ${s.H} + ih) * ${s.W} + iw] : ${cInt(l.inZero)};`,
    `        acc += (uint32_t)((v - ${offsetOf(l)}) * (int32_t)wm[(c * ${win.kh} + i) * ${win.kw} + j]);`,
    '      }',
    '    }',
    '  }',
    `  return ${out};`,
    '}',
  ];
}

/** The statements writing channel m of image n: every pixel, or the max of each fused pool window. */
function channelBody(s: QConvStep, ctx: CStepCtx, yt: string): string[] {
  const p = s.pool;
  if (!p) {
    return [
      'int oh, ow;',
      `for (oh = 0; oh < ${s.OH}; oh++)`,
      `  for (ow = 0; ow < ${s.OW}; ow++) y[n * ${s.outImageStride} + (m * ${s.OH} + oh) * ${s.OW} + ow] = (${yt})${ctx.id}_px(xg, m, oh, ow);`,
    ];
  }
  const lowest = p.dtype === 'uint8' ? 0 : -128; // as the integer pool kernels: an empty window gives the type's lowest
  return [
    'int ph, pw, a, b;',
    `for (ph = 0; ph < ${p.OH}; ph++) {`,
    `  for (pw = 0; pw < ${p.OW}; pw++) {`,
    '    int32_t best = 0, any = 0;',
    `    for (a = 0; a < ${p.win.kh}; a++) {`,
    `      const int oh = ph * ${p.win.sh} - ${p.win.padT} + a * ${p.win.dh};`,
    `      if (oh < 0 || oh >= ${s.OH}) continue;`,
    `      for (b = 0; b < ${p.win.kw}; b++) {`,
    `        const int ow = pw * ${p.win.sw} - ${p.win.padL} + b * ${p.win.dw};`,
    '        int32_t v;',
    `        if (ow < 0 || ow >= ${s.OW}) continue;`,
    `        v = ${ctx.id}_px(xg, m, oh, ow);`,
    '        if (!any || v > best) best = v;',
    '        any = 1;',
    '      }',
    '    }',
    `    y[n * ${s.outImageStride} + (m * ${p.OH} + ph) * ${p.OW} + pw] = (${yt})(any ? best : ${cInt(lowest)});`,
    '  }',
    '}',
  ];
}

export const emitQConv: CEmitter<QConvStep> = (s, ctx) => {
  const { win } = s, Cg = s.C / s.group, plane = s.H * s.W;
  const xt = valueType(ctx, s.inputs[0]), yt = valueType(ctx, s.outputs[0]);
  const c = intConstants(ctx, s.layer, `[${s.M}][${Cg}][${win.kh}][${win.kw}]`);
  const code = [
    ...pixelFunction(s, ctx, xt, c.out('m')),
    '',
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]]),
    '  int n, m;',
    `  for (n = 0; n < ${s.N}; n++) {`,
    `    for (m = 0; m < ${s.M}; m++) {`,
    `      const ${xt} *xg = x + n * ${s.C * plane} + (m / ${s.M / s.group}) * ${Cg * plane};`,
    ...indent(channelBody(s, ctx, yt), '      '),
    '    }',
    '  }',
    '}',
  ];
  const fused = s.pool ? ` + max pool ${s.pool.win.kh}x${s.pool.win.kw}/${s.pool.win.sh}` : '';
  return layer({
    code, args: [s.inputs[0], s.outputs[0]], arrays: c.arrays, helpers: c.helpers,
    kernel: `conv ${win.kh}x${win.kw}/${win.sh} 8-bit per pixel (integer)${fused}`, weights: c.what,
  });
};
