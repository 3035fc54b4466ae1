// printGraph: a readable dump with inputs, initializers, one line per node with shapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph } from '../../src/ir/graph.js';
import { printGraph } from '../../src/ir/print.js';
import { f32, i64 } from '../../src/ir/tensor.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { fixture } from '../onnx/helpers.js';

test('printGraph lists inputs, initializers, nodes with output shapes, outputs', () => {
  const g = new Graph({
    name: 'tiny',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3] }],
    nodes: [
      { name: 'fc', op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['h'], attrs: { transB: 1, alpha: 0.5 } },
      { name: 'act', op: 'Relu', inputs: ['h'], outputs: ['y'], attrs: {} },
    ],
    initializers: new Map([['w', f32([3, 4])], ['b', f32([3])]]),
    opset: 17,
  });
  assert.equal(printGraph(g), [
    'graph "tiny" opset 17 (shapes for N=1)',
    'inputs:',
    '  x: float32[N,4]',
    'initializers: 2 tensors, 15 values',
    '  w: float32[3,4]',
    '  b: float32[3]',
    'nodes: 2',
    '  h: float32[1,3] = Gemm(x, w, b) {transB=1 alpha=0.5}  # fc',
    '  y: float32[1,3] = Relu(h)  # act',
    'outputs:',
    '  y: float32[N,3]',
    '',
  ].join('\n'));
});

test('a graph that does not infer still prints, with the reason', () => {
  const g = new Graph({
    name: 'bad',
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }],
    outputs: [],
    nodes: [{ name: 'r', op: 'Reshape', inputs: ['x', 's'], outputs: ['y'], attrs: {} }],
    initializers: new Map([['s', i64([1], [7])]]),
  });
  const text = printGraph(g);
  assert.match(text, /  y: \? = Reshape\(x, s\)  # r/);
  assert.match(text, /shape inference failed: node "r" \(Reshape\): cannot reshape \[2,3\] \(6 values\) to \[7\]/);
});

test('LeNet-5 dump shows the 800-wide flatten', () => {
  const text = printGraph(loadOnnxFile(fixture('lenet5_dense')));
  assert.match(text, /view: float32\[1,800\] = Reshape\(max_pool2d_1, val_7\)/);
  assert.match(text, /conv1\.weight: float32\[20,1,5,5\]/);
});
