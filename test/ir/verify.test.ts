// verify() accepts well-formed graphs and names the node (or graph) for each kind of breakage.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../src/ir/errors.js';
import { Graph, type Node } from '../../src/ir/graph.js';
import { f32 } from '../../src/ir/tensor.js';
import { verify } from '../../src/ir/verify.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { FIXTURES, fixture } from '../onnx/helpers.js';

/** x[1,4] → Gemm(w[3,4], b[3], transB) → Relu → y[1,3]. */
function good(): Graph {
  return new Graph({
    name: 'g',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3] }],
    nodes: [
      { name: 'fc', op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['h'], attrs: { transB: 1 } },
      { name: 'act', op: 'Relu', inputs: ['h'], outputs: ['y'], attrs: {} },
    ],
    initializers: new Map([['w', f32([3, 4])], ['b', f32([3])]]),
  });
}

function broken(change: (g: Graph) => void): Graph {
  const g = good();
  change(g);
  return g;
}

function rejects(g: Graph, re: RegExp): void {
  assert.throws(() => verify(g), (e: unknown) => {
    assert.ok(e instanceof NnzipError, String(e));
    assert.match(e.message, re);
    return true;
  });
}

const relu = (name: string, input: string, output: string): Node => ({ name, op: 'Relu', inputs: [input], outputs: [output], attrs: {} });

test('well-formed graphs and every imported fixture pass', () => {
  verify(good());
  for (const name of FIXTURES) verify(loadOnnxFile(fixture(name)));
});

test('values must be defined once, before use, and outputs produced', () => {
  rejects(broken((g) => g.nodes.push(relu('again', 'h', 'y'))), /^graph "g": value "y" is defined twice \(by node "act" and by node "again"\)$/);
  rejects(broken((g) => g.initializers.set('x', f32([1]))), /value "x" is defined twice \(by a graph input and by an initializer\)/);
  rejects(broken((g) => g.nodes.reverse()), /^node "act" \(Relu\): input "h" is used before the node that produces it \(nodes must be in topological order\)$/);
  rejects(broken((g) => (g.nodes[1].inputs = ['zz'])), /^node "act" \(Relu\): input "zz" is not defined anywhere$/);
  rejects(broken((g) => (g.outputs[0].name = 'q')), /^graph "g": output "q" is not produced by any node, input or initializer$/);
  rejects(broken((g) => (g.nodes[1].name = 'fc')), /two nodes are named "fc"/);
  rejects(broken((g) => (g.nodes[1].name = '')), /a Relu node has no name/);
});

test('ops, attributes and input/output counts are checked against the schema', () => {
  rejects(broken((g) => (g.nodes[1].op = 'Swish')), /^node "act" \(Swish\): unknown op Swish$/);
  rejects(broken((g) => (g.nodes[0].attrs.transC = 1)), /^node "fc" \(Gemm\): unknown attribute "transC" \(Gemm has alpha, beta, transA, transB\)$/);
  rejects(broken((g) => (g.nodes[0].attrs.transB = 0.5)), /^node "fc" \(Gemm\): attribute transB must be 0 or 1, got 0\.5$/);
  rejects(broken((g) => (g.nodes[0].attrs.transB = 2)), /^node "fc" \(Gemm\): attribute transB must be 0 or 1, got 2$/);
  rejects(broken((g) => (g.nodes[0].attrs.alpha = 'big')), /attribute alpha must be of kind float, got "big"/);
  rejects(broken((g) => (g.nodes[0].inputs = ['x'])), /^node "fc" \(Gemm\): has 1 inputs, Gemm takes 2 to 3$/);
  rejects(broken((g) => (g.nodes[0].inputs = ['x', '', 'b'])), /^node "fc" \(Gemm\): required input 1 is empty$/);
  rejects(broken((g) => (g.nodes[1].outputs = ['y', 'z'])), /^node "act" \(Relu\): has 2 outputs, Relu yields 1$/);
});

test('shapes must be consistent, and declared outputs must match inference', () => {
  rejects(broken((g) => g.initializers.set('w', f32([3, 5]))), /^node "fc" \(Gemm\): A \[1,4\] and B \[3,5\] disagree on K/);
  rejects(broken((g) => (g.outputs[0].shape = ['N', 4])), /output "y" is declared float32\[N,4\] but computes float32\[1,3\]/);
  rejects(broken((g) => (g.outputs[0].dtype = 'int64')), /output "y" is declared int64\[N,3\]/);
});
