// foldBatchNorm: Conv / ConvTranspose / Gemm + BatchNormalization → one op; the
// folded graph computes the same outputs as the unfolded one on random inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, type AttrValue } from '../../../src/ir/graph.js';
import { f32, type Tensor } from '../../../src/ir/tensor.js';
import { Rng } from '../../../src/ir/random.js';
import { foldBatchNorm } from '../../../src/ir/passes/fold_batchnorm.js';
import { node, runPure, assertSameOutputs, ops } from './helpers.js';

const rng = new Rng(7);
const r = (shape: number[], lo = -1, hi = 1) => f32(shape, rng.floats(shape.reduce((p, d) => p * d, 1), lo, hi));

/** op(x, w[, b]) → BatchNormalization → Relu; `channels` BN channels. */
function withBn(op: string, xShape: (number | string)[], w: Tensor, b: Tensor | undefined, channels: number, attrs: Record<string, AttrValue>, yShape: (number | string)[]): Graph {
  const inits = new Map<string, Tensor>([
    ['w', w], ['scale', r([channels])], ['beta', r([channels])], ['mean', r([channels])], ['var', r([channels], 0.1, 2)],
  ]);
  if (b) inits.set('b', b);
  return new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: xShape }],
    outputs: [{ name: 'y', dtype: 'float32', shape: yShape }],
    nodes: [
      node(op, ['x', 'w', ...(b ? ['b'] : [])], ['h'], attrs),
      node('BatchNormalization', ['h', 'scale', 'beta', 'mean', 'var'], ['bn'], { epsilon: 1e-3 }),
      node('Relu', ['bn'], ['y']),
    ],
    initializers: inits,
  });
}

test('Conv + BN folds (with and without conv bias, grouped), outputs unchanged', () => {
  const cases: [Tensor, Tensor | undefined, Record<string, AttrValue>][] = [
    [r([6, 3, 3, 3]), r([6]), { pads: [1, 1, 1, 1] }],
    [r([6, 3, 3, 3]), undefined, { strides: [2, 2] }],
    [r([6, 1, 3, 3]), r([6]), { group: 3, pads: [1, 1, 1, 1] }],
  ];
  for (const [w, b, attrs] of cases) {
    const g = withBn('Conv', ['N', 3, 7, 7], w, b, 6, attrs, ['N', 6, 'H', 'W']);
    const out = runPure(foldBatchNorm, g);
    assert.deepEqual(ops(out), ['Conv', 'Relu']);
    assert.deepEqual(out.nodes[0].outputs, ['bn']);
    assert.deepEqual([...out.initializers.keys()].sort(), out.nodes[0].inputs.slice(1).sort(), 'only the folded weight and bias are left');
    assertSameOutputs(g, out, { x: r([2, 3, 7, 7]) });
  }
});

test('ConvTranspose + BN folds (group 2), outputs unchanged', () => {
  const g = withBn('ConvTranspose', [1, 4, 3, 3], r([4, 3, 3, 3]), r([6]), 6, { group: 2, strides: [2, 2] }, [1, 6, 7, 7]);
  const out = runPure(foldBatchNorm, g);
  assert.deepEqual(ops(out), ['ConvTranspose', 'Relu']);
  assertSameOutputs(g, out, { x: r([1, 4, 3, 3]) });
});

test('Gemm + BN folds for transB 0 and 1, with alpha, beta and bias forms', () => {
  const cases: [Tensor, Tensor | undefined, Record<string, AttrValue>][] = [
    [r([5, 4]), r([5]), { transB: 1 }],
    [r([4, 5]), r([1, 5]), { alpha: 0.5, beta: 2 }],
    [r([4, 5]), undefined, { alpha: 1.5 }],
    [r([5, 4]), r([1]), { transB: 1, beta: 0.5 }],
  ];
  for (const [w, b, attrs] of cases) {
    const g = withBn('Gemm', ['N', 4], w, b, 5, attrs, ['N', 5]);
    const out = runPure(foldBatchNorm, g);
    assert.deepEqual(ops(out), ['Gemm', 'Relu'], `Gemm ${JSON.stringify(attrs)}`);
    assertSameOutputs(g, out, { x: r([3, 4]) });
  }
});

test('does not fold when the conv output has another reader, is a graph output, or the weight is not constant', () => {
  const shared = withBn('Conv', [1, 3, 5, 5], r([2, 3, 3, 3]), r([2]), 2, {}, [1, 2, 3, 3]);
  shared.nodes.push(node('Sigmoid', ['h'], ['s']));
  shared.outputs.push({ name: 's', dtype: 'float32', shape: [1, 2, 3, 3] });
  assert.deepEqual(ops(runPure(foldBatchNorm, shared)), ops(shared));

  const exposed = withBn('Conv', [1, 3, 5, 5], r([2, 3, 3, 3]), r([2]), 2, {}, [1, 2, 3, 3]);
  exposed.outputs.push({ name: 'h', dtype: 'float32', shape: [1, 2, 3, 3] });
  assert.deepEqual(ops(runPure(foldBatchNorm, exposed)), ops(exposed));

  const fedWeight = withBn('Conv', [1, 3, 5, 5], r([2, 3, 3, 3]), r([2]), 2, {}, [1, 2, 3, 3]);
  fedWeight.inputs.push({ name: 'w', dtype: 'float32', shape: [2, 3, 3, 3] });
  assert.deepEqual(ops(runPure(foldBatchNorm, fedWeight, false)), ops(fedWeight));
});

test('a BN that is the graph output keeps its output name; shared weights are not modified', () => {
  const g = withBn('Conv', [1, 3, 5, 5], r([2, 3, 3, 3]), r([2]), 2, {}, [1, 2, 3, 3]);
  g.nodes.pop();
  g.outputs = [{ name: 'bn', dtype: 'float32', shape: [1, 2, 3, 3] }];
  // A second conv reading the same weight: the fold must write new initializers.
  g.nodes.push(node('Conv', ['x', 'w', 'b'], ['h2']));
  g.outputs.push({ name: 'h2', dtype: 'float32', shape: [1, 2, 3, 3] });
  const out = runPure(foldBatchNorm, g);
  assert.deepEqual(ops(out), ['Conv', 'Conv']);
  assert.deepEqual(out.nodes[0].outputs, ['bn']);
  assert.notEqual(out.nodes[0].inputs[1], 'w');
  assert.equal(out.nodes[1].inputs[1], 'w');
  assertSameOutputs(g, out, { x: r([1, 3, 5, 5]) });
});
