import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../src/ir/errors.js';
import { Param } from '../../src/train/autograd.js';
import { Adam, makeOptimizer, Sgd, type OptimizerSpec } from '../../src/train/optim.js';
import { Rng } from '../../src/ir/random.js';

function param(values: number[]): Param {
  return new Param('w', [values.length], Float32Array.from(values));
}

/** Both update paths: WASM SIMD and the JS loops. */
const PATHS = [true, false];

function steps(spec: OptimizerSpec, grads: number[], lr = spec.lr): number[] {
  const p = param([1]);
  const opt = makeOptimizer(spec);
  return grads.map((g) => {
    p.grad[0] = g;
    opt.step([p], lr);
    return p.master[0];
  });
}

const close = (got: number[], want: number[]) => got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-6, `step ${i + 1}: ${g} vs ${want[i]}`));

test('SGD, momentum, Nesterov and weight decay follow PyTorch (hand-computed, SIMD and JS)', () => {
  for (const simd of PATHS) {
    close(steps({ kind: 'sgd', lr: 0.1, simd }, [0.5, 0.5]), [0.95, 0.9]);
    // buf1 = 0.5 → w 0.95; buf2 = 0.9·0.5 + 0.5 = 0.95 → w 0.855
    close(steps({ kind: 'sgd', lr: 0.1, momentum: 0.9, simd }, [0.5, 0.5]), [0.95, 0.855]);
    // nesterov: step = g + μ·buf: 0.5 + 0.45 = 0.95 → 0.905; buf2 0.95, step 0.5 + 0.855 = 1.355 → 0.7695
    close(steps({ kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, simd }, [0.5, 0.5]), [0.905, 0.7695]);
    // weight decay: g = 0.5 + 0.1·1 = 0.6 → 0.94; dampening 0.5 from the second step: buf2 = 0.9·0.6 + 0.5·0.594
    close(steps({ kind: 'sgd', lr: 0.1, weightDecay: 0.1, simd }, [0.5]), [0.94]);
    close(steps({ kind: 'sgd', lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.1, simd }, [0.5, 0.5]), [0.94, 0.94 - 0.1 * (0.9 * 0.6 + 0.5 * (0.5 + 0.094))]);
  }
});

test('Adam and AdamW follow PyTorch (reference loop, 5 steps, SIMD and JS)', () => {
  // Step 1 of Adam moves by lr·sign(g) (bias-corrected m/√v = g/|g|).
  close(steps({ kind: 'adam', lr: 0.1 }, [0.5]), [0.9]);
  for (const [decoupled, simd] of [[false, true], [true, true], [false, false], [true, false]]) {
    const grads = [0.5, -0.2, 0.3, 0.1, -0.4];
    const [lr, b1, b2, eps, wd] = [0.01, 0.9, 0.999, 1e-8, 0.1];
    let w = 1, m = 0, v = 0;
    const want = grads.map((g0, t) => {
      if (decoupled) w -= lr * wd * w;
      const g = decoupled ? g0 : g0 + wd * w;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      w -= (lr * (m / (1 - b1 ** (t + 1)))) / (Math.sqrt(v / (1 - b2 ** (t + 1))) + eps);
      return w;
    });
    close(steps({ kind: 'adam', lr, weightDecay: wd, decoupled, simd }, grads), want);
  }
});

test('optimizers minimise a quadratic and skip frozen parameters', () => {
  const rng = new Rng(4);
  const target = rng.fillUniform(new Float32Array(20), -2, 2);
  for (const opt of [new Sgd({ lr: 0.1, momentum: 0.9 }), new Adam({ lr: 0.05 }), new Sgd({ lr: 0.1, momentum: 0.9, simd: false }), new Adam({ lr: 0.05, simd: false })]) {
    const p = param(new Array(20).fill(0));
    const frozen = param([3]);
    frozen.trainable = false;
    for (let s = 0; s < 300; s++) {
      for (let i = 0; i < 20; i++) p.grad[i] = p.master[i] - target[i];
      frozen.grad[0] = 1;
      opt.step([p, frozen], 0.1);
    }
    for (let i = 0; i < 20; i++) assert.ok(Math.abs(p.master[i] - target[i]) < 1e-2, `${opt.name}: w[${i}] = ${p.master[i]} vs ${target[i]}`);
    assert.equal(frozen.master[0], 3);
  }
});

test('the SIMD and JS updates agree on odd-sized tensors', () => {
  const specs: OptimizerSpec[] = [
    { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
    { kind: 'sgd', lr: 0.05, momentum: 0.8, dampening: 0.3 },
    { kind: 'adam', lr: 0.01, weightDecay: 0.01, decoupled: true },
    { kind: 'adam', lr: 0.01, weightDecay: 0.01 },
  ];
  for (const spec of specs) {
    const run = (simd: boolean) => {
      const rng = new Rng(8);
      const ps = [1, 3, 1003].map((n) => new Param(`p${n}`, [n], rng.fillUniform(new Float32Array(n), -1, 1)));
      const opt = makeOptimizer({ ...spec, simd });
      for (let s = 0; s < 10; s++) {
        for (const p of ps) rng.fillUniform(p.grad, -1, 1);
        opt.step(ps, spec.lr);
      }
      return ps.map((p) => p.master);
    };
    const [a, b] = [run(true), run(false)];
    a.forEach((w, k) => w.forEach((v, i) => assert.ok(Math.abs(v - b[k][i]) < 1e-5, `${spec.kind}: param ${k}[${i}] ${v} vs ${b[k][i]}`)));
  }
});

test('a learning rate ≤ 0 (or another bad option) is an NnzipError naming the option', () => {
  assert.throws(() => makeOptimizer({ kind: 'sgd', lr: 0 }), (e: Error) => e instanceof NnzipError && /sgd lr=0.*> 0/.test(e.message));
  assert.throws(() => makeOptimizer({ kind: 'adam', lr: -1e-3 }), /adam lr=-0.001/);
  assert.throws(() => makeOptimizer({ kind: 'adam', lr: NaN, decoupled: true }), /adamw lr=NaN/);
  assert.throws(() => makeOptimizer({ kind: 'sgd', lr: 0.1, momentum: 1.5 }), /sgd momentum=1.5/);
  assert.throws(() => makeOptimizer({ kind: 'sgd', lr: 0.1, nesterov: true }), /nesterov=true needs momentum/);
  assert.throws(() => makeOptimizer({ kind: 'adam', lr: 0.1, beta2: 1 }), /adam beta2=1/);
  assert.throws(() => makeOptimizer({ kind: 'rmsprop', lr: 0.1 } as unknown as OptimizerSpec), /optimizer "rmsprop" is unknown/);
});
