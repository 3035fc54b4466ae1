// Sparse and codebook layers on the session's worker threads: a pruned and a
// weight-shared MLP and conv net, big enough that their layers are shared out
// (rows of the spmv, bands of the CSC scatter, samples of a batched FC, images of
// a batch, bands of output rows of one image), must give
// bit-identical outputs on 1, 2 and 3 threads at batch 1, 5 and 64, and match the
// reference runtime; the pruned LeNets stay on one thread at batch 1 (a hand-off
// costs more than their whole layer); describe() says which steps are shared out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlanStep } from '../../src/compile/plan_types.js';
import { applyMask, magnitudeMask, thresholdMask } from '../../src/compress/prune/magnitude.js';
import { kmeans1d } from '../../src/compress/share/kmeans.js';
import { NnzipError } from '../../src/ir/errors.js';
import type { Graph } from '../../src/ir/graph.js';
import { Rng } from '../../src/ir/random.js';
import { f32, type Tensor } from '../../src/ir/tensor.js';
import { WasmArena } from '../../src/kernels/wasm/arena.js';
import { cscZeroThreshold, WasmSparse } from '../../src/kernels/wasm/sparse.js';
import { ROW_COST, rowRanges, SPARSE_SPLIT_NS, sparseParts } from '../../src/kernels/wasm/sparse_split.js';
import { NodeThreadPool } from '../../src/kernels/wasm/thread_pool_node.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { runReference } from '../../src/runtime/reference.js';
import type { Session } from '../../src/runtime/session.js';
import { createNodeSession } from '../../src/runtime/session_node.js';
import { GraphBuilder } from '../onnx/graph_builder.js';
import { compareOutputs, randomFeeds } from './helpers.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

type Store = 'sparse' | 'codebook';

/**
 * Magnitude-prunes each weight to its density ('~' = by a threshold: the builder's
 * weights are uniform in [-0.5, 0.5), and sorting big layers is slow); 'codebook'
 * then shares the kept weights (5-bit k-means).
 */
function compress(g: Graph, densities: Record<string, number | `~${number}`>, store: Store): Graph {
  for (const [name, density] of Object.entries(densities)) {
    const t = g.initializers.get(name)!, d = t.data as Float32Array;
    const mask = typeof density === 'number' ? magnitudeMask(d, density) : thresholdMask(d, 0.5 * (1 - Number(density.slice(1))));
    const w = applyMask(d, mask);
    if (store === 'sparse') g.formats.set(name, { kind: 'sparse' });
    else {
      const km = kmeans1d(w, { bits: 5, seed: 1 });
      const k = km.centroids.length;
      const indices = Uint8Array.from(km.assignments);
      for (let i = 0; i < w.length; i++) w[i] = indices[i] === k ? 0 : km.centroids[indices[i]]; // the initializer holds the decoded values
      g.formats.set(name, { kind: 'codebook', bits: 5, centroids: km.centroids, indices });
    }
    g.initializers.set(name, f32(t.shape, w));
  }
  return g;
}

/** 768 → 768 → 768 → 10 at 25%: the first two layers cost ~50 µs at batch 1 (shared out), the last ~1 µs (not). */
function mlp(store: Store): Graph {
  const b = new GraphBuilder(5);
  const x = b.input('x', ['N', 768]);
  const h1 = b.op1('Relu', [b.op1('Gemm', [x, b.weight('w1', [768, 768]), b.weight('b1', [768])], { transB: 1 })]);
  const h2 = b.op1('Relu', [b.op1('Gemm', [h1, b.weight('w2', [768, 768]), b.weight('b2', [768])], { transB: 1 })]);
  const y = b.op1('MatMul', [h2, b.weight('w3', [768, 10])]); // the [K×N] layout
  return compress(b.build([y], 17, 'N'), { w1: '~0.25', w2: '~0.25', w3: 0.3 }, store);
}

/**
 * 16×20×20 input: 3×3 convs (bias, groups, asymmetric pads, stride 2) and a 1×1 one,
 * then an FC. At batch 1 conv1..3 are cut into bands of output rows; a batch shares
 * out its images (conv3, 2 groups, in 2 rounds at 64; the 1×1 one without patches).
 */
function convnet(store: Store): Graph {
  const b = new GraphBuilder(7);
  const x = b.input('x', ['N', 16, 20, 20]);
  const relu = (v: string) => b.op1('Relu', [v]);
  const c1 = relu(b.op1('Conv', [x, b.weight('w1', [48, 16, 3, 3]), b.weight('b1', [48])], { pads: [1, 1, 1, 1] }));
  const c2 = relu(b.op1('Conv', [c1, b.weight('w2', [64, 48, 3, 3])], { pads: [1, 1, 1, 1] }));
  const c3 = b.op1('Conv', [c2, b.weight('w3', [64, 32, 3, 3]), b.weight('b3', [64])], { group: 2, pads: [1, 1, 1, 1] });
  const c4 = relu(b.op1('Conv', [c3, b.weight('w4', [32, 64, 1, 1])]));
  const c5 = b.op1('Conv', [c4, b.weight('w5', [16, 32, 3, 3])], { strides: [2, 2], pads: [0, 1, 1, 0] });
  const y = b.op1('Gemm', [b.op1('Flatten', [c5]), b.weight('w6', [10, 1600]), b.weight('b6', [10])], { transB: 1 });
  return compress(b.build([y], 17, 'N'), { w1: 0.2, w2: 0.2, w3: 0.2, w4: 0.2, w5: 0.2, w6: 0.2 }, store);
}

/** Inputs with ~80% zeros (MNIST-like): the batch-1 'auto' FC takes its CSC scatter. */
function mostlyZeros(g: Graph, batch: number, seed: number): Record<string, Tensor> {
  const rng = new Rng(seed), v = g.inputs[0];
  const shape = v.shape.map((d) => (typeof d === 'number' ? d : batch));
  const n = shape.reduce((a, c) => a * c, 1);
  return { [v.name]: f32(shape, Float32Array.from({ length: n }, () => (rng.next() < 0.8 ? 0 : rng.uniform(0, 1)))) };
}

function sparseSteps(s: Session): PlanStep[] {
  return s.plan.steps.filter((st) => (st.kind === 'fc' || st.kind === 'conv') && st.weight.format);
}

/**
 * Runs `g` at each batch on 1, 2 and 3 threads: outputs deepEqual across threads, the
 * 1-thread ones within 1e-4 of the reference where `refBatches` says; returns the
 * split of each compressed step per batch on 2 threads.
 */
async function checkThreads(g: Graph, label: string, batches: number[], refBatches: number[]): Promise<Map<number, number[]>> {
  const sessions = [await createNodeSession(g, { threads: 1 }), await createNodeSession(g, { threads: 2 }), await createNodeSession(g, { threads: 3 })];
  const splits = new Map<number, number[]>();
  try {
    for (const batch of batches) {
      const feedSets = [randomFeeds(g, batch, 40 + batch), mostlyZeros(g, batch, 80 + batch)];
      for (const [f, feeds] of feedSets.entries()) {
        const [one, ...more] = sessions.map((s) => s.run(feeds));
        more.forEach((out, i) => {
          for (const name of Object.keys(one)) assert.deepEqual(out[name].data, one[name].data, `${label} batch ${batch} feeds ${f}: ${i + 2} threads vs 1`);
        });
        if (refBatches.includes(batch)) compareOutputs(one, runReference(g, feeds), `${label} batch ${batch} feeds ${f}`, 1e-4);
      }
      splits.set(batch, sparseSteps(sessions[1]).map((st) => st.split));
      assert.ok(sparseSteps(sessions[0]).every((st) => st.split === 1), `${label} batch ${batch}: one thread never splits`);
    }
  } finally {
    for (const s of sessions) await s.dispose();
  }
  return splits;
}

for (const store of ['sparse', 'codebook'] as const) {
  test(`${store} MLP: rows of spmv and bands of the CSC (batch 1), samples or rows (batch 5, 16, 64) on 2 and 3 threads, bit-identical to 1`, async () => {
    // the mostly-zero feeds take the CSC scatter at batch 1 (the random ones CSR, then CSC after the ReLU);
    // batches share out samples when the bands keep whole spmm tiles (5 and 64 on 2 threads), else rows (16; 3 threads)
    assert.ok(cscZeroThreshold(768, 768, 0.25 * 768 * 768) < 0.7);
    const splits = await checkThreads(mlp(store), `${store} mlp`, [1, 5, 16, 64], [1, 5]);
    assert.deepEqual(splits.get(1), [2, 2, 1], 'batch 1: the 768-wide layers are shared out, 768→10 is not');
    assert.deepEqual(splits.get(64), [2, 2, 1]);
  });

  test(`${store} conv net: bands of output rows of one image, chunks of images of a batch, bit-identical to 1 thread`, async () => {
    const splits = await checkThreads(convnet(store), `${store} convnet`, [1, 5, 64], [1, 5]);
    assert.deepEqual(splits.get(1), [2, 2, 2, 1, 1, 1], 'batch 1: conv1..3 are shared out');
    assert.deepEqual(splits.get(64)!.slice(0, 5), [2, 2, 2, 2, 2], 'batch 64: every conv shares out its images');
  });
}

function lenet(file: string, densities: Record<string, number>): Graph {
  return compress(loadOnnxFile(join(REPO, 'fixtures', 'models', file)), densities, 'sparse');
}

test('pruned LeNets (Han et al.\'s densities) stay on one thread at batch 1 and share out batch 64', async () => {
  const l300 = lenet('lenet300_dense.onnx', { 'fc1.weight': 0.08, 'fc2.weight': 0.09, 'fc3.weight': 0.26 });
  const l5 = lenet('lenet5_dense.onnx', { 'conv1.weight': 0.66, 'conv2.weight': 0.12, 'fc1.weight': 0.08, 'fc2.weight': 0.19 });
  const s300 = await checkThreads(l300, 'LeNet-300-100', [1, 64], [1]);
  assert.deepEqual(s300.get(1), [1, 1, 1], 'a hand-off costs more than a whole LeNet-300 layer at batch 1');
  assert.deepEqual(s300.get(64), [2, 1, 1], 'batch 64: fc1 (784→300) is shared out, fc2 and fc3 are too small');
  const s5 = await checkThreads(l5, 'LeNet-5', [1, 64], [1]);
  assert.ok(s5.get(1)!.every((p) => p === 1), `LeNet-5 batch 1: ${s5.get(1)}`);
  assert.ok(s5.get(64)!.includes(2), `LeNet-5 batch 64: ${s5.get(64)}`);
});

test('describe() names each compressed layer\'s kernel and marks the ones shared out', async () => {
  const g = mlp('codebook');
  const one = await createNodeSession(g, { threads: 1 }), two = await createNodeSession(g, { threads: 2 });
  try {
    const d1 = one.describe(), d2 = two.describe();
    assert.match(d1, /sparse fc \(csr(\/csc)?, codebook\) \+ relu {2}/);
    assert.doesNotMatch(d1, /×\d/);
    assert.match(d2, /session: 2 threads/);
    assert.match(d2, /sparse fc \(csr(\/csc)?, codebook\) \+ relu ×2/);
    assert.match(d2, /sparse fc \(csr, codebook\) {2}/, 'the 768→10 layer stays on one thread');
  } finally {
    await one.dispose();
    await two.dispose();
  }
});

test('rowRanges cuts rows into contiguous non-empty parts of even work; sparseParts has a floor', () => {
  const rng = new Rng(3);
  for (const [rows, parts] of [[1, 4], [3, 8], [100, 8], [1000, 3], [1000, 2]]) {
    const rowPtr = new Int32Array(rows + 1);
    for (let r = 0; r < rows; r++) rowPtr[r + 1] = rowPtr[r] + (rng.next() < 0.2 ? rng.int(200) : rng.int(5));
    const from = rows > 10 ? 5 : 0, to = rows;
    const ranges = rowRanges(rowPtr, from, to, parts, ROW_COST.spmv);
    assert.ok(ranges.length >= 1 && ranges.length <= parts, `${rows} rows in ${parts}: ${ranges.length} parts`);
    assert.equal(ranges[0][0], from);
    assert.equal(ranges[ranges.length - 1][1], to);
    ranges.forEach(([r0, r1], i) => {
      assert.ok(r1 > r0, `part ${i} is empty`);
      if (i > 0) assert.equal(r0, ranges[i - 1][1], 'parts are contiguous');
    });
    const work = (r0: number, r1: number) => rowPtr[r1] - rowPtr[r0] + (r1 - r0) * ROW_COST.spmv;
    let heaviest = 0;
    for (let r = from; r < to; r++) heaviest = Math.max(heaviest, work(r, r + 1));
    const fair = work(from, to) / parts;
    for (const [r0, r1] of ranges) assert.ok(work(r0, r1) <= fair + heaviest, `${rows} rows: part [${r0}, ${r1}) has ${work(r0, r1)} > ${fair} + ${heaviest}`);
  }
  assert.equal(sparseParts(SPARSE_SPLIT_NS * 10, 1), 1);
  assert.equal(sparseParts(SPARSE_SPLIT_NS - 1, 4), 1);
  assert.equal(sparseParts(SPARSE_SPLIT_NS, 3), 3);
});

test('a WasmSparse whose thread pool works on another arena is refused with a clear error', async () => {
  const pool = new NodeThreadPool(new WasmArena({ shared: true, maximumBytes: 1 << 24 }), 1);
  try {
    assert.throws(() => new WasmSparse({ arena: new WasmArena({ shared: true, maximumBytes: 1 << 24 }), threads: pool }),
      (e: unknown) => e instanceof NnzipError && /thread pool works on another arena/.test(e.message));
  } finally {
    await pool.close();
  }
});
