// eliminateIdentity: Identity/Dropout removed and consumers rewired; graph output names kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../../src/ir/graph.js';
import { f32, Tensor } from '../../../src/ir/tensor.js';
import { Rng } from '../../../src/ir/random.js';
import { eliminateIdentity } from '../../../src/ir/passes/eliminate_identity.js';
import { node, runPure, assertSameOutputs, ops } from './helpers.js';

const io = (name: string) => ({ name, dtype: 'float32' as const, shape: [2, 3] });

test('removes Identity and Dropout chains in the middle and at the output, keeping the output name', () => {
  const g = new Graph({
    inputs: [io('x')],
    outputs: [io('y')],
    nodes: [
      node('Relu', ['x'], ['a']),
      node('Identity', ['a'], ['b']),
      node('Dropout', ['b'], ['c'], { ratio: 0.5 }),
      node('Sigmoid', ['c'], ['d']),
      node('Identity', ['d'], ['e']),
      node('Identity', ['e'], ['y']),
    ],
  });
  const out = runPure(eliminateIdentity, g);
  assert.deepEqual(ops(out), ['Relu', 'Sigmoid']);
  assert.deepEqual(out.nodes[1].inputs, ['a']);
  assert.deepEqual(out.nodes[1].outputs, ['y']);
  assertSameOutputs(g, out, { x: f32([2, 3], new Rng(1).floats(6)) });
});

test('an output that is also read elsewhere stays consistent after the producer is renamed', () => {
  const g = new Graph({
    inputs: [io('x')],
    outputs: [io('y'), io('z')],
    nodes: [node('Relu', ['x'], ['a']), node('Identity', ['a'], ['y']), node('Tanh', ['a'], ['z'])],
  });
  const out = runPure(eliminateIdentity, g);
  assert.deepEqual(ops(out), ['Relu', 'Tanh']);
  assert.deepEqual(out.nodes[1].inputs, ['y']);
  assertSameOutputs(g, out, { x: f32([2, 3], new Rng(2).floats(6)) });
});

test('keeps what cannot be removed: input → output Identity, output → output Identity, Dropout whose mask is used or in training mode', () => {
  const g = new Graph({
    inputs: [io('x')],
    outputs: [io('y'), io('r'), io('r2'), { name: 'm', dtype: 'bool', shape: [2, 3] }, io('t')],
    nodes: [
      node('Identity', ['x'], ['y']),
      node('Relu', ['x'], ['r']),
      node('Identity', ['r'], ['r2']),
      node('Dropout', ['x'], ['d', 'm']),
      node('Dropout', ['d', '', 'train'], ['t']),
    ],
    initializers: new Map([['train', new Tensor('bool', [], Uint8Array.of(1))]]),
  });
  // training_mode=true is outside what verify() accepts (inference only): skip it here.
  const out = runPure(eliminateIdentity, g, false);
  assert.deepEqual(ops(out), ops(g));
});

test('a Dropout with a constant false training_mode is removed', () => {
  const g = new Graph({
    inputs: [io('x')],
    outputs: [io('y')],
    nodes: [node('Dropout', ['x', '', 'train'], ['d']), node('Relu', ['d'], ['y'])],
    initializers: new Map([['train', new Tensor('bool', [], Uint8Array.of(0))]]),
  });
  const out = runPure(eliminateIdentity, g);
  assert.deepEqual(ops(out), ['Relu']);
  assert.deepEqual(out.nodes[0].inputs, ['x']);
});
