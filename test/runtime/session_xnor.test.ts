// XNOR-Net graphs in the runtime: a conv or fully connected layer whose weight is
// stored binary or ternary and whose input is Sign(x) runs on the xnor-popcount kernel,
// the Sign costs nothing (the kernel binarizes while packing), and the outputs match
// the reference interpreter (float layers on ±1 inputs) at batch 1 and 3, through the
// .nnz file too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConvStep, FcStep } from '../../src/compile/plan_types.js';
import { BINARIZE_DEFAULTS } from '../../src/compress/binary/settings.js';
import { compressGraph } from '../../src/compress/pipeline.js';
import { DEEP_COMPRESSION, type Recipe } from '../../src/compress/recipe.js';
import { nnzToGraph } from '../../src/format/nnz.js';
import { Rng } from '../../src/ir/random.js';
import { f32, Tensor } from '../../src/ir/tensor.js';
import { runReference } from '../../src/runtime/reference.js';
import { Session } from '../../src/runtime/session.js';
import { ArchBuilder } from '../../src/train/arch/builder.js';
import { compareOutputs } from './helpers.js';
import { createNodeSession } from '../../src/runtime/session_node.js';

/** conv1 (float) → relu → conv2 70→9 (XNOR) → relu → pool → conv3 9→5 (TWN, float inputs) → fc (float). */
function net() {
  const b = new ArchBuilder(7);
  let x = b.relu('r1', b.conv('conv1', 'input', 1, 70, 3, { pad: 1 }));
  x = b.maxPool('p1', b.relu('r2', b.conv('conv2', x, 70, 9, 3, { pad: 1 })), 2);
  x = b.relu('r3', b.conv('conv3', x, 9, 5, 3, { pad: 1 }));
  b.linear('fc', b.flatten('flat', x, 5 * 4 * 4), 5 * 4 * 4, 3, 'logits');
  return b.graph('xnor-net', [1, 8, 8], 'logits', 3);
}

function xnorRecipe(method: 'xnor', layers: Recipe['layers'] = { conv3: { binary: 'twn' } }): Recipe {
  const r = structuredClone(DEEP_COMPRESSION);
  delete r.prune;
  delete r.share;
  r.binarize = { ...BINARIZE_DEFAULTS, method: { conv: method, fc: method }, epochs: 0 };
  r.layers = layers;
  return r;
}

/** conv1 (float) → relu → pool → fc1 128→70 (XNOR) → relu → fc2 70→40 (XNOR) → relu → fc3 (float); XNOR puts a BatchNormalization → Sign before fc1 and fc2. */
function fcNet() {
  const b = new ArchBuilder(9);
  let x = b.maxPool('p1', b.relu('r1', b.conv('conv1', 'input', 1, 8, 3, { pad: 1 })), 2);
  x = b.relu('r2', b.linear('fc1', b.flatten('flat', x, 8 * 4 * 4), 8 * 4 * 4, 70));
  x = b.relu('r3', b.linear('fc2', x, 70, 40));
  b.linear('fc3', x, 40, 3, 'logits');
  return b.graph('xnor-fc', [1, 8, 8], 'logits', 3);
}

/** fc2 as Gemm transB=0: its weight transposed to [K, N], the levels along axis 1. */
function transB0(g: ReturnType<typeof fcNet>, name: string): void {
  const node = g.nodes.find((n) => n.name === name)!, w = g.initializers.get(node.inputs[1])!;
  const [N, K] = w.shape, t = new Float32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) t[k * N + n] = w.data[n * K + k] as number;
  g.initializers.set(node.inputs[1], new Tensor('float32', [K, N], t));
  node.attrs.transB = 0;
  const f = g.formats.get(node.inputs[1]);
  if (f?.kind === 'binary') g.formats.set(node.inputs[1], { ...f, axis: 1 });
}

test('xnor convs run on the popcount kernel, Sign is free, outputs match the reference', async () => {
  const r = compressGraph(net(), { recipe: xnorRecipe('xnor'), seed: 1 });
  const g = nnzToGraph(r.file.bytes, 'x.nnz').graph;
  assert.equal(g.formats.get('conv2.weight')?.kind, 'binary');
  const rng = new Rng(3);
  for (const batch of [1, 3]) {
    const s = await Session.create(g, { batch });
    const convs = s.plan.steps.filter((st): st is ConvStep => st.kind === 'conv');
    // conv3 is ternary (TWN) on float inputs: not an xnor layer
    assert.deepEqual(convs.map((c) => c.impl === 'xnor'), [false, true, false], s.describe());
    assert.match(s.describe(), /xnor conv \(popcount\)/);
    assert.ok(!s.plan.steps.some((st) => st.op === 'Sign'), 'Sign is an alias of its input');
    const feeds = { input: f32([batch, 1, 8, 8], Array.from({ length: batch * 64 }, () => rng.uniform(-1, 1))) };
    compareOutputs(s.run(feeds), runReference(g, feeds), `batch ${batch}`, 1e-4);
  }
});

test('xnor fully connected layers (Gemm transB=1 and 0) run on the popcount kernel and match the reference', async () => {
  const r = compressGraph(fcNet(), { recipe: xnorRecipe('xnor', {}), seed: 2 });
  const g = nnzToGraph(r.file.bytes, 'fc.nnz').graph;
  assert.equal(g.formats.get('fc1.weight')?.kind, 'binary');
  const rng = new Rng(4);
  for (const variant of ['transB=1', 'transB=0']) {
    if (variant === 'transB=0') transB0(g, 'fc2');
    for (const batch of [1, 3]) {
      const s = await Session.create(g, { batch });
      const fcs = s.plan.steps.filter((st): st is FcStep => st.kind === 'fc');
      assert.deepEqual(fcs.map((c) => c.impl), ['xnor', 'xnor', 'dense'], `${variant}: ${s.describe()}`);
      assert.match(s.describe(), /xnor fc \(popcount\)[^\n]* \+ batchnorm on its input/, 'the BatchNormalization after the pool packs with fc1');
      assert.ok(!s.plan.steps.some((st) => st.kind === 'affine'), s.describe());
      assert.ok(!s.plan.steps.some((st) => st.op === 'Sign'), 'Sign is an alias of its input');
      const feeds = { input: f32([batch, 1, 8, 8], Array.from({ length: batch * 64 }, () => rng.uniform(-1, 1))) };
      compareOutputs(s.run(feeds), runReference(g, feeds), `${variant} batch ${batch}`, 1e-4);
      await s.dispose();
    }
  }
  // dense kernels asked for: the same graph on the GEMM, Sign on its own step
  const d = await Session.create(g, { kernels: 'dense' });
  assert.ok(d.plan.steps.every((st) => st.kind !== 'fc' || st.impl === 'dense'));
  await d.dispose();
});

test('xnor convs split over two threads (the output rows of one image, whole images) and match the reference', async () => {
  const g = nnzToGraph(compressGraph(net(), { recipe: xnorRecipe('xnor'), seed: 1 }).file.bytes, 'x.nnz').graph;
  const two = await createNodeSession(g, { threads: 2, splitFlops: 0 });
  const rng = new Rng(5);
  try {
    for (const batch of [1, 3]) {
      const feeds = { input: f32([batch, 1, 8, 8], Array.from({ length: batch * 64 }, () => rng.uniform(-1, 1))) };
      compareOutputs(two.run(feeds), runReference(g, feeds), `2 threads batch ${batch}`, 1e-4);
    }
    const xn = two.plan.steps.find((st): st is ConvStep => st.kind === 'conv' && st.impl === 'xnor');
    assert.equal(xn?.split, 2, two.describe());
  } finally {
    await two.dispose();
  }
});
