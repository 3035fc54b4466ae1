// Dead nodes and unused initializers go; everything that reaches an output stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../../src/ir/graph.js';
import { f32, type Tensor } from '../../../src/ir/tensor.js';
import { eliminateDeadNodes, removeUnusedInitializers } from '../../../src/ir/passes/remove_unused.js';
import { node, runPure, ops } from './helpers.js';

function graph(): Graph {
  return new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: [2] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [2] }],
    nodes: [
      node('Add', ['x', 'c'], ['a']),
      node('Mul', ['a', 'd'], ['dead1']),
      node('Relu', ['dead1'], ['dead2']),
      node('Relu', ['a'], ['y']),
    ],
    initializers: new Map<string, Tensor>([['c', f32([2], [1, 2])], ['d', f32([2], [3, 4])], ['e', f32([1], [0])]]),
  });
}

test('eliminateDeadNodes drops nodes that reach no graph output', () => {
  const out = runPure(eliminateDeadNodes, graph());
  assert.deepEqual(ops(out), ['Add', 'Relu']);
});

test('removeUnusedInitializers keeps only read initializers (and graph inputs/outputs with defaults)', () => {
  const withFormats = graph();
  withFormats.formats.set('c', { kind: 'sparse' });
  withFormats.formats.set('d', { kind: 'sparse' });
  const out = runPure(removeUnusedInitializers, runPure(eliminateDeadNodes, withFormats));
  assert.deepEqual([...out.initializers.keys()], ['c']);
  assert.deepEqual([...out.formats.keys()], ['c']);
  const g = graph();
  g.inputs.push({ name: 'e', dtype: 'float32', shape: [1] });
  assert.deepEqual([...runPure(removeUnusedInitializers, g, false).initializers.keys()], ['c', 'd', 'e']);
});
