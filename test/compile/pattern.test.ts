// The planner and the session with pattern-pruned convs: the pattern kernel is
// chosen for a layer stored as patterns or whose zeros follow patterns (a model
// pruned elsewhere), with the reason; not for windows it cannot run; the session
// matches the reference runtime at batch 1 and 3, on 1 and 2 threads; the tuner.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planGraph } from '../../src/compile/plan.js';
import type { ConvStep } from '../../src/compile/plan_types.js';
import { cached, clearTuning, exportTuning, importTuning, patternTuneKey, TUNING_VERSION, tuneClass, tunedVariant } from '../../src/compile/pattern_cache.js';
import { ablationVariants, firstStageCandidates, tunePatternConv } from '../../src/compile/pattern_tune.js';
import { patternVariantKey, type PatternVariant } from '../../src/kernels/wasm/pattern_spec.js';
import { NnzipError } from '../../src/ir/errors.js';
import type { Graph } from '../../src/ir/graph.js';
import { f32 } from '../../src/ir/tensor.js';
import { WasmArena } from '../../src/kernels/wasm/arena.js';
import { patternGeometry } from '../../src/kernels/wasm/pattern.js';
import { NodeThreadPool } from '../../src/kernels/wasm/thread_pool_node.js';
import { patternWeight } from '../ir/pattern_weights.js';
import { GraphBuilder } from '../onnx/graph_builder.js';
import { runReference } from '../../src/runtime/reference.js';
import { Session } from '../../src/runtime/session.js';
import { createNodeSession } from '../../src/runtime/session_node.js';
import { checkAgainstReference, compareOutputs, randomFeeds } from '../runtime/helpers.js';
import { assertAgrees, runC, runNnzip } from './c/helpers.js';

/** x [N, 16, 10, 10] → conv (16→24, 3×3, the stride and pads given) → relu → conv (24→8, 3×3) → y. */
function graph(o: { format?: boolean; strides?: number[]; seed?: number } = {}): Graph {
  const b = new GraphBuilder(o.seed ?? 1);
  const x = b.input('x', ['N', 16, 10, 10]);
  const p1 = patternWeight(11, 24, 16, 8, 0.28), p2 = patternWeight(12, 8, 24, 4, 0.3);
  b.constant('w1', f32([24, 16, 3, 3], p1.w));
  b.constant('w2', f32([8, 24, 3, 3], p2.w));
  b.weight('b1', [24]);
  const [c1] = b.op('Conv', [x, 'w1', 'b1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: o.strides ?? [1, 1] });
  const [r1] = b.op('Relu', [c1]);
  const [c2] = b.op('Conv', [r1, 'w2'], { kernel_shape: [3, 3], pads: [0, 0, 0, 0] });
  const g = b.build([c2], 17);
  if (o.format !== false) {
    g.formats.set('w1', p1.format);
    g.formats.set('w2', p2.format);
  }
  return g;
}

const convs = (g: Graph, o: Parameters<typeof planGraph>[1]) => planGraph(g, o).steps.filter((s): s is ConvStep => s.kind === 'conv');

test('a conv stored as patterns, or whose zeros follow patterns, runs on the pattern kernel with the reason', () => {
  for (const format of [true, false]) {
    const [a, b] = convs(graph({ format }), { inputShapes: { x: [1, 16, 10, 10] } });
    assert.equal(a.impl, 'pattern');
    assert.equal(a.kernel, 'pattern conv (FKW) + relu');
    assert.match(a.reason, new RegExp(`^8 patterns${format ? '' : ' \\(found in the zeros\\)'}, \\d+% of kernels kept, est [\\d.]+ µs vs (\\S+ [\\d.]+ µs, )*im2col [\\d.]+ µs`));
    if (format) assert.match(a.reason, / csr [\d.]+ µs/, 'stored as patterns: the CSR kernel could run it too');
    assert.equal(a.pattern?.variant.layout, 'pairs', 'pads of 1: the pairs layout');
    assert.equal(b.impl, 'pattern');
    assert.equal(b.pattern?.variant.layout, 'rows', 'no pads: row tiles');
  }
});

test('stride 2 runs on the pattern kernel (phase planes) and matches the reference runtime; other strides keep the other kernels, and say why', async () => {
  for (const format of [true, false]) {
    const [s2] = convs(graph({ strides: [2, 2], format }), { inputShapes: { x: [1, 16, 10, 10] } });
    assert.equal(s2.impl, 'pattern', format ? 'stored as patterns' : 'patterns found in the zeros');
    assert.equal(s2.pattern?.variant.layout, 'pairs');
  }
  const s = await checkAgainstReference(graph({ strides: [2, 2] }), [1, 3, 4], 'stride-2 pattern conv', { patterns: { use: 'always' } }, 1e-4);
  await s.dispose();
  // a max pool before a stride-2 pattern conv stays a step of its own (the fused pool reads stride-1 planes)
  const b = new GraphBuilder(2);
  const x = b.input('x', ['N', 16, 12, 12]);
  const p1 = patternWeight(13, 24, 16, 8, 0.28);
  b.constant('w1', f32([24, 16, 3, 3], p1.w));
  const [mp] = b.op('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] });
  const [c1] = b.op('Conv', [mp, 'w1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] });
  const pooled = b.build([c1], 5);
  pooled.formats.set('w1', p1.format);
  const [pc] = convs(pooled, { inputShapes: { x: [1, 16, 12, 12] } });
  assert.equal(pc.impl, 'pattern');
  assert.equal(pc.pattern?.maxPool, undefined);
  await (await checkAgainstReference(pooled, [1, 2], 'max pool then a stride-2 pattern conv', { patterns: { use: 'always' } }, 1e-4)).dispose();
  for (const strides of [[2, 1], [3, 3]]) {
    const [other] = convs(graph({ strides }), { inputShapes: { x: [1, 16, 10, 10] } });
    assert.notEqual(other.impl, 'pattern');
    assert.match(other.reason, new RegExp(`8 patterns, but stride ${strides.join('×')} \\(the pattern kernel takes stride 1, or 2 both ways with pads of at most 1 above and left\\)$`));
  }
});

test('kernels: dense and patterns: never keep the other kernels', () => {
  assert.equal(convs(graph(), { inputShapes: { x: [1, 16, 10, 10] }, kernels: 'dense' })[0].impl, 'im2col');
  assert.equal(convs(graph(), { inputShapes: { x: [1, 16, 10, 10] }, patterns: { use: 'never' } })[0].impl, 'csr');
  assert.throws(() => planGraph(graph(), { inputShapes: { x: [1, 16, 10, 10] }, patterns: { use: 'maybe' as 'auto' } }),
    (e: unknown) => e instanceof NnzipError && /patterns.use='maybe'; use 'auto', 'always' or 'never'/.test((e as Error).message));
});

test('target c: pattern convs run the C FKW kernel (stride 1 and 2), stride 3 keeps the taps kernel with the reason; patterns.use never and kernels dense refuse it', async () => {
  for (const s of convs(graph(), { inputShapes: { x: [1, 16, 10, 10] }, target: 'c', optimize: 'time' })) {
    assert.equal(s.impl, 'pattern');
    assert.equal(s.cKernel, 'pattern');
    assert.match(s.reason, /^target c: the FKW pattern kernel; \d patterns, \d+% of kernels kept/);
  }
  const [ram] = convs(graph(), { inputShapes: { x: [1, 16, 10, 10] }, target: 'c' }); // at the peak: no room for a padded copy
  assert.equal(ram.cKernel, 'taps');
  assert.match(ram.reason, /; runs in place \(the weight-axpy kernel\): a padded copy would raise the RAM peak \(optimize ram\)$/);
  const [s2] = convs(graph({ strides: [2, 2] }), { inputShapes: { x: [1, 16, 10, 10] }, target: 'c', optimize: 'time' });
  assert.equal(s2.cKernel, 'pattern'); // on phase planes (test/compile/c/pattern.test.ts)
  const [s3] = convs(graph({ strides: [3, 3] }), { inputShapes: { x: [1, 16, 10, 10] }, target: 'c' });
  assert.notEqual(s3.impl, 'pattern');
  assert.match(s3.reason, /8 patterns, but stride 3×3 \(the pattern kernel takes stride 1, or 2 both ways with pads of at most 1 above and left\)$/);
  for (const o of [{ patterns: { use: 'never' as const } }, { kernels: 'dense' as const }]) {
    assert.ok(convs(graph(), { inputShapes: { x: [1, 16, 10, 10] }, target: 'c', ...o }).every((s) => s.impl !== 'pattern'), JSON.stringify(o));
  }
  const g = graph(), xs = new Float32Array(2 * 16 * 10 * 10).map((_, i) => Math.sin(i * 0.37));
  const want = await runNnzip(g, xs, [1, 16, 10, 10]);
  const c = runC(g, xs, { optimize: 'time' });
  assert.match(c.program.layers[0].weights, /^pattern FKW: 8 patterns/);
  assertAgrees(c.outputs, want, 1e-5, undefined, 'pattern convs in C');
  assertAgrees(runC(g, xs).outputs, want, 1e-5, undefined, 'pattern convs in C, optimize ram (the first in place)');
});

test('the session matches the reference runtime (batch 1, 3 and 4: rows or images per thread; 1 and 2 threads, both layouts, FKR on and off)', async () => {
  for (const patterns of [{ use: 'always' as const }, { use: 'always' as const, reorder: false }]) {
    const s = await checkAgainstReference(graph(), [1, 3, 4], `pattern convs ${JSON.stringify(patterns)}`, { patterns }, 1e-4);
    assert.equal(convs(graph(), { inputShapes: { x: [1, 16, 10, 10] }, patterns })[0].pattern?.reorder, patterns.reorder ?? true);
    await s.dispose();
  }
});

/** x [N, C, S, S] → a pattern conv C → C (3×3, pads 1). */
function oneConv(C: number, S: number): Graph {
  const b = new GraphBuilder(3);
  const x = b.input('x', ['N', C, S, S]);
  const p = patternWeight(14, C, C, 8, 0.3);
  b.constant('w', f32([C, C, 3, 3], p.w));
  const [c] = b.op('Conv', [x, 'w'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const g = b.build([c], 17);
  g.formats.set('w', p.format);
  return g;
}

test('2 threads take images and output row ranges dynamically, each item on its own padded planes and accumulators: long overlapping items still match', async () => {
  // several items per thread: 4 image chunks (batch 16 → 8 sets of 2 images); batch 1: one output row range per thread, each its own set
  const layoutAt = (N: number) => convs(oneConv(32, 20), { inputShapes: { x: [N, 32, 20, 20] }, threads: 2, splitFlops: 0, patterns: { use: 'always' } })[0].layout;
  const batch = layoutAt(16), one = layoutAt(1);
  assert.deepEqual([batch.byImages, batch.split, batch.sets], [true, 2, 8]);
  assert.deepEqual([one.byImages, one.split, one.sets], [false, 2, 2]);
  assert.deepEqual([one.plane, one.patches], [batch.plane, batch.patches], 'each range its padded planes and accumulators');
  // items long enough that the worker and the caller run theirs at the same time
  await (await checkAgainstReference(oneConv(32, 20), [16], 'dynamic image items', { patterns: { use: 'always' } }, 1e-4)).dispose();
  // a batch whose inputs and outputs pass 4 MB (each image's output lines touched before its conv), 1 and 2 threads
  await (await checkAgainstReference(oneConv(16, 40), [44], 'a streaming batch', { patterns: { use: 'always' } }, 1e-4)).dispose();
  // batch 1: output row ranges; repeated runs, so that the worker is still spinning and takes its range at once
  // (a shared accumulator plane or padded plane is a race: on a loaded 2-core machine this caught it in 2 of 3 runs)
  const g = oneConv(64, 28), two = await createNodeSession(g, { threads: 2, splitFlops: 0, patterns: { use: 'always' } });
  try {
    const feeds = randomFeeds(g, 1, 5), want = runReference(g, feeds);
    for (let k = 0; k < 80; k++) compareOutputs(two.run(feeds), want, `dynamic row ranges, run ${k}`, 1e-4);
  } finally {
    await two.dispose();
  }
});

test('a 2×2 max pool before a pattern conv goes into its pad step; the session still matches the reference', async () => {
  const b = new GraphBuilder(2);
  const x = b.input('x', ['N', 16, 20, 21]);
  const p = patternWeight(13, 24, 16, 8, 0.28);
  b.constant('w', f32([24, 16, 3, 3], p.w));
  const [m] = b.op('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] });
  const [c] = b.op('Conv', [m, 'w'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const [r] = b.op('Relu', [c]);
  const g = b.build([r], 17);
  g.formats.set('w', p.format);
  const steps = planGraph(g, { inputShapes: { x: [1, 16, 20, 21] } }).steps;
  assert.deepEqual(steps.map((s) => s.kernel), ['max pool + pattern conv (FKW) + relu']);
  assert.deepEqual((steps[0] as ConvStep).pattern?.maxPool, { H0: 20, W0: 21 });
  await (await checkAgainstReference(g, [1, 4], 'pool + pattern conv', {}, 1e-4)).dispose();
});

test('the tuner keeps the fastest variant it timed, caches it by layer key, and the planner uses it', () => {
  clearTuning();
  const { w, format } = patternWeight(5, 16, 8, 4, 0.4);
  const params = { C: 8, M: 16, H: 7, W: 7, pads: [1, 1, 1, 1] as const };
  const r = tunePatternConv(params, w, format, { samples: 2 });
  assert.ok(r.ns <= r.defaultNs, `tuned ${r.ns} ns ≤ default ${r.defaultNs} ns`);
  assert.ok(r.tried > 10, `${r.tried} variants timed`);
  const key = patternTuneKey(patternGeometry(params), 16, format);
  assert.deepEqual(tunedVariant(key), r.variant);
  const saved = exportTuning();
  clearTuning();
  assert.equal(tunedVariant(key), undefined);
  assert.equal(JSON.parse(JSON.stringify(saved)).version, TUNING_VERSION);
  importTuning(JSON.parse(JSON.stringify(saved)), 'meta');
  assert.deepEqual(tunedVariant(key), r.variant);
  assert.throws(() => importTuning({ k: { storage: 'fkw', layout: 'diagonal' } }, 'model.nnz meta'),
    (e: unknown) => e instanceof NnzipError && /model.nnz meta: pattern tuning entry "k" is not a kernel variant/.test((e as Error).message));
  clearTuning();
});

/** Three distinct variants of a layer with pads of 1 (one per tuning class). */
const V: Record<string, PatternVariant> = {
  b1: { storage: 'fkw', layout: 'plane', rows: 1, vecs: 2, lre: false, order: 'filter', unroll: 1 },
  bN: { storage: 'fkw', layout: 'rows', rows: 2, vecs: 3, lre: true, order: 'tile', unroll: 2 },
  b1t2: { storage: 'csr', layout: 'rows', rows: 1, vecs: 3, lre: false, order: 'filter', unroll: 1 },
};

test('tuned variants are kept per batch class and thread count; the planner runs the class of its batch and threads', () => {
  clearTuning();
  const { format } = patternWeight(11, 24, 16, 8, 0.28); // graph()'s first conv
  const key = patternTuneKey(patternGeometry({ C: 16, M: 24, H: 10, W: 10, pads: [1, 1, 1, 1] }), 24, format);
  assert.deepEqual([tuneClass(1), tuneClass(1, 2), tuneClass(64), tuneClass(64, 2), tuneClass(3, 4)], ['b1', 'b1t2', 'bN', 'bN', 'bN']);
  importTuning({ version: TUNING_VERSION, variants: Object.fromEntries(Object.entries(V).map(([c, v]) => [`${key}@${c}`, v])) }, 'tuning.json');
  const variantAt = (batch: number, threads: number) =>
    convs(graph(), { inputShapes: { x: [batch, 16, 10, 10] }, threads, patterns: { use: 'always' } })[0].pattern!.variant;
  assert.deepEqual(variantAt(1, 1), V.b1);
  assert.deepEqual(variantAt(64, 1), V.bN, 'batch 64 runs the many-images variant');
  assert.deepEqual(variantAt(64, 2), V.bN, 'whole images per thread: the same per-image kernel');
  assert.deepEqual(variantAt(1, 2), V.b1t2, 'one image on 2 threads runs the variant timed on one thread\'s rows');
  // a class never tuned: the one-image variant; a version-1 record (no version) is the one-image class
  clearTuning();
  importTuning({ [key]: V.bN }, 'old.json');
  assert.deepEqual(cached(key, 'b1')?.variant, V.bN);
  assert.deepEqual(variantAt(64, 2), V.bN);
  assert.deepEqual(exportTuning(), { version: TUNING_VERSION, variants: { [`${key}@b1`]: V.bN } });
  const bad = (record: unknown, msg: RegExp) => assert.throws(() => importTuning(record, 'tuning.json'), (e: unknown) => e instanceof NnzipError && msg.test((e as Error).message));
  bad({ version: 3, variants: {} }, /tuning.json: pattern tuning version 3 is not one this nnzip reads/);
  bad({ version: TUNING_VERSION, variants: { [key]: V.b1 } }, /has no tuning class/);
  bad({ version: TUNING_VERSION, variants: { [`${key}@b7`]: V.b1 } }, /has no tuning class/);
  bad({ version: TUNING_VERSION, variants: { [`${key}@bN`]: { ...V.b1, storage: 'csr' } } }, /entry ".*@bN" is not a kernel variant/);
  clearTuning();
});

test('the tuner times each class apart (many images, one thread\'s rows) and caches it under its class', () => {
  clearTuning();
  const { w, format } = patternWeight(5, 16, 8, 4, 0.4);
  const params = { C: 8, M: 16, H: 7, W: 7, pads: [1, 1, 1, 1] as const };
  const key = patternTuneKey(patternGeometry(params), 16, format);
  const one = tunePatternConv(params, w, format, { samples: 2 });
  const many = tunePatternConv(params, w, format, { samples: 2, batch: 64 });
  const rows = tunePatternConv(params, w, format, { samples: 2, batch: 1, threads: 2 });
  assert.deepEqual([one.cls, many.cls, rows.cls], ['b1', 'bN', 'b1t2']);
  for (const r of [one, many, rows]) {
    assert.ok(r.tried > 10, `${r.cls}: ${r.tried} variants timed`);
    assert.equal(cached(key, r.cls), r);
  }
  assert.ok(rows.ns < one.ns, `one thread's share of the rows (${rows.ns} ns) takes less than the whole image (${one.ns} ns)`);
  assert.equal(tunePatternConv(params, w, format, { batch: 8 }), many, 'any batch > 1 is the many-images class');
  clearTuning();
});

test('one image on 2 threads is tuned on a pool\'s threads when one is given, in its arena, which it leaves as it was', async () => {
  clearTuning();
  const { w, format } = patternWeight(5, 16, 8, 4, 0.4);
  const params = { C: 8, M: 16, H: 7, W: 7, pads: [1, 1, 1, 1] as const };
  const arena = new WasmArena({ shared: true, maximumBytes: 1 << 28 });
  const pool = new NodeThreadPool(arena, 2);
  try {
    arena.alloc(1000); // something of the session's before the tuner's buffers
    const used = arena.used, runs = pool.stats.runs;
    const r = tunePatternConv(params, w, format, { samples: 2, batch: 1, threads: 2, pool });
    assert.equal(r.cls, 'b1t2');
    assert.ok(r.tried > 10, `${r.tried} variants timed`);
    assert.ok(pool.stats.runs - runs > 10 * r.tried, `the candidates ran on the pool (${pool.stats.runs - runs} runs)`);
    assert.equal(arena.used, used, 'the tuner\'s buffers are freed');
    // a pool too small for the class: timed as one thread's share, as without one
    clearTuning();
    const before = pool.stats.runs;
    assert.equal(tunePatternConv(params, w, format, { samples: 2, batch: 1, threads: 4, pool }).cls, 'b1t4');
    assert.equal(pool.stats.runs, before);
  } finally {
    await pool.close();
    clearTuning();
  }
});

test('the tuner\'s candidates include every ablation configuration (+FKR, +FKW, +LRE)', () => {
  for (const pads of [[1, 1, 1, 1], [0, 0, 0, 0]] as const) {
    for (const [H, W] of [[28, 28], [14, 14], [7, 7]]) {
      const geo = patternGeometry({ C: 8, M: 8, H, W, pads });
      const keys = new Set(firstStageCandidates(geo).map(patternVariantKey));
      const ablation = ablationVariants(geo);
      assert.deepEqual(ablation.map((v) => [v.storage, v.lre]), [['csr', false], ['fkw', false], ['fkw', true]]);
      for (const v of ablation) assert.ok(keys.has(patternVariantKey(v)), `${H}×${W} pads ${pads[0]}: ${patternVariantKey(v)} is a candidate`);
    }
  }
});

test('a session with patterns.tune plans once per bind when its pattern layers are tuned for the class already', async () => {
  clearTuning();
  const g = graph();
  await (await Session.create(g, { batch: 1, patterns: { tune: true } })).dispose(); // tunes both layers for one image
  let asked = 0; // the planner asks the variant hook once per pattern layer per plan
  const s = await Session.create(g, { batch: 1, patterns: { tune: true, variant: () => void asked++ } });
  try {
    assert.equal(asked, 2, 'two pattern layers, planned once');
    const feeds = randomFeeds(g, 1, 5);
    compareOutputs(s.run(feeds), runReference(g, feeds), 'tuned pattern convs', 1e-4);
  } finally {
    await s.dispose();
    clearTuning();
  }
});

test('a session with patterns.tune tunes its pattern layers for its class and matches the reference', async () => {
  clearTuning();
  const g = graph();
  const s = await checkAgainstReference(g, [1, 3], 'tuned pattern convs', { patterns: { tune: true } }, 1e-4);
  await s.dispose();
  const classes = exportTuning().variants;
  const seen = new Set(Object.keys(classes).map((k) => k.slice(k.lastIndexOf('@') + 1)));
  assert.deepEqual([...seen].sort(), ['b1', 'b1t2', 'bN'], 'batch 1 and 3, on 1 and 2 threads');
  assert.equal(Object.keys(classes).length, 6, 'two pattern layers × three classes');
  clearTuning();
});

test('tuning keys: stride 2 has its own; stride-1 keys are as records saved before stride 2 have them', () => {
  const { format } = patternWeight(3, 8, 8, 4, 0.3);
  const at = (stride: number) => patternTuneKey(patternGeometry({ C: 8, M: 8, H: 10, W: 10, pads: [1, 1, 1, 1], stride }), 8, format);
  assert.notEqual(at(2), at(1));
  assert.match(at(1), /^8x10x10>8:pad1,1,12,12:\d/);
  assert.match(at(2), /^8x10x10>8:pad1,1,12,12:s2:\d/);
});
