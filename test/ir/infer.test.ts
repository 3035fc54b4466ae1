// inferShapes: symbolic dims, constant propagation through shape arithmetic, op
// shape rules checked against hand-computed shapes, and errors that name the node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../src/ir/errors.js';
import { Graph, type AttrValue } from '../../src/ir/graph.js';
import { inferShapes } from '../../src/ir/infer.js';
import { Tensor, f32, fromNumbers, i64, toNumbers, type DType } from '../../src/ir/tensor.js';
import { GraphBuilder } from '../onnx/graph_builder.js';

/** Output shape of one node applied to inputs of the given shapes (inputs named a, b, c...). */
function shapeOf(op: string, shapes: number[][], attrs: Record<string, AttrValue> = {}, dtype: DType = 'float32'): number[] {
  const names = shapes.map((_, i) => String.fromCharCode(97 + i));
  const g = new Graph({
    inputs: shapes.map((shape, i) => ({ name: names[i], dtype, shape })),
    outputs: [],
    nodes: [{ name: 'n', op, inputs: names, outputs: ['y'], attrs }],
  });
  return inferShapes(g).get('y')!.shape;
}

function failsWith(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NnzipError, String(e));
    assert.match(e.message, re);
    return true;
  });
}

test('symbolic dims resolve from dims (default 1)', () => {
  const b = new GraphBuilder(1);
  const x = b.input('x', ['N', 3, 'H', 'W']);
  const y = b.op1('Conv', [x, b.weight('w', [8, 3, 3, 3])], { strides: [2, 2], pads: [1, 1, 1, 1] });
  const g = new Graph({ inputs: b.inputs, outputs: [], nodes: b.nodes, initializers: b.initializers });
  assert.deepEqual(inferShapes(g).get(y)!.shape, [1, 8, 1, 1]);
  assert.deepEqual(inferShapes(g, { N: 4, H: 32, W: 15 }).get(y)!.shape, [4, 8, 16, 8]);
  failsWith(() => inferShapes(g, { N: -1 }), /^dims: N=-1 must be a non-negative integer$/);
});

test('constant values propagate through Shape → Gather → Unsqueeze → Concat → Reshape', () => {
  const b = new GraphBuilder(1);
  const x = b.input('x', ['N', 3, 4]);
  const shp = b.op1('Shape', [x]);
  const n = b.op1('Unsqueeze', [b.op1('Gather', [shp, b.constant('zero', i64([], [0]))])], { axes: [0] });
  const target = b.op1('Concat', [n, b.constant('m1', i64([1], [-1]))], { axis: 0 });
  const y = b.op1('Reshape', [x, target]);
  const tail = b.op1('Shape', [x], { start: -2 });
  const g = new Graph({ inputs: b.inputs, outputs: [], nodes: b.nodes, initializers: b.initializers });
  const types = inferShapes(g, { N: 5 });
  assert.deepEqual(toNumbers(types.get(target)!.value!), [5, -1]);
  assert.deepEqual(types.get(y)!.shape, [5, 12]);
  assert.deepEqual(toNumbers(types.get(tail)!.value!), [3, 4]);
});

test('small constants fold: arithmetic with broadcasting, integer Div, Cast, Transpose, Split, Slice, Gather', () => {
  const b = new GraphBuilder(1);
  const a = b.constant('a', i64([2, 3], [1, 2, 3, -7, 8, 9]));
  const add = b.op1('Add', [a, b.constant('r', i64([3], [10, 20, 30]))]);
  const div = b.op1('Div', [a, b.constant('two', i64([], [2]))]);
  const cast = b.op1('Cast', [b.constant('f', f32([3], [1.7, -1.7, 0]))], { to: 7 });
  const tr = b.op1('Transpose', [a], { perm: [1, 0] });
  const [s0, s1] = b.op('Split', [a], { axis: 1, split: [1, 2] }, 2);
  const sl = b.op1('Slice', [a, b.constant('st', i64([1], [-1])), b.constant('en', i64([1], [-100])), b.constant('ax', i64([1], [1])), b.constant('sp', i64([1], [-2]))]);
  const ga = b.op1('Gather', [a, b.constant('gi', i64([2], [-1, 0]))], { axis: 1 });
  const bool = b.op1('Cast', [b.constant('f2', f32([3], [0, 2, -0.5]))], { to: 9 });
  const g = new Graph({ inputs: [], outputs: [], nodes: b.nodes, initializers: b.initializers });
  const t = inferShapes(g);
  const v = (name: string) => toNumbers(t.get(name)!.value!);
  assert.deepEqual(v(add), [11, 22, 33, 3, 28, 39]);
  assert.deepEqual(v(div), [0, 1, 1, -3, 4, 4]);
  assert.deepEqual(v(cast), [1, -1, 0]);
  assert.deepEqual(v(tr), [1, -7, 2, 8, 3, 9]);
  assert.deepEqual(t.get(tr)!.shape, [3, 2]);
  assert.deepEqual([v(s0), v(s1)], [[1, -7], [2, 3, 8, 9]]);
  assert.deepEqual(v(sl), [3, 1, 9, -7]);
  assert.deepEqual(v(ga), [3, 1, 9, -7]);
  assert.equal(t.get(bool)!.dtype, 'bool');
  assert.deepEqual(v(bool), [0, 1, 1]);
});

test('shape rules of MatMul, Gemm, broadcasting, Flatten, ReduceMean, Squeeze, Concat, Split, Gather', () => {
  assert.deepEqual(shapeOf('MatMul', [[2, 1, 3, 4], [5, 4, 6]]), [2, 5, 3, 6]);
  assert.deepEqual(shapeOf('MatMul', [[4], [4, 6]]), [6]);
  assert.deepEqual(shapeOf('MatMul', [[3, 4], [4]]), [3]);
  assert.deepEqual(shapeOf('Gemm', [[4, 3], [5, 4], [5]], { transA: 1, transB: 1 }), [3, 5]);
  assert.deepEqual(shapeOf('Add', [[2, 1, 4], [3, 1]]), [2, 3, 4]);
  assert.deepEqual(shapeOf('Flatten', [[2, 3, 4]], { axis: 0 }), [1, 24]);
  assert.deepEqual(shapeOf('Flatten', [[2, 3, 4]], { axis: -1 }), [6, 4]);
  assert.deepEqual(shapeOf('ReduceMean', [[2, 3, 4]], { axes: [0, -1] }), [1, 3, 1]);
  assert.deepEqual(shapeOf('ReduceMean', [[2, 3, 4]], { keepdims: 0 }), []);
  assert.deepEqual(shapeOf('ReduceMean', [[2, 3, 4]], { noop_with_empty_axes: 1 }), [2, 3, 4]);
  assert.deepEqual(shapeOf('Squeeze', [[1, 3, 1, 2]]), [3, 2]);
  assert.deepEqual(shapeOf('Unsqueeze', [[3, 2]], { axes: [0, -1] }), [1, 3, 2, 1]);
  assert.deepEqual(shapeOf('Concat', [[2, 3], [2, 5], [2, 1]], { axis: -1 }), [2, 9]);
  assert.deepEqual(shapeOf('GlobalAveragePool', [[2, 3, 7, 7]]), [2, 3, 1, 1]);
  assert.deepEqual(shapeOf('Transpose', [[2, 3, 4]]), [4, 3, 2]);
  assert.deepEqual(shapeOf('QuantizeLinear', [[2, 3], [3]], { axis: 1 }), [2, 3]);
});

test('quantize ops: output types come from the zero point and the scale', () => {
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }],
    outputs: [],
    nodes: [
      { name: 'q', op: 'QuantizeLinear', inputs: ['x', 's'], outputs: ['q'], attrs: {} },
      { name: 'q8', op: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['q8'], attrs: {} },
      { name: 'dq', op: 'DequantizeLinear', inputs: ['q8', 's', 'z'], outputs: ['dq'], attrs: {} },
    ],
    initializers: new Map<string, Tensor>([['s', f32([], [0.1])], ['z', fromNumbers('int8', [], [0])]]),
  });
  const t = inferShapes(g);
  assert.equal(t.get('q')!.dtype, 'uint8');
  assert.equal(t.get('q8')!.dtype, 'int8');
  assert.equal(t.get('dq')!.dtype, 'float32');
});

test('errors name the node and say what is wrong', () => {
  failsWith(() => shapeOf('Conv', [[1, 64, 8, 8], [6, 21, 3, 3]], { group: 3 }), /^node "n" \(Conv\): group=3 does not divide 64 input channels$/);
  failsWith(() => shapeOf('Conv', [[1, 6, 8, 8], [4, 3, 3, 3]]), /weight \[4,3,3,3\] expects 3 input channels .* input has 6/);
  failsWith(() => shapeOf('Conv', [[1, 3, 2, 2], [4, 3, 3, 3]]), /spatial dim 0 of size 2 is too small for a window of 3/);
  failsWith(() => shapeOf('Conv', [[1, 3, 8, 8], [4, 3, 3, 3]], { strides: [1] }), /strides has 1 values, expected 2/);
  failsWith(() => shapeOf('Gemm', [[2, 3], [4, 5]]), /A \[2,3\] and B \[4,5\] disagree on K \(3 vs 4; check transA\/transB\)/);
  failsWith(() => shapeOf('Add', [[2, 3], [4]]), /shapes \[2,3\] and \[4\] cannot be broadcast together/);
  failsWith(() => shapeOf('MatMul', [[2, 3], [4, 5]]), /disagree on K \(3 vs 4\)/);
  failsWith(() => shapeOf('Concat', [[2, 3], [3, 3]], { axis: 1 }), /input 1 \[3,3\] does not match input 0 \[2,3\] outside axis 1/);
  failsWith(() => shapeOf('Squeeze', [[2, 3]], { axes: [0] }), /cannot squeeze axis 0 of \[2,3\]: its size is not 1/);
  failsWith(() => shapeOf('Softmax', [[2, 3]], { axis: 2 }), /axis=2 is out of range for a rank-2 tensor \(use -2\.\.1\)/);
  failsWith(() => shapeOf('Split', [[2, 7]], { axis: 1, split: [3] }), /split \[3\] must be ≥ 0 and sum to the axis size 7/);
  failsWith(() => shapeOf('MaxPool', [[1, 1, 4, 4]]), /kernel_shape attribute is required/);
  failsWith(() => shapeOf('Cast', [[2]], { to: 10 }), /to=10 is not a data type nnzip supports/);
  failsWith(() => shapeOf('QuantizeLinear', [[2, 3], [4]], { axis: 1 }), /per-axis scale has 4 values but axis 1 of \[2,3\] has 3/);
  failsWith(() => shapeOf('BatchNormalization', [[1, 2, 3], [2], [2], [2], [2]], { training_mode: 1 }), /training_mode=1 is not supported/);
  failsWith(() => shapeOf('Gather', [[2, 3], [1]], { axis: 0 }, 'float32'), /indices must be int32 or int64/);
  failsWith(() => shapeOf('Nope', [[2]]), /^node "n" \(Nope\): unknown op Nope$/);
});

test('Split without sizes needs equal parts', () => {
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 7] }],
    outputs: [],
    nodes: [{ name: 'sp', op: 'Split', inputs: ['x'], outputs: ['a', 'b'], attrs: { axis: 1 } }],
  });
  failsWith(() => inferShapes(g), /^node "sp" \(Split\): axis size 7 does not split into 2 equal parts; give split sizes$/);
});

test('Reshape: 0 copies a dim, -1 is inferred, allowzero keeps a literal 0, bad targets are refused', () => {
  const reshape = (x: number[], target: number[], allowzero = 0) => {
    const g = new Graph({
      inputs: [{ name: 'x', dtype: 'float32', shape: x }],
      outputs: [],
      nodes: [{ name: 'r', op: 'Reshape', inputs: ['x', 's'], outputs: ['y'], attrs: { allowzero } }],
      initializers: new Map([['s', i64([target.length], target)]]),
    });
    return inferShapes(g).get('y')!.shape;
  };
  assert.deepEqual(reshape([2, 3, 4], [0, -1]), [2, 12]);
  assert.deepEqual(reshape([2, 0, 4], [0, 4, 0], 1), [0, 4, 0]);
  assert.deepEqual(reshape([2, 3, 4], [4, 0, -1]), [4, 3, 2]);
  failsWith(() => reshape([2, 3, 4], [-1, -1]), /has more than one -1/);
  failsWith(() => reshape([2, 3, 4], [5, -1]), /cannot reshape \[2,3,4\] to \[5,-1\]/);
  failsWith(() => reshape([2, 3, 4], [2, 3, 5]), /cannot reshape \[2,3,4\] \(24 values\) to \[2,3,5\]/);
});
