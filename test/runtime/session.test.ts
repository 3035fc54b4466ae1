// The Session on the fixture models against the reference runtime (1 and 2
// threads, batch 1 and 3), its feed checks, plan cache, memory reuse and lifecycle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Graph } from '../../src/ir/graph.js';
import { Rng } from '../../src/ir/random.js';
import { f32, Tensor } from '../../src/ir/tensor.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { runReference } from '../../src/runtime/reference.js';
import { Session } from '../../src/runtime/session.js';
import { createNodeSession } from '../../src/runtime/session_node.js';
import { sessionRunner } from '../../src/eval/runners.js';
import { assertBadInput, assertClose } from '../ir/ref/helpers.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const modelPath = (name: string) => join(REPO, 'fixtures', 'models', `${name}.onnx`);

function feed(g: Graph, batch: number, seed: number): Record<string, Tensor> {
  const v = g.inputs[0];
  const shape = v.shape.map((d) => (typeof d === 'number' ? d : batch));
  return { [v.name]: f32(shape, new Rng(seed).floats(shape.reduce((a, b) => a * b, 1), 0, 1)) };
}

/** QDQ: a float rounding difference may move an activation across a quantization step; allow it on ≤ 1% of logits. */
function assertQdqClose(got: Tensor, want: Tensor, label: string): void {
  assert.deepEqual(got.shape, want.shape);
  let scale = 0, far = 0;
  for (let i = 0; i < want.size; i++) scale = Math.max(scale, Math.abs(want.data[i] as number));
  for (let i = 0; i < want.size; i++) if (Math.abs((got.data[i] as number) - (want.data[i] as number)) > 1e-4 * scale) far++;
  assert.ok(far <= Math.max(1, want.size * 0.01), `${label}: ${far} of ${want.size} logits differ by more than 1e-4 of the scale`);
}

const MODELS: [string, number[]][] = [
  ['lenet300_dense', [1, 3]],
  ['lenet5_dense', [1, 3]],
  ['lenet5_int8_qdq', [1, 3]],
  ['vggs_fmnist_dense', [1, 3]],
  ['squeezenet1_1_random', [1]],
];

for (const [name, batches] of MODELS) {
  test(`Session matches the reference runtime on ${name} (batch ${batches.join(' and ')}, 1 and 2 threads)`, async () => {
    const g = loadOnnxFile(modelPath(name));
    const one = await Session.create(g);
    const two = await createNodeSession(g, { threads: 2 });
    try {
      assert.equal(one.plan.fallbacks.length, 0, `${name}: fallbacks ${JSON.stringify(one.plan.fallbacks)}`);
      for (const batch of batches) {
        const feeds = feed(g, batch, 11 + batch);
        const want = runReference(g, feeds).logits;
        for (const [s, label] of [[one, '1 thread'], [two, '2 threads']] as const) {
          const got = s.run(feeds).logits;
          const what = `${name} batch ${batch}, ${label}`;
          if (name === 'lenet5_int8_qdq') assertQdqClose(got, want, what);
          else assertClose(got, want, 1e-4, what);
        }
      }
    } finally {
      await one.dispose();
      await two.dispose();
    }
  });
}

test('Session: SqueezeNet reuses buffers (the activation region is smaller than its intermediate values) and writes concat inputs in place', async () => {
  const s = await Session.create(loadOnnxFile(modelPath('squeezenet1_1_random')));
  const m = s.plan.memory;
  assert.ok(m.regionBytes < m.intermediateBytes, `region ${m.regionBytes} vs intermediates ${m.intermediateBytes}`);
  assert.ok(m.regionBytes < 0.5 * m.intermediateBytes, `region ${m.regionBytes} is not much below ${m.intermediateBytes}`);
  const concats = s.plan.steps.filter((st) => st.op === 'Concat');
  assert.equal(concats.length, 8);
  for (const c of concats) assert.equal(c.kernel, 'concat (in place)');
  assert.match(s.describe(), /activation region \d+\.\d+ MB/);
  await s.dispose();
});

test('Session: runs allocate nothing in the arena, return fresh tensors, and give the same bytes twice', async () => {
  const g = loadOnnxFile(modelPath('lenet5_dense'));
  const s = await Session.create(g, { batch: 4 });
  const before = s.arenaBytes.total;
  const feeds = feed(g, 4, 3);
  const a = s.run(feeds).logits, b = s.run(feeds).logits;
  assert.notEqual(a.data, b.data);
  assert.deepEqual(Array.from(a.data as Float32Array), Array.from(b.data as Float32Array));
  assert.ok(!((a.data as Float32Array).buffer instanceof SharedArrayBuffer));
  // a smaller batch fits the plan's region: no new arena bytes
  s.run(feed(g, 2, 3));
  assert.equal(s.arenaBytes.total, before);
  (a.data as Float32Array).fill(0); // outputs are the caller's: writing them changes nothing in the session
  assert.deepEqual(Array.from(s.run(feeds).logits.data as Float32Array), Array.from(b.data as Float32Array));
  await s.dispose();
});

test('Session: a bigger batch re-plans and grows the region in place; the earlier plan still runs', async () => {
  const g = loadOnnxFile(modelPath('lenet300_dense'));
  const s = await Session.create(g);
  const small = s.arenaBytes;
  const x64 = feed(g, 64, 1);
  assertClose(s.run(x64).logits, runReference(g, x64).logits, 1e-4, 'batch 64');
  assert.deepEqual(s.plan.inputShapes.input, [64, 1, 28, 28]);
  const big = s.arenaBytes;
  assert.equal(big.weights, small.weights, 'weights are packed once');
  assert.ok(big.activations > small.activations);
  assert.doesNotMatch(s.describe(), /outgrown/);
  const x1 = feed(g, 1, 2);
  assertClose(s.run(x1).logits, runReference(g, x1).logits, 1e-4, 'batch 1 after 64');
  assert.equal(s.arenaBytes.total, big.total);
  await s.dispose();
});

test('Session: bad feeds name the input and the expected type', async () => {
  const g = loadOnnxFile(modelPath('lenet300_dense'));
  const s = await Session.create(g);
  assertBadInput(() => s.run({}), /^input "input": missing from the feeds; expected float32 \[N,1,28,28\]$/);
  assertBadInput(() => s.run({ input: new Tensor('float64', [1, 1, 28, 28]) }), /expected float32 \[N,1,28,28\], got float64 \[1,1,28,28\]/);
  assertBadInput(() => s.run({ input: f32([1, 28, 28]) }), /expected float32 \[N,1,28,28\], got float32 \[1,28,28\]/);
  assertBadInput(() => s.run({ input: f32([1, 3, 28, 28]) }), /expected float32 \[N,1,28,28\], got float32 \[1,3,28,28\]/);
  assertBadInput(() => s.run({ input: f32([1, 1, 28, 28]), extra: f32([1]) }), /feed "extra" is not an input of graph/);
  // after a good run (the fast path), the same mistakes are still caught
  s.run({ input: f32([1, 1, 28, 28]) });
  assertBadInput(() => s.run({ input: f32([1, 1, 28, 27]) }), /got float32 \[1,1,28,27\]/);
  assertBadInput(() => s.run({ input: f32([1, 1, 28, 28]), extra: f32([1]) }), /feed "extra" is not an input/);
  await s.dispose();
  assertBadInput(() => s.run({ input: f32([1, 1, 28, 28]) }), /run\(\) after dispose\(\)/);
});

test('Session: bad options and models fail with one clear line', async () => {
  const g = loadOnnxFile(modelPath('lenet300_dense'));
  await assert.rejects(Session.create(g, { threads: 2 }), /threads=2 needs a threadPool; in Node use createNodeSession/);
  await assert.rejects(Session.create(g, { threads: 0 }), /threads=0/);
  await assert.rejects(Session.create(g, { batch: 0 }), /batch=0/);
  await assert.rejects(Session.create(g, { kernels: 'fast' as 'auto' }), /kernels='fast'/);
  await assert.rejects(Session.create({} as Graph), /must be a Graph or the bytes of an .onnx or .nnz file/);
  await assert.rejects(Session.create(new Uint8Array([1, 2, 3])), /model\.onnx/);
});

test('a full arena names the option its maker has: createNodeSession maximumBytes, else a smaller batch', async () => {
  const g = loadOnnxFile(modelPath('lenet300_dense'));
  await assert.rejects(createNodeSession(g, { threads: 2, maximumBytes: 1 << 20 }), /over its maximum of 1048576 bytes; pass createNodeSession a maximumBytes larger than 1048576 \(or use a smaller batch\)/);
  await assert.rejects(Session.create(g, { batch: 2 ** 22 }), /does not fit in WebAssembly memory at this batch size; use a smaller batch/);
});

test('a failed Session.create closes the thread pool it was given to own, and only that one', async () => {
  const { WasmArena } = await import('../../src/kernels/wasm/arena.js');
  const { NodeThreadPool } = await import('../../src/kernels/wasm/thread_pool_node.js');
  const pools = [true, false].map((own) => ({ own, pool: new NodeThreadPool(new WasmArena({ shared: true, maximumBytes: 1 << 24 }), 2), closed: false }));
  for (const p of pools) {
    const close = p.pool.close.bind(p.pool);
    p.pool.close = async () => { p.closed = true; await close(); };
    await assert.rejects(Session.create(new Uint8Array([1, 2, 3]), { threadPool: p.pool, ownThreadPool: p.own }), /model\.onnx/);
  }
  assert.deepEqual(pools.map((p) => p.closed), [true, false]);
  await pools[1].pool.close();
});

test('Session takes ONNX bytes; sessionRunner runs it as a GraphRunner', async () => {
  const bytes = new Uint8Array(readFileSync(modelPath('lenet300_dense')));
  const s = await Session.create(bytes);
  const g = s.graph;
  const feeds = feed(g, 2, 9);
  const want = runReference(g, feeds).logits;
  assertClose(s.run(feeds).logits, want, 1e-4, 'from bytes');
  assertClose((await s.runAsync(feeds)).logits, want, 1e-4, 'runAsync');
  await s.dispose();
  const runner = sessionRunner(g, { threads: 2 });
  assertClose((await runner(feeds)).logits, want, 1e-4, 'sessionRunner');
  assert.equal((await runner.session()).threads, 2);
  await runner.dispose();
});

test('Session on a caller-owned thread pool: threads default to its size, dispose() leaves it open', async () => {
  const { WasmArena } = await import('../../src/kernels/wasm/arena.js');
  const { NodeThreadPool } = await import('../../src/kernels/wasm/thread_pool_node.js');
  const arena = new WasmArena({ shared: true, maximumBytes: 1 << 28 });
  const pool = new NodeThreadPool(arena, 2);
  try {
    const g = loadOnnxFile(modelPath('lenet5_dense'));
    const feeds = feed(g, 3, 4);
    const want = runReference(g, feeds).logits;
    const a = await Session.create(g, { threadPool: pool });
    assert.equal(a.threads, 2);
    assertClose(a.run(feeds).logits, want, 1e-4, 'pool of 2');
    await a.dispose();
    const b = await Session.create(g, { threadPool: pool, threads: 1 }); // same pool, still open
    assertClose(b.run(feeds).logits, want, 1e-4, 'one thread on a shared arena');
    await b.dispose();
    await assert.rejects(Session.create(g, { threadPool: pool, threads: 3 }), /threads=3 but the thread pool has 2/);
  } finally {
    await pool.close();
  }
});
