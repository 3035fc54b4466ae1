import assert from 'node:assert/strict';
import { test } from 'node:test';
import { i64, type Tensor } from '../../../src/ir/tensor.js';
import type { Node } from '../../../src/ir/graph.js';
import { Tape, TapeCtx, Var } from '../../../src/train/autograd.js';
import { tsBackend } from '../../../src/train/backend_ts.js';
import { trainOp } from '../../../src/train/ops/index.js';
import { Rng } from '../../../src/ir/random.js';
import { gradCheck, node } from '../gradcheck.js';

function build(op: string, n: Node, inputs: Var[], consts: Record<string, Tensor> = {}): Var {
  const tape = new Tape(new TapeCtx(tsBackend, new Rng(1)), true);
  const [y] = trainOp(op)!.build(n, inputs, { tape, constant: (k) => consts[k], buffer: () => new Float32Array(0) });
  tape.finalize();
  tape.forward();
  return y;
}

test('Flatten and Reshape are zero-copy views with the right shapes', () => {
  const x = new Var('x', [2, 3, 4, 5], undefined, new Float32Array(120));
  assert.deepEqual(build('Flatten', node('Flatten', ['x']), [x]).shape, [2, 60]);
  assert.deepEqual(build('Flatten', node('Flatten', ['x'], { axis: 2 }), [x]).shape, [6, 20]);
  assert.deepEqual(build('Flatten', node('Flatten', ['x'], { axis: 0 }), [x]).shape, [1, 120]);
  const r = build('Reshape', node('Reshape', ['x', 's']), [x], { s: i64([3], [0, -1, 10]) });
  assert.deepEqual(r.shape, [2, 6, 10]);
  assert.equal(r.data, x.data);
  assert.equal(r.grad, x.grad);
  assert.deepEqual(build('Reshape', node('Reshape', ['x', 's'], { allowzero: 1 }), [x], { s: i64([2], [-1, 60]) }).shape, [2, 60]);
  assert.deepEqual(build('Identity', node('Identity', ['x']), [x]).shape, [2, 3, 4, 5]);
});

test('view ops pass gradients through unchanged (finite differences)', () => {
  const cases: [string, string[], Record<string, number>][] = [['Flatten', ['x'], { axis: 2 }], ['Reshape', ['x', 's'], {}], ['Identity', ['x'], {}]];
  for (const [op, inputs, attrs] of cases) {
    const r = gradCheck({ node: node(op, inputs, attrs), inputs: [{ name: 'x', shape: [2, 3, 4] }, null], constants: { s: i64([2], [4, -1]) }, eps: 0.1 });
    assert.ok(r.worst <= 1 && r.checked === 24, `${op}: ${r.where}`);
  }
});

test('Reshape errors name the node and say what to do', () => {
  const x = new Var('x', [2, 3]);
  assert.throws(() => build('Reshape', node('Reshape', ['x', 's']), [x], { s: i64([2], [4, 2]) }), /reshape_test.*cannot reshape \[2,3\].*must be -1/);
  assert.throws(() => build('Reshape', node('Reshape', ['x', 's']), [x], { s: i64([2], [-1, -1]) }), /more than one -1/);
  assert.throws(() => build('Reshape', node('Reshape', ['x', 'dyn']), [x]), /must be a constant initializer/);
  assert.throws(() => build('Flatten', node('Flatten', ['x'], { axis: 3 }), [x]), /out of range/);
});

test('Concat along channels and along the last axis: values and gradients', () => {
  const rng = new Rng(2);
  const a = new Var('a', [2, 2, 3], rng.fillUniform(new Float32Array(12), -1, 1));
  const b = new Var('b', [2, 1, 3], rng.fillUniform(new Float32Array(6), -1, 1));
  const y = build('Concat', node('Concat', ['a', 'b'], { axis: 1 }), [a, b]);
  assert.deepEqual(y.shape, [2, 3, 3]);
  assert.deepEqual([...y.data.subarray(0, 9)], [...a.data.subarray(0, 6), ...b.data.subarray(0, 3)]);
  assert.deepEqual([...y.data.subarray(9)], [...a.data.subarray(6), ...b.data.subarray(3)]);
  for (const [axis, shapes] of [[1, [[2, 3, 2, 2], [2, 1, 2, 2], [2, 2, 2, 2]]], [-1, [[3, 2], [3, 4]]]] as const) {
    const names = shapes.map((_, i) => `x${i}`);
    const r = gradCheck({ node: node('Concat', names, { axis }), inputs: shapes.map((s, i) => ({ name: names[i], shape: [...s] })), eps: 0.1 });
    assert.ok(r.worst <= 1, `axis ${axis}: ${r.where}`);
  }
  assert.throws(() => build('Concat', node('Concat', ['a', 'b'], { axis: 2 }), [a, b]), /differ outside axis 2/);
});
