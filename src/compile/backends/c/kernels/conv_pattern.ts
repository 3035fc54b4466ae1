// Pattern-pruned 3×3 stride-1 convs in C (PatDNN's FKW execution, ir/pattern.ts,
// format/fkw.ts): the weights as the FKW arrays (filters in FKR order, per filter
// the kept kernels pattern by pattern, one input-channel index and the pattern's
// taps per kernel), and per pattern of the layer a straight-line block whose taps
// are constant offsets into the (padded) input plane. A filter's output is made
// in scratch as a flat pass over its plane (compile/conv_layout.ts cPatternPlanes: the
// scratch holds that plane, then the padded input),
// up to four kernels of a pattern per pass so each accumulator load and store
// carries them all; the rows a pattern touches are addressed once per block and shared by its
// taps. Bias, clamp and a pool after the conv are applied as the plane is copied out.
import { KERNEL_TAPS, maskPicture, maskTaps, patternCounts } from '../../../../ir/pattern.js';
import { buildFkw } from '../../../../format/fkw.js';
import { cPatternPlanes } from '../../../conv_layout.js';
import type { ConvStep } from '../../../plan_types.js';
import { biasOf, clampLines, indent, layer, SCRATCH, signature, type CLayer, type CStepCtx } from '../layer.js';
import { uintType, type CArray } from '../writer.js';
import { poolArgs } from './pool.js';

/** The (row, column) of each tap of a mask, ascending tap order (the FKW weight order). */
function tapPlaces(mask: number): { ky: number; kx: number }[] {
  return maskTaps(mask).map((t) => ({ ky: Math.floor(t / 3), kx: t % 3 }));
}

/**
 * The block of pattern p over `kernels` kernels at once: acc[i] += Σ w·x[i + offset]
 * for i in [0, span), the weights in registers, one row pointer per (kernel, row touched).
 */
function patternBlock(id: string, p: number, mask: number, kernels: number, PW: number, span: number): string[] {
  const taps = tapPlaces(mask), T = taps.length;
  const rows = [...new Set(taps.map((t) => t.ky))];
  const ks = Array.from({ length: kernels }, (_, k) => String.fromCharCode(97 + k));
  const weights = ks.flatMap((_, k) => taps.map((_t, j) => `w${k}_${j} = w[${k * T + j}]`));
  const pointers = ks.flatMap((k) => rows.map((ky) => `*restrict ${k}${ky} = x${k}${ky ? ` + ${ky * PW}` : ''}`));
  const terms = ks.flatMap((k, kk) => taps.map((t, j) => [`w${kk}_${j}`, `${k}${t.ky}[i${t.kx ? ` + ${t.kx}` : ''}]`]));
  const sum = terms.reduce((c, [w, x]) => `NNZ_MADD(${w}, ${x}, ${c})`, 'acc[i]');
  const name = `${id}_p${p}${kernels > 1 ? `x${kernels}` : ''}`;
  return [
    `/* pattern ${p} (${maskPicture(mask)}), ${kernels} kernel${kernels > 1 ? 's' : ''} per pass */`,
    `static inline void ${name}(float *restrict acc, ${ks.map((k) => `const float *restrict x${k}`).join(', ')}, const float *restrict w) {`,
    `  const float ${weights.join(', ')};`,
    `  const float ${pointers.join(', ')};`,
    '  int i;',
    `  for (i = 0; i < ${span}; i++) acc[i] = ${sum};`,
    '}',
  ];
}

/** Kernels of a pattern run per pass: the widest first, then the rest (each accumulator load and store carries them all). */
const PASSES = [4, 2, 1];

/** Statements running a filter's kernels of pattern p (count cnt[p]): passes of 4, then 2, then 1. */
function patternRun(id: string, p: number, T: number, plane: number): string[] {
  const xs = (n: number) => Array.from({ length: n }, (_, j) => `xp + ci[${j}] * ${plane}`).join(', ');
  return [
    `k = cnt[${p}];`,
    ...PASSES.map((n, i) => {
      const head = n === 1 ? 'if (k)' : i === 0 ? `for (; k >= ${n}; k -= ${n})` : `if (k >= ${n})`;
      return `${head} { ${id}_p${p}${n > 1 ? `x${n}` : ''}(acc, ${xs(n)}, wt); ci += ${n}; wt += ${n * T};${i > 0 && n > 1 ? ` k -= ${n};` : ''} }`;
    }),
  ];
}

/** The padding copy: zeros (the planes and the slack the rounded pass reads past them), then the input rows inside. */
function padFunction(id: string, s: ConvStep, PW: number, plane: number, slack: number): string[] {
  const w = s.win;
  return [
    `static void ${id}_pad(const float *restrict x, float *restrict xp) {`,
    '  int i, c, h, v;',
    `  for (i = 0; i < ${s.C * plane + slack}; i++) xp[i] = 0.0f;`,
    `  for (c = 0; c < ${s.C}; c++)`,
    `    for (h = 0; h < ${s.H}; h++)`,
    `      for (v = 0; v < ${s.W}; v++) xp[c * ${plane} + (h + ${w.padT}) * ${PW} + ${w.padL} + v] = x[(c * ${s.H} + h) * ${s.W} + v];`,
    '}',
  ];
}

/** Copying a filter's plane out: + bias, clamp, into its output plane, or compacted in place and pooled. */
function outputLines(s: ConvStep, PW: number, bias: string): string[] {
  const clamp = clampLines('v', s.clamp), p = s.pool;
  const at = p ? `acc[oh * ${s.OW} + ow]` : `ym[oh * ${s.OW} + ow]`;
  return [
    `for (oh = 0; oh < ${s.OH}; oh++) {`,
    `  for (ow = 0; ow < ${s.OW}; ow++) {`,
    `    float v = acc[oh * ${PW} + ow] + ${bias};`,
    ...indent(clamp, '    '),
    `    ${at} = v;`,
    '  }',
    '}',
    ...(p ? [`for (oh = 0; oh < ${p.OH}; oh++) nnz_pool_row_float(ym + oh * ${p.OW}, acc, 0, oh, ${poolArgs(p, s.OH, s.OW)});`] : []),
  ];
}

export function patternConv(s: ConvStep, ctx: CStepCtx): CLayer {
  const f = s.pattern!.format, id = ctx.id;
  const fkw = buildFkw(s.weight.data, [s.M, s.C, 3, 3], f, { reorder: s.pattern!.reorder });
  const { padded, PW, plane, span, bytes } = cPatternPlanes(s);
  const K = fkw.masks.length, T = fkw.masks.map((m) => maskTaps(m).length);
  const counts = patternCounts(f);
  const arrays: CArray[] = [
    { name: `${id}_m`, type: uintType(s.M - 1), values: fkw.reorder, what: 'FKR: the filter of each row' },
    { name: `${id}_n`, type: uintType(Math.max(0, ...fkw.stride)), values: fkw.stride, what: `kernels of each row's ${K} pattern groups` },
    { name: `${id}_ci`, type: uintType(s.C - 1), values: fkw.index, what: 'input channel of each kept kernel' },
    { name: `${id}_w`, type: 'float', values: fkw.weights, what: "each kept kernel's weights at its pattern's taps" },
  ];
  const b = biasOf(ctx, s.bias);
  const p = s.pool, outPlane = p ? p.OH * p.OW : s.OH * s.OW;
  const blocks = fkw.masks.flatMap((m, i) => PASSES.flatMap((n) => patternBlock(id, i, m, n, PW, span)));
  const code = [
    ...blocks,
    ...(padded ? padFunction(id, s, PW, plane, bytes / 4 - span - s.C * plane) : []),
    '',
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]], ['float *t']),
    '  int n, r, i, k, oh, ow;',
    `  for (n = 0; n < ${s.N}; n++) {`,
    `    float *restrict acc = t;`,
    `    const float *restrict xp = ${padded ? `t + ${span}` : `x + n * ${s.C * s.H * s.W}`};`,
    `    const ${arrays[2].type} *ci = ${id}_ci;`,
    `    const float *wt = ${id}_w;`,
    `    const ${arrays[1].type} *cnt = ${id}_n;`,
    ...(padded ? [`    ${id}_pad(x + n * ${s.C * s.H * s.W}, t + ${span});`] : []),
    `    for (r = 0; r < ${s.M}; r++, cnt += ${K}) {`,
    `      const int m = ${id}_m[r];`,
    `      float *restrict ym = y + n * ${s.outImageStride} + m * ${outPlane};`,
    `      for (i = 0; i < ${span}; i++) acc[i] = 0.0f;`,
    ...indent(fkw.masks.flatMap((_, i) => patternRun(id, i, T[i], plane)), '      '),
    ...indent(outputLines(s, PW, b.at('m')), '      '),
    '    }',
    '  }',
    '}',
  ];
  const fused = p ? ` + ${p.mode} pool ${p.win.kh}x${p.win.kw}/${p.win.sh}` : '';
  return layer({
    code, args: [s.inputs[0], s.outputs[0], SCRATCH], arrays: [...arrays, ...b.arrays],
    helpers: ['madd', ...(p ? ['pool_row:float'] : [])], includes: ['math.h'],
    kernel: `conv 3x3/1 pattern FKW (${K} pattern blocks at constant offsets, up to ${PASSES[0]} kernels per pass${padded ? ', padded planes' : ''})${fused}`,
    weights: `pattern FKW: ${K} patterns, ${counts.kept} of ${counts.kernels} kernels kept, ${counts.weights} of ${counts.kernels * KERNEL_TAPS} weights f32, ` +
      `channel index ${arrays[2].type}, FKR row order`,
  });
}
