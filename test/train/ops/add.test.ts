import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tape, TapeCtx, Var } from '../../../src/train/autograd.js';
import { tsBackend } from '../../../src/train/backend_ts.js';
import { trainOp } from '../../../src/train/ops/index.js';
import { Rng } from '../../../src/ir/random.js';
import { gradCheck, node } from '../gradcheck.js';

const PAIRS: [number[], number[]][] = [
  [[2, 3, 4, 5], [2, 3, 4, 5]], // residual
  [[2, 3, 4, 5], [3, 1, 1]], // per-channel bias
  [[2, 3, 4, 5], [1, 3, 1, 1]],
  [[4, 7], [7]], // linear bias
  [[2, 1, 4, 1], [1, 3, 1, 5]], // both broadcast
  [[5], [2, 3, 5]],
];

test('Add broadcasts as numpy does', () => {
  const rng = new Rng(1);
  for (const [as, bs] of PAIRS) {
    const tape = new Tape(new TapeCtx(tsBackend, rng), false);
    const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
    const a = new Var('a', as, rng.fillUniform(new Float32Array(size(as)), -1, 1));
    const b = new Var('b', bs, rng.fillUniform(new Float32Array(size(bs)), -1, 1));
    const [y] = trainOp('Add')!.build(node('Add', ['a', 'b']), [a, b], { tape, constant: () => undefined, buffer: () => new Float32Array(0) });
    tape.finalize();
    tape.forward();
    const r = y.shape.length;
    const at = (v: Var, idx: number[]) => {
      const pad = r - v.shape.length;
      let off = 0;
      for (let i = 0; i < v.shape.length; i++) off = off * v.shape[i] + (v.shape[i] === 1 ? 0 : idx[pad + i]);
      return v.data[off];
    };
    for (let o = 0; o < y.size; o++) {
      const idx: number[] = [];
      let rest = o;
      for (let i = r - 1; i >= 0; i--) { idx[i] = rest % y.shape[i]; rest = Math.floor(rest / y.shape[i]); }
      assert.ok(Math.abs(y.data[o] - (at(a, idx) + at(b, idx))) < 1e-6, `[${as}] + [${bs}] at ${idx}`);
    }
  }
});

test('Add gradients sum over broadcast positions', () => {
  let seed = 1;
  for (const [as, bs] of PAIRS) {
    const r = gradCheck({ node: node('Add', ['a', 'b']), inputs: [{ name: 'a', shape: as }, { name: 'b', shape: bs }], eps: 0.1, seed: seed++ });
    assert.ok(r.worst <= 1, `[${as}] + [${bs}]: ${r.where}`);
  }
});

test('Add rejects shapes that do not broadcast', () => {
  const tape = new Tape(new TapeCtx(tsBackend, new Rng(1)), false);
  assert.throws(() => trainOp('Add')!.build(node('Add', ['a', 'b']), [new Var('a', [2, 3]), new Var('b', [4])], { tape, constant: () => undefined, buffer: () => new Float32Array(0) }), /add_test.*\[2,3\] and \[4\] cannot be broadcast/);
});
