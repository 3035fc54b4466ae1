// Small graphs at the kernels' edges, each against the reference runtime at batch
// 1 and 3, on 1 thread and on 2 threads with every step split: odd channel counts,
// strides, asymmetric pads, dilations, groups, depthwise, 1-D, concat (in place and
// copied), residual adds, pools, fc variants, light ops, quantization, fallbacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/ir/graph.js';
import { f32, i64, Tensor } from '../../src/ir/tensor.js';
import { GraphBuilder } from '../onnx/graph_builder.js';
import { checkAgainstReference, compareOutputs, randomFeeds } from './helpers.js';
import { createNodeSession } from '../../src/runtime/session_node.js';
import { runReference } from '../../src/runtime/reference.js';
import type { ConvStep } from '../../src/compile/plan_types.js';

const kernelsOf = (g: { plan: { steps: { name: string; kernel: string }[] } }) => Object.fromEntries(g.plan.steps.map((s) => [s.name, s.kernel]));

test('conv edges: strides, asymmetric pads, dilations, groups, depthwise, 1×1, fused relu / clip', async () => {
  const b = new GraphBuilder(1);
  const x = b.input('x', ['N', 3, 11, 13]);
  const a = b.op1('Relu', [b.op1('Conv', [x, b.weight('wa', [5, 3, 3, 3]), b.weight('ba', [5])], { strides: [2, 2], pads: [1, 0, 2, 1] })]);
  const c = b.op1('Conv', [x, b.weight('wb', [7, 3, 2, 3])], { dilations: [2, 1], pads: [1, 1, 1, 1] });
  const g3 = b.op1('Clip', [b.op1('Conv', [x, b.weight('wc', [6, 1, 3, 3]), b.weight('bc', [6])], { group: 3, pads: [1, 1, 1, 1] }),
    b.constant('lo', f32([], [0])), b.constant('hi', f32([], [0.5]))]);
  const dw = b.op1('Clip', [b.op1('Conv', [a, b.weight('wd', [5, 1, 3, 3]), b.weight('bd', [5])], { group: 5, pads: [1, 1, 1, 1] }),
    b.constant('lo6', f32([], [0])), b.constant('hi6', f32([], [6]))]);
  const dw2 = b.op1('Conv', [a, b.weight('wd2', [5, 1, 2, 2])], { group: 5, strides: [2, 1] });
  const pw = b.op1('Conv', [dw, b.weight('wp', [9, 5, 1, 1]), b.weight('bp', [9])]);
  const s = await checkAgainstReference(b.build([a, c, g3, pw, dw2], 17, 'N'), [1, 3, 4], 'conv edges'); // 2 threads: 1 and 3 split panels, 4 images
  const k = kernelsOf(s);
  assert.equal(k.Conv_0, 'conv im2col+gemm + relu');
  assert.equal(k.Conv_3, 'conv im2col+gemm + clip [0, 0.5]');
  assert.equal(k.Conv_5, 'conv depthwise + clip [0, 6]');
  assert.equal(k.Conv_7, 'conv depthwise');
  assert.equal(k.Conv_8, 'conv 1×1 gemm');
  await s.dispose();
});

test('1-D conv and 1-D pools run as 2-D with a height of 1', async () => {
  const b = new GraphBuilder(2);
  const x = b.input('x', ['N', 4, 17]);
  const c = b.op1('Conv', [x, b.weight('w', [6, 4, 3]), b.weight('bias', [6])], { strides: [2], pads: [2, 1] });
  const p = b.op1('MaxPool', [c], { kernel_shape: [3], strides: [2], ceil_mode: 1 });
  const q = b.op1('AveragePool', [c], { kernel_shape: [2], pads: [1, 0] });
  const s = await checkAgainstReference(b.build([p, q], 17, 'N'), [1, 3], '1-D');
  assert.equal(s.plan.fallbacks.length, 0);
  await s.dispose();
});

test('concat of convs written in place, concat with a graph input and a constant copied, residual add', async () => {
  const b = new GraphBuilder(3);
  const x = b.input('x', ['N', 4, 9, 9]);
  const p = b.op1('Relu', [b.op1('Conv', [x, b.weight('w1', [6, 4, 1, 1]), b.weight('b1', [6])])]);
  const q = b.op1('Relu', [b.op1('Conv', [x, b.weight('w2', [5, 4, 3, 3])], { pads: [1, 1, 1, 1] })]);
  const cat = b.op1('Concat', [p, q], { axis: 1 });
  const y = b.op1('Conv', [cat, b.weight('w3', [4, 11, 3, 3])], { pads: [1, 1, 1, 1] });
  const res = b.op1('Relu', [b.op1('Add', [y, x])]);
  const mixed = b.op1('Concat', [res, x, b.op1('MaxPool', [x], { kernel_shape: [1, 1] })], { axis: 1 });
  const flat = b.op1('Flatten', [mixed]);
  const s = await checkAgainstReference(b.build([flat, cat], 17, 'N'), [1, 3, 4], 'concat');
  const k = kernelsOf(s);
  assert.equal(k.Add_6, 'add + relu'); // the residual Add → Relu in one step
  assert.equal(k.Concat_4, 'concat (in place)');
  assert.match(k.Concat_9, /concat \(partly in place\)|concat \(copy\)/);
  await s.dispose();
});

test('an Add read by its Relu and by another step keeps the Relu apart; Sub / Mul / Div take a fused Clip', async () => {
  const b = new GraphBuilder(21);
  const x = b.input('x', ['N', 3, 5, 7]), y = b.input('y', ['N', 3, 5, 7]);
  const sum = b.op1('Add', [x, y]);
  const r = b.op1('Relu', [sum]);
  const clip = (v: string, i: number) => b.op1('Clip', [v, b.constant(`lo${i}`, f32([], [-0.25])), b.constant(`hi${i}`, f32([], [0.75]))]);
  const outs = [r, b.op1('Mul', [sum, x]), clip(b.op1('Sub', [x, y]), 0), clip(b.op1('Mul', [x, y]), 1), clip(b.op1('Div', [x, b.op1('Add', [y, b.constant('three', f32([], [3]))])]), 2)];
  const s = await checkAgainstReference(b.build(outs, 17, 'N'), [1, 3], 'binary + clamp');
  const k = Object.values(kernelsOf(s));
  assert.ok(k.includes('add') && k.includes('clamp (wasm)'), k.join(', '));
  for (const op of ['sub', 'mul', 'div']) assert.ok(k.includes(`${op} + clip [-0.25, 0.75]`), k.join(', '));
  await s.dispose();
});

test('a dense conv whose patches pass the chunk budget runs in chunks of output rows (im2col and 1×1)', async () => {
  const b = new GraphBuilder(22);
  const x = b.input('x', ['N', 3, 70, 70]);
  const stem = b.op1('Relu', [b.op1('Conv', [x, b.weight('w1', [16, 3, 7, 7]), b.weight('b1', [16])], { strides: [2, 2], pads: [3, 3, 3, 3] })]);
  const pw = b.op1('Conv', [b.op1('Conv', [x, b.weight('w2', [64, 3, 1, 1])]), b.weight('w3', [8, 64, 1, 1])]);
  const s = await checkAgainstReference(b.build([stem, pw], 17, 'N'), [1, 4], 'chunked convs');
  for (const [name, rows] of [['Conv_0', 15], ['Conv_3', 29]] as const) {
    const st = s.plan.steps.find((t) => t.name === name);
    assert.ok(st?.kind === 'conv' && st.layout.rows === rows, `${name}: rows ${st?.kind === 'conv' ? st.layout.rows : '-'}`);
  }
  await s.dispose();
});

test('threads sharing a batch of a conv cut in many chunks take fewer, larger ones: the calls of an image fit one item of a dynamic run', async () => {
  const b = new GraphBuilder(24);
  const x = b.input('x', ['N', 3, 226, 226]);
  const g = b.build([b.op1('Conv', [x, b.weight('w', [4, 3, 7, 7])], { strides: [2, 2], pads: [3, 3, 3, 3] })], 17, 'N');
  const two = await createNodeSession(g, { threads: 2, splitFlops: 0 });
  try {
    const feeds = randomFeeds(g, 8, 5);
    compareOutputs(two.run(feeds), runReference(g, feeds), 'batch 8 (2 threads)');
    const l = (two.plan.steps[0] as ConvStep).layout;
    assert.ok(l.byImages && l.rows !== undefined && l.rows > 5 && Math.ceil(113 / l.rows) * 41 <= 4096 / l.sets - 1, JSON.stringify(l)); // alone: 5 rows
  } finally {
    await two.dispose();
  }
});

test('pools: ceil mode, pads, count_include_pad, dilations, global and ReduceMean', async () => {
  const b = new GraphBuilder(4);
  const x = b.input('x', ['N', 3, 10, 11]);
  const outs = [
    b.op1('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1, pads: [1, 1, 0, 0] }),
    b.op1('AveragePool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }),
    b.op1('AveragePool', [x], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }),
    b.op1('MaxPool', [x], { kernel_shape: [2, 2], dilations: [2, 2] }),
    b.op1('GlobalAveragePool', [x]),
    b.op1('GlobalMaxPool', [x]),
    b.op1('ReduceMean', [x], { axes: [2, 3], keepdims: 0 }),
  ];
  const s = await checkAgainstReference(b.build(outs, 17, 'N'), [1, 3], 'pools');
  assert.equal(s.plan.fallbacks.length, 0);
  await s.dispose();
});

test('fc variants: Gemm alpha/beta/transB=0, transA, scalar C; MatMul on 3-D input + bias + relu fused', async () => {
  const b = new GraphBuilder(5);
  const x = b.input('x', ['N', 13]);
  const xt = b.input('xt', [13, 'N']);
  const x3 = b.input('x3', ['N', 3, 13]);
  const g1 = b.op1('Relu', [b.op1('Gemm', [x, b.weight('w1', [13, 7]), b.weight('c1', [7])], { alpha: 0.5, beta: 2 })]);
  const g2 = b.op1('Gemm', [xt, b.weight('w2', [9, 13]), b.constant('c2', f32([1], [0.25]))], { transA: 1, transB: 1 });
  const m = b.op1('Relu', [b.op1('Add', [b.op1('MatMul', [x3, b.weight('w3', [13, 6])]), b.weight('b3', [6])])]);
  const s = await checkAgainstReference(b.build([g1, g2, m], 17, 'N'), [1, 3], 'fc');
  const k = kernelsOf(s);
  assert.equal(k.Gemm_0, 'gemm (packed weights) + relu');
  assert.equal(k.MatMul_3, 'gemm (packed weights) + bias add + relu');
  assert.equal(s.plan.steps.length, 3);
  await s.dispose();
});

test('light ops: broadcast arithmetic, softmax, sigmoid / tanh / leaky relu, batchnorm (folded and not), in place', async () => {
  const b = new GraphBuilder(6);
  const x = b.input('x', ['N', 4, 5, 6]);
  const row = b.op1('Mul', [x, b.weight('row', [6])]);
  const chan = b.op1('Sub', [row, b.weight('chan', [4, 1, 1])]);
  const div = b.op1('Div', [b.constant('two', f32([], [2])), b.op1('Add', [chan, b.constant('three', f32([], [3]))])]);
  const sm = b.op1('Softmax', [b.op1('Sigmoid', [div])], { axis: 1 });
  const t = b.op1('LeakyRelu', [b.op1('Tanh', [x])], { alpha: 0.2 });
  const bnParams = ['g', 'be', 'mu'].map((n) => b.weight(n, [4])).concat(b.weight('var', [4], 1, 0.5));
  const bn = b.op1('BatchNormalization', [t, ...bnParams], { epsilon: 1e-3 });
  const conv = b.op1('Conv', [x, b.weight('wc', [4, 4, 1, 1])]);
  const folded = b.op1('BatchNormalization', [conv, ...bnParams]);
  const s = await checkAgainstReference(b.build([sm, bn, folded], 17, 'N'), [1, 3], 'light ops');
  const k = kernelsOf(s);
  assert.equal(k.Conv_9, 'conv 1×1 gemm + batchnorm folded');
  assert.equal(k.BatchNormalization_8, 'batchnorm affine');
  assert.equal(s.plan.fallbacks.length, 0);
  await s.dispose();
});

test('quantization: a Q→DQ pair fused, a lone QuantizeLinear (int8 buffer) and a per-axis DequantizeLinear', async () => {
  const b = new GraphBuilder(7);
  const x = b.input('x', ['N', 3, 4]);
  const s1 = b.constant('s1', f32([], [0.02])), z1 = b.constant('z1', new Tensor('int8', [], Int8Array.of(3)));
  const fq = b.op1('DequantizeLinear', [b.op1('QuantizeLinear', [x, s1, z1]), s1, z1]);
  const q = b.op1('QuantizeLinear', [x, b.constant('s2', f32([], [0.01])), b.constant('z2', new Tensor('uint8', [], Uint8Array.of(128)))]);
  const dq = b.op1('DequantizeLinear', [q, b.constant('s3', f32([3], [0.01, 0.02, 0.03])), b.constant('z3', new Tensor('uint8', [3], Uint8Array.of(120, 128, 130)))], { axis: 1 });
  const s = await checkAgainstReference(b.build([fq, q, dq], 17, 'N'), [1, 3], 'quant');
  assert.deepEqual(s.plan.steps.map((st) => st.kind), ['fakequant', 'quantize', 'dequantize']);
  await s.dispose();
});

test('ops without a fast kernel fall back to their reference kernel, named in describe()', async () => {
  const b = new GraphBuilder(8);
  const x = b.input('x', ['N', 4, 6]);
  const t = b.op1('Transpose', [x], { perm: [0, 2, 1] });
  const sl = b.op1('Slice', [t, b.constant('st', i64([1], [1])), b.constant('en', i64([1], [5])), b.constant('ax', i64([1], [1]))]);
  const ga = b.op1('Gather', [sl, b.constant('idx', i64([2], [3, 0]))], { axis: 2 });
  const [s1, s2] = b.op('Split', [ga], { axis: 1 }, 2);
  const r = b.op1('Relu', [b.op1('Add', [s1, s2])]);
  const g = b.build([r], 18, 'N');
  // ReduceSum has a reference kernel but no shape schema: the planner probes it
  g.nodes.push({ name: 'sum', op: 'ReduceSum', inputs: [r, 'axes'], outputs: ['total'], attrs: { keepdims: 0 } });
  g.initializers.set('axes', i64([1], [2]));
  g.outputs.push({ name: 'total', dtype: 'float32', shape: ['N', 4] });
  const s = await checkAgainstReference(g, [1, 3], 'fallbacks');
  assert.deepEqual(s.plan.fallbacks.map((f) => f.op), ['Transpose', 'Slice', 'Gather', 'Split', 'ReduceSum']);
  assert.match(s.describe(), /reference fallbacks \(5\):\n {2}Transpose_0 \(Transpose\): no fast kernel for Transpose/);
  await s.dispose();
});

test('graph outputs that are graph inputs, constants or reshapes of one another', async () => {
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 6] }],
    outputs: [
      { name: 'x', dtype: 'float32', shape: ['N', 6] },
      { name: 'k', dtype: 'float32', shape: [2] },
      { name: 'r', dtype: 'float32', shape: ['N', 2, 3] },
      { name: 'y', dtype: 'float32', shape: ['N', 6] },
    ],
    nodes: [
      { name: 'reshape', op: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'], attrs: {} },
      { name: 'relu', op: 'Relu', inputs: ['r'], outputs: ['rr'], attrs: {} },
      { name: 'flat', op: 'Flatten', inputs: ['rr'], outputs: ['y'], attrs: {} },
    ],
    initializers: new Map<string, Tensor>([['k', f32([2], [1, 2])], ['shape', i64([3], [0, 2, 3])]]),
  });
  const s = await checkAgainstReference(g, [1, 3], 'outputs');
  await s.dispose();
});

test('in place only where the input dies: a value read again later keeps its bytes', async () => {
  const b = new GraphBuilder(9);
  const x = b.input('x', ['N', 2, 8, 8]);
  const c = b.op1('Conv', [x, b.weight('w', [4, 2, 3, 3])], { pads: [1, 1, 1, 1] });
  const s = b.op1('Tanh', [b.op1('Flatten', [c])]); // over the conv's bytes (it dies here)
  const sum = b.op1('Add', [b.op1('LeakyRelu', [s]), s]); // LeakyRelu must not write over s
  const sm = b.op1('Softmax', [b.op1('Mul', [sum, sum])]);
  const session = await checkAgainstReference(b.build([sm], 17, 'N'), [1, 3], 'in place');
  await session.dispose();
});

test('shape arithmetic on the batch dim (Shape → Gather → Concat → Reshape) is folded per plan', async () => {
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 2, 3] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 6] }],
    nodes: [
      { name: 'shape', op: 'Shape', inputs: ['x'], outputs: ['s'], attrs: {} },
      { name: 'gather', op: 'Gather', inputs: ['s', 'zero'], outputs: ['n'], attrs: {} },
      { name: 'unsqueeze', op: 'Unsqueeze', inputs: ['n'], outputs: ['n1'], attrs: { axes: [0] } },
      { name: 'concat', op: 'Concat', inputs: ['n1', 'minus1'], outputs: ['shape_out'], attrs: { axis: 0 } },
      { name: 'reshape', op: 'Reshape', inputs: ['x', 'shape_out'], outputs: ['r'], attrs: {} },
      { name: 'relu', op: 'Relu', inputs: ['r'], outputs: ['y'], attrs: {} },
    ],
    initializers: new Map<string, Tensor>([['zero', i64([], [0])], ['minus1', i64([1], [-1])]]),
  });
  const s = await checkAgainstReference(g, [1, 3, 5], 'dynamic flatten');
  assert.deepEqual(s.plan.steps.map((st) => st.kind), ['clamp']);
  await s.dispose();
});
