// Pooling in C: windowed max / average (float, or max on 8-bit values) row by row
// with nnz_pool_row (the same helper the conv's fused pool uses), and global
// max / average over each plane.
import type { GlobalPoolStep, PoolStep, QPoolStep } from '../../../plan_types.js';
import { layer, signature, valueType, type CEmitter } from '../layer.js';

/** Arguments of nnz_pool_row after (y, x, r0, oh) for a pool over an H × W plane. */
export function poolArgs(p: Pick<PoolStep, 'mode' | 'countIncludePad' | 'OW' | 'win'>, H: number, W: number): string {
  const w = p.win;
  return `${p.mode === 'avg' ? 1 : 0}, ${p.countIncludePad ? 1 : 0}, ${H}, ${W}, ${p.OW}, ${w.kh}, ${w.kw}, ${w.sh}, ${w.sw}, ${w.padT}, ${w.padL}, ${w.padB}, ${w.padR}, ${w.dh}, ${w.dw}`;
}

/** A float pool, or an integer max pool (compile/fuse_int.ts: exact on the 8-bit values). */
export const emitPool: CEmitter<PoolStep | QPoolStep> = (s, ctx) => {
  const t = valueType(ctx, s.inputs[0]);
  const code = [
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]]),
    '  int n, c, oh;',
    `  for (n = 0; n < ${s.N}; n++)`,
    `    for (c = 0; c < ${s.C}; c++)`,
    `      for (oh = 0; oh < ${s.OH}; oh++)`,
    `        nnz_pool_row_${t}(y + n * ${s.outImageStride} + (c * ${s.OH} + oh) * ${s.OW}, x + (n * ${s.C} + c) * ${s.H * s.W}, 0, oh, ${poolArgs(s, s.H, s.W)});`,
    '}',
  ];
  const w = s.win;
  return layer({
    code, args: [s.inputs[0], s.outputs[0]], helpers: [`pool_row:${t}`], includes: t === 'float' ? ['math.h'] : [],
    kernel: `${s.mode} pool ${w.kh}x${w.kw}/${w.sh}${t === 'float' ? '' : ' (8-bit)'}`,
  });
};

export const emitGlobalPool: CEmitter<GlobalPoolStep> = (s, ctx) => {
  const t = valueType(ctx, s.inputs[0]);
  const max = s.mode === 'max';
  const code = [
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]]),
    '  int p, i;',
    `  for (p = 0; p < ${s.planes}; p++) {`,
    `    const ${t} *xp = x + p * ${s.size};`,
    max ? `    ${t} acc = xp[0];` : '    float acc = 0.0f;',
    max ? `    for (i = 1; i < ${s.size}; i++) if (xp[i] > acc) acc = xp[i];` : `    for (i = 0; i < ${s.size}; i++) acc += xp[i];`,
    max ? '    y[p] = acc;' : `    y[p] = acc / ${s.size}.0f;`,
    '  }',
    '}',
  ];
  return layer({ code, args: [s.inputs[0], s.outputs[0]], kernel: `global ${s.mode} pool over ${s.size} values` });
};
