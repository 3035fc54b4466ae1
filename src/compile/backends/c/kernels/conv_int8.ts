// 8-bit convs (compile/fuse_int8.ts): one int32 sum per output pixel over the
// int8 weights, Σ (x − zero)·q, then ONNX's requantization; a fused max pool takes
// the largest of its window's pixels, computed on the spot (no scratch: an MCU's
// RAM holds only the 8-bit activations).
import type { ConvStep, LayerQuant } from '../../../plan_types.js';
import { indent, layer, signature, valueType, type CLayer, type CStepCtx } from '../layer.js';
import { cInt } from '../writer.js';
import { int8Layer } from './fc.js';

/** The function giving the 8-bit output pixel (oh, ow) of channel m. */
function pixelFunction(s: ConvStep, ctx: CStepCtx, q: LayerQuant, xt: string, requant: string): string[] {
  const { win } = s, Cg = s.C / s.group;
  return [
    `/* ${ctx.id}: the 8-bit output pixel (oh, ow) of channel m. */`,
    `static inline int32_t ${ctx.id}_px(const ${xt} *xg, int m, int oh, int ow) {`,
    `  const int8_t *wm = ${ctx.id}_q + m * ${Cg * win.kh * win.kw};`,
    '  int32_t acc = 0;',
    '  int c, i, j;',
    `  for (c = 0; c < ${Cg}; c++) {`,
    `    for (i = 0; i < ${win.kh}; i++) {`,
    `      const int ih = oh * ${win.sh} - ${win.padT} + i * ${win.dh};`,
    `      if (ih < 0 || ih >= ${s.H}) continue;`,
    `      for (j = 0; j < ${win.kw}; j++) {`,
    `        const int iw = ow * ${win.sw} - ${win.padL} + j * ${win.dw};`,
    `        if (iw < 0 || iw >= ${s.W}) continue;`,
    `        acc += ((int32_t)xg[(c * ${s.H} + ih) * ${s.W} + iw] - ${cInt(q.input.zero)}) * (int32_t)wm[(c * ${win.kh} + i) * ${win.kw} + j];`,
    '      }',
    '    }',
    '  }',
    `  return ${requant};`,
    '}',
  ];
}

/** The statements writing channel m of image n: every pixel, or the max of each fused pool window. */
function channelBody(s: ConvStep, ctx: CStepCtx, q: LayerQuant, yt: string): string[] {
  const p = s.pool;
  if (!p) {
    return [
      'int oh, ow;',
      `for (oh = 0; oh < ${s.OH}; oh++)`,
      `  for (ow = 0; ow < ${s.OW}; ow++) y[n * ${s.outImageStride} + (m * ${s.OH} + oh) * ${s.OW} + ow] = (${yt})${ctx.id}_px(xg, m, oh, ow);`,
    ];
  }
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
    `    y[n * ${s.outImageStride} + (m * ${p.OH} + ph) * ${p.OW} + pw] = (${yt})(any ? best : ${q.output.lo});`,
    '  }',
    '}',
  ];
}

export function int8Conv(s: ConvStep, ctx: CStepCtx, q: LayerQuant): CLayer {
  const { win } = s, Cg = s.C / s.group, plane = s.H * s.W;
  const xt = valueType(ctx, s.inputs[0]), yt = valueType(ctx, s.outputs[0]);
  const l = int8Layer(ctx, q, s.bias, s.clamp, `[${s.M}][${Cg}][${win.kh}][${win.kw}]`);
  const code = [
    ...pixelFunction(s, ctx, q, xt, l.requant('m')),
    '',
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]]),
    '  int n, m;',
    `  for (n = 0; n < ${s.N}; n++) {`,
    `    for (m = 0; m < ${s.M}; m++) {`,
    `      const ${xt} *xg = x + n * ${s.C * plane} + (m / ${s.M / s.group}) * ${Cg * plane};`,
    ...indent(channelBody(s, ctx, q, yt), '      '),
    '    }',
    '  }',
    '}',
  ];
  const fused = s.pool ? ` + max pool ${s.pool.win.kh}x${s.pool.win.kw}/${s.pool.win.sh}` : '';
  return layer({
    code, args: [s.inputs[0], s.outputs[0]], arrays: l.arrays, helpers: ['quant'],
    kernel: `conv ${win.kh}x${win.kw}/${win.sh} 8-bit per pixel${fused}`, weights: l.what,
  });
}
