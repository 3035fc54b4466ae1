// Compressed weights run as stored: a LeNet-300-100 pruned to 8% (graph.formats
// 'sparse') and the same with 5-bit shared weights ('codebook') must plan the
// sparse kernels (the cost model says so, and describe() says why) and match the
// reference runtime; kernels: 'dense' forces the dense path on the same model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelChoices } from '../../src/compile/describe.js';
import type { FcStep, ConvStep } from '../../src/compile/plan_types.js';
import type { CodebookFormat } from '../../src/ir/tensor_format.js';
import type { Graph } from '../../src/ir/graph.js';
import { Rng } from '../../src/ir/random.js';
import { f32, type Tensor } from '../../src/ir/tensor.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { runReference } from '../../src/runtime/reference.js';
import { GraphBuilder } from '../onnx/graph_builder.js';
import { compareOutputs } from './helpers.js';
import { checkAgainstReference } from './helpers.js';
import { Session } from '../../src/runtime/session.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Zeroes all but the `keep` fraction of largest-magnitude weights (in place). */
function prune(w: Float32Array, keep: number): void {
  const mags = Float32Array.from(w, Math.abs).sort();
  const cut = mags[Math.floor(mags.length * (1 - keep))];
  for (let i = 0; i < w.length; i++) if (Math.abs(w[i]) < cut) w[i] = 0;
}

/** 2^bits centroids spread over the kept weights, each weight snapped to the nearest; index k marks a pruned zero. */
function share(w: Float32Array, bits: number): CodebookFormat {
  const k = 2 ** bits;
  let lo = Infinity, hi = -Infinity;
  for (const v of w) if (v !== 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const centroids = Float32Array.from({ length: k }, (_, i) => lo + ((hi - lo) * i) / (k - 1));
  const indices = new Uint8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    if (w[i] === 0) { indices[i] = k; continue; }
    indices[i] = Math.round(((w[i] - lo) / (hi - lo)) * (k - 1));
    w[i] = centroids[indices[i]]; // the initializer holds the decoded values
  }
  return { kind: 'codebook', bits, centroids, indices };
}

function lenet300(compress: (g: Graph, name: string, w: Float32Array) => void): Graph {
  const g = loadOnnxFile(join(REPO, 'fixtures', 'models', 'lenet300_dense.onnx'));
  for (const name of ['fc1.weight', 'fc2.weight', 'fc3.weight']) {
    const w = (g.initializers.get(name)!.data as Float32Array).slice();
    g.initializers.set(name, f32(g.initializers.get(name)!.shape, w));
    prune(w, 0.08);
    compress(g, name, w);
  }
  return g;
}

/** MNIST-like inputs: most pixels 0 (the batch-1 CSC kernel skips them), the rest in (0, 1). */
function digits(batch: number, seed: number): Record<string, Tensor> {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: batch * 784 }, () => (rng.next() < 0.8 ? 0 : rng.uniform(0.05, 1)));
  return { input: f32([batch, 1, 28, 28], x) };
}

function fcSteps(s: Session): FcStep[] {
  return s.plan.steps.filter((st): st is FcStep => st.kind === 'fc');
}

async function checkLenet(g: Graph, label: string): Promise<void> {
  const s = await checkAgainstReference(g, [1, 3, 64], label, {}, 1e-4);
  for (const batch of [1, 7]) {
    const feeds = digits(batch, batch);
    compareOutputs(s.run(feeds), runReference(g, feeds), `${label} digits batch ${batch}`, 1e-4);
  }
  await s.dispose();
}

test('pruned LeNet-300-100 (8%, sparse format) plans the sparse kernels, says why, and matches the reference', async () => {
  const g = lenet300((g, name) => g.formats.set(name, { kind: 'sparse' }));
  const s = await Session.create(g);
  const fc = fcSteps(s);
  assert.deepEqual(fc.map((st) => st.impl), ['sparse-auto', 'sparse-auto', 'csr']); // 100→10: csc never wins
  const choices = kernelChoices(s.plan);
  assert.match(choices[0], /^node_linear \(fc1\.weight\): sparse-auto \(sparse, density 8\.0%, est [\d.]+ µs vs dense [\d.]+ µs; csr or csc per call/);
  assert.match(s.describe(), /compressed layers:\n {2}node_linear \(fc1\.weight\): sparse-auto/);
  s.run(digits(64, 1));
  assert.deepEqual(fcSteps(s).map((st) => st.impl), ['csr', 'csr', 'csr'], 'batch 64 runs CSR × Xᵀ');
  await s.dispose();
  await checkLenet(g, 'pruned');
});

test('weight-shared LeNet-300-100 (8%, 5-bit codebook) runs the codebook kernels as stored', async () => {
  const g = lenet300((g, name, w) => g.formats.set(name, share(w, 5)));
  const s = await Session.create(g, { batch: 16 });
  const fc = fcSteps(s);
  assert.deepEqual(fc.map((st) => st.impl), ['csr', 'csr', 'csr']);
  assert.deepEqual(fc.map((st) => st.kernel), ['sparse fc (csr, codebook) + relu', 'sparse fc (csr, codebook) + relu', 'sparse fc (csr, codebook)']);
  assert.match(kernelChoices(s.plan)[0], /codebook 32 centroids, density 8\.0%/);
  await s.dispose();
  await checkLenet(g, 'codebook');
});

test("kernels: 'dense' runs the same pruned model on the dense GEMM and says it was forced", async () => {
  const g = lenet300((g, name) => g.formats.set(name, { kind: 'sparse' }));
  const s = await checkAgainstReference(g, [1, 3], 'forced dense', { kernels: 'dense' }, 1e-4);
  assert.deepEqual(fcSteps(s).map((st) => st.impl), ['dense', 'dense', 'dense']);
  assert.match(kernelChoices(s.plan)[0], /dense \(kernels: 'dense' forced \(sparse, density 8\.0%; csr est/);
  await s.dispose();
});

test('sparse and codebook convs (groups, pads, strides) and a codebook MatMul in the [K×N] layout', async () => {
  const b = new GraphBuilder(21);
  const x = b.input('x', ['N', 16, 12, 12]);
  const c1 = b.op1('Relu', [b.op1('Conv', [x, b.weight('w1', [32, 8, 3, 3]), b.weight('b1', [32])], { group: 2, pads: [1, 1, 1, 1] })]);
  const c2 = b.op1('Conv', [c1, b.weight('w2', [24, 32, 3, 3])], { strides: [2, 2], pads: [0, 1, 1, 0] });
  const c3 = b.op1('Conv', [c2, b.weight('w3', [20, 24, 1, 1])]);
  const m = b.op1('MatMul', [b.op1('Flatten', [c3]), b.weight('w4', [20 * 36, 48])]);
  const g = b.build([m], 17, 'N');
  for (const name of ['w1', 'w2', 'w3', 'w4']) prune(g.initializers.get(name)!.data as Float32Array, 0.05);
  g.formats.set('w1', { kind: 'sparse' });
  g.formats.set('w2', share(g.initializers.get('w2')!.data as Float32Array, 4));
  g.formats.set('w3', { kind: 'sparse' });
  g.formats.set('w4', share(g.initializers.get('w4')!.data as Float32Array, 6));
  const s = await checkAgainstReference(g, [1, 3], 'sparse convs', {}, 1e-4);
  const convs = s.plan.steps.filter((st): st is ConvStep => st.kind === 'conv');
  assert.deepEqual(convs.map((c) => c.impl), ['csr', 'csr', 'csr']);
  assert.equal(convs[1].kernel, 'sparse conv (csr, codebook)');
  const fc = fcSteps(s)[0];
  assert.notEqual(fc.impl, 'dense');
  assert.match(fc.kernel, /codebook/);
  await s.dispose();
});

test('new weights after the activation region: a bigger batch moves the region, older plans re-bind', async () => {
  const g = lenet300((g, name) => g.formats.set(name, { kind: 'sparse' }));
  const s = await Session.create(g); // batch 1: CSR + CSC uploads, then the region
  const x64 = digits(64, 5), x1 = digits(1, 6);
  compareOutputs(s.run(x64), runReference(g, x64), 'batch 64', 1e-4); // CSR-only uploads land above the region
  assert.match(s.describe(), /left by an outgrown region/);
  compareOutputs(s.run(x1), runReference(g, x1), 'batch 1 again', 1e-4);
  const total = s.arenaBytes.total;
  s.run(x64);
  s.run(x1);
  assert.equal(s.arenaBytes.total, total, 'no more growth once both plans are bound');
  await s.dispose();
});
