// Elementwise float steps in C, with the reference kernels' formulas: Relu / Clip,
// Sigmoid (two forms so expf never overflows), Tanh, LeakyRelu, broadcast
// Add / Sub / Mul / Div, a standalone BatchNormalization (y = x·scale[c] + shift[c])
// and Softmax (max subtracted). Each may run in place (x and y the same buffer).
import type { AffineStep, BinaryStep, ClampStep, SoftmaxStep, UnaryStep } from '../../../plan_types.js';
import { clampLines, indent, layer, signature, type CEmitter } from '../layer.js';
import { cFloat } from '../writer.js';
import { clampLabel } from '../../../fuse.js';

export const emitClamp: CEmitter<ClampStep> = (s, ctx) => {
  const code = [
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]]),
    '  int i;',
    `  for (i = 0; i < ${s.n}; i++) {`,
    '    float v = x[i];',
    ...indent(clampLines('v', [s.lo, s.hi]), '    '),
    '    y[i] = v;',
    '  }',
    '}',
  ];
  return layer({ code, args: [s.inputs[0], s.outputs[0]], kernel: clampLabel(s.lo, s.hi) });
};

const UNARY: Record<UnaryStep['fn'], (alpha: number) => string[]> = {
  Sigmoid: () => ['if (v >= 0.0f) y[i] = 1.0f / (1.0f + expf(-v));', 'else { const float e = expf(v); y[i] = e / (1.0f + e); }'],
  Tanh: () => ['y[i] = tanhf(v);'],
  LeakyRelu: (alpha) => [`y[i] = v < 0.0f ? ${cFloat(alpha)} * v : v;`],
};

export const emitUnary: CEmitter<UnaryStep> = (s, ctx) => {
  const code = [
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]]),
    '  int i;',
    `  for (i = 0; i < ${s.n}; i++) {`,
    '    const float v = x[i];',
    ...indent(UNARY[s.fn](s.alpha), '    '),
    '  }',
    '}',
  ];
  return layer({ code, args: [s.inputs[0], s.outputs[0]], includes: s.fn === 'LeakyRelu' ? [] : ['math.h'], kernel: s.fn.toLowerCase() });
};

const OPS: Record<BinaryStep['fn'], string> = { Add: '+', Sub: '-', Mul: '*', Div: '/' };

export const emitBinary: CEmitter<BinaryStep> = (s, ctx) => {
  const dims = s.shape.map((d, i) => ({ d, v: `i${i}` }));
  const index = (strides: number[]) => strides.map((st, i) => (st === 0 || s.shape[i] === 1 ? '' : `${dims[i].v} * ${st}`)).filter(Boolean).join(' + ') || '0';
  const loops = dims.map(({ d, v }, k) => `${'  '.repeat(k + 1)}for (${v} = 0; ${v} < ${d}; ${v}++)`), pad = '  '.repeat(dims.length + 1);
  const code = [
    signature(ctx, [['a', s.a.value], ['b', s.b.value]], [['y', s.outputs[0]]]),
    ...(dims.length ? [`  int ${dims.map((d) => d.v).join(', ')};`] : []),
    '  int o = 0;',
    ...loops,
    `${pad}{`,
    `${pad}  float v = a[${index(s.a.strides)}] ${OPS[s.fn]} b[${index(s.b.strides)}];`,
    ...indent(clampLines('v', s.clamp), `${pad}  `),
    `${pad}  y[o++] = v;`,
    `${pad}}`,
    '}',
  ];
  const kernel = `${s.fn.toLowerCase()}${s.a.strides.join() === s.b.strides.join() ? '' : ' (broadcast)'}${s.clamp ? ` + ${clampLabel(...s.clamp)}` : ''}`;
  return layer({ code, args: [s.a.value, s.b.value, s.outputs[0]], kernel });
};

export const emitAffine: CEmitter<AffineStep> = (s, ctx) => {
  const code = [
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]]),
    '  int o, c, i, k = 0;',
    `  for (o = 0; o < ${s.outer}; o++)`,
    `    for (c = 0; c < ${s.C}; c++)`,
    `      for (i = 0; i < ${s.inner}; i++, k++) y[k] = x[k] * ${ctx.id}_s[c] + ${ctx.id}_t[c];`,
    '}',
  ];
  return layer({
    code, args: [s.inputs[0], s.outputs[0]], kernel: 'batchnorm (scale and shift per channel)',
    arrays: [{ name: `${ctx.id}_s`, type: 'float', values: s.scale, what: 'scale per channel' }, { name: `${ctx.id}_t`, type: 'float', values: s.shift, what: 'shift per channel' }],
  });
};

export const emitSoftmax: CEmitter<SoftmaxStep> = (s, ctx) => {
  const at = (d: string) => `base + ${d} * ${s.inner}`;
  const code = [
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]]),
    '  int o, i, d;',
    `  for (o = 0; o < ${s.outer}; o++) {`,
    `    for (i = 0; i < ${s.inner}; i++) {`,
    `      const int base = o * ${s.D * s.inner} + i;`,
    `      float max = x[base], sum = 0.0f;`,
    `      for (d = 1; d < ${s.D}; d++) if (x[${at('d')}] > max) max = x[${at('d')}];`,
    `      for (d = 0; d < ${s.D}; d++) { const float e = expf(x[${at('d')}] - max); y[${at('d')}] = e; sum += e; }`,
    `      for (d = 0; d < ${s.D}; d++) y[${at('d')}] /= sum;`,
    '    }',
    '  }',
    '}',
  ];
  return layer({ code, args: [s.inputs[0], s.outputs[0]], includes: ['math.h'], kernel: `softmax over ${s.D}` });
};
