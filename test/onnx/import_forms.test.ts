// Hand-written ONNX models in each opset's own forms: the importer normalises them to
// the IR forms (axes/split as attributes, Clip bounds as inputs, opset-13 Softmax,
// Constant → initializer); export back and the reference runtime agree with onnxruntime.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Graph } from '../../src/ir/graph.js';
import { resolveShape } from '../../src/ir/infer.js';
import { f32, i64 } from '../../src/ir/tensor.js';
import { verify } from '../../src/ir/verify.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { importOnnx } from '../../src/onnx/import.js';
import { runReference } from '../../src/runtime/reference.js';
import { assertClose, attrFloat, attrInt, attrInts, init, onnxModel, onnxNode, ortRun, randomInput, vi } from './helpers.js';

/** Imports, then checks ORT(original) = ORT(export) = reference on seeded inputs; returns the graph. */
async function roundTrip(bytes: Uint8Array, dims: Record<string, number>, seed: number): Promise<Graph> {
  const g = importOnnx(bytes, { source: 'forms.onnx' });
  verify(g);
  const feeds = Object.fromEntries(g.inputs.map((v, i) => [v.name, randomInput(resolveShape(v, dims), seed + i, -1, 1)]));
  const want = await ortRun(bytes, feeds);
  const got = await ortRun(exportOnnx(g), feeds);
  const ref = runReference(g, feeds);
  for (const o of g.outputs) {
    assertClose(got[o.name], want[o.name], 1e-6, 1e-7, `${o.name}: export vs original`);
    assertClose(ref[o.name], want[o.name], 1e-4, 1e-5, `${o.name}: reference vs onnxruntime`);
  }
  return g;
}

const node = (g: Graph, op: string) => g.nodes.filter((n) => n.op === op);

test('opset 13: Squeeze/Unsqueeze axes and Split sizes as inputs become attributes', async () => {
  const bytes = onnxModel({
    opset: 13,
    inputs: [vi('x', 'float32', [2, 4, 6])],
    outputs: [vi('sq', 'float32', [2, 4, 6]), vi('sq2', 'float32', [2, 4, 6]), vi('a', 'float32', [2, 1, 6]), vi('b', 'float32', [2, 3, 6]), vi('cl', 'float32', [2, 4, 6])],
    initializers: [init('ax1', i64([1], [1])), init('none', i64([0], [])), init('sizes', i64([2], [1, 3])), init('lo', f32([], [-0.25]))],
    nodes: [
      onnxNode('Unsqueeze', ['x', 'ax1'], ['u']),
      onnxNode('Squeeze', ['u', 'ax1'], ['sq']),
      onnxNode('Squeeze', ['u', 'none'], ['sq2']),
      onnxNode('Split', ['x', 'sizes'], ['a', 'b'], [attrInt('axis', 1)]),
      onnxNode('Clip', ['x', 'lo', ''], ['cl']),
    ],
  });
  const g = await roundTrip(bytes, {}, 1);
  assert.deepEqual(node(g, 'Unsqueeze')[0].attrs.axes, [1]);
  assert.deepEqual(node(g, 'Unsqueeze')[0].inputs.length, 1);
  assert.deepEqual(node(g, 'Split')[0].attrs.split, [1, 3]);
  assert.deepEqual(node(g, 'Squeeze')[1].attrs, {}, 'empty axes input = squeeze all size-1 axes');
  assert.deepEqual(node(g, 'Clip')[0].inputs, ['x', 'lo']);
  assert.ok(!g.initializers.has('ax1') && !g.initializers.has('sizes'), 'axes/split initializers are dropped');
});

test('opset 18: ReduceMean axes input and Split num_outputs (uneven → explicit sizes)', async () => {
  const bytes = onnxModel({
    opset: 18,
    inputs: [vi('x', 'float32', ['N', 8, 5])],
    outputs: [vi('m', 'float32', ['N', 8]), vi('p', 'float32', ['N', 3, 5]), vi('q', 'float32', ['N', 3, 5]), vi('r', 'float32', ['N', 2, 5]),
      vi('e0', 'float32', ['N', 4, 5]), vi('e1', 'float32', ['N', 4, 5])],
    initializers: [init('axes', i64([1], [-1]))],
    nodes: [
      onnxNode('ReduceMean', ['x', 'axes'], ['m'], [attrInt('keepdims', 0)]),
      onnxNode('Split', ['x'], ['p', 'q', 'r'], [attrInt('axis', 1), attrInt('num_outputs', 3)]),
      onnxNode('Split', ['x'], ['e0', 'e1'], [attrInt('axis', 1), attrInt('num_outputs', 2)]),
    ],
  });
  const g = await roundTrip(bytes, { N: 2 }, 2);
  assert.deepEqual(node(g, 'ReduceMean')[0].attrs, { axes: [-1], keepdims: 0 });
  assert.deepEqual(node(g, 'Split')[0].attrs, { axis: 1, split: [3, 3, 2] });
  assert.deepEqual(node(g, 'Split')[1].attrs, { axis: 1 });
});

test('opset 11: coerce-to-2D Softmax is rewritten unless on the last axis; Constant nodes become initializers', async () => {
  const bytes = onnxModel({
    opset: 11,
    inputs: [vi('x', 'float32', ['N', 3, 4]), vi('z', 'float32', ['N', 5])],
    outputs: [vi('s', 'float32', ['N', 3, 4]), vi('t', 'float32', ['N', 5]), vi('r', 'float32', ['N', 12]), vi('u', 'float32', [1, 'N', 5])],
    nodes: [
      onnxNode('Softmax', ['x'], ['s'], [attrInt('axis', 1)]),
      onnxNode('Softmax', ['z'], ['t']),
      { op_type: 'Constant', output: ['shape'], name: 'c', attribute: [{ name: 'value', type: 4, t: init('', i64([2], [0, -1])) }] },
      onnxNode('Reshape', ['x', 'shape'], ['r']),
      onnxNode('Unsqueeze', ['z'], ['u'], [attrInts('axes', [0])]),
    ],
  });
  const g = await roundTrip(bytes, { N: 2 }, 3);
  assert.deepEqual(g.nodes.map((n) => n.op), ['Flatten', 'Softmax', 'Shape', 'Reshape', 'Softmax', 'Reshape', 'Unsqueeze']);
  assert.equal(node(g, 'Flatten')[0].attrs.axis, 1);
  assert.ok(node(g, 'Softmax').every((n) => n.attrs.axis === -1));
  assert.deepEqual([...g.initializers.get('shape')!.data], [0n, -1n]);
});

test('opset 12: Dropout with a ratio input, Clip with both bounds; Dropout is removed', async () => {
  const bytes = onnxModel({
    opset: 12,
    inputs: [vi('x', 'float32', [2, 6])],
    outputs: [vi('y', 'float32', [2, 6])],
    initializers: [init('ratio', f32([], [0.5])), init('lo', f32([], [-0.5])), init('hi', f32([], [0.5]))],
    nodes: [
      onnxNode('Dropout', ['x', 'ratio'], ['d']),
      onnxNode('Clip', ['d', 'lo', 'hi'], ['c']),
      onnxNode('LeakyRelu', ['c'], ['y'], [attrFloat('alpha', 0.1)]),
    ],
  });
  const g = await roundTrip(bytes, {}, 4);
  assert.deepEqual(g.nodes.map((n) => n.op), ['Clip', 'LeakyRelu']);
});

test('PyTorch-style flatten chain Shape→Gather→Unsqueeze→Concat→Reshape keeps a dynamic batch', async () => {
  const bytes = onnxModel({
    opset: 17,
    inputs: [vi('x', 'float32', ['N', 2, 3, 3])],
    outputs: [vi('y', 'float32', ['N', 4])],
    initializers: [init('zero', i64([], [0])), init('minus1', i64([1], [-1])), init('w', f32([4, 18], Array.from({ length: 72 }, (_, i) => Math.sin(i)))), init('ax0', i64([1], [0]))],
    nodes: [
      onnxNode('Shape', ['x'], ['shp']),
      onnxNode('Gather', ['shp', 'zero'], ['n'], [attrInt('axis', 0)]),
      onnxNode('Unsqueeze', ['n', 'ax0'], ['n1']),
      onnxNode('Concat', ['n1', 'minus1'], ['target'], [attrInt('axis', 0)]),
      onnxNode('Reshape', ['x', 'target'], ['flat']),
      onnxNode('Gemm', ['flat', 'w'], ['y'], [attrInt('transB', 1)]),
    ],
  });
  const g1 = await roundTrip(bytes, { N: 1 }, 5);
  const g3 = await roundTrip(bytes, { N: 3 }, 6);
  assert.equal(g1.nodes.length, g3.nodes.length);
});
