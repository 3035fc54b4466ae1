// Integer convs and fcs in C: the steps compile/fuse_int.ts (QDQ units) and
// compile/lower_int.ts (QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger)
// make for both targets, with the constants of compile/int_layer.ts: int8 weights
// (w − w_zero), the int32 bias with the input zero point folded in, and the
// fixed-point requantization of ir/quant.ts (requantizeValue), so the C output is
// bit for bit the WASM kernels'. uint8 inputs are read as x − 128, as the WASM
// kernels read them (the bias is folded for that); a conv's padding is the input
// zero point. Sums wrap mod 2^32 like the WASM accumulators (int_layer.ts proves
// the final sum fits), so they are kept in uint32_t (no signed overflow in C).
// A conv sums one output plane at a time in int32 scratch (OH·OW·4 bytes); a fused
// max pool takes the largest of its window's requantized pixels from there.
import type { IntLayer, QConvStep, QFcStep } from '../../../plan_types.js';
import { indent, layer, SCRATCH, signature, valueType, type CEmitter, type CStepCtx } from '../layer.js';
import { reach } from './conv.js';
import { cInt, type CArray } from '../writer.js';

/** The layer's arrays and the C expression of channel `row`'s output from its sum (`acc` unless named; uint32_t). */
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

/**
 * The bias with every tap's padding term folded in: Σ w·(v − off) over a window is
 * Σ w·(inZero − off) over all its taps plus Σ w·(x − inZero) over the taps inside the
 * input, so the passes visit only those. Mod 2^32, as the sums.
 */
function paddedBias(s: QConvStep): Int32Array {
  const l = s.layer, K = l.weight.length / s.M, pad = l.inZero - offsetOf(l);
  return Int32Array.from(l.bias, (b, m) => {
    let sum = b;
    for (let k = 0; k < K; k++) sum = (sum + l.weight[m * K + k] * pad) | 0;
    return sum;
  });
}

/** Per kernel position: the output rows and columns it reaches inside the input, and the input offset of output (0, 0). */
function tapTables(s: QConvStep): string[] {
  const w = s.win, cols = { ra: [] as number[], rb: [] as number[], ca: [] as number[], cb: [] as number[], at: [] as number[] };
  for (let t = 0; t < w.kh * w.kw; t++) {
    const g = reach(s, Math.floor(t / w.kw), t % w.kw, s.OH);
    cols.ra.push(g.a); cols.rb.push(g.b); cols.ca.push(g.c); cols.cb.push(g.d); cols.at.push(g.top * s.W + g.left);
  }
  return Object.entries(cols).map(([k, v]) => `static const int32_t ${k}[${v.length}] = { ${v.join(', ')} };`);
}

/** Channel m's sums into acc: the bias, then one pass of each nonzero weight over the output rows it reaches. */
function sumLines(s: QConvStep, ctx: CStepCtx, xt: string): string[] {
  const { win } = s, Cg = s.C / s.group, khw = win.kh * win.kw, P = s.OH * s.OW;
  return [
    `const int8_t *wm = ${ctx.id}_q + m * ${Cg * khw};`,
    `const ${xt} *xg = x + n * ${s.C * s.H * s.W} + (m / ${s.M / s.group}) * ${Cg * s.H * s.W};`,
    `for (q = 0; q < ${P}; q++) acc[q] = (uint32_t)${ctx.id}_b[m];`,
    `for (c = 0; c < ${Cg}; c++) {`,
    `  for (k = 0; k < ${khw}; k++) {`,
    `    const int32_t w = wm[c * ${khw} + k];`,
    '    if (w == 0) continue;',
    '    for (r = ra[k]; r <= rb[k]; r++) {',
    `      const ${xt} *xr = xg + c * ${s.H * s.W} + r * ${win.sh * s.W} + at[k];`,
    `      uint32_t *ar = acc + r * ${s.OW};`,
    `      for (q = ca[k]; q <= cb[k]; q++) ar[q] += (uint32_t)(w * ((int32_t)xr[q * ${win.sw}] - ${cInt(s.layer.inZero)}));`,
    '    }',
    '  }',
    '}',
  ];
}

/** The statements writing channel m of image n from its sums: every pixel requantized, or (in place) the max of each fused pool window. */
function outputLines(s: QConvStep, yt: string, out: string): string[] {
  const p = s.pool, P = s.OH * s.OW;
  if (!p) return [`for (q = 0; q < ${P}; q++) { const uint32_t a = acc[q]; y[n * ${s.outImageStride} + m * ${P} + q] = (${yt})${out}; }`];
  const lowest = p.dtype === 'uint8' ? 0 : -128; // as the integer pool kernels: an empty window gives the type's lowest
  return [
    `for (q = 0; q < ${P}; q++) { const uint32_t a = acc[q]; acc[q] = (uint32_t)${out}; }`,
    `for (ph = 0; ph < ${p.OH}; ph++) {`,
    `  for (pw = 0; pw < ${p.OW}; pw++) {`,
    '    int32_t best = 0, any = 0;',
    `    for (r = 0; r < ${p.win.kh}; r++) {`,
    `      const int oh = ph * ${p.win.sh} - ${p.win.padT} + r * ${p.win.dh};`,
    `      if (oh < 0 || oh >= ${s.OH}) continue;`,
    `      for (q = 0; q < ${p.win.kw}; q++) {`,
    `        const int ow = pw * ${p.win.sw} - ${p.win.padL} + q * ${p.win.dw};`,
    '        int32_t v;',
    `        if (ow < 0 || ow >= ${s.OW}) continue;`,
    `        v = (int32_t)acc[oh * ${s.OW} + ow];`,
    '        if (!any || v > best) best = v;',
    '        any = 1;',
    '      }',
    '    }',
    `    y[n * ${s.outImageStride} + (m * ${p.OH} + ph) * ${p.OW} + pw] = (${yt})(any ? best : ${cInt(lowest)});`,
    '  }',
    '}',
  ];
}

/**
 * Channel by channel: the int32 sums of a whole output plane in scratch (OH·OW·4 bytes,
 * conv_layout.ts cQConvScratch), each nonzero weight one pass over the rows and columns
 * its kernel position reaches (bounds from constant tables: no test per pixel), then
 * requantized (and pooled) into the 8-bit output.
 */
export const emitQConv: CEmitter<QConvStep> = (s, ctx) => {
  const { win } = s, Cg = s.C / s.group;
  const xt = valueType(ctx, s.inputs[0]), yt = valueType(ctx, s.outputs[0]);
  const c = intConstants(ctx, { ...s.layer, bias: paddedBias(s) }, `[${s.M}][${Cg}][${win.kh}][${win.kw}]`);
  const code = [
    signature(ctx, [['x', s.inputs[0]]], [['y', s.outputs[0]]], ['int32_t *t']),
    ...indent(tapTables(s)),
    '  uint32_t *restrict acc = (uint32_t *)t;',
    `  int n, m, c, k, r, q${s.pool ? ', ph, pw' : ''};`,
    `  for (n = 0; n < ${s.N}; n++) {`,
    `    for (m = 0; m < ${s.M}; m++) {`,
    ...indent([...sumLines(s, ctx, xt), ...outputLines(s, yt, c.out('m', 'a'))], '      '),
    '    }',
    '  }',
    '}',
  ];
  const fused = s.pool ? ` + max pool ${s.pool.win.kh}x${s.pool.win.kw}/${s.pool.win.sh}` : '';
  return layer({
    code, args: [s.inputs[0], s.outputs[0], SCRATCH], arrays: c.arrays, helpers: c.helpers,
    kernel: `conv ${win.kh}x${win.kw}/${win.sh} 8-bit (integer; a pass per weight over an int32 plane)${fused}`, weights: c.what,
  });
};
