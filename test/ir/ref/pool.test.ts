// Pooling reference kernels: hand-computed windows, ceil_mode, count_include_pad,
// dilations, Indices, random cases against nested-loop formulas, bad input.
import { test } from 'node:test';
import { f32, Tensor, fromNumbers } from '../../../src/ir/tensor.js';
import type { AttrValue } from '../../../src/ir/graph.js';
import { run1, runOp, rand, assertClose, assertExact, assertBadInput, Rng } from './helpers.js';

const grid4 = f32([1, 1, 4, 4], Array.from({ length: 16 }, (_, i) => i + 1));

test('MaxPool/AveragePool: 2×2 stride 2 by hand', () => {
  assertClose(run1('MaxPool', [grid4], { kernel_shape: [2, 2], strides: [2, 2] }), { shape: [1, 1, 2, 2], data: [6, 8, 14, 16] });
  assertClose(run1('AveragePool', [grid4], { kernel_shape: [2, 2], strides: [2, 2] }), { shape: [1, 1, 2, 2], data: [3.5, 5.5, 11.5, 13.5] });
});

test('AveragePool: count_include_pad divides by the padded window', () => {
  const attrs = { kernel_shape: [3, 3], strides: [3, 3], pads: [1, 1, 1, 1] };
  // Window at (-1,-1) covers 1,2,5,6 (4 real cells of 9).
  const exclude = run1('AveragePool', [grid4], attrs);
  const include = run1('AveragePool', [grid4], { ...attrs, count_include_pad: 1 });
  assertClose(exclude, { shape: [1, 1, 2, 2], data: [14 / 4, (3 + 4 + 7 + 8) / 4, (9 + 10 + 13 + 14) / 4, (11 + 12 + 15 + 16) / 4] });
  assertClose(include, { shape: [1, 1, 2, 2], data: [14 / 9, 22 / 9, 46 / 9, 54 / 9] });
});

test('ceil_mode: extra window when it starts inside the input, none when it would start in the end padding', () => {
  const x5 = f32([1, 1, 1, 5], [1, 2, 3, 4, 5]);
  assertClose(run1('MaxPool', [x5], { kernel_shape: [1, 2], strides: [1, 2] }), { shape: [1, 1, 1, 2], data: [2, 4] });
  assertClose(run1('MaxPool', [x5], { kernel_shape: [1, 2], strides: [1, 2], ceil_mode: 1 }), { shape: [1, 1, 1, 3], data: [2, 4, 5] });
  assertClose(run1('AveragePool', [x5], { kernel_shape: [1, 2], strides: [1, 2], ceil_mode: 1 }), { shape: [1, 1, 1, 3], data: [1.5, 3.5, 5] });
  // The overhang past the padded input is not counted even with count_include_pad.
  assertClose(run1('AveragePool', [x5], { kernel_shape: [1, 2], strides: [1, 2], ceil_mode: 1, count_include_pad: 1 }), { shape: [1, 1, 1, 3], data: [1.5, 3.5, 5] });
  const x6 = f32([1, 1, 1, 6], [1, 2, 3, 4, 5, 6]);
  // room = 6+1−2 = 5: floor → 3 windows, ceil → 4 would start at 6 (in the end pad): dropped.
  assertClose(run1('MaxPool', [x6], { kernel_shape: [1, 2], strides: [1, 2], pads: [0, 0, 0, 1], ceil_mode: 1 }), { shape: [1, 1, 1, 3], data: [2, 4, 6] });
});

test('MaxPool: dilation 2, Indices output (row- and column-major)', () => {
  const y = run1('MaxPool', [grid4], { kernel_shape: [2, 2], dilations: [2, 2] });
  assertClose(y, { shape: [1, 1, 2, 2], data: [11, 12, 15, 16] });
  const x = f32([1, 2, 2, 3], [1, 9, 3, 4, 5, 6, 7, 8, 9, 12, 11, 10]);
  const [v, idx] = runOp('MaxPool', [x], { kernel_shape: [2, 2] }, 2);
  // planes [[1,9,3],[4,5,6]] and [[7,8,9],[12,11,10]]
  assertClose(v, { shape: [1, 2, 1, 2], data: [9, 9, 12, 11] });
  assertExact(idx, 'int64', [1, 2, 1, 2], [1n, 1n, 9n, 10n]);
  const [, idxCol] = runOp('MaxPool', [x], { kernel_shape: [2, 2], storage_order: 1 }, 2);
  // column-major within each 2×3 plane: (h,w) → w·H + h
  assertExact(idxCol, 'int64', [1, 2, 1, 2], [2n, 2n, 7n, 9n]);
});

/** Nested-loop pooling with explicit pads (the tests pass pads and output sizes directly). */
function naivePool(kind: 'max' | 'avg', x: Tensor, k: number[], s: number[], d: number[], p: number[], out: number[], includePad: boolean): Tensor {
  const [N, C, H, W] = x.shape;
  const y = f32([N, C, out[0], out[1]]);
  for (let pl = 0; pl < N * C; pl++) for (let oh = 0; oh < out[0]; oh++) for (let ow = 0; ow < out[1]; ow++) {
    let best = -Infinity, sum = 0, cnt = 0, padCnt = 0;
    for (let kh = 0; kh < k[0]; kh++) for (let kw = 0; kw < k[1]; kw++) {
      const ih = oh * s[0] - p[0] + kh * d[0];
      const iw = ow * s[1] - p[1] + kw * d[1];
      if (ih >= -p[0] && ih < H + p[2] && iw >= -p[1] && iw < W + p[3]) padCnt++;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      const v = x.data[(pl * H + ih) * W + iw] as number;
      best = Math.max(best, v); sum += v; cnt++;
    }
    y.data[(pl * out[0] + oh) * out[1] + ow] = kind === 'max' ? best : sum / (includePad ? padCnt : cnt);
  }
  return y;
}

test('pools: random cases match the nested-loop formula', () => {
  const rng = new Rng(30);
  const cases: { x: number[]; attrs: Record<string, AttrValue>; k: number[]; s: number[]; d: number[]; p: number[]; out: number[] }[] = [
    { x: [2, 3, 9, 9], attrs: { kernel_shape: [3, 3], strides: [2, 2] }, k: [3, 3], s: [2, 2], d: [1, 1], p: [0, 0, 0, 0], out: [4, 4] },
    { x: [1, 2, 10, 7], attrs: { kernel_shape: [3, 2], strides: [3, 2], pads: [1, 0, 2, 1], ceil_mode: 1 }, k: [3, 2], s: [3, 2], d: [1, 1], p: [1, 0, 2, 1], out: [4, 4] },
    { x: [1, 2, 8, 8], attrs: { kernel_shape: [3, 3], auto_pad: 'SAME_UPPER', strides: [2, 2] }, k: [3, 3], s: [2, 2], d: [1, 1], p: [0, 0, 1, 1], out: [4, 4] },
    { x: [1, 2, 8, 8], attrs: { kernel_shape: [2, 2], auto_pad: 'SAME_LOWER' }, k: [2, 2], s: [1, 1], d: [1, 1], p: [1, 1, 0, 0], out: [8, 8] },
    { x: [1, 1, 11, 11], attrs: { kernel_shape: [3, 3], dilations: [2, 2], strides: [2, 2], pads: [2, 2, 2, 2] }, k: [3, 3], s: [2, 2], d: [2, 2], p: [2, 2, 2, 2], out: [6, 6] },
  ];
  for (const [i, c] of cases.entries()) {
    const x = rand(rng, c.x);
    assertClose(run1('MaxPool', [x], c.attrs), naivePool('max', x, c.k, c.s, c.d, c.p, c.out, false), 1e-6, `MaxPool case ${i}`);
    for (const inc of [0, 1]) {
      const y = run1('AveragePool', [x], { ...c.attrs, count_include_pad: inc });
      assertClose(y, naivePool('avg', x, c.k, c.s, c.d, c.p, c.out, inc === 1), 1e-6, `AveragePool case ${i} count_include_pad=${inc}`);
    }
  }
});

test('pools: 1-D, int8 MaxPool, global pools', () => {
  const x = f32([1, 1, 6], [1, 5, 2, 8, 3, 0]);
  assertClose(run1('MaxPool', [x], { kernel_shape: [3], strides: [3] }), { shape: [1, 1, 2], data: [5, 8] });
  assertExact(run1('MaxPool', [fromNumbers('int8', [1, 1, 1, 4], [-5, -3, 7, -128])], { kernel_shape: [1, 2], strides: [1, 2] }), 'int8', [1, 1, 1, 2], [-3, 7]);
  const g = f32([2, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4, 0, 0, 0, 8]);
  assertClose(run1('GlobalAveragePool', [g]), { shape: [2, 2, 1, 1], data: [2.5, 6.5, -2.5, 2] });
  assertClose(run1('GlobalMaxPool', [g]), { shape: [2, 2, 1, 1], data: [4, 8, -1, 8] });
  assertClose(run1('GlobalAveragePool', [f32([1, 2, 3], [1, 2, 3, 4, 5, 6])]), { shape: [1, 2, 1], data: [2, 5] });
});

test('pools: bad input', () => {
  assertBadInput(() => run1('MaxPool', [grid4], {}), /kernel_shape attribute is required \(2 values/);
  assertBadInput(() => run1('MaxPool', [grid4], { kernel_shape: [5, 5] }), /does not fit the padded input/);
  assertBadInput(() => run1('AveragePool', [f32([4, 4])], { kernel_shape: [2] }), /rank 2; only 1-D and 2-D pooling/);
  assertBadInput(() => run1('GlobalAveragePool', [f32([4, 4])]), /needs N, C and at least one spatial axis/);
  assertBadInput(() => run1('AveragePool', [fromNumbers('int32', [1, 1, 2, 2], [1, 2, 3, 4])], { kernel_shape: [2, 2] }), /int32/);
});
