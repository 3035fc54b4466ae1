// simplify: the ordered pass list on a torchvision-style graph (Identity, Conv+BN,
// PyTorch flatten chain, dead branch) with verify() after every pass; and on the
// fixture models, where it must be idempotent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Graph } from '../../../src/ir/graph.js';
import { f32, i64, type Tensor } from '../../../src/ir/tensor.js';
import { Rng } from '../../../src/ir/random.js';
import { verify } from '../../../src/ir/verify.js';
import { simplify, SIMPLIFY_PASSES } from '../../../src/ir/passes/simplify.js';
import { loadOnnxFile } from '../../../src/onnx/load.js';
import { node, assertSameOutputs, ops } from './helpers.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const rng = new Rng(11);
const r = (shape: number[], lo = -1, hi = 1) => f32(shape, rng.floats(shape.reduce((p, d) => p * d, 1), lo, hi));

function convNet(): Graph {
  return new Graph({
    name: 'convnet',
    inputs: [{ name: 'input', dtype: 'float32', shape: [2, 3, 8, 8] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: [2, 10] }],
    nodes: [
      node('Identity', ['input'], ['x0']),
      node('Conv', ['x0', 'w1', 'b1'], ['c1'], { pads: [1, 1, 1, 1] }),
      node('BatchNormalization', ['c1', 's1', 'o1', 'm1', 'v1'], ['bn1']),
      node('Relu', ['bn1'], ['r1']),
      node('Dropout', ['r1'], ['d1']),
      node('MaxPool', ['d1'], ['p1'], { kernel_shape: [2, 2], strides: [2, 2] }),
      node('Shape', ['p1'], ['sh']),
      node('Gather', ['sh', 'zero'], ['n'], { axis: 0 }),
      node('Unsqueeze', ['n'], ['n1'], { axes: [0] }),
      node('Concat', ['n1', 'minus1'], ['flat_shape'], { axis: 0 }),
      node('Reshape', ['p1', 'flat_shape'], ['flat']),
      node('Gemm', ['flat', 'wf', 'bf'], ['g'], { transB: 1 }),
      node('Sigmoid', ['g'], ['unused']),
      node('Identity', ['g'], ['logits']),
    ],
    initializers: new Map<string, Tensor>([
      ['w1', r([4, 3, 3, 3])], ['b1', r([4])], ['s1', r([4])], ['o1', r([4])], ['m1', r([4])], ['v1', r([4], 0.5, 1.5)],
      ['zero', i64([], [0])], ['minus1', i64([1], [-1])],
      ['wf', r([10, 64])], ['bf', r([10])], ['orphan', r([3])],
    ]),
  });
}

test('simplify runs the passes in order; verify() holds after each; outputs unchanged', () => {
  assert.deepEqual(SIMPLIFY_PASSES.map((p) => p.name), ['eliminateIdentity', 'foldConstants', 'foldBatchNorm', 'eliminateDeadNodes', 'removeUnusedInitializers']);
  const g = convNet();
  verify(g);
  const seen: string[] = [];
  const out = simplify(g, { after: (name, graph) => { seen.push(name); verify(graph); } });
  assert.deepEqual(seen, SIMPLIFY_PASSES.map((p) => p.name));
  assert.deepEqual(ops(out), ['Conv', 'Relu', 'MaxPool', 'Reshape', 'Gemm']);
  assert.ok(!out.initializers.has('orphan'));
  assert.equal(out.outputs[0].name, 'logits');
  assertSameOutputs(g, out, { input: r([2, 3, 8, 8]) });
});

test('simplify is idempotent on every fixture model (already simplified by the importer)', () => {
  for (const name of ['lenet300_dense', 'lenet5_dense', 'lenet5_int8_qdq', 'vggs_fmnist_dense', 'squeezenet1_1_random']) {
    const g = loadOnnxFile(join(REPO, 'fixtures', 'models', `${name}.onnx`));
    const again = simplify(g, { after: (_, graph) => verify(graph) });
    assert.deepEqual(ops(again), ops(g), name);
    assert.deepEqual([...again.initializers.keys()].sort(), [...g.initializers.keys()].sort(), name);
    assert.ok(!g.nodes.some((n) => n.op === 'Identity' || n.op === 'BatchNormalization' || n.op === 'Shape'), `${name}: left ${ops(g).join(',')}`);
  }
});
