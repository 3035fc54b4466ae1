import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agpSparsity, AgpOptions, densityOf, isAgpPruningStep, stagedSparsity } from '../../../src/compress/prune/schedule.js';
import { NnzipError } from '../../../src/ir/errors.js';

const AGP: AgpOptions = { initialSparsity: 0, finalSparsity: 0.9, startStep: 100, steps: 10, frequency: 50 };

test('AGP follows s_f + (s_i − s_f)(1 − (t − t0)/(nΔt))³ at pruning steps', () => {
  for (let i = 0; i <= AGP.steps; i++) {
    const t = AGP.startStep + i * AGP.frequency;
    const want = 0.9 + (0 - 0.9) * (1 - (t - 100) / (10 * 50)) ** 3;
    assert.ok(Math.abs(agpSparsity(t, AGP) - want) < 1e-12, `step ${t}`);
    assert.ok(isAgpPruningStep(t, AGP));
  }
  assert.equal(agpSparsity(100, AGP), 0);
  assert.equal(agpSparsity(600, AGP), 0.9);
});

test('AGP holds between pruning steps, s_i before t0 and s_f after the end; it never decreases', () => {
  assert.equal(agpSparsity(0, AGP), 0);
  assert.equal(agpSparsity(99, AGP), 0);
  assert.equal(agpSparsity(149, AGP), agpSparsity(100, AGP));
  assert.equal(agpSparsity(199, AGP), agpSparsity(150, AGP));
  assert.equal(agpSparsity(10000, AGP), 0.9);
  assert.ok(!isAgpPruningStep(125, AGP) && !isAgpPruningStep(650, AGP) && !isAgpPruningStep(50, AGP));
  let prev = -1;
  for (let t = 0; t <= 700; t++) {
    const s = agpSparsity(t, AGP);
    assert.ok(s >= prev);
    prev = s;
  }
  const withStart = { ...AGP, initialSparsity: 0.5 };
  assert.equal(agpSparsity(0, withStart), 0.5);
  assert.ok(Math.abs(densityOf(agpSparsity(600, AGP)) - 0.1) < 1e-12);
});

test('staged schedules hold each stage until the next', () => {
  const stages = [{ step: 0, sparsity: 0.5 }, { step: 1000, sparsity: 0.75 }, { step: 2000, sparsity: 0.92 }];
  assert.deepEqual([0, 999, 1000, 1999, 2000, 9999].map((t) => stagedSparsity(t, stages)), [0.5, 0.5, 0.75, 0.75, 0.92, 0.92]);
  assert.equal(stagedSparsity(5, [{ step: 10, sparsity: 0.5 }]), 0);
  assert.equal(stagedSparsity(5, []), 0);
});

test('bad schedules are NnzipErrors naming the option', () => {
  assert.throws(() => agpSparsity(0, { ...AGP, finalSparsity: 1 }), (e: unknown) => e instanceof NnzipError && /option finalSparsity=1 is outside \[0, 1\)/.test(e.message));
  assert.throws(() => agpSparsity(0, { ...AGP, initialSparsity: -0.1 }), /initialSparsity=-0.1/);
  assert.throws(() => agpSparsity(0, { ...AGP, steps: 0 }), /option steps=0 must be an integer ≥ 1/);
  assert.throws(() => agpSparsity(0, { ...AGP, frequency: 1.5 }), /frequency=1.5/);
  assert.throws(() => stagedSparsity(0, [{ step: 5, sparsity: 0.1 }, { step: 5, sparsity: 0.2 }]), /stages\[1\]\.step=5 must be after/);
  assert.throws(() => stagedSparsity(0, [{ step: 0, sparsity: 1.2 }]), /stages\[0\]\.sparsity=1.2/);
});
