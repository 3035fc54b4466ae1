// Convolutions in C, any stride, padding, dilation and group, with the pool after
// them fused when the planner did (compile/fuse.ts): then each pooled row is made
// from a band of conv rows in scratch and the full conv output never exists.
// For each stored weight (c, i, j) of an output channel, one axpy of the weight
// over the output band, so a pruned weight costs nothing and each stored weight is
// decoded once per band. Padded convs with small planes: conv_channels.ts; pattern
// convs: conv_pattern.ts; Winograd: conv_winograd.ts; 8-bit convs: qlayer.ts.
import type { ConvStep } from '../../../plan_types.js';
import { biasOf, clampLines, indent, layer, SCRATCH, signature, type CEmitter, type CLayer, type CStepCtx } from '../layer.js';
import { matrixOf, spreadColumns, storeMatrix, type CStorage } from '../weights.js';
import { channelsConv } from './conv_channels.js';
import { patternConv } from './conv_pattern.js';
import { winogradConv } from './conv_winograd.js';
import { poolArgs } from './pool.js';

/** Geometry arguments of nnz_tap after (y, x, w, i, j, r0, r1). */
function tapGeometry(s: ConvStep): string {
  const w = s.win;
  return `${s.H}, ${s.W}, ${s.OW}, ${w.sh}, ${w.sw}, ${w.padT}, ${w.padL}, ${w.dh}, ${w.dw}`;
}

/** Bands of conv rows: [r0, r0 + rows) per band, and whether every one lies inside the output (no clipping). */
function bands(s: ConvStep): { count: number; rows: number; start: (b: string) => string; inside: boolean } {
  const p = s.pool, band = s.band;
  if (!p || !band) return { count: 1, rows: s.OH, start: () => '0', inside: true };
  const count = p.OH / band.pooled, step = band.pooled * p.win.sh;
  let inside = true;
  for (let b = 0; b < count; b++) inside &&= b * step - p.win.padT >= 0 && b * step - p.win.padT + band.rows <= s.OH;
  return { count, rows: band.rows, start: (b) => `${b} * ${step} - ${p.win.padT}`, inside };
}

/** How a stored weight's pass over the band is bounded (see rowsFunction). */
type TapMode = 'whole' | 'cases' | 'clip';

/** Kernels with at most this many positions get one constant-bound loop per position when padded. */
const MAX_CASES = 9;

function tapMode(s: ConvStep): TapMode {
  const w = s.win, b = bands(s), padded = w.padT + w.padB + w.padL + w.padR > 0;
  if (b.inside && !padded) return 'whole';
  return b.inside && b.count === 1 && w.kh * w.kw <= MAX_CASES ? 'cases' : 'clip';
}

/** Output rows [a, b] and columns [c, d] (inclusive) that kernel position (ki, kj) reaches inside the input. */
function reach(s: ConvStep, ki: number, kj: number, rows: number): { a: number; b: number; c: number; d: number; top: number; left: number } {
  const w = s.win, top = ki * w.dh - w.padT, left = kj * w.dw - w.padL;
  const lo = (off: number, st: number) => (off >= 0 ? 0 : Math.ceil(-off / st));
  const hi = (n: number, off: number, st: number, out: number) => Math.min(out - 1, Math.floor((n - 1 - off) / st));
  return { a: lo(top, w.sh), b: hi(s.H, top, w.sh, rows), c: lo(left, w.sw), d: hi(s.W, left, w.sw, s.OW), top, left };
}

/** The pass of weight w over the band: all rows and columns, one constant-bound case per kernel position, or clipped by nnz_tap. */
function tapLines(s: ConvStep, mode: TapMode, rows: number, offsets: boolean): string[] {
  const w = s.win, plane = s.H * s.W, khw = w.kh * w.kw;
  if (mode === 'clip') {
    return [
      `const int ci = col / ${khw}, t = col - ci * ${khw}, ki = t / ${w.kw}, kj = t - ki * ${w.kw};`,
      `nnz_tap(dst, xg + ci * ${plane}, w, ki, kj, r0, r1, ${tapGeometry(s)});`,
    ];
  }
  const axpy = (a: number, nr: number, c: number, nc: number, at: string) => [
    `const float *xs = ${at};`,
    'int r, n;',
    `for (r = 0; r < ${nr}; r++)`,
    `  for (n = 0; n < ${nc}; n++) dst[(${a} + r) * ${s.OW} + ${c} + n] += w * xs[r * ${w.sh * s.W} + n * ${w.sw}];`,
  ];
  if (mode === 'whole' && offsets) return axpy(0, rows, 0, s.OW, `xg + col + r0 * ${w.sh * s.W}`);
  if (mode === 'whole') {
    return [
      `const int ci = col / ${khw}, t = col - ci * ${khw}, ki = t / ${w.kw}, kj = t - ki * ${w.kw};`,
      ...axpy(0, rows, 0, s.OW, `xg + ci * ${plane} + (r0 * ${w.sh} + ki * ${w.dh}) * ${s.W} + kj * ${w.dw}`),
    ];
  }
  const cases: string[] = [];
  for (let t = 0; t < khw; t++) {
    const g = reach(s, Math.floor(t / w.kw), t % w.kw, rows);
    if (g.a > g.b || g.c > g.d) continue;
    const at = `xg + ci * ${plane} + ${(g.a * w.sh + g.top) * s.W + g.c * w.sw + g.left}`;
    cases.push(`case ${t}: {`, ...indent(axpy(g.a, g.b - g.a + 1, g.c, g.d - g.c + 1, at)), '  break;', '}');
  }
  return [`const int ci = col / ${khw}, t = col - ci * ${khw};`, 'switch (t) {', ...cases, 'default: break;', '}'];
}

/**
 * The function making conv rows [r0, r0 + rows) of channel m into dst. Without
 * padding and with whole bands every stored weight covers the whole band, so its
 * loops have constant bounds (unrolled, vectorised); a padded conv done in one band
 * gets one constant-bound loop per kernel position; otherwise nnz_tap clips.
 */
function rowsFunction(s: ConvStep, ctx: CStepCtx, st: CStorage, offsets: boolean, bias: string, clamp: string[]): string[] {
  const b = bands(s), mode = tapMode(s), clip = mode === 'clip';
  const n = clip ? `(r1 - r0) * ${s.OW}` : `${b.rows * s.OW}`;
  return [
    `/* ${ctx.id}: output rows [r0, ${clip ? 'r1' : `r0 + ${b.rows}`}) of channel m into dst (row r0 first). */`,
    `static inline void ${ctx.id}_rows(const float *restrict xg, float *restrict dst, int m, int r0${clip ? ', int r1' : ''}) {`,
    '  int i;',
    ...(mode === 'cases' ? ['  (void)r0;'] : []),
    `  for (i = 0; i < ${n}; i++) dst[i] = ${bias};`,
    ...indent(st.loop('m', tapLines(s, mode, b.rows, offsets))),
    ...(clamp.length ? [`  for (i = 0; i < ${n}; i++) {`, '    float v = dst[i];', ...indent(clamp, '    '), '    dst[i] = v;', '  }'] : []),
    '}',
  ];
}

/** The per-channel body: rows into the output, or bands into scratch, each pooled as it is made. */
function channelBody(s: ConvStep, ctx: CStepCtx, fast: boolean): string[] {
  const p = s.pool, b = bands(s), out = `y + n * ${s.outImageStride}`;
  if (!p || !s.band) return [`${ctx.id}_rows(xg, ${out} + m * ${s.OH * s.OW}, m, 0${fast ? '' : `, ${s.OH}`});`];
  return [
    'int b, ph;',
    `for (b = 0; b < ${b.count}; b++) {`,
    `  int r0 = ${b.start('b')}, r1 = r0 + ${b.rows};`,
    ...(fast ? ['  (void)r1;'] : ['  if (r0 < 0) r0 = 0;', `  if (r1 > ${s.OH}) r1 = ${s.OH};`]),
    `  ${fast ? '' : 'if (r0 < r1) '}${ctx.id}_rows(xg, t, m, r0${fast ? '' : ', r1'});`,
    `  for (ph = b * ${s.band.pooled}; ph < (b + 1) * ${s.band.pooled}; ph++)`,
    `    nnz_pool_row_float(${out} + (m * ${p.OH} + ph) * ${p.OW}, t, r0, ph, ${poolArgs(p, s.OH, s.OW)});`,
    '}',
  ];
}

/**
 * The weights as stored: pruned weights of a conv whose passes are unclipped are
 * indexed by their offset into the input (channel, row, column of the first value
 * they multiply), so a pass needs no division; others by (channel, ki, kj).
 */
function convWeights(s: ConvStep, ctx: CStepCtx, mode: TapMode): { st: CStorage; offsets: boolean } {
  const w = s.win, Cg = s.C / s.group, khw = w.kh * w.kw;
  const m = matrixOf(s.weight, s.M, Cg * khw);
  if (mode !== 'whole' || !m.sparse || m.signs) return { st: storeMatrix(m, ctx.id), offsets: false }; // signs: bits of every (channel, ki, kj)
  const at = (c: number) => {
    const ci = Math.floor(c / khw), t = c % khw;
    return ci * s.H * s.W + Math.floor(t / w.kw) * w.dh * s.W + (t % w.kw) * w.dw;
  };
  return { st: storeMatrix(spreadColumns(m, Cg * s.H * s.W, at), ctx.id), offsets: true };
}

function floatConv(s: ConvStep, ctx: CStepCtx): CLayer {
  const mode = tapMode(s), fast = mode !== 'clip';
  const { st, offsets } = convWeights(s, ctx, mode);
  const b = biasOf(ctx, s.bias);
  const plane = s.H * s.W, Mg = s.M / s.group, w = s.win, p = s.pool;
  const code = [
    ...rowsFunction(s, ctx, st, offsets, b.at('m'), clampLines('v', s.clamp)),
    '',
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]], p ? ['float *t'] : []),
    '  int n, m;',
    `  for (n = 0; n < ${s.N}; n++) {`,
    `    for (m = 0; m < ${s.M}; m++) {`,
    `      const float *xg = x + n * ${s.C * plane} + (m / ${Mg}) * ${(s.C / s.group) * plane};`,
    ...indent(channelBody(s, ctx, fast), '      '),
    '    }',
    '  }',
    '}',
  ];
  const fused = p && s.band ? ` + ${p.mode} pool ${p.win.kh}x${p.win.kw}/${p.win.sh} (bands of ${s.band.rows} rows)` : '';
  return layer({
    code, args: p ? [s.inputs[0], s.outputs[0], SCRATCH] : [s.inputs[0], s.outputs[0]], arrays: [...st.arrays, ...b.arrays],
    helpers: [...(fast ? [] : ['tap']), ...st.helpers, ...(p ? ['pool_row:float'] : [])], includes: p ? ['math.h'] : [],
    kernel: `conv ${w.kh}x${w.kw}/${w.sh} (weight axpy, ${{ whole: 'whole rows', cases: 'a loop per kernel position', clip: 'clipped rows' }[mode]})${fused}`,
    weights: `${st.kind}${offsets ? ' by input offset' : ''}: ${st.detail}`,
  });
}

export const emitConv: CEmitter<ConvStep> = (s, ctx) => {
  const by = { pattern: patternConv, winograd: winogradConv, channels: channelsConv, taps: floatConv };
  return by[s.cKernel ?? 'taps'](s, ctx);
};
