// Pattern-pruned 3×3 convs of stride 1 or 2 in C (PatDNN's FKW execution, ir/pattern.ts,
// format/fkw.ts): the weights as the FKW arrays (filters in FKR order, per filter
// the kept kernels pattern by pattern, one input-channel index and the pattern's
// taps per kernel), and per pattern of the layer a straight-line block whose taps
// are constant offsets into the (padded) input plane. A filter's output is made
// in scratch as a flat pass over its plane (compile/conv_layout.ts cPatternPlanes: the
// scratch holds that plane, then the padded input),
// up to four kernels of a pattern per pass so each accumulator load and store
// carries them all; the rows a pattern touches are addressed once per block and shared by its
// taps. Bias, clamp and a pool after the conv are applied as the plane is copied out.
// Stride 2: the padded input as four phase planes per channel (cPhasePlanes), so every
// tap is again a constant offset.
import { KERNEL_TAPS, maskPicture, maskTaps, patternCounts } from '../../../../ir/pattern.js';
import { buildFkw } from '../../../../format/fkw.js';
import { cPatternPlanes, isMaxPool2, type PatternPlanes } from '../../../conv_layout.js';
import type { ConvStep } from '../../../plan_types.js';
import { biasOf, clampLines, indent, layer, SCRATCH, signature, type CLayer, type CStepCtx } from '../layer.js';
import { uintType, type CArray } from '../writer.js';
import { poolArgs } from './pool.js';

/** The (row, column) of each tap of a mask, ascending tap order (the FKW weight order). */
function tapPlaces(mask: number): { ky: number; kx: number }[] {
  return maskTaps(mask).map((t) => ({ ky: Math.floor(t / 3), kx: t % 3 }));
}

/**
 * Σ w·x over the terms as a balanced tree of pairs w₁·x₁ + w₀·x₀: short dependency chains,
 * so an out-of-order core overlaps the pass's vectors (a chain of one multiply-add per
 * term through the accumulator runs at half the speed on x86), and the accumulator is added
 * last, once per pass.
 */
function tapSum(terms: string[][]): string {
  let level = [];
  for (let j = 0; j < terms.length; j += 2) {
    const [w0, x0] = terms[j], second = terms[j + 1];
    level.push(second ? `NNZ_MADD(${second[0]}, ${second[1]}, ${w0} * ${x0})` : `${w0} * ${x0}`);
  }
  while (level.length > 1) {
    const next = [];
    for (let j = 0; j < level.length; j += 2) next.push(j + 1 < level.length ? `(${level[j]} + ${level[j + 1]})` : level[j]);
    level = next;
  }
  return level[0];
}

/**
 * The block of pattern p over `kernels` kernels at once: acc[i] += Σ w·x[i + offset]
 * for i in [0, span), the weights in registers, each tap a constant offset from its
 * kernel's plane (row ky·PW, column kx; with shifted copies the column is the copy kx).
 */
function patternBlock(id: string, p: number, mask: number, kernels: number, g: PatternPlanes): string[] {
  const taps = tapPlaces(mask), T = taps.length;
  const ks = Array.from({ length: kernels }, (_, k) => String.fromCharCode(97 + k));
  const weights = ks.flatMap((_, k) => taps.map((_t, j) => `w${k}_${j} = w[${k * T + j}]`));
  const at = (ky: number, kx: number) => (g.phase
    ? ((ky % 2) * 2 + (kx % 2)) * g.phase + Math.floor(ky / 2) * g.PW + Math.floor(kx / 2)
    : ky * g.PW + (g.shift ? kx * g.shift : kx));
  const terms = ks.flatMap((k, kk) => taps.map((t, j) => [`w${kk}_${j}`, `x${k}[i${at(t.ky, t.kx) ? ` + ${at(t.ky, t.kx)}` : ''}]`]));
  const sum = `acc[i] + ${tapSum(terms)}`;
  const name = `${id}_p${p}${kernels > 1 ? `x${kernels}` : ''}`;
  return [
    `/* pattern ${p} (${maskPicture(mask)}), ${kernels} kernel${kernels > 1 ? 's' : ''} per pass */`,
    `static inline void ${name}(float *restrict acc, ${ks.map((k) => `const float *restrict x${k}`).join(', ')}, const float *restrict w) {`,
    `  const float ${weights.join(', ')};`,
    '  int i;',
    `  for (i = 0; i < ${g.span}; i++) acc[i] = ${sum};`,
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

/**
 * The band copy: output rows [r0, r0 + rows) need input rows r0 − padT … r0 + rows + 1 − padT
 * of every channel, each copied inside its padded row (zeros where it is outside the input; the
 * pad columns were zeroed once, see patternConv). Folded planes: line h holds padded rows h and
 * h + lines side by side.
 */
function bandFunction(id: string, s: ConvStep, g: PatternPlanes): string[] {
  if (g.phase) return phaseBandFunction(id, s, g);
  const w = s.win, seg = g.PW / g.fold;
  const row = g.fold === 1 ? 'r0 + h' : `r0 + h + f * ${g.lines}`;
  const copies = g.shift ? 3 : 1, at = g.shift ? `q * ${g.shift - 1}` : '';
  return [
    `static void ${id}_band(const float *restrict x, float *restrict xp, int r0) {`,
    `  int c, h, f, v${g.shift ? ', q' : ''};`,
    `  for (c = 0; c < ${s.C}; c++)`,
    `    for (h = 0; h < ${g.lines + 2}; h++)`,
    `      for (f = 0; f < ${g.fold}; f++) {`,
    `        const int ih = ${row} - ${w.padT};`,
    ...(g.shift ? [`        for (q = 0; q < ${copies}; q++) { /* copy q: the planes ${copies > 1 ? 'shifted left by q columns' : ''} */`] : ['        {']),
    `          float *restrict d = xp + ${at ? `${at} + ` : ''}c * ${g.plane} + h * ${g.PW} + f * ${seg} + ${w.padL};`,
    `          if (ih >= 0 && ih < ${s.H}) for (v = 0; v < ${s.W}; v++) d[v] = x[(c * ${s.H} + ih) * ${s.W} + v];`,
    `          else for (v = 0; v < ${s.W}; v++) d[v] = 0.0f;`,
    '        }',
    '      }',
    '}',
  ];
}

/**
 * Stride 2: phase plane (p, q) line h of channel c holds padded row 2·(r0 + h) + p, its columns
 * 2j + q (zeros outside the input), for output rows [r0, r0 + rows) and the row below them.
 */
function phaseBandFunction(id: string, s: ConvStep, g: PatternPlanes): string[] {
  const w = s.win;
  return [
    `static void ${id}_band(const float *restrict x, float *restrict xp, int r0) {`,
    '  int c, p, q, h, j;',
    `  for (c = 0; c < ${s.C}; c++)`,
    '    for (p = 0; p < 2; p++)',
    '      for (q = 0; q < 2; q++)',
    `        for (h = 0; h < ${g.rows + 1}; h++) {`,
    `          const int ih = 2 * (r0 + h) + p - ${w.padT};`,
    `          float *restrict d = xp + c * ${g.plane} + (p * 2 + q) * ${g.phase} + h * ${g.PW};`,
    `          if (ih < 0 || ih >= ${s.H}) { for (j = 0; j < ${g.PW}; j++) d[j] = 0.0f; continue; }`,
    `          for (j = 0; j < ${g.PW}; j++) {`,
    `            const int iw = 2 * j + q - ${w.padL};`,
    `            d[j] = iw >= 0 && iw < ${s.W} ? x[(c * ${s.H} + ih) * ${s.W} + iw] : 0.0f;`,
    '          }',
    '        }',
    '}',
  ];
}

/** The C expression of where output row `oh` of the band starts in the pass. */
function rowAt(g: PatternPlanes, oh: string): string {
  return g.fold === 1 ? `(${oh}) * ${g.PW}` : `((${oh}) % ${g.lines}) * ${g.PW} + ((${oh}) / ${g.lines}) * ${g.PW / 2}`;
}

/**
 * Copying a filter's band out: + bias, clamp, into its output rows; a 2×2/2 max pool straight
 * from the pass's rows (bias and clamp after the max: both are monotone, so the value is the
 * same); other pools from the band compacted in place (unfolded; the band's pooled rows).
 */
function outputLines(s: ConvStep, g: PatternPlanes, bias: string): string[] {
  const clamp = clampLines('v', s.clamp), p = s.pool, rows = g.rows;
  if (p && isMaxPool2(p)) {
    return [
      `for (oh = 0; oh < ${Math.min(Math.floor(rows / 2), p.OH)}; oh++) {`,
      `  const float *restrict a0 = acc + ${rowAt(g, '2 * oh')}, *restrict a1 = acc + ${rowAt(g, '(2 * oh + 1)')};`,
      `  for (ow = 0; ow < ${p.OW}; ow++) {`,
      '    float v = a0[2 * ow];',
      '    if (a0[2 * ow + 1] > v) v = a0[2 * ow + 1];',
      '    if (a1[2 * ow] > v) v = a1[2 * ow];',
      '    if (a1[2 * ow + 1] > v) v = a1[2 * ow + 1];',
      `    v += ${bias};`,
      ...indent(clamp, '    '),
      `    ym[(r0 / 2 + oh) * ${p.OW} + ow] = v;`,
      '  }',
      '}',
    ];
  }
  const at = p ? `acc[oh * ${s.OW} + ow]` : `ym[(r0 + oh) * ${s.OW} + ow]`;
  const pooled = p && (rows === s.OH ? [0, p.OH] : [`r0 / ${p.win.sh}`, `(r0 + ${rows}) / ${p.win.sh}`]);
  return [
    `for (oh = 0; oh < ${rows}; oh++) {`,
    `  for (ow = 0; ow < ${s.OW}; ow++) {`,
    `    float v = acc[${rowAt(g, 'oh')} + ow] + ${bias};`,
    ...indent(clamp, '    '),
    `    ${at} = v;`,
    '  }',
    '}',
    ...(p && pooled ? [`for (oh = ${pooled[0]}; oh < ${pooled[1]} && oh < ${p.OH}; oh++) nnz_pool_row_float(ym + oh * ${p.OW}, acc, r0, oh, ${poolArgs(p, s.OH, s.OW)});`] : []),
  ];
}

export function patternConv(s: ConvStep, ctx: CStepCtx): CLayer {
  const f = s.pattern!.format, id = ctx.id;
  const fkw = buildFkw(s.weight.data, [s.M, s.C, 3, 3], f, { reorder: s.pattern!.reorder });
  const g = cPatternPlanes(s), { padded, PW, plane, span, rows, bytes } = g;
  const bands = s.OH / rows, pads = (bytes - g.align) / 4 - span;
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
  const blocks = fkw.masks.flatMap((m, i) => PASSES.flatMap((n) => patternBlock(id, i, m, n, g)));
  const code = [
    ...blocks,
    ...(padded ? bandFunction(id, s, g) : []),
    '',
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]], [g.align ? 'float *t0' : 'float *t']),
    ...(g.align ? [`  float *const t = (float *)(((uintptr_t)t0 + ${g.align - 1}u) & ~(uintptr_t)${g.align - 1}u); /* rows of whole vectors load aligned */`] : []),
    '  int n, b, r, i, k, oh, ow;',
    ...(padded ? [`  for (i = 0; i < ${pads}; i++) t[${span} + i] = 0.0f;`] : []),
    `  for (n = 0; n < ${s.N}; n++) {`,
    `    for (b = 0; b < ${bands}; b++) {`,
    `      const int r0 = b * ${rows};`,
    `      float *restrict acc = t;`,
    `      const float *restrict xp = ${padded ? `t + ${span}` : `x + n * ${s.C * s.H * s.W} + r0 * ${s.W}`};`,
    `      const ${arrays[2].type} *ci = ${id}_ci;`,
    `      const float *wt = ${id}_w;`,
    `      const ${arrays[1].type} *cnt = ${id}_n;`,
    ...(padded ? [`      ${id}_band(x + n * ${s.C * s.H * s.W}, t + ${span}, r0);`] : []),
    `      for (r = 0; r < ${s.M}; r++, cnt += ${K}) {`,
    `        const int m = ${id}_m[r];`,
    `        float *restrict ym = y + n * ${s.outImageStride} + m * ${outPlane};`,
    `        for (i = 0; i < ${span}; i++) acc[i] = 0.0f;`,
    ...indent(fkw.masks.flatMap((_, i) => patternRun(id, i, T[i], plane)), '        '),
    ...indent(outputLines(s, g, b.at('m')), '        '),
    '      }',
    '    }',
    '  }',
    '}',
  ];
  const fused = p ? ` + ${p.mode} pool ${p.win.kh}x${p.win.kw}/${p.win.sh}` : '';
  return layer({
    code, args: [s.inputs[0], s.outputs[0], SCRATCH], arrays: [...arrays, ...b.arrays],
    helpers: ['madd', ...(p && !isMaxPool2(p) ? ['pool_row:float'] : [])], includes: ['math.h'],
    kernel: `conv 3x3/${s.win.sh} pattern FKW (${K} pattern blocks at constant offsets, up to ${PASSES[0]} kernels per pass${padded ? `, padded ${g.phase ? 'phase ' : ''}${bands > 1 ? `bands of ${rows} rows` : 'planes'}${g.fold > 1 ? `, ${g.fold} rows per line` : ''}${g.shift ? ', shifted copies' : ''}` : ''})${fused}`,
    weights: `pattern FKW: ${K} patterns, ${counts.kept} of ${counts.kernels} kernels kept, ${counts.weights} of ${counts.kernels * KERNEL_TAPS} weights f32, ` +
      `channel index ${arrays[2].type}, FKR row order`,
  });
}
