// The planner on its own (no arena): kernel choice with reasons, fusion and its
// limits, concat inputs in place, thread splits, fallbacks, and bad options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseConv, chooseFc, type ConvProblem } from '../../src/compile/cost.js';
import { describePlan } from '../../src/compile/describe.js';
import { planGraph } from '../../src/compile/plan.js';
import type { ConcatStep, PlanWeight } from '../../src/compile/plan_types.js';
import { NnzipError } from '../../src/ir/errors.js';
import { Rng } from '../../src/ir/random.js';
import { checkWindow2d } from '../../src/ir/window.js';
import { f32 } from '../../src/ir/tensor.js';
import { GraphBuilder } from '../onnx/graph_builder.js';

function weight(n: number, density: number, seed = 1): PlanWeight {
  const rng = new Rng(seed);
  return { name: 'w', data: Float32Array.from({ length: n }, () => (rng.next() < density ? rng.uniform(-1, 1) : 0)), format: { kind: 'sparse' } };
}

test('chooseFc: dense weights stay dense; 8% sparse picks csr/csc; 60% at batch 64 goes dense; forced dense says so', () => {
  const dense = chooseFc({ name: 'w', data: new Float32Array(784 * 300) }, 300, 784, 1, 'auto', 0);
  assert.equal(dense.impl, 'dense');
  assert.match(dense.reason, /^weights stored dense, est [\d.]+ µs$/);
  const sparse = chooseFc(weight(784 * 300, 0.08), 300, 784, 1, 'auto', 0.5);
  assert.equal(sparse.impl, 'sparse-auto');
  assert.match(sparse.reason, /^sparse, density 8\.\d%, est [\d.]+ µs vs dense [\d.]+ µs; csr or csc per call \(csc from \d+% zero inputs\)$/);
  assert.equal(chooseFc(weight(784 * 300, 0.08), 300, 784, 64, 'auto', 0).impl, 'csr');
  const crowded = chooseFc(weight(784 * 300, 0.6), 300, 784, 64, 'auto', 0);
  assert.equal(crowded.impl, 'dense');
  assert.match(crowded.reason, /dense wins$/);
  assert.match(chooseFc(weight(784 * 300, 0.08), 300, 784, 1, 'dense', 0).reason, /^kernels: 'dense' forced/);
});

/** A conv problem: C→M channels, a k×k window of stride s and pad (k−1)/2 on H×W, N images. */
function conv(w: PlanWeight, C: number, M: number, k: number, H: number, o: Partial<ConvProblem> & { stride?: number } = {}): ConvProblem {
  const p = (k - 1) >> 1, s = o.stride ?? 1, group = o.group ?? 1;
  const win = checkWindow2d('test', { kh: k, kw: k, pads: [p, p, p, p], strides: [s, s] });
  const OH = Math.floor((H + 2 * p - k) / s) + 1;
  return { N: 1, C, H, W: H, M, OH, OW: OH, group, win, weight: w, kernels: 'auto', winograd: 'auto', ...o };
}

test('chooseConv: geometry names the dense kernel; a sparse 5×5 conv at 5% picks csr; depthwise stays dense', () => {
  assert.equal(chooseConv(conv(weight(50 * 20 * 25, 1), 20, 50, 5, 12)).impl, 'im2col');
  assert.equal(chooseConv(conv(weight(50 * 20 * 25, 0.05), 20, 50, 5, 12)).impl, 'csr');
  const dw = chooseConv(conv(weight(32 * 9, 0.05), 32, 32, 3, 10, { group: 32 }));
  assert.equal(dw.impl, 'depthwise');
  assert.match(dw.reason, /no sparse depthwise kernel/);
  assert.equal(chooseConv(conv(weight(16 * 8, 1), 8, 16, 1, 14)).impl, 'pointwise');
});

test('chooseConv: Winograd for a large 3×3 stride-1 layer, with every candidate estimated in the reason; forced and forbidden', () => {
  const big = conv({ name: 'w', data: new Float32Array(64 * 64 * 9) }, 64, 64, 3, 28, { N: 8 });
  const d = chooseConv(big);
  assert.equal(d.impl, 'winograd');
  assert.match(d.reason, /^F\([246],3\) tiles, est [\d.]+ µs vs /);
  for (const label of ['im2col', 'F(2,3)', 'F(4,3)', 'F(6,3)']) if (!d.reason.startsWith(label)) assert.ok(d.reason.includes(`${label} `), `${label} missing: ${d.reason}`);
  assert.equal(chooseConv({ ...big, winograd: 'off' }).impl, 'im2col');
  const four = chooseConv({ ...big, winograd: 4 });
  assert.deepEqual([four.impl, four.tile], ['winograd', 4]);
  assert.match(four.reason, /^winograd: 4 forced; F\(4,3\) tiles/);
  const tiny = conv({ name: 'w', data: new Float32Array(2 * 2 * 9) }, 2, 2, 3, 5);
  assert.equal(chooseConv(tiny).impl, 'im2col', 'a tiny layer stays on im2col');
  assert.equal(chooseConv({ ...tiny, winograd: 'on' }).impl, 'winograd', "'on' forces it");
  for (const o of [{ stride: 2 }, { group: 2 }]) assert.equal(chooseConv({ ...conv(big.weight, 64, 64, 3, 28, o), winograd: 'on' }).impl, 'im2col');
  assert.equal(chooseConv({ ...conv(weight(64 * 64 * 25, 1), 64, 64, 5, 28), winograd: 'on' }).impl, 'im2col', 'not 3×3');
});

test('chooseConv: a pruned 3×3 layer runs csr when that is faster than Winograd, Winograd when dense enough', () => {
  const sparse = chooseConv(conv(weight(64 * 64 * 9, 0.03), 64, 64, 3, 14));
  assert.equal(sparse.impl, 'csr');
  assert.match(sparse.reason, /^sparse, density [23]\.\d%; sparse rows times the patches, est .* vs .*F\(4,3\)/);
  const crowded = chooseConv(conv(weight(64 * 64 * 9, 0.7), 64, 64, 3, 14));
  assert.equal(crowded.impl, 'winograd');
  assert.match(crowded.reason, /^sparse, density 7\d%; F\(\d,3\) tiles, est .* csr /);
});

test('fusion: conv+relu, but not when the conv output has a second reader or is a graph output', () => {
  const b = new GraphBuilder(1);
  const x = b.input('x', ['N', 3, 8, 8]);
  const c1 = b.op1('Conv', [x, b.weight('w1', [4, 3, 3, 3])]);
  const r1 = b.op1('Relu', [c1]);
  const c2 = b.op1('Conv', [r1, b.weight('w2', [4, 4, 1, 1])]);
  const r2 = b.op1('Relu', [c2]);
  const sum = b.op1('Add', [r2, c2]); // c2 read twice
  const c3 = b.op1('Conv', [sum, b.weight('w3', [2, 4, 1, 1])]);
  const r3 = b.op1('Relu', [c3]);
  const plan = planGraph(b.build([r3, c3], 17, 'N'), { inputShapes: { x: [1, 3, 8, 8] } }); // c3 is an output
  assert.deepEqual(plan.steps.map((s) => s.kind), ['conv', 'conv', 'clamp', 'binary', 'conv', 'clamp']);
  assert.deepEqual(plan.steps[0].nodes, ['Conv_0', 'Relu_1']);
  assert.deepEqual(plan.steps[0].outputs, [r1]);
});

test('concat in place: conv producers at any batch, other producers only with one outer block', () => {
  const b = new GraphBuilder(2);
  const x = b.input('x', ['N', 3, 6, 6]);
  const a = b.op1('Relu', [b.op1('Conv', [x, b.weight('wa', [4, 3, 1, 1])])]);
  const t = b.op1('Tanh', [x]);
  const cat = b.op1('Concat', [a, t], { axis: 1 });
  const g = b.build([cat], 17, 'N');
  const at = (batch: number) => planGraph(g, { inputShapes: { x: [batch, 3, 6, 6] } });
  const three = at(3).steps.find((s): s is ConcatStep => s.kind === 'concat')!;
  assert.deepEqual(three.parts.map((p) => p.value), [t]);
  assert.equal(three.kernel, 'concat (partly in place)');
  const one = at(1);
  assert.deepEqual(one.steps.find((s): s is ConcatStep => s.kind === 'concat')!.parts, []);
  const conv = one.steps[0];
  assert.equal(one.values.get(a)!.buffer, one.values.get(cat)!.buffer);
  assert.equal(one.values.get(t)!.offset, 4 * 36 * 4);
  assert.equal(conv.kind === 'conv' && conv.outImageStride, 7 * 36);
});

test('threads: big steps are split, small ones are not; splitFlops moves the line', () => {
  const b = new GraphBuilder(3);
  const x = b.input('x', ['N', 16, 32, 32]);
  const big = b.op1('Conv', [x, b.weight('w1', [32, 16, 3, 3])], { pads: [1, 1, 1, 1] });
  const small = b.op1('Conv', [b.op1('MaxPool', [big], { kernel_shape: [8, 8], strides: [8, 8] }), b.weight('w2', [8, 32, 1, 1])]);
  const tiny = b.op1('Conv', [b.op1('GlobalAveragePool', [small]), b.weight('w3', [4, 8, 1, 1])]);
  const g = b.build([tiny], 17, 'N');
  const plan = planGraph(g, { inputShapes: { x: [1, 16, 32, 32] }, threads: 2, winograd: 'off' });
  assert.deepEqual(plan.steps.map((s) => s.split), [2, 1, 1, 1, 1]);
  // everything splits at splitFlops 0, but a 1×1 output has no rows to share
  assert.deepEqual(planGraph(g, { inputShapes: { x: [1, 16, 32, 32] }, threads: 2, splitFlops: 0, winograd: 'off' }).steps.map((s) => s.split), [2, 2, 2, 1, 1]);
  assert.match(describePlan(plan), /conv im2col\+gemm ×2/);
  // Winograd shares its chunks of tile rows
  assert.match(describePlan(planGraph(g, { inputShapes: { x: [1, 16, 32, 32] }, threads: 2, winograd: 4 })), /conv winograd F\(4,3\) ×2 /);
});

test('fallbacks carry their reason; constant subgraphs are evaluated at plan time', () => {
  const b = new GraphBuilder(4);
  const x = b.input('x', ['N', 2, 5, 5]);
  const w = b.input('w', [3, 2, 3, 3]); // a weight fed at run time: no packed kernel for it
  const c = b.op1('Conv', [x, w]);
  const k = b.op1('Mul', [b.weight('k1', [3, 1, 1]), b.constant('two', f32([], [2]))]); // constant: folded
  const y = b.op1('Mul', [c, k]);
  const plan = planGraph(b.build([y], 17, 'N'), { inputShapes: { x: [1, 2, 5, 5], w: [3, 2, 3, 3] } });
  assert.deepEqual(plan.fallbacks, [{ node: 'Conv_0', op: 'Conv', why: 'the weight is not a float32 constant' }]);
  assert.deepEqual(plan.steps.map((s) => s.kind), ['reference', 'binary']);
  assert.ok(plan.values.get(k)!.const);
});

test('planGraph: bad options fail with one clear line', () => {
  const b = new GraphBuilder(5);
  const x = b.input('x', ['N', 4]);
  const g = b.build([b.op1('Relu', [x])], 17, 'N');
  const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof NnzipError && re.test(e.message));
  bad(() => planGraph(g, { inputShapes: {} }), /input "x": no shape given to plan for/);
  bad(() => planGraph(g, { inputShapes: { x: [1, 4], y: [1] } }), /"y" is not an input of graph/);
  bad(() => planGraph(g, { inputShapes: { x: [1, 4] }, kernels: 'sparse' as 'auto' }), /kernels='sparse'/);
  bad(() => planGraph(g, { inputShapes: { x: [1, 4] }, threads: 1.5 }), /threads=1.5/);
});
