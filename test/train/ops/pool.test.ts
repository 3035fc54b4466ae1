import assert from 'node:assert/strict';
import { test } from 'node:test';
import { i64 } from '../../../src/ir/tensor.js';
import type { Node } from '../../../src/ir/graph.js';
import { Tape, TapeCtx, Var } from '../../../src/train/autograd.js';
import { tsBackend } from '../../../src/train/backend_ts.js';
import { trainOp } from '../../../src/train/ops/index.js';
import { Rng } from '../../../src/ir/random.js';
import { gradCheck, node, spreadValues } from '../gradcheck.js';

const consts = { axes: i64([2], [-1, -2]) };

function forward(op: string, attrs: Node['attrs'], xs: number[], x: Float32Array, inputs = ['x']): Var {
  const tape = new Tape(new TapeCtx(tsBackend, new Rng(1)), false);
  const [y] = trainOp(op)!.build(node(op, inputs, attrs), [new Var('x', xs, x)], { tape, constant: (n) => consts[n as keyof typeof consts], buffer: () => new Float32Array(0) });
  tape.finalize();
  tape.forward();
  return y;
}

/** Pooling by its definition (float64), the oracle. */
function poolRef(x: Float32Array, [N, C, H, W]: number[], a: { k: number[]; s: number[]; p: number[]; d: number[]; max: boolean; incl: boolean }, oh: number, ow: number): number[] {
  const out: number[] = [];
  for (let nc = 0; nc < N * C; nc++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    let best = -Infinity, sum = 0, cnt = 0;
    for (let ki = 0; ki < a.k[0]; ki++) for (let kj = 0; kj < a.k[1]; kj++) {
      const ih = i * a.s[0] - a.p[0] + ki * a.d[0];
      const iw = j * a.s[1] - a.p[1] + kj * a.d[1];
      const inPad = ih >= -a.p[0] && ih < H + a.p[2] && iw >= -a.p[1] && iw < W + a.p[3];
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) { if (a.incl && inPad) cnt++; continue; }
      const v = x[nc * H * W + ih * W + iw];
      best = Math.max(best, v);
      sum += v;
      cnt++;
    }
    out.push(a.max ? best : sum / cnt);
  }
  return out;
}

const CASES: { label: string; op: string; x: number[]; attrs: Node['attrs'] }[] = [
  { label: 'max 2×2 s2', op: 'MaxPool', x: [2, 3, 6, 6], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
  { label: 'max 3×3 s2 pads, ceil', op: 'MaxPool', x: [1, 2, 7, 8], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 } },
  { label: 'max dilated', op: 'MaxPool', x: [1, 2, 7, 7], attrs: { kernel_shape: [2, 2], dilations: [2, 2] } },
  { label: 'avg 3×3 s2 pads, exclude pad', op: 'AveragePool', x: [2, 2, 7, 6], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
  { label: 'avg include pad', op: 'AveragePool', x: [1, 3, 5, 5], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 1 } },
  { label: 'avg ceil mode, odd', op: 'AveragePool', x: [1, 1, 7, 5], attrs: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 } },
];

test('pool forward matches the definition', () => {
  for (const c of CASES) {
    const x = spreadValues(c.x.reduce((a, b) => a * b, 1), 3);
    const y = forward(c.op, c.attrs, c.x, x);
    const a = c.attrs as Record<string, number[] | number>;
    const want = poolRef(x, c.x, {
      k: a.kernel_shape as number[], s: (a.strides as number[]) ?? [1, 1], p: (a.pads as number[]) ?? [0, 0, 0, 0],
      d: (a.dilations as number[]) ?? [1, 1], max: c.op === 'MaxPool', incl: a.count_include_pad === 1,
    }, y.shape[2], y.shape[3]);
    assert.equal(y.size, want.length, c.label);
    want.forEach((w, i) => assert.ok(Math.abs(y.data[i] - w) < 1e-6, `${c.label}: y[${i}] of [${y.shape}] = ${y.data[i]}, want ${w}`));
  }
});

test('ceil_mode adds the partial window: 7 → 4 with k2 s2', () => {
  assert.deepEqual(forward('MaxPool', { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }, [1, 1, 7, 7], new Float32Array(49)).shape, [1, 1, 4, 4]);
  assert.deepEqual(forward('MaxPool', { kernel_shape: [2, 2], strides: [2, 2] }, [1, 1, 7, 7], new Float32Array(49)).shape, [1, 1, 3, 3]);
});

test('pool gradients match finite differences', () => {
  let seed = 1;
  for (const c of CASES) {
    const x = spreadValues(c.x.reduce((a, b) => a * b, 1), seed);
    const r = gradCheck({ node: node(c.op, ['x'], c.attrs), inputs: [{ name: 'x', shape: c.x, values: x }], eps: 1e-3, seed: seed++ });
    assert.ok(r.worst <= 1, `${c.label}: ${r.where}`);
  }
});

test('GlobalAveragePool and ReduceMean over H, W', () => {
  const x = spreadValues(2 * 3 * 4 * 5, 2);
  const gap = forward('GlobalAveragePool', {}, [2, 3, 4, 5], x);
  assert.deepEqual(gap.shape, [2, 3, 1, 1]);
  for (let p = 0; p < 6; p++) {
    let s = 0;
    for (let i = 0; i < 20; i++) s += x[p * 20 + i];
    assert.ok(Math.abs(gap.data[p] - s / 20) < 1e-6);
  }
  const rm = forward('ReduceMean', { keepdims: 0 }, [2, 3, 4, 5], x, ['x', 'axes']);
  assert.deepEqual(rm.shape, [2, 3]);
  assert.deepEqual([...rm.data], [...gap.data]);
  const variants: [string, Node['attrs']][] = [['GlobalAveragePool', {}], ['ReduceMean', { axes: [2, 3] }]];
  for (const [op, attrs] of variants) {
    const r = gradCheck({ node: node(op, ['x'], attrs), inputs: [{ name: 'x', shape: [2, 3, 3, 2] }], eps: 0.1 });
    assert.ok(r.worst <= 1, `${op}: ${r.where}`);
  }
  assert.throws(() => forward('ReduceMean', { axes: [1] }, [2, 3, 4, 5], x), /only the mean over the spatial axes/);
});

test('pools reject non-4-D input and oversized windows', () => {
  assert.throws(() => forward('MaxPool', { kernel_shape: [2, 2] }, [2, 8], new Float32Array(16)), /4-D NCHW/);
  assert.throws(() => forward('MaxPool', { kernel_shape: [5, 5] }, [1, 1, 3, 3], new Float32Array(9)), /maxpool_test.*does not fit/);
});
