// Window geometry (Conv, ConvTranspose, pools) against onnxruntime: for each attribute
// combination, inferShapes must give onnxruntime's output shape, and the reference
// runtime (which pads via resolvePads) onnxruntime's values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttrValue } from '../../../src/ir/graph.js';
import { inferShapes } from '../../../src/ir/infer.js';
import { verify } from '../../../src/ir/verify.js';
import { getRefKernel } from '../../../src/ir/ref/index.js';
import { exportOnnx } from '../../../src/onnx/export.js';
import { runReference } from '../../../src/runtime/reference.js';
import { GraphBuilder } from '../../onnx/graph_builder.js';
import { assertClose, ortRun, randomInput } from '../../onnx/helpers.js';

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
