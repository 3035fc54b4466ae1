import assert from 'node:assert/strict';
import { test } from 'node:test';
import { f32 } from '../../../src/ir/tensor.js';
import { Tape, TapeCtx, Var } from '../../../src/train/autograd.js';
import { tsBackend } from '../../../src/train/backend_ts.js';
import { trainOp } from '../../../src/train/ops/index.js';
import { Rng } from '../../../src/ir/random.js';
import { node } from '../gradcheck.js';

function setup(seed: number, ratioInput = false) {
  const ctx = new TapeCtx(tsBackend, new Rng(seed));
  const tape = new Tape(ctx, true);
  const x = new Var('x', [100, 50], new Rng(9).fillUniform(new Float32Array(5000), 0.5, 1.5), new Float32Array(5000));
  const n = ratioInput ? node('Dropout', ['x', 'r']) : node('Dropout', ['x'], { ratio: 0.3 });
  const [y] = trainOp('Dropout')!.build(n, [x], { tape, constant: () => f32([], [0.3]), buffer: () => new Float32Array(0) });
  tape.finalize();
  return { ctx, tape, x, y };
}

test('Dropout drops about `ratio` of the values, scales the rest, and is seeded', () => {
  const { tape, x, y } = setup(5);
  tape.forward();
  let zeros = 0;
  for (let i = 0; i < y.size; i++) {
    if (y.data[i] === 0) zeros++;
    else assert.ok(Math.abs(y.data[i] - x.data[i] / 0.7) < 1e-5);
  }
  assert.ok(Math.abs(zeros / y.size - 0.3) < 0.03, `dropped ${zeros / y.size}`);
  const again = setup(5, true);
  again.tape.forward();
  assert.deepEqual(again.y.data, y.data, 'same seed (attr or input ratio) → same mask');
});

test('Dropout backward uses the forward mask; eval mode is the identity', () => {
  const { ctx, tape, x, y } = setup(6);
  tape.forward();
  tape.zeroGrads();
  y.grad!.fill(1);
  x.grad!.fill(0);
  tape.backward();
  for (let i = 0; i < x.size; i++) assert.ok(Math.abs(x.grad![i] - y.data[i] / x.data[i]) < 1e-5);
  ctx.training = false;
  tape.forward();
  assert.deepEqual(y.data, x.data);
});

test('Dropout ratio outside [0, 1) is rejected', () => {
  const tape = new Tape(new TapeCtx(tsBackend, new Rng(1)), true);
  assert.throws(() => trainOp('Dropout')!.build(node('Dropout', ['x'], { ratio: 1 }), [new Var('x', [2])], { tape, constant: () => undefined, buffer: () => new Float32Array(0) }), /dropout_test.*ratio=1 must be in \[0, 1\)/);
});
