// Integer convs and fcs in C: the steps compile/fuse_int.ts (QDQ units) and
// compile/lower_int.ts (QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger)
// make for both targets, with the constants of compile/int_layer.ts: int8 weights
// (w − w_zero), the int32 bias with the input zero point folded in, and the
// fixed-point requantization of ir/quant.ts (requantizeValue), so the C output is
// bit for bit the WASM kernels'. uint8 inputs are read as x − 128, as the WASM
// kernels read them (the bias is folded for that); a conv's padding is the input
// zero point. Sums wrap mod 2^32 like the WASM accumulators (int_layer.ts proves
// the final sum fits), so they are kept in uint32_t (no signed overflow in C).
// Stride-1 convs sum one filter's output plane in int32 scratch, each input channel's
// taps in one flat pass (one byte plane more when padded: compile/conv_layout.ts
// cQConvPlanes); other strides compute each output pixel on its own, without scratch.
// A fused max pool takes the largest of its window's pixels.
import type { IntLayer, QConvStep, QFcStep } from '../../../plan_types.js';
import { cQConvPlanes } from '../../../conv_layout.js';
import { indent, layer, SCRATCH, signature, valueType, type CEmitter, type CStepCtx } from '../layer.js';
import { cInt, type CArray } from '../writer.js';

/** The layer's arrays and the C expression of channel `row`'s output from its sum `acc` (uint32_t). */
function intConstants(ctx: CStepCtx, l: IntLayer, shape: string) {
  const e = l.epilogue;
  const arrays: CArray[] = [
    { name: `${ctx.id}_q`, type: 'int8_t', values: l.weight, what: `int8 weights ${shape}` },
    { name: `${ctx.id}_b`, type: 'int32_t', values: l.bias, what: 'int32 bias (input zero point folded in)' },
    ...(e ? [{ name: `${ctx.id}_m`, type: 'int32_t', values: e.mult, what: `requantization multipliers (>> ${e.shift})` }] : []),
  ];
  const out = (row: string, sum = 'acc') => e
    ? `nnz_requant((int32_t)${sum}, ${ctx.id}_m[${e.mult.length === 1 ? '0' : row}], ${e.shift}, ${cInt(e.zero)}, ${cInt(e.lo)}, ${cInt(e.hi)})`
    : `(int32_t)${sum}`;
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
  return ['int ph, pw, a, b;', ...poolLines(s, yt, (oh, ow) => `${ctx.id}_px(xg, m, ${oh}, ${ow})`)];
}

/** A fused max pool over channel m of image n: the largest of each window's pixels (`pixel(oh, ow)`, int32), into y. */
function poolLines(s: QConvStep, yt: string, pixel: (oh: string, ow: string) => string): string[] {
  const p = s.pool!;
  const lowest = p.dtype === 'uint8' ? 0 : -128; // as the integer pool kernels: an empty window gives the type's lowest
  return [
    `for (ph = 0; ph < ${p.OH}; ph++) {`,
    `  for (pw = 0; pw < ${p.OW}; pw++) {`,
    '    int32_t best = 0, any = 0;',
    `    for (a = 0; a < ${p.win.kh}; a++) {`,
    `      const int ph0 = ph * ${p.win.sh} - ${p.win.padT} + a * ${p.win.dh};`,
    `      if (ph0 < 0 || ph0 >= ${s.OH}) continue;`,
    `      for (b = 0; b < ${p.win.kw}; b++) {`,
    `        const int pw0 = pw * ${p.win.sw} - ${p.win.padL} + b * ${p.win.dw};`,
    '        int32_t v;',
    `        if (pw0 < 0 || pw0 >= ${s.OW}) continue;`,
    `        v = ${pixel('ph0', 'pw0')};`,
    '        if (!any || v > best) best = v;',
    '        any = 1;',
    '      }',
    '    }',
    `    y[n * ${s.outImageStride} + (m * ${p.OH} + ph) * ${p.OW} + pw] = (${yt})(any ? best : ${cInt(lowest)});`,
    '  }',
    '}',
  ];
}

/** The bias with the reading offset of every tap folded in: Σ w·(v − off) = Σ w·v − off·Σ w (mod 2^32, as the sums). */
function offsetBias(s: QConvStep): Int32Array {
  const l = s.layer, K = l.weight.length / s.M, off = offsetOf(l);
  return Int32Array.from(l.bias, (b, m) => {
    let sum = b;
    for (let k = 0; k < K; k++) sum = (sum - l.weight[m * K + k] * off) | 0;
    return sum;
  });
}

/**
 * Stride 1: channel m's int32 sums as a flat pass over OH rows of PW (cQConvPlanes), all
 * kh·kw taps of one input channel per pass at constant offsets (a straight-line sum);
 * with padding, each input channel is first copied into a byte plane with the input zero
 * point around it. Then every output requantized, or (in place) pooled.
 */
function flatQConv(s: QConvStep, ctx: CStepCtx, xt: string, yt: string): { code: string[]; arrays: CArray[]; helpers: string[]; what: string } {
  const { win } = s, Cg = s.C / s.group, khw = win.kh * win.kw, id = ctx.id;
  const { padded, PW, plane, span, bytes } = cQConvPlanes(s);
  const c = intConstants(ctx, { ...s.layer, bias: offsetBias(s) }, `[${s.M}][${Cg}][${win.kh}][${win.kw}]`);
  const taps = Array.from({ length: khw }, (_, t) => `(uint32_t)(wc[${t}] * (int32_t)xs[i + ${Math.floor(t / win.kw) * win.dh * PW + (t % win.kw) * win.dw}])`);
  const p = s.pool;
  const out = (q: string) => c.out('m', `acc[${q}]`);
  const code = [
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]], ['int32_t *t']),
    '  uint32_t *restrict acc = (uint32_t *)t;',
    ...(padded ? [`  ${xt} *restrict xp = (${xt} *)(void *)(acc + ${span});`] : []),
    `  int n, m, c, i, oh, ow${p ? ', ph, pw, a, b' : ''};`,
    ...(padded ? [`  for (i = 0; i < ${bytes - span * 4}; i++) xp[i] = (${xt})${cInt(s.layer.inZero)}; /* the padding (and the slack the rounded pass reads) */`] : []),
    `  for (n = 0; n < ${s.N}; n++) {`,
    `    for (m = 0; m < ${s.M}; m++) {`,
    `      const ${xt} *xg = x + n * ${s.C * s.H * s.W} + (m / ${s.M / s.group}) * ${Cg * s.H * s.W};`,
    `      for (i = 0; i < ${span}; i++) acc[i] = (uint32_t)${id}_b[m];`,
    `      for (c = 0; c < ${Cg}; c++) {`,
    `        const int8_t *restrict wc = ${id}_q + (m * ${Cg} + c) * ${khw};`,
    ...(padded ? [
      `        for (oh = 0; oh < ${s.H}; oh++) for (ow = 0; ow < ${s.W}; ow++) xp[(oh + ${win.padT}) * ${PW} + ${win.padL} + ow] = xg[(c * ${s.H} + oh) * ${s.W} + ow];`,
      `        { const ${xt} *restrict xs = xp;`,
    ] : [`        { const ${xt} *restrict xs = xg + c * ${plane};`]),
    `          for (i = 0; i < ${span}; i++) acc[i] += ${taps.join(' + ')};`,
    '        }',
    '      }',
    ...(p ? [
      `      for (oh = 0; oh < ${s.OH}; oh++) for (ow = 0; ow < ${s.OW}; ow++) acc[oh * ${s.OW} + ow] = (uint32_t)${out(`oh * ${PW} + ow`)};`,
      ...indent(poolLines(s, yt, (oh, ow) => `(int32_t)acc[${oh} * ${s.OW} + ${ow}]`), '      '),
    ] : [`      for (oh = 0; oh < ${s.OH}; oh++) for (ow = 0; ow < ${s.OW}; ow++) y[n * ${s.outImageStride} + (m * ${s.OH} + oh) * ${s.OW} + ow] = (${yt})${out(`oh * ${PW} + ow`)};`]),
    '    }',
    '  }',
    '}',
  ];
  return { code, arrays: c.arrays, helpers: c.helpers, what: c.what };
}

export const emitQConv: CEmitter<QConvStep> = (s, ctx) => {
  const { win } = s, Cg = s.C / s.group, plane = s.H * s.W;
  const xt = valueType(ctx, s.inputs[0]), yt = valueType(ctx, s.outputs[0]);
  const fused = s.pool ? ` + max pool ${s.pool.win.kh}x${s.pool.win.kw}/${s.pool.win.sh}` : '';
  if (cQConvPlanes(s).flat) {
    const f = flatQConv(s, ctx, xt, yt);
    return layer({
      code: f.code, args: [s.inputs[0], s.outputs[0], SCRATCH], arrays: f.arrays, helpers: f.helpers, weights: f.what,
      kernel: `conv ${win.kh}x${win.kw}/1 8-bit (integer; flat passes over an int32 plane, ${win.kh * win.kw} taps at constant offsets)${fused}`,
    });
  }
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
  return layer({
    code, args: [s.inputs[0], s.outputs[0]], arrays: c.arrays, helpers: c.helpers,
    kernel: `conv ${win.kh}x${win.kw}/${win.sh} 8-bit per pixel (integer)${fused}`, weights: c.what,
  });
};
