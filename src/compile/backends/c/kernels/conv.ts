// Convolutions in C, any stride, padding, dilation and group, with the pool after
// them fused when the planner did (compile/fuse.ts): then each pooled row is made
// from a band of conv rows in scratch and the full conv output never exists.
// Float: for each stored weight (c, i, j) of an output channel, one axpy of the
// weight over the output band (nnz_tap), so a pruned weight costs nothing and each
// stored weight is decoded once per band. 8-bit: one int32 sum per output pixel
// over the int8 weights, then the requantization; pooled windows are made from
// pixels computed on the spot (no scratch).
import type { ConvStep, LayerQuant, PoolStep } from '../../../plan_types.js';
import { biasOf, clampLines, indent, layer, SCRATCH, signature, valueType, type CEmitter, type CLayer, type CStepCtx } from '../layer.js';
import { matrixOf, storeMatrix } from '../weights.js';
import { cInt } from '../writer.js';
import { int8Layer } from './fc.js';

/** Geometry arguments of nnz_tap after (y, x, w, i, j, r0, r1). */
function tapGeometry(s: ConvStep): string {
  const w = s.win;
  return `${s.H}, ${s.W}, ${s.OW}, ${w.sh}, ${w.sw}, ${w.padT}, ${w.padL}, ${w.dh}, ${w.dw}`;
}

/** Arguments of nnz_pool_row after (y, x, r0, oh) for a pool over an H × W plane. */
export function poolArgs(p: PoolStep, H: number, W: number): string {
  const w = p.win;
  return `${p.mode === 'avg' ? 1 : 0}, ${p.countIncludePad ? 1 : 0}, ${H}, ${W}, ${p.OW}, ${w.kh}, ${w.kw}, ${w.sh}, ${w.sw}, ${w.padT}, ${w.padL}, ${w.padB}, ${w.padR}, ${w.dh}, ${w.dw}`;
}

/** Band rows of a pooled row ph (clipped to the conv output), as C statements setting r0 and r1. */
function bandRows(s: ConvStep, p: PoolStep): string[] {
  const rows = (p.win.kh - 1) * p.win.dh + 1;
  return [
    `int r0 = ph * ${p.win.sh} - ${p.win.padT}, r1 = r0 + ${rows};`,
    'if (r0 < 0) r0 = 0;',
    `if (r1 > ${s.OH}) r1 = ${s.OH};`,
  ];
}

function floatConv(s: ConvStep, ctx: CStepCtx): CLayer {
  const K = (s.C / s.group) * s.win.kh * s.win.kw, khw = s.win.kh * s.win.kw;
  const st = storeMatrix(matrixOf(s.weight, s.M, K), ctx.id, s.weight.format !== undefined);
  const b = biasOf(ctx, s.bias);
  const plane = s.H * s.W, Mg = s.M / s.group;
  const rowsFn = [
    `/* ${ctx.id}: output rows [r0, r1) of channel m into dst (row r0 first). */`,
    `static inline void ${ctx.id}_rows(const float *xg, float *dst, int m, int r0, int r1) {`,
    '  int i;',
    `  for (i = 0; i < (r1 - r0) * ${s.OW}; i++) dst[i] = ${b.at('m')};`,
    ...indent(st.loop('m', [
      `const int ci = col / ${khw}, t = col - ci * ${khw}, ki = t / ${s.win.kw}, kj = t - ki * ${s.win.kw};`,
      `nnz_tap(dst, xg + ci * ${plane}, w, ki, kj, r0, r1, ${tapGeometry(s)});`,
    ])),
    ...(s.clamp ? [`  for (i = 0; i < (r1 - r0) * ${s.OW}; i++) {`, '    float v = dst[i];', ...indent(clampLines('v', s.clamp), '    '), '    dst[i] = v;', '  }'] : []),
    '}',
  ];
  const p = s.pool;
  const outs: [string, string][] = [['y', s.outputs[0]]];
  const body = p
    ? [
      'int ph;',
      `for (ph = 0; ph < ${p.OH}; ph++) {`,
      ...indent(bandRows(s, p)),
      `  if (r0 < r1) ${ctx.id}_rows(xg, t, m, r0, r1);`,
      `  nnz_pool_row_float(y + n * ${s.outImageStride} + m * ${p.OH * p.OW} + ph * ${p.OW}, t, r0, ph, ${poolArgs(p, s.OH, s.OW)});`,
      '}',
    ]
    : [`${ctx.id}_rows(xg, y + n * ${s.outImageStride} + m * ${s.OH * s.OW}, m, 0, ${s.OH});`];
  const code = [
    ...rowsFn,
    '',
    signature(ctx, [['x', s.inputs[0]]], outs, p ? ['float *t'] : []),
    '  int n, m;',
    `  for (n = 0; n < ${s.N}; n++) {`,
    `    for (m = 0; m < ${s.M}; m++) {`,
    `      const float *xg = x + n * ${s.C * plane} + (m / ${Mg}) * ${(s.C / s.group) * plane};`,
    ...indent(body, '      '),
    '    }',
    '  }',
    '}',
  ];
  const fused = p ? ` + ${p.mode} pool ${p.win.kh}x${p.win.kw}/${p.win.sh} on bands of ${(p.win.kh - 1) * p.win.dh + 1} rows` : '';
  return layer({
    code, args: p ? [s.inputs[0], s.outputs[0], SCRATCH] : [s.inputs[0], s.outputs[0]], arrays: [...st.arrays, ...b.arrays],
    helpers: ['tap', ...st.helpers, ...(p ? ['pool_row:float'] : [])], includes: p ? ['math.h'] : [],
    kernel: `conv ${s.win.kh}x${s.win.kw}/${s.win.sh}, weight axpy over output rows${fused} (${st.kind}: ${st.detail})`,
  });
}

function int8Conv(s: ConvStep, ctx: CStepCtx, q: LayerQuant): CLayer {
  const { win } = s, Cg = s.C / s.group, K = Cg * win.kh * win.kw, plane = s.H * s.W;
  const xt = valueType(ctx, s.inputs[0]), yt = valueType(ctx, s.outputs[0]);
  const l = int8Layer(ctx, q, s.bias, s.clamp, `[${s.M}][${Cg}][${win.kh}][${win.kw}]`);
  const px = [
    `/* ${ctx.id}: the 8-bit output pixel (oh, ow) of channel m. */`,
    `static inline int32_t ${ctx.id}_px(const ${xt} *xg, int m, int oh, int ow) {`,
    `  const int8_t *wm = ${ctx.id}_q + m * ${K};`,
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
    `  return ${l.requant('m')};`,
    '}',
  ];
  const p = s.pool;
  const body = p
    ? [
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
    ]
    : [
      'int oh, ow;',
      `for (oh = 0; oh < ${s.OH}; oh++)`,
      `  for (ow = 0; ow < ${s.OW}; ow++) y[n * ${s.outImageStride} + (m * ${s.OH} + oh) * ${s.OW} + ow] = (${yt})${ctx.id}_px(xg, m, oh, ow);`,
    ];
  const code = [
    ...px,
    '',
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]]),
    '  int n, m;',
    `  for (n = 0; n < ${s.N}; n++) {`,
    `    for (m = 0; m < ${s.M}; m++) {`,
    `      const ${xt} *xg = x + n * ${s.C * plane} + (m / ${s.M / s.group}) * ${Cg * plane};`,
    ...indent(body, '      '),
    '    }',
    '  }',
    '}',
  ];
  const fused = p ? ` + max pool ${p.win.kh}x${p.win.kw}/${p.win.sh} on the spot` : '';
  return layer({ code, args: [s.inputs[0], s.outputs[0]], arrays: l.arrays, helpers: ['quant'], kernel: `conv 8-bit per pixel${fused} (${l.what})` });
}

export const emitConv: CEmitter<ConvStep> = (s, ctx) => (s.quant ? int8Conv(s, ctx, s.quant) : floatConv(s, ctx));
