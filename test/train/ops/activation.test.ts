import assert from 'node:assert/strict';
import { test } from 'node:test';
import { f32 } from '../../../src/ir/tensor.js';
import { Tape, TapeCtx, Var } from '../../../src/train/autograd.js';
import { tsBackend } from '../../../src/train/backend_ts.js';
import { trainOp } from '../../../src/train/ops/index.js';
import { Rng } from '../../../src/ir/random.js';
import { gradCheck, node, spreadValues } from '../gradcheck.js';

const consts = { lo: f32([], [0]), hi: f32([], [6]) };

function forward(op: string, inputs: string[], attrs: Record<string, number>, x: number[]): number[] {
  const tape = new Tape(new TapeCtx(tsBackend, new Rng(1)), false);
  const v = new Var('x', [x.length], Float32Array.from(x));
  const [y] = trainOp(op)!.build(node(op, inputs, attrs), [v], { tape, constant: (n) => consts[n as keyof typeof consts], buffer: () => new Float32Array(0) });
  tape.finalize();
  tape.forward();
  return [...y.data];
}

test('Relu, Clip (ReLU6) and LeakyRelu forward values', () => {
  const x = [-3, -0.5, 0, 0.5, 7];
  assert.deepEqual(forward('Relu', ['x'], {}, x), [0, 0, 0, 0.5, 7]);
  assert.deepEqual(forward('Clip', ['x', 'lo', 'hi'], {}, x), [0, 0, 0, 0.5, 6]);
  assert.deepEqual(forward('Clip', ['x', '', 'hi'], {}, x), [-3, -0.5, 0, 0.5, 6]);
  assert.deepEqual(forward('Clip', ['x'], { min: -1, max: 1 }, x), [-1, -0.5, 0, 0.5, 1]);
  const leaky = forward('LeakyRelu', ['x'], { alpha: 0.1 }, x);
  [-0.3, -0.05, 0, 0.5, 7].forEach((w, i) => assert.ok(Math.abs(leaky[i] - w) < 1e-6));
});

test('activation gradients match finite differences (values kept away from kinks)', () => {
  // Values on a 0.01 grid shifted by 0.005, eps 1e-3: no value crosses 0 or the clip bounds.
  const x = spreadValues(5 * 7 * 3, 4, 0.1).map((v) => v + 0.005);
  const shape = [5, 7, 3];
  for (const [op, inputs, attrs] of [['Relu', ['x'], {}], ['Clip', ['x', 'lo', 'hi'], {}], ['LeakyRelu', ['x'], { alpha: 0.2 }]] as const) {
    const r = gradCheck({ node: node(op, [...inputs], attrs), inputs: [{ name: 'x', shape, values: x.map((v) => v * 1.5) }], constants: consts, eps: 1e-3 });
    assert.ok(r.worst <= 1, `${op}: ${r.where}`);
  }
});

test('Clip with a non-constant bound is rejected', () => {
  const tape = new Tape(new TapeCtx(tsBackend, new Rng(1)), false);
  assert.throws(() => trainOp('Clip')!.build(node('Clip', ['x', 'm']), [new Var('x', [2])], { tape, constant: () => undefined, buffer: () => new Float32Array(0) }), /min "m" must be a constant scalar/);
});
