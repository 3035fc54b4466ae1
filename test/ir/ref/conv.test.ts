// Conv and ConvTranspose reference kernels: hand-computed cases, then seeded random
// cases against plain nested-loop formulas (gather form, independent of the
// kernels' im2col / scatter loops), then bad input.
import { test } from 'node:test';
import { f32, Tensor } from '../../../src/ir/tensor.js';
import type { AttrValue } from '../../../src/ir/graph.js';
import { run1, rand, assertClose, assertBadInput, Rng } from './helpers.js';

interface ConvCase {
  name: string;
  x: number[]; // N, C, H, W
  w: number[]; // M, C/group, KH, KW
  attrs: Record<string, AttrValue>;
  bias?: boolean;
}

/** Explicit pads and output size per spatial axis, computed here independently of the kernel. */
function convPads(inSize: number, k: number, s: number, d: number, mode: string, pads: [number, number]): { pb: number; out: number } {
  const span = (k - 1) * d + 1;
  if (mode === 'SAME_UPPER' || mode === 'SAME_LOWER') {
    const out = Math.ceil(inSize / s);
    const total = Math.max(0, (out - 1) * s + span - inSize);
    return { pb: mode === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2), out };
  }
  const [b, e] = mode === 'VALID' ? [0, 0] : pads;
  return { pb: b, out: Math.floor((inSize + b + e - span) / s) + 1 };
}

/** y[n,m,oh,ow] = b[m] + Σ_{c,kh,kw} x[n, g·Cg+c, oh·s−p+kh·d, ow·s−p+kw·d]·w[m,c,kh,kw]. */
function naiveConv(x: Tensor, w: Tensor, b: Tensor | undefined, a: Record<string, AttrValue>): Tensor {
  const [N, C, H, W] = x.shape;
  const [M, Cg, KH, KW] = w.shape;
  const group = (a.group as number) ?? 1;
  const [sh, sw] = (a.strides as number[]) ?? [1, 1];
  const [dh, dw] = (a.dilations as number[]) ?? [1, 1];
  const p = (a.pads as number[]) ?? [0, 0, 0, 0];
  const mode = (a.auto_pad as string) ?? 'NOTSET';
  const hh = convPads(H, KH, sh, dh, mode, [p[0], p[2]]);
  const ww = convPads(W, KW, sw, dw, mode, [p[1], p[3]]);
  const y = f32([N, M, hh.out, ww.out]);
  const Mg = M / group;
  for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) for (let oh = 0; oh < hh.out; oh++) for (let ow = 0; ow < ww.out; ow++) {
    let s = b ? (b.data[m] as number) : 0;
    const g = Math.floor(m / Mg);
    for (let c = 0; c < Cg; c++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const ih = oh * sh - hh.pb + kh * dh;
      const iw = ow * sw - ww.pb + kw * dw;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      s += (x.data[((n * C + g * Cg + c) * H + ih) * W + iw] as number) * (w.data[((m * Cg + c) * KH + kh) * KW + kw] as number);
    }
    y.data[((n * M + m) * hh.out + oh) * ww.out + ow] = s;
  }
  return y;
}

const CONV_CASES: ConvCase[] = [
  { name: '3x3 pad 1', x: [2, 3, 8, 8], w: [4, 3, 3, 3], attrs: { pads: [1, 1, 1, 1] }, bias: true },
  { name: 'odd stride 3, asymmetric pads', x: [1, 2, 11, 9], w: [3, 2, 3, 2], attrs: { strides: [3, 2], pads: [0, 1, 2, 0] } },
  { name: 'dilation 2', x: [1, 3, 9, 10], w: [2, 3, 3, 3], attrs: { dilations: [2, 2], pads: [2, 1, 2, 1] }, bias: true },
  { name: 'group 2', x: [2, 4, 6, 5], w: [6, 2, 3, 3], attrs: { group: 2, pads: [1, 1, 1, 1] }, bias: true },
  { name: 'depthwise (group = channels)', x: [1, 5, 7, 7], w: [5, 1, 3, 3], attrs: { group: 5, strides: [2, 2], pads: [1, 1, 1, 1] } },
  { name: 'depthwise, multiplier 2', x: [1, 3, 6, 6], w: [6, 1, 3, 3], attrs: { group: 3 }, bias: true },
  { name: '1x1 (direct path)', x: [2, 7, 5, 6], w: [4, 7, 1, 1], attrs: {}, bias: true },
  { name: '1x1 stride 2', x: [1, 3, 7, 7], w: [2, 3, 1, 1], attrs: { strides: [2, 2] } },
  { name: 'auto_pad SAME_UPPER, even kernel, stride 2', x: [1, 2, 7, 8], w: [3, 2, 4, 2], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] } },
  { name: 'auto_pad SAME_LOWER, even kernel', x: [1, 2, 7, 8], w: [3, 2, 4, 2], attrs: { auto_pad: 'SAME_LOWER' } },
  { name: 'auto_pad VALID, stride 2', x: [1, 2, 9, 8], w: [3, 2, 3, 3], attrs: { auto_pad: 'VALID', strides: [2, 2] } },
  { name: 'output wider than a column block', x: [1, 2, 21, 23], w: [3, 2, 3, 3], attrs: { pads: [1, 1, 1, 1] }, bias: true },
  { name: 'kernel as large as the input', x: [1, 2, 4, 4], w: [3, 2, 4, 4], attrs: {} },
];

test('Conv: hand-computed 3×3 input, 2×2 ones kernel, with and without pads and bias', () => {
  const x = f32([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const w = f32([1, 1, 2, 2], [1, 1, 1, 1]);
  assertClose(run1('Conv', [x, w]), { shape: [1, 1, 2, 2], data: [12, 16, 24, 28] });
  assertClose(run1('Conv', [x, w, f32([1], [0.5])]), { shape: [1, 1, 2, 2], data: [12.5, 16.5, 24.5, 28.5] });
  const padded = run1('Conv', [x, w], { pads: [1, 1, 1, 1], strides: [2, 2] });
  // windows at (-1,-1), (-1,1), (1,-1), (1,1)
  assertClose(padded, { shape: [1, 1, 2, 2], data: [1, 2 + 3, 4 + 7, 5 + 6 + 8 + 9] });
});

test('Conv: random cases match the nested-loop formula', () => {
  const rng = new Rng(1);
  for (const c of CONV_CASES) {
    const x = rand(rng, c.x);
    const w = rand(rng, c.w);
    const b = c.bias ? rand(rng, [c.w[0]]) : undefined;
    assertClose(run1('Conv', [x, w, b], c.attrs), naiveConv(x, w, b, c.attrs), 1e-5, `Conv ${c.name}`);
  }
});

test('Conv: pruned (zero) weights give the same result as the formula', () => {
  const rng = new Rng(2);
  const x = rand(rng, [1, 4, 6, 6]);
  const w = rand(rng, [9, 4, 3, 3]);
  // Scattered zeros, and whole zero groups (the first 2 input channels of every filter: skipped blocks).
  for (let i = 0; i < w.size; i += 3) w.data[i] = 0;
  for (let m = 0; m < 9; m++) w.data.fill(0, m * 36, m * 36 + 18);
  assertClose(run1('Conv', [x, w], { pads: [1, 1, 1, 1] }), naiveConv(x, w, undefined, { pads: [1, 1, 1, 1] }), 1e-5, 'pruned conv');
});

test('Conv: 1-D runs like 2-D with height 1', () => {
  const rng = new Rng(3);
  const x = rand(rng, [2, 3, 13]);
  const w = rand(rng, [4, 3, 3]);
  const b = rand(rng, [4]);
  const y = run1('Conv', [x, w, b], { strides: [2], pads: [1, 2], dilations: [2] });
  const ref = naiveConv(x.reshape([2, 3, 1, 13]), w.reshape([4, 3, 1, 3]), b, { strides: [1, 2], pads: [0, 1, 0, 2], dilations: [1, 2] });
  assertClose(y, { shape: [2, 4, ref.shape[3]], data: ref.data }, 1e-5, 'Conv 1-D');
});

test('Conv: float64 inputs stay float64', () => {
  const x = new Tensor('float64', [1, 1, 2, 2], Float64Array.from([1, 2, 3, 4]));
  const w = new Tensor('float64', [1, 1, 1, 1], Float64Array.from([0.1]));
  const y = run1('Conv', [x, w]);
  if (y.dtype !== 'float64') throw new Error(`dtype ${y.dtype}`);
  assertClose(y, { shape: [1, 1, 2, 2], data: [0.1, 0.2, 0.30000000000000004, 0.4] }, 1e-15);
});

test('Conv: bad input names the problem', () => {
  const rng = new Rng(4);
  const x = rand(rng, [1, 6, 5, 5]);
  assertBadInput(() => run1('Conv', [x, rand(rng, [4, 3, 3, 3])], { group: 4 }), /group=4 does not divide 6 input channels/);
  assertBadInput(() => run1('Conv', [x, rand(rng, [4, 4, 3, 3])]), /expects 4 input channels.*has 6/);
  assertBadInput(() => run1('Conv', [x, rand(rng, [4, 6, 7, 7])]), /does not fit the padded input/);
  assertBadInput(() => run1('Conv', [rand(rng, [1, 1, 2, 2, 2]), rand(rng, [1, 1, 1, 1, 1])]), /only 1-D and 2-D/);
  assertBadInput(() => run1('Conv', [x, rand(rng, [4, 6, 3, 3]), rand(rng, [3])]), /bias must be float32 \[4\]/);
  assertBadInput(() => run1('Conv', [x, rand(rng, [4, 6, 3, 3])], { strides: [0, 1] }), /strides=\[0,1\] must be integers ≥ 1/);
  assertBadInput(() => run1('Conv', [x, rand(rng, [4, 6, 3, 3])], { pads: [1, 1] }), /pads has 2 values, expected 4/);
  assertBadInput(() => run1('Conv', [x, rand(rng, [4, 6, 3, 3])], { auto_pad: 'SAME' }), /auto_pad="SAME" is not one of/);
  assertBadInput(() => run1('Conv', [x]), /input 1 \(W\) is missing/);
});

/** ConvTranspose in gather form: y[n,m,oh,ow] = Σ x[n,c,ih,iw]·w[c,m',kh,kw] over oh = ih·s − p + kh·d. */
function naiveConvTranspose(x: Tensor, w: Tensor, b: Tensor | undefined, group: number, s: number[], d: number[], pb: number[], out: number[]): Tensor {
  const [N, C, H, W] = x.shape;
  const [, Mg, KH, KW] = w.shape;
  const M = Mg * group;
  const Cg = C / group;
  const y = f32([N, M, out[0], out[1]]);
  for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) for (let oh = 0; oh < out[0]; oh++) for (let ow = 0; ow < out[1]; ow++) {
    const g = Math.floor(m / Mg);
    let sum = b ? (b.data[m] as number) : 0;
    for (let c = g * Cg; c < (g + 1) * Cg; c++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const th = oh + pb[0] - kh * d[0];
      const tw = ow + pb[1] - kw * d[1];
      if (th % s[0] !== 0 || tw % s[1] !== 0) continue;
      const ih = th / s[0];
      const iw = tw / s[1];
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      sum += (x.data[((n * C + c) * H + ih) * W + iw] as number) * (w.data[((c * Mg + (m % Mg)) * KH + kh) * KW + kw] as number);
    }
    y.data[((n * M + m) * out[0] + oh) * out[1] + ow] = sum;
  }
  return y;
}

test('ConvTranspose: hand-computed stride 1 and stride 2', () => {
  const x = f32([1, 1, 2, 2], [1, 2, 3, 4]);
  const w = f32([1, 1, 2, 2], [1, 1, 1, 1]);
  assertClose(run1('ConvTranspose', [x, w]), { shape: [1, 1, 3, 3], data: [1, 3, 2, 4, 10, 6, 3, 7, 4] });
  const y2 = run1('ConvTranspose', [x, w], { strides: [2, 2] });
  assertClose(y2, { shape: [1, 1, 4, 4], data: [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4] });
});

test('ConvTranspose: random cases match the gather formula', () => {
  const rng = new Rng(5);
  const cases: { x: number[]; w: number[]; attrs: Record<string, AttrValue>; group: number; s: number[]; d: number[]; pb: number[]; out: number[] }[] = [
    { x: [2, 3, 4, 5], w: [3, 2, 3, 3], attrs: {}, group: 1, s: [1, 1], d: [1, 1], pb: [0, 0], out: [6, 7] },
    { x: [1, 2, 4, 3], w: [2, 3, 3, 3], attrs: { strides: [2, 3], pads: [1, 0, 1, 2] }, group: 1, s: [2, 3], d: [1, 1], pb: [1, 0], out: [7, 7] },
    { x: [1, 2, 3, 3], w: [2, 2, 3, 2], attrs: { strides: [2, 2], output_padding: [1, 1] }, group: 1, s: [2, 2], d: [1, 1], pb: [0, 0], out: [8, 7] },
    { x: [1, 2, 3, 4], w: [2, 1, 2, 2], attrs: { dilations: [2, 2], pads: [1, 1, 0, 0] }, group: 1, s: [1, 1], d: [2, 2], pb: [1, 1], out: [4, 5] },
    { x: [1, 4, 3, 3], w: [4, 3, 3, 3], attrs: { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] }, group: 2, s: [2, 2], d: [1, 1], pb: [1, 1], out: [5, 5] },
    // output_shape without auto_pad: total padding (1 and 2) split with the extra at the beginning
    { x: [1, 2, 3, 3], w: [2, 2, 3, 3], attrs: { strides: [2, 2], output_shape: [6, 5] }, group: 1, s: [2, 2], d: [1, 1], pb: [1, 1], out: [6, 5] },
    { x: [1, 2, 3, 4], w: [2, 2, 3, 3], attrs: { strides: [2, 2], auto_pad: 'SAME_UPPER' }, group: 1, s: [2, 2], d: [1, 1], pb: [0, 0], out: [6, 8] },
    { x: [1, 2, 3, 4], w: [2, 2, 3, 3], attrs: { strides: [2, 2], auto_pad: 'SAME_LOWER' }, group: 1, s: [2, 2], d: [1, 1], pb: [1, 1], out: [6, 8] },
  ];
  for (const [i, c] of cases.entries()) {
    const x = rand(rng, c.x);
    const w = rand(rng, c.w);
    const b = rand(rng, [c.w[1] * c.group]);
    const ref = naiveConvTranspose(x, w, b, c.group, c.s, c.d, c.pb, c.out);
    assertClose(run1('ConvTranspose', [x, w, b], c.attrs), ref, 1e-5, `ConvTranspose case ${i}`);
  }
});

test('ConvTranspose: bad input', () => {
  const rng = new Rng(6);
  assertBadInput(() => run1('ConvTranspose', [rand(rng, [1, 3, 4, 4]), rand(rng, [2, 2, 3, 3])]), /expects 2 input channels/);
  assertBadInput(() => run1('ConvTranspose', [rand(rng, [1, 3, 4, 4]), rand(rng, [3, 2, 3, 3])], { group: 2 }), /group=2 does not divide 3 input channels/);
  assertBadInput(() => run1('ConvTranspose', [rand(rng, [1, 2, 2, 2]), rand(rng, [2, 1, 2, 2])], { pads: [2, 2, 2, 2] }), /output size -1/);
});
