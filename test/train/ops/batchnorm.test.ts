import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tape, TapeCtx, Var } from '../../../src/train/autograd.js';
import { tsBackend } from '../../../src/train/backend_ts.js';
import { trainOp } from '../../../src/train/ops/index.js';
import { Rng } from '../../../src/ir/random.js';
import { gradCheck, node } from '../gradcheck.js';

const C = 3;
const bn = () => node('BatchNormalization', ['x', 'g', 'b', 'm', 'v'], { epsilon: 1e-5, momentum: 0.9 });
const buffers = () => ({ m: Float32Array.from([0.1, -0.2, 0.3]), v: Float32Array.from([0.7, 1.2, 0.4]) });

test('BatchNorm train mode normalizes per channel and updates running stats as PyTorch does', () => {
  const rng = new Rng(2);
  const ctx = new TapeCtx(tsBackend, rng);
  const tape = new Tape(ctx, true);
  const [N, H, W] = [4, 2, 3];
  const x = new Var('x', [N, C, H, W], rng.fillUniform(new Float32Array(N * C * H * W), -2, 3));
  const g = new Var('g', [C], Float32Array.from([1, 2, 0.5]));
  const b = new Var('b', [C], Float32Array.from([0, 1, -1]));
  const bufs = buffers();
  const [y] = trainOp('BatchNormalization')!.build(bn(), [x, g, b], { tape, constant: () => undefined, buffer: (n) => bufs[n as 'm' | 'v'] });
  tape.finalize();
  tape.forward();
  const m = N * H * W;
  for (let c = 0; c < C; c++) {
    const vals: number[] = [];
    for (let n = 0; n < N; n++) for (let i = 0; i < H * W; i++) vals.push(x.data[(n * C + c) * H * W + i]);
    const mu = vals.reduce((s, v) => s + v, 0) / m;
    const vr = vals.reduce((s, v) => s + (v - mu) ** 2, 0) / m;
    for (let n = 0; n < N; n++) for (let i = 0; i < H * W; i++) {
      const k = (n * C + c) * H * W + i;
      const want = (g.data[c] * (x.data[k] - mu)) / Math.sqrt(vr + 1e-5) + b.data[c];
      assert.ok(Math.abs(y.data[k] - want) < 1e-5, `y[${k}] = ${y.data[k]}, want ${want}`);
    }
    const b0 = buffers();
    assert.ok(Math.abs(bufs.m[c] - (0.9 * b0.m[c] + 0.1 * mu)) < 1e-6, 'running mean');
    assert.ok(Math.abs(bufs.v[c] - (0.9 * b0.v[c] + 0.1 * (vr * m) / (m - 1))) < 1e-6, 'running var (unbiased)');
  }
  // Eval mode uses the running statistics and leaves them alone.
  ctx.training = false;
  const saved = bufs.m.slice();
  tape.forward();
  assert.deepEqual(bufs.m, saved);
  const k = 5, c = 1;
  assert.ok(Math.abs(y.data[k + c * H * W] - ((g.data[c] * (x.data[k + c * H * W] - bufs.m[c])) / Math.sqrt(bufs.v[c] + 1e-5) + b.data[c])) < 1e-5);
});

test('BatchNorm gradients (train and eval mode) match finite differences', () => {
  for (const training of [true, false]) {
    for (const xs of [[5, C, 3, 2], [7, C]]) {
      const r = gradCheck({ training, node: bn(), inputs: [{ name: 'x', shape: xs }, { name: 'g', shape: [C] }, { name: 'b', shape: [C] }, null, null], buffers: buffers(), eps: 1e-3, atol: 2e-4, rtol: 2e-3 });
      assert.ok(r.worst <= 1, `training=${training} [${xs}]: ${r.where}`);
    }
  }
});

test('BatchNorm rejects per-channel size mismatches', () => {
  const tape = new Tape(new TapeCtx(tsBackend, new Rng(1)), true);
  const bufs = buffers();
  assert.throws(
    () => trainOp('BatchNormalization')!.build(bn(), [new Var('x', [2, 4, 2, 2]), new Var('g', [4]), new Var('b', [4])], { tape, constant: () => undefined, buffer: (n) => bufs[n as 'm' | 'v'] }),
    /batchnormalization_test.*mean has 3 values, expected 4/,
  );
});
