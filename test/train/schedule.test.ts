import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../src/ir/errors.js';
import { makeSchedule } from '../../src/train/schedule.js';

const ctx = { lr: 0.1, totalSteps: 100, stepsPerEpoch: 10 };
const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

test('constant and step schedules', () => {
  const c = makeSchedule({ kind: 'constant' }, ctx);
  near(c(0), 0.1, 'constant 0');
  near(c(99), 0.1, 'constant 99');
  const s = makeSchedule({ kind: 'step', everyEpochs: 3, gamma: 0.5 }, ctx);
  near(s(29), 0.1, 'epoch 2');
  near(s(30), 0.05, 'epoch 3');
  near(s(65), 0.025, 'epoch 6');
});

test('cosine schedule with warm-up', () => {
  const s = makeSchedule({ kind: 'cosine', minLr: 0.01 }, ctx);
  near(s(0), 0.1, 'start');
  near(s(50), 0.055, 'middle');
  near(s(100), 0.01, 'end');
  const w = makeSchedule({ kind: 'cosine', warmupSteps: 10 }, ctx);
  near(w(0), 0.01, 'warm-up start');
  near(w(9), 0.1, 'warm-up end');
  near(w(10), 0.1, 'cosine start');
  near(w(55), 0.05, 'cosine middle');
});

test('one-cycle follows PyTorch OneCycleLR (cos annealing)', () => {
  const s = makeSchedule({ kind: 'one-cycle', maxLr: 1, pctStart: 0.25, divFactor: 25, finalDivFactor: 1e4 }, ctx);
  near(s(0), 1 / 25, 'initial = max/div');
  near(s(24), 1, 'peak at pct·T − 1');
  near(s(99), 1 / 25 / 1e4, 'final = initial/finalDiv');
  assert.ok(s(12) > 1 / 25 && s(12) < 1);
  assert.ok(s(60) < 1 && s(60) > s(80));
});

test('bad schedule options are NnzipErrors naming the option', () => {
  assert.throws(() => makeSchedule({ kind: 'constant' }, { ...ctx, lr: 0 }), (e: Error) => e instanceof NnzipError && /lr=0/.test(e.message));
  assert.throws(() => makeSchedule({ kind: 'one-cycle', maxLr: -1 }, ctx), /one-cycle maxLr=-1/);
  assert.throws(() => makeSchedule({ kind: 'step', everyEpochs: 0 }, ctx), /everyEpochs=0/);
  assert.throws(() => makeSchedule({ kind: 'cosine', minLr: 1 }, ctx), /minLr=1/);
  assert.throws(() => makeSchedule({ kind: 'one-cycle', pctStart: 1 }, ctx), /pctStart=1/);
});
