// Window geometry (Conv, ConvTranspose, pools) against onnxruntime: for each attribute
// combination, inferShapes must give onnxruntime's output shape, and the reference
// runtime (which resolves the pads with the same src/ir/window.ts) onnxruntime's values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../src/ir/errors.js';
import type { AttrValue } from '../../src/ir/graph.js';
import { inferShapes } from '../../src/ir/infer.js';
import { verify } from '../../src/ir/verify.js';
import { checkWindow2d, nodeWindow2d, outHW, windowOf } from '../../src/ir/window.js';
import { getRefKernel } from '../../src/ir/ref/index.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { runReference } from '../../src/runtime/reference.js';
import { GraphBuilder } from '../onnx/graph_builder.js';
import { assertClose, ortRun, randomInput } from '../onnx/helpers.js';

interface Case { op: string; x: number[]; w?: number[]; attrs: Record<string, AttrValue>; want: number[] }

const CASES: Case[] = [
  { op: 'Conv', x: [1, 2, 9, 9], w: [4, 2, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] }, want: [1, 4, 5, 5] },
  { op: 'Conv', x: [1, 2, 9, 8], w: [3, 2, 3, 3], attrs: { dilations: [2, 3], pads: [2, 2, 2, 2] }, want: [1, 3, 9, 6] },
  { op: 'Conv', x: [1, 1, 11, 10], w: [2, 1, 5, 4], attrs: { strides: [3, 2], pads: [0, 1, 2, 0] }, want: [1, 2, 3, 4] },
  { op: 'Conv', x: [1, 2, 7, 7], w: [2, 2, 3, 3], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] }, want: [1, 2, 4, 4] },
  { op: 'Conv', x: [1, 2, 7, 6], w: [2, 2, 4, 4], attrs: { auto_pad: 'SAME_LOWER', strides: [2, 2] }, want: [1, 2, 4, 3] },
  { op: 'Conv', x: [1, 2, 7, 7], w: [2, 2, 3, 3], attrs: { auto_pad: 'VALID', strides: [2, 2] }, want: [1, 2, 3, 3] },
  { op: 'Conv', x: [2, 6, 5, 5], w: [6, 1, 3, 3], attrs: { group: 6, pads: [1, 1, 1, 1] }, want: [2, 6, 5, 5] },
  { op: 'Conv', x: [1, 4, 6, 6], w: [6, 2, 1, 1], attrs: { group: 2 }, want: [1, 6, 6, 6] },
  { op: 'Conv', x: [1, 3, 10], w: [2, 3, 3], attrs: { strides: [3] }, want: [1, 2, 3] },
  { op: 'ConvTranspose', x: [1, 2, 4, 4], w: [2, 3, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }, want: [1, 3, 8, 8] },
  { op: 'ConvTranspose', x: [1, 4, 3, 5], w: [4, 1, 3, 3], attrs: { group: 2, strides: [2, 1] }, want: [1, 2, 7, 7] },
  { op: 'ConvTranspose', x: [1, 2, 3, 3], w: [2, 2, 2, 2], attrs: { dilations: [2, 2] }, want: [1, 2, 5, 5] },
  { op: 'ConvTranspose', x: [1, 2, 3, 4], w: [2, 2, 3, 3], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] }, want: [1, 2, 6, 8] },
  { op: 'MaxPool', x: [1, 2, 5, 5], attrs: { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }, want: [1, 2, 3, 3] },
  { op: 'MaxPool', x: [1, 2, 6, 7], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }, want: [1, 2, 3, 3] },
  { op: 'MaxPool', x: [1, 1, 9, 9], attrs: { kernel_shape: [3, 3], dilations: [2, 2] }, want: [1, 1, 5, 5] },
  { op: 'MaxPool', x: [1, 1, 7, 5], attrs: { kernel_shape: [3, 2], strides: [2, 2], auto_pad: 'SAME_UPPER' }, want: [1, 1, 4, 3] },
  { op: 'AveragePool', x: [1, 2, 7, 7], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }, want: [1, 2, 4, 4] },
  { op: 'AveragePool', x: [1, 2, 6, 6], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 0, 0], ceil_mode: 1 }, want: [1, 2, 3, 3] },
  { op: 'AveragePool', x: [1, 1, 5, 6], attrs: { kernel_shape: [2, 3], strides: [1, 2], auto_pad: 'SAME_LOWER' }, want: [1, 1, 5, 3] },
  { op: 'GlobalAveragePool', x: [2, 3, 4, 5], attrs: {}, want: [2, 3, 1, 1] },
  { op: 'GlobalMaxPool', x: [2, 3, 4], attrs: {}, want: [2, 3, 1] },
];

for (const [i, c] of CASES.entries()) {
  test(`${c.op} ${JSON.stringify(c.attrs)} on ${JSON.stringify(c.x)}: shape ${JSON.stringify(c.want)} as onnxruntime`, async () => {
    const b = new GraphBuilder(i);
    const x = b.input('x', c.x);
    const y = b.op1(c.op, c.w ? [x, b.weight('w', c.w)] : [x], c.attrs);
    const g = b.build([y], 17);
    verify(g);
    assert.deepEqual(inferShapes(g).get(y)!.shape, c.want);
    const feeds = { x: randomInput(c.x, 50 + i, -1, 1) };
    const ort = (await ortRun(exportOnnx(g), feeds))[y];
    assert.deepEqual(ort.shape, c.want);
    if (getRefKernel(c.op)) assertClose(runReference(g, feeds)[y], ort, 1e-4, 1e-5, `${c.op} case ${i} reference vs onnxruntime`);
  });
}

test('one geometry for every stage: shape inference, the reference, the kernels and the trainer agree on sizes and refuse the same windows', () => {
  const node = (attrs: Record<string, AttrValue>) => ({ name: 'p', op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs });
  // the 2-D form the kernels and the trainer take
  const { win, out } = nodeWindow2d(node({ kernel_shape: [3, 2], strides: [2, 1], pads: [1, 0, 1, 1], dilations: [1, 2] }), [7, 6], [3, 2]);
  assert.deepEqual(win, { kh: 3, kw: 2, sh: 2, sw: 1, dh: 1, dw: 2, padT: 1, padL: 0, padB: 1, padR: 1 });
  assert.deepEqual(out, outHW('k', 7, 6, win));
  assert.deepEqual(out, [4, 5]);
  // 1-D lifts to a height of 1; auto_pad resolves to explicit pads
  assert.deepEqual(nodeWindow2d(node({ kernel_shape: [4], auto_pad: 'SAME_LOWER' }), [9], [4]), {
    win: { kh: 1, kw: 4, sh: 1, sw: 1, dh: 1, dw: 1, padT: 0, padL: 2, padB: 0, padR: 1 }, out: [1, 9],
  });
  // ceil mode keeps a last window only when it starts inside the input or its begin padding
  assert.deepEqual(nodeWindow2d(node({ kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], ceil_mode: 1 }), [4, 4], [2, 2]).out, [2, 2]);
  // a window larger than the padded input is refused by every stage, ceil mode or not
  const big = node({ kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 });
  assert.throws(() => nodeWindow2d(big, [2, 2], [3, 3]), (e: unknown) => e instanceof NnzipError && /node "p" \(MaxPool\): spatial dim 0 of size 2 .* does not fit the padded input/.test(e.message));
  assert.throws(() => outHW('pool', 2, 2, checkWindow2d('pool', { kh: 3, kw: 3, strides: [2, 2] }), true), (e: unknown) => e instanceof NnzipError && /pool: a 3×3 window .* does not fit the 2×2 input/.test(e.message));
  assert.throws(() => checkWindow2d('conv', { kh: 1, kw: 1, dilations: [1, 0] }), (e: unknown) => e instanceof NnzipError && /^conv: dilations=\[1,0\] must be integers ≥ 1$/.test(e.message));
  assert.throws(() => windowOf(node({ pads: [0, 0, -1, 0] }), 2, [2, 2]), (e: unknown) => e instanceof NnzipError && /pads=\[0,0,-1,0\] must be integers ≥ 0/.test(e.message));
});
