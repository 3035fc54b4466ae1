import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../../src/ir/errors.js';
import type { Node } from '../../../src/ir/graph.js';
import { Tape, TapeCtx, Var } from '../../../src/train/autograd.js';
import { tsBackend } from '../../../src/train/backend_ts.js';
import { trainOp } from '../../../src/train/ops/index.js';
import { Rng } from '../../../src/ir/random.js';
import { gradCheck, node } from '../gradcheck.js';

interface ConvCase {
  label: string;
  x: [number, number, number, number];
  O: number;
  k: [number, number];
  attrs: Node['attrs'];
  bias?: boolean;
}

const CASES: ConvCase[] = [
  { label: 'plain 3×3', x: [2, 3, 6, 5], O: 4, k: [3, 3], attrs: {} },
  { label: 'asymmetric pads, stride 2', x: [2, 2, 7, 6], O: 3, k: [3, 2], attrs: { pads: [1, 0, 2, 1], strides: [2, 2] } },
  { label: 'dilation 2, stride (1,2)', x: [1, 2, 9, 8], O: 2, k: [3, 3], attrs: { dilations: [2, 2], strides: [1, 2], pads: [1, 1, 1, 1] } },
  { label: 'groups=2', x: [2, 4, 5, 5], O: 6, k: [3, 3], attrs: { group: 2, pads: [1, 1, 1, 1] } },
  { label: 'depthwise', x: [2, 3, 5, 6], O: 3, k: [3, 3], attrs: { group: 3, pads: [1, 1, 1, 1] } },
  { label: 'no bias, 1×1', x: [3, 5, 3, 4], O: 2, k: [1, 1], attrs: {}, bias: false },
  { label: 'auto_pad SAME_UPPER stride 2', x: [1, 2, 6, 7], O: 2, k: [3, 3], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] } },
  { label: 'auto_pad SAME_LOWER', x: [1, 1, 5, 4], O: 2, k: [2, 2], attrs: { auto_pad: 'SAME_LOWER' } },
];

/** Direct convolution in float64: the oracle for the im2col + GEMM path. */
function convRef(x: Float32Array, xs: number[], w: Float32Array, ws: number[], b: Float32Array | null, a: { pads: number[]; strides: number[]; dil: number[]; group: number }, oh: number, ow: number): Float64Array {
  const [N, C, H, W] = xs;
  const [O, cg, KH, KW] = ws;
  const og = O / a.group;
  const y = new Float64Array(N * O * oh * ow);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    let s = b ? b[o] : 0;
    const g = Math.floor(o / og);
    for (let c = 0; c < cg; c++) for (let ki = 0; ki < KH; ki++) for (let kj = 0; kj < KW; kj++) {
      const ih = i * a.strides[0] - a.pads[0] + ki * a.dil[0];
      const iw = j * a.strides[1] - a.pads[1] + kj * a.dil[1];
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      s += x[((n * C + g * cg + c) * H + ih) * W + iw] * w[((o * cg + c) * KH + ki) * KW + kj];
    }
    y[((n * O + o) * oh + i) * ow + j] = s;
  }
  return y;
}

function convInputs(c: ConvCase) {
  const cg = c.x[1] / ((c.attrs.group as number) ?? 1);
  return [
    { name: 'x', shape: [...c.x] },
    { name: 'w', shape: [c.O, cg, ...c.k] },
    c.bias === false ? null : { name: 'b', shape: [c.O] },
  ];
}

test('Conv forward matches a direct convolution', () => {
  for (const c of CASES.filter((k) => !k.attrs.auto_pad)) {
    const rng = new Rng(11);
    const tape = new Tape(new TapeCtx(tsBackend, rng), true);
    const vars = convInputs(c).map((i) => (i ? new Var(i.name, i.shape, rng.fillUniform(new Float32Array(i.shape.reduce((a, b) => a * b, 1)), -1, 1)) : undefined));
    const n = node('Conv', ['x', 'w', vars[2] ? 'b' : ''], c.attrs);
    const [y] = trainOp('Conv')!.build(n, vars, { tape, constant: () => undefined, buffer: () => new Float32Array(0) });
    tape.finalize();
    tape.forward();
    const a = { pads: (c.attrs.pads as number[]) ?? [0, 0, 0, 0], strides: (c.attrs.strides as number[]) ?? [1, 1], dil: (c.attrs.dilations as number[]) ?? [1, 1], group: (c.attrs.group as number) ?? 1 };
    const want = convRef(vars[0]!.data, c.x, vars[1]!.data, vars[1]!.shape, vars[2]?.data ?? null, a, y.shape[2], y.shape[3]);
    for (let i = 0; i < want.length; i++) {
      assert.ok(Math.abs(y.data[i] - want[i]) < 1e-5, `${c.label}: y[${i}] of [${y.shape}] = ${y.data[i]}, want ${want[i]}`);
    }
  }
});

test('Conv SAME padding gives ceil(in/stride) outputs', () => {
  const tape = new Tape(new TapeCtx(tsBackend, new Rng(1)), false);
  const x = new Var('x', [1, 2, 6, 7]);
  const w = new Var('w', [2, 2, 3, 3]);
  const [y] = trainOp('Conv')!.build(node('Conv', ['x', 'w'], { auto_pad: 'SAME_UPPER', strides: [2, 2] }), [x, w], { tape, constant: () => undefined, buffer: () => new Float32Array(0) });
  tape.finalize();
  assert.deepEqual(y.shape, [1, 2, 3, 4]);
});

test('Conv gradients match central finite differences', () => {
  let seed = 1;
  for (const c of CASES) {
    const inputs = convInputs(c);
    const r = gradCheck({ node: node('Conv', ['x', 'w', inputs[2] ? 'b' : ''], c.attrs), inputs, seed: seed++ });
    assert.ok(r.worst <= 1, `${c.label}: ${r.where}`);
    assert.ok(r.checked > 20);
  }
});

test('Conv without an input gradient skips backward-data but still computes dW', () => {
  const r = gradCheck({ node: node('Conv', ['x', 'w', 'b'], { pads: [1, 1, 1, 1] }), inputs: [{ name: 'x', shape: [2, 1, 5, 5], grad: false }, { name: 'w', shape: [3, 1, 3, 3] }, { name: 'b', shape: [3] }] });
  assert.ok(r.worst <= 1, r.where);
});

test('Conv rejects bad shapes with a message naming the node', () => {
  const tape = new Tape(new TapeCtx(tsBackend, new Rng(1)), true);
  const ctx = { tape, constant: () => undefined, buffer: () => new Float32Array(0) };
  const build = (xs: number[], ws: number[], attrs: Node['attrs']) => trainOp('Conv')!.build(node('Conv', ['x', 'w'], attrs), [new Var('x', xs), new Var('w', ws)], ctx);
  assert.throws(() => build([1, 4, 5, 5], [4, 2, 3, 3], { group: 3 }), (e: Error) => e instanceof NnzipError && /conv_test.*group=3 does not divide/.test(e.message));
  assert.throws(() => build([1, 4, 5, 5], [4, 3, 3, 3], {}), /expected 4/);
  assert.throws(() => build([1, 1, 2, 2], [1, 1, 3, 3], {}), /does not fit/);
  assert.throws(() => build([1, 1, 5], [1, 1, 3], {}), /only 2-D convolution/);
});
