// Winograd F(m×m, 3×3) convs in C (ir/winograd.ts: the transforms, the filters
// U = G g Gᵀ): U as a constant array — the .nnz 'winograd' format's stored filters
// when the layer runs their tile (docs/format.md §4.1), else transformed from the
// values at compile time — in [filter][channel][α²] order. Per row of tiles, the
// input transform Bᵀ d B of every (channel, tile) into scratch; then per filter the
// α² products of the row's tiles summed over channels, a few tiles per pass with
// their accumulators in registers, and the output transform Aᵀ S A of each tile
// with bias and clamp. The transforms are straight-line code
// with the matrices' entries as constants (zeros skipped, ±1 without a multiply).
import { transformFilters, winogradMatrices } from '../../../../ir/winograd.js';
import { cWinogradPlanes } from '../../../conv_layout.js';
import type { ConvStep } from '../../../plan_types.js';
import { biasOf, clampLines, indent, layer, SCRATCH, signature, type CLayer, type CStepCtx } from '../layer.js';
import { cFloat } from '../writer.js';

/** Σ_k row[k]·term(k) as C, zero entries skipped, ±1 without a multiply. */
function dot(row: number[], term: (k: number) => string): string {
  let out = '';
  row.forEach((c, k) => {
    const v = Math.fround(c);
    if (v === 0) return;
    const mag = Math.abs(v) === 1 ? term(k) : `${cFloat(Math.abs(v))} * ${term(k)}`;
    out += out ? ` ${v < 0 ? '-' : '+'} ${mag}` : `${v < 0 ? '-' : ''}${mag}`;
  });
  return out || '0.0f';
}

/** Y = L X Rᵀ over α-wide rows: t = L X (rows of L × α), then out[a][b] = Σ_j R[b][j] t[a][j]. */
function transformLines(L: number[][], R: number[][], x: (i: number, j: number) => string, out: (a: number, b: number) => string, alpha: number): string[] {
  const lines: string[] = [];
  for (let a = 0; a < L.length; a++) for (let j = 0; j < alpha; j++) lines.push(`const float t${a}_${j} = ${dot(L[a], (i) => x(i, j))};`);
  for (let a = 0; a < L.length; a++) for (let b = 0; b < R.length; b++) lines.push(`${out(a, b)} = ${dot(R[b], (j) => `t${a}_${j}`)};`);
  return lines;
}

/** The filters as the kernel reads them: U[o][c][p] (ir/winograd.ts keeps [p][o][c]), the stored ones when they are this tile's. */
function filters(s: ConvStep): { U: Float32Array; stored: boolean } {
  const m = s.tile!, a2 = (m + 2) ** 2, f = s.weight.format;
  const stored = f?.kind === 'winograd' && f.tile === m && !s.weight.derived;
  const src = stored ? f.transformed : transformFilters(s.weight.data, s.M, s.C, m);
  const U = new Float32Array(src.length);
  for (let p = 0; p < a2; p++) for (let o = 0; o < s.M; o++) for (let c = 0; c < s.C; c++) U[(o * s.C + c) * a2 + p] = src[(p * s.M + o) * s.C + c];
  return { U, stored };
}

/** Tiles whose sums one pass over the channels makes (independent accumulators: the multiply-adds do not wait on each other). */
const TILES_PER_SUM = 4;

/** s[j·α² + p] = Σ_c u[c·α² + p] · v[(c·tilesW + j)·α² + p] for nb tiles j: one filter's products over the channels. */
function sumFunction(id: string, nb: number, C: number, a2: number, tilesW: number): string[] {
  return [
    `static inline void ${id}_sum${nb}(const float *restrict u, const float *restrict v, float *restrict s) {`,
    `  float acc[${nb * a2}];`,
    '  int c, i, j;',
    `  for (i = 0; i < ${nb * a2}; i++) acc[i] = 0.0f;`,
    `  for (c = 0; c < ${C}; c++, u += ${a2}, v += ${tilesW * a2})`,
    `    for (j = 0; j < ${nb}; j++)`,
    `      for (i = 0; i < ${a2}; i++) acc[j * ${a2} + i] = NNZ_MADD(u[i], v[j * ${a2} + i], acc[j * ${a2} + i]);`,
    `  for (i = 0; i < ${nb * a2}; i++) s[i] = acc[i];`,
    '}',
  ];
}

export function winogradConv(s: ConvStep, ctx: CStepCtx): CLayer {
  const m = s.tile!, id = ctx.id, { alpha, AT, BT } = winogradMatrices(m), a2 = alpha * alpha;
  const { PH, PW, tilesH, tilesW } = cWinogradPlanes(s), plane = PH * PW, w = s.win, TB = Math.min(TILES_PER_SUM, tilesW);
  const { U, stored } = filters(s);
  const b = biasOf(ctx, s.bias);
  const inT = transformLines(BT, BT, (i, j) => `d[${i * PW + j}]`, (x, y) => `v[${x * alpha + y}]`, alpha);
  const outT = transformLines(AT, AT, (i, j) => `s[${i * alpha + j}]`, (x, y) => `z[${x * m + y}]`, alpha);
  const clamp = clampLines('v', s.clamp);
  const code = [
    `/* ${id}: V = Bᵀ d B of the ${alpha}×${alpha} input tile at d (rows ${PW} apart). */`,
    `static inline void ${id}_in(const float *restrict d, float *restrict v) {`,
    ...indent(inT),
    '}',
    `/* ${id}: the ${m}×${m} outputs Aᵀ S A of the summed products S. */`,
    `static inline void ${id}_out(const float *restrict s, float *restrict z) {`,
    ...indent(outT),
    '}',
    ...sumFunction(id, TB, s.C, a2, tilesW),
    ...(tilesW % TB ? sumFunction(id, 1, s.C, a2, tilesW) : []),
    '',
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]], ['float *t']),
    '  int n, c, h, i, o, th, tw, a, e;',
    `  float *restrict xp = t, *restrict V = t + ${s.C * plane}, *restrict S = V + ${s.C * tilesW * a2};`,
    `  for (n = 0; n < ${s.N}; n++) {`,
    `    const float *xn = x + n * ${s.C * s.H * s.W};`,
    `    float *yn = y + n * ${s.outImageStride};`,
    `    for (i = 0; i < ${s.C * plane}; i++) xp[i] = 0.0f;`,
    `    for (c = 0; c < ${s.C}; c++)`,
    `      for (h = 0; h < ${s.H}; h++)`,
    `        for (i = 0; i < ${s.W}; i++) xp[c * ${plane} + (h + ${w.padT}) * ${PW} + ${w.padL} + i] = xn[(c * ${s.H} + h) * ${s.W} + i];`,
    `    for (th = 0; th < ${tilesH}; th++) {`,
    `      for (c = 0; c < ${s.C}; c++)`,
    `        for (tw = 0; tw < ${tilesW}; tw++) ${id}_in(xp + c * ${plane} + th * ${m * PW} + tw * ${m}, V + (c * ${tilesW} + tw) * ${a2});`,
    `      for (o = 0; o < ${s.M}; o++) {`,
    `        for (tw = 0; tw + ${TB} <= ${tilesW}; tw += ${TB}) ${id}_sum${TB}(${id}_u + o * ${s.C * a2}, V + tw * ${a2}, S + tw * ${a2});`,
    ...(tilesW % TB ? [`        for (; tw < ${tilesW}; tw++) ${id}_sum1(${id}_u + o * ${s.C * a2}, V + tw * ${a2}, S + tw * ${a2});`] : []),
    `        for (tw = 0; tw < ${tilesW}; tw++) {`,
    `          float z[${m * m}];`,
    `          ${id}_out(S + tw * ${a2}, z);`,
    `          for (a = 0; a < ${m} && th * ${m} + a < ${s.OH}; a++) {`,
    `            for (e = 0; e < ${m} && tw * ${m} + e < ${s.OW}; e++) {`,
    `              float v = z[a * ${m} + e] + ${b.at('o')};`,
    ...indent(clamp, '              '),
    `              yn[(o * ${s.OH} + th * ${m} + a) * ${s.OW} + tw * ${m} + e] = v;`,
    '            }',
    '          }',
    '        }',
    '      }',
    '    }',
    '  }',
    '}',
  ];
  return layer({
    code, args: [s.inputs[0], s.outputs[0], SCRATCH],
    arrays: [{ name: `${id}_u`, type: 'float', values: U, what: `transformed filters U = G g Gᵀ, [filter][channel][${a2}]` }, ...b.arrays],
    helpers: ['madd'], includes: ['math.h'],
    kernel: `conv 3x3/1 Winograd F(${m},3) (${tilesH}×${tilesW} tiles, ${a2} products per channel pair)`,
    weights: `winograd F(${m},3): ${U.length} transformed f32${stored ? ', as the model stores them' : ', transformed at compile time'}`,
  });
}
