// Knowledge distillation (train/loss.ts, loop.ts, compress/finetune.ts):
// loss = (1 − α)·CE + α·T²·KL(softmax(t/T) ‖ softmax(z/T)), its gradient against
// float64 finite differences, bad settings refused, training deterministic.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compressGraph } from '../../src/compress/pipeline.js';
import { PATTERN, parseRecipe } from '../../src/compress/recipe.js';
import { NnzipError } from '../../src/ir/errors.js';
import type { Graph } from '../../src/ir/graph.js';
import { Rng } from '../../src/ir/random.js';
import { Var } from '../../src/train/autograd.js';
import { modelFromGraph } from '../../src/train/from_graph.js';
import { train } from '../../src/train/loop.js';
import { SoftmaxCrossEntropy } from '../../src/train/loss.js';
import { tinyData, tinyGraph } from './tiny.js';

/** The plain float64 reference: mean over rows of (1 − α)·CE + α·T²·Σ p_t·(log p_t − log q_s). */
function refLoss(z: ArrayLike<number>, t: ArrayLike<number>, labels: number[], C: number, alpha: number, T: number): number {
  const logSoftmax = (v: ArrayLike<number>, o: number, s: number) => {
    const row = Array.from({ length: C }, (_, j) => v[o + j] / s);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
    return row.map((x) => x - lse);
  };
  let total = 0;
  labels.forEach((l, r) => {
    const ce = -logSoftmax(z, r * C, 1)[l];
    const lt = logSoftmax(t, r * C, T), ls = logSoftmax(z, r * C, T);
    let kl = 0;
    for (let j = 0; j < C; j++) kl += Math.exp(lt[j]) * (lt[j] - ls[j]);
    total += (1 - alpha) * ce + alpha * T * T * kl;
  });
  return total / labels.length;
}

const isError = (re: RegExp) => (e: unknown) => e instanceof NnzipError && re.test((e as Error).message);

for (const [alpha, T] of [[0.5, 4], [0.9, 1], [1, 2.5], [0.3, 0.5]]) {
  test(`distillation α ${alpha} T ${T}: value and gradient vs float64 finite differences`, () => {
    const B = 5, C = 6;
    const rng = new Rng(7);
    const z = new Var('z', [B, C], rng.fillUniform(new Float32Array(B * C), -4, 4), new Float32Array(B * C));
    const teacher = rng.fillUniform(new Float32Array(B * C), -6, 6);
    const labels = [0, 5, 2, 2, 4];
    const loss = new SoftmaxCrossEntropy(z);
    loss.setLabels(labels);
    loss.setTeacher(teacher, alpha, T);
    const value = loss.forward();
    assert.ok(Math.abs(value - refLoss(z.data, teacher, labels, C, alpha, T)) < 1e-5, `${value} vs ${refLoss(z.data, teacher, labels, C, alpha, T)}`);
    loss.backward();
    const f64 = Float64Array.from(z.data);
    for (let i = 0; i < B * C; i++) {
      const eps = 1e-4;
      const at = (d: number) => { const v = f64.slice(); v[i] += d; return refLoss(v, teacher, labels, C, alpha, T); };
      const num = (at(eps) - at(-eps)) / (2 * eps);
      assert.ok(Math.abs(num - z.grad![i]) < 2e-5, `dz[${i}]: ${z.grad![i]} vs ${num}`);
    }
  });
}

test('α = 0 is plain cross-entropy; a student equal to its teacher at α = 1 has loss 0 and gradient 0; null turns it off', () => {
  const B = 4, C = 5;
  const rng = new Rng(2);
  const data = rng.fillUniform(new Float32Array(B * C), -3, 3);
  const labels = [1, 0, 4, 3];
  const run = (teacher: Float32Array | null, alpha: number, T: number) => {
    const z = new Var('z', [B, C], data.slice(), new Float32Array(B * C));
    const l = new SoftmaxCrossEntropy(z);
    l.setLabels(labels);
    l.setTeacher(teacher, alpha, T);
    const v = l.forward();
    l.backward();
    return { v, g: z.grad! };
  };
  const plain = run(null, 0, 1);
  const a0 = run(rng.fillUniform(new Float32Array(B * C), -3, 3), 0, 3);
  assert.ok(Math.abs(plain.v - a0.v) < 1e-7);
  a0.g.forEach((g, i) => assert.ok(Math.abs(g - plain.g[i]) < 1e-7));
  const same = run(data.slice(), 1, 2);
  assert.ok(Math.abs(same.v) < 1e-6);
  same.g.forEach((g) => assert.ok(Math.abs(g) < 1e-7));
});

test('bad distillation settings: α outside [0, 1], T ≤ 0 — one clear error (loss, trainer, recipe)', () => {
  const z = new Var('z', [2, 3], new Float32Array(6), new Float32Array(6));
  const l = new SoftmaxCrossEntropy(z);
  for (const [a, T, re] of [[-0.1, 4, /alpha -0.1 must be a number in \[0, 1\]/], [1.5, 4, /alpha 1.5/], [NaN, 4, /alpha/],
    [0.5, 0, /temperature 0 must be a number > 0/], [0.5, -2, /temperature -2/], [0.5, Infinity, /temperature/]] as const) {
    assert.throws(() => l.setTeacher(new Float32Array(6), a, T), isError(re));
  }
  l.setLabels([0, 1]);
  l.setTeacher(new Float32Array(3), 0.5, 2);
  assert.throws(() => l.forward(), isError(/teacher gave 3 logits for 2 rows of 3 classes/));
  const m = modelFromGraph(tinyGraph(1), { seed: 1 });
  assert.throws(() => train(m, { train: tinyData(8, 1) }, { epochs: 1, distill: { teacher: m, alpha: 2, temperature: 1 } }), isError(/distill: alpha 2/));
  assert.throws(() => parseRecipe({ train: { distill: { alpha: 1.2 } } }, 'r.yaml'), isError(/r.yaml: train.distill: alpha 1.2/));
  assert.throws(() => parseRecipe({ train: { distill: { temperature: 0 } } }, 'r.yaml'), isError(/temperature 0/));
  assert.throws(() => parseRecipe({ train: { distill: { alpha: 0.5, temp: 2 } } }, 'r.yaml'), isError(/train.distill.temp is not/));
  assert.throws(() => parseRecipe({ train: { batchnorm: 'yes' } }, 'r.yaml'), isError(/train.batchnorm "yes" must be refold or off/));
  assert.deepEqual(parseRecipe({ train: { distill: { alpha: 0.7 } } }, 'r.yaml').train.distill, { alpha: 0.7, temperature: 4 });
  assert.equal(parseRecipe({ train: { distill: null } }, 'r.yaml').train.distill, undefined);
});

test('training with a teacher: deterministic, the teacher unchanged, the student learns', () => {
  const data = { train: tinyData(128, 1), test: tinyData(64, 2) };
  const teacher = modelFromGraph(tinyGraph(5), { seed: 1 });
  train(teacher, data, { epochs: 3, batchSize: 16, seed: 1, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 } });
  const before = teacher.param('conv1.weight').master.slice();
  const run = () => {
    const s = modelFromGraph(tinyGraph(1), { seed: 1 });
    const r = train(s, data, { epochs: 3, batchSize: 16, seed: 4, augment: { shift: 1 }, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 }, distill: { teacher, alpha: 0.7, temperature: 3 } });
    return { r, w: s.param('fc1.weight').master.slice() };
  };
  const a = run(), b = run();
  assert.deepEqual(a.w, b.w);
  assert.deepEqual(teacher.param('conv1.weight').master, before);
  assert.ok(a.r.testAccuracy! > 0.5, `accuracy ${a.r.testAccuracy}`);
});

test('compress with train.distill: the pipeline distils from the input model (pattern stage, refold too)', () => {
  const data = { train: tinyData(128, 1), test: tinyData(32, 2) };
  const recipe = (distill: boolean) => parseRecipe({
    pattern: { patterns: 4, connectivity: 1, admm: null, epochs: 1, minChannels: 1 },
    train: { ...(distill ? { distill: { alpha: 0.5, temperature: 2 } } : {}), batchnorm: 'refold' },
  }, 'test', PATTERN);
  /** Every weight and bias of the compressed graph, in order. */
  const run = (distill: boolean, teacher?: Graph) => {
    const out = compressGraph(tinyGraph(1), { recipe: recipe(distill), data, seed: 1, maxStepsPerEpoch: 3, teacher });
    assert.equal(out.compressed.formats.get('conv1.weight')?.kind, 'pattern');
    assert.ok(out.stages[0].accuracy !== undefined);
    return [...out.compressed.initializers.values()].map((t) => [...(t.data as Float32Array)]);
  };
  const distilled = run(true);
  assert.deepEqual(run(true, tinyGraph(1)), distilled, 'the teacher is the input model: given explicitly, the same weights');
  assert.notDeepEqual(run(true, tinyGraph(5)), distilled, 'another teacher: other weights');
  assert.notDeepEqual(run(false), distilled, 'without distillation: other weights');
});
