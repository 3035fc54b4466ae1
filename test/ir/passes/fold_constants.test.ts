// foldConstants: constant subgraphs become initializers (PyTorch shape chains, Cast
// chains, DequantizeLinear of int8 weights); dynamic shapes stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../../src/ir/graph.js';
import { f32, i64, fromNumbers, type Tensor } from '../../../src/ir/tensor.js';
import { Rng } from '../../../src/ir/random.js';
import { foldConstants } from '../../../src/ir/passes/fold_constants.js';
import { assertExact } from '../../ir/ref/helpers.js';
import { node, runPure, assertSameOutputs, ops } from './helpers.js';

/** x → Shape → Gather(0) → Unsqueeze → Concat(·, [-1]) → Reshape(x, ·): PyTorch's x.view(x.size(0), -1). */
function flattenChain(batch: number | string, shapeAttrs: Record<string, number> = {}): Graph {
  return new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: [batch, 2, 3] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [batch, 6] }],
    nodes: [
      node('Shape', ['x'], ['s'], shapeAttrs),
      node('Gather', ['s', 'zero'], ['n'], { axis: 0 }),
      node('Unsqueeze', ['n'], ['n1'], { axes: [0] }),
      node('Concat', ['n1', 'minus1'], ['shape'], { axis: 0 }),
      node('Reshape', ['x', 'shape'], ['y']),
    ],
    initializers: new Map<string, Tensor>([['zero', i64([], [0])], ['minus1', i64([1], [-1])]]),
  });
}

const x4 = f32([4, 2, 3], new Rng(3).floats(24));

test('a static Shape → Gather → Unsqueeze → Concat → Reshape chain folds to one Reshape with a constant shape', () => {
  const g = flattenChain(4);
  const out = runPure(foldConstants, g);
  assert.deepEqual(ops(out), ['Reshape']);
  assertExact(out.initializers.get(out.nodes[0].inputs[1])!, 'int64', [2], [4n, -1n]);
  assertSameOutputs(g, out, { x: x4 });
});

test('with a dynamic batch N the chain stays (its shape is only known at run time)', () => {
  const g = flattenChain('N');
  const out = runPure(foldConstants, g);
  assert.deepEqual(ops(out), ops(g));
  assertSameOutputs(g, out, { x: x4 });
});

test('Shape(start=1) of an [N,2,3] value is static and folds', () => {
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 2, 3] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 6] }],
    nodes: [
      node('Relu', ['x'], ['r']),
      // [2,3] → 2·3 = 6 → [-1, 6]
      node('Shape', ['r'], ['s'], { start: 1 }),
      node('Gather', ['s', 'zero'], ['c'], { axis: 0 }),
      node('Mul', ['c', 'three'], ['c3']),
      node('Unsqueeze', ['c3'], ['c1'], { axes: [0] }),
      node('Concat', ['minus1', 'c1'], ['shape'], { axis: 0 }),
      node('Reshape', ['r', 'shape'], ['y']),
    ],
    initializers: new Map<string, Tensor>([['zero', i64([], [0])], ['three', i64([], [3])], ['minus1', i64([1], [-1])]]),
  });
  const out = runPure(foldConstants, g);
  assert.deepEqual(ops(out), ['Relu', 'Reshape']);
  assertExact(out.initializers.get('shape')!, 'int64', [2], [-1n, 6n]);
  assertSameOutputs(g, out, { x: x4 });
});

test('Cast chains and DequantizeLinear of int8 weights fold; their results are exact', () => {
  const w8 = fromNumbers('int8', [3, 2], [-128, -1, 0, 1, 64, 127]);
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 2] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3] }],
    nodes: [
      node('DequantizeLinear', ['w8', 'scale', 'zp'], ['w'], { axis: 0 }),
      node('Cast', ['bias_i'], ['bias_d'], { to: 11 }),
      node('Cast', ['bias_d'], ['bias_f'], { to: 1 }),
      node('Gemm', ['x', 'w', 'bias_f'], ['y'], { transB: 1 }),
    ],
    initializers: new Map<string, Tensor>([
      ['w8', w8], ['scale', f32([3], [0.5, 0.25, 0.125])], ['zp', fromNumbers('int8', [3], [0, 0, 0])],
      ['bias_i', fromNumbers('int32', [3], [1, -2, 3])],
    ]),
  });
  const out = runPure(foldConstants, g);
  assert.deepEqual(ops(out), ['Gemm']);
  assertExact(out.initializers.get('w')!, 'float32', [3, 2], [-64, -0.5, 0, 0.25, 8, 15.875]);
  assertExact(out.initializers.get('bias_f')!, 'float32', [3], [1, -2, 3]);
  assertSameOutputs(g, out, { x: f32([2, 2], [1, 2, 3, 4]) });
  // skipOps keeps the quantized weight as it is.
  const kept = foldConstants(g, { skipOps: ['DequantizeLinear'] });
  assert.deepEqual(ops(kept), ['DequantizeLinear', 'Gemm']);
});

test('does not fold graph outputs, nor read initializers that a feed may override', () => {
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: [2] }, { name: 'k', dtype: 'float32', shape: [2] }],
    outputs: [{ name: 'c2', dtype: 'float32', shape: [2] }, { name: 'y', dtype: 'float32', shape: [2] }],
    nodes: [
      node('Relu', ['c'], ['c2']),
      node('Mul', ['k', 'c'], ['kc']),
      node('Add', ['x', 'kc'], ['y']),
    ],
    initializers: new Map<string, Tensor>([['c', f32([2], [-1, 2])], ['k', f32([2], [3, 3])]]),
  });
  const out = runPure(foldConstants, g, false);
  assert.deepEqual(ops(out), ['Relu', 'Mul', 'Add']);
});

test('a folded Reshape/Identity result does not share its buffer with the source initializer', () => {
  const w = f32([2, 2], [1, 2, 3, 4]);
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: [4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [4] }],
    nodes: [node('Reshape', ['w', 'flat'], ['wf']), node('Add', ['x', 'wf'], ['y'])],
    initializers: new Map<string, Tensor>([['w', w], ['flat', i64([1], [4])]]),
  });
  const out = runPure(foldConstants, g);
  assert.notEqual(out.initializers.get('wf')!.data, w.data);
});
