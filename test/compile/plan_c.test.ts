// Plans made for the C target: the onnxruntime QDQ LeNet-5 becomes four integer
// layers (compile/fuse_int.ts, the same steps as the WASM plan's) taking and giving
// int8 (its pools fused into the convs before them), a conv + pool pair is made band
// by band with the band sized by its pooled output, the region is packed at 4 bytes
// with no scratch but the bands; the WASM plan of the same graph has the same integer
// layers, its pools as steps, and its graph input and output in float.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { convBand } from '../../src/compile/conv_layout.js';
import { planGraph } from '../../src/compile/plan.js';
import type { ConvStep, PoolStep, QConvStep, QFcStep } from '../../src/compile/plan_types.js';
import { Tensor } from '../../src/ir/tensor.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { GraphBuilder } from '../onnx/graph_builder.js';
import { MODELS } from '../cli/helpers.js';

const shapes = { input: [1, 1, 28, 28] };

test('target c: the QDQ LeNet-5 plans as the integer layers of the WASM plan, with int8 in and out and the pools fused', () => {
  const g = loadOnnxFile(join(MODELS, 'lenet5_int8_qdq.onnx'));
  const c = planGraph(g, { inputShapes: shapes, target: 'c' });
  const w = planGraph(g, { inputShapes: shapes });
  assert.deepEqual(c.steps.map((s) => s.kind), ['qconv', 'qconv', 'qfc', 'qfc']);
  const wasmLayers = w.steps.filter((s): s is QConvStep | QFcStep => s.kind === 'qconv' || s.kind === 'qfc');
  assert.equal(wasmLayers.length, 4, 'the WASM plan runs the same four layers on integers');
  c.steps.forEach((s, i) => {
    const l = (s as QConvStep | QFcStep).layer;
    assert.ok(l.epilogue && l.epilogue.mult.length > 1, `${s.name}: per-channel int8 weights, requantized to int8`);
    assert.equal(l.input, 'int8');
    assert.deepEqual(l, wasmLayers[i].layer, `${s.name}: the same integer constants on both targets`);
    // unpadded 5×5 convs: 23 rows of 28 + 24 sums (28×28 → 24×24), 7 rows of 12 + 8 (12×12 → 8×8)
    assert.equal(s.scratch, [(23 * 28 + 24) * 4, (7 * 12 + 8) * 4, 0, 0][i], `${s.name}: a C integer conv sums one int32 plane at a time (flat rows of the input width); the fc none`);
  });
  assert.deepEqual(c.steps.slice(0, 2).map((s) => (s as QConvStep).pool?.mode), ['max', 'max']);
  assert.deepEqual(c.boundary.map((b) => [b.graphValue, b.q.zero]), [['input', -128], ['logits', -37]]);
  assert.equal(c.values.get(c.inputs[0])!.dtype, 'int8');
  assert.equal(c.values.get(c.outputs[0])!.dtype, 'int8');
  assert.equal(c.memory.regionBytes, 784 + 2880 + (23 * 28 + 24) * 4, 'the peak: the input, the first pooled output (int8) and the first conv\'s int32 plane');
  assert.equal(w.target, 'wasm');
  assert.deepEqual(w.steps.map((s) => s.kind), ['quantize', 'qconv', 'qconv', 'qfc', 'qfc', 'dequantize']);
  assert.deepEqual(w.steps.filter((s) => s.kind === 'qconv').map((s) => (s as QConvStep).pool?.mode), ['max', 'max'], 'WASM: the pools fused into the im2col convs too');
  assert.deepEqual(w.boundary, []);
});

test('target c: a QDQ Add is an integer add on both targets; a unit a target has no integer kernel for stays float with the reason', () => {
  const b = new GraphBuilder(9);
  const x = b.input('x', ['N', 2, 3, 3]);
  const sc = b.constant('s', new Tensor('float32', [], Float32Array.of(0.05)));
  const zp = b.constant('z', new Tensor('int8', [], Int8Array.of(0)));
  const dq = (v: string) => b.op1('DequantizeLinear', [b.op1('QuantizeLinear', [v, sc, zp]), sc, zp]);
  const sum = dq(b.op1('Add', [dq(x), dq(b.op1('Relu', [x]))]));
  const g = b.build([dq(b.op1('GlobalMaxPool', [sum]))], 17, 'N');
  const shapes = { inputShapes: { x: [1, 2, 3, 3] } };
  const c = planGraph(g, { ...shapes, target: 'c' }), wasm = planGraph(g, shapes);
  for (const p of [c, wasm]) assert.equal(p.steps.find((s) => s.op === 'Add')!.kind, 'qadd');
  assert.equal(c.steps.find((s) => s.op === 'GlobalMaxPool')!.kind, 'globalpool');
  const gp = wasm.steps.find((s) => s.op === 'GlobalMaxPool')!;
  assert.match(gp.reason, /float: the WASM backend has no integer global max pool kernel yet/);
});

test('target c: a conv with its pool makes bands of rows (1/8 of the pooled output); a padded small conv goes by input channel; 4-byte offsets', () => {
  const b = new GraphBuilder(5);
  const x = b.input('x', ['N', 1, 28, 28]);
  const c1 = b.op1('Conv', [x, b.weight('w1', [20, 1, 5, 5])]);
  const p1 = b.op1('MaxPool', [c1], { kernel_shape: [2, 2], strides: [2, 2] });
  const c2 = b.op1('Conv', [p1, b.weight('w2', [7, 20, 5, 5])], { pads: [2, 2, 2, 2] }); // padded, 12×12: by input channel (a dense 3×3 would run as a pattern)
  const p2 = b.op1('AveragePool', [c2], { kernel_shape: [3, 3], strides: [2, 2] }); // windows overlap: not fused
  const g = b.build([b.op1('Gemm', [b.op1('Flatten', [p2]), b.weight('w3', [10, 7 * 5 * 5])], { transB: 1 })], 17, 'N');
  const plan = planGraph(g, { inputShapes: { x: [1, 1, 28, 28] }, target: 'c' });
  assert.deepEqual(plan.steps.map((s) => s.kind), ['conv', 'conv', 'pool', 'fc']);
  const conv = plan.steps[0] as ConvStep;
  // pooled output 20×12×12 floats = 11,520 B; 1/8 = 1,440 B; 6 pooled rows = 12 conv rows × 24 × 4 = 1,152 B
  assert.deepEqual(conv.band, { pooled: 6, rows: 12 });
  assert.equal(conv.scratch, 12 * 24 * 4);
  assert.deepEqual([conv.cKernel, (plan.steps[1] as ConvStep).cKernel], ['taps', 'channels']);
  assert.deepEqual(plan.steps.slice(1).map((s) => s.scratch), [25 * 144 * 4, 0, 0], 'the 25 shifted copies of one 12×12 plane');
  for (const buf of plan.memory.buffers) assert.equal(buf.offset % 4, 0);
  const wasm = planGraph(g, { inputShapes: { x: [1, 1, 28, 28] } });
  assert.equal(wasm.steps.length, 5, 'the WASM plan keeps every pool as its own step');
});

test('convBand: overlapping windows are not fused; one pooled row is the least a band makes', () => {
  const conv = { N: 1, OH: 10, OW: 10 } as ConvStep;
  const pool = (kh: number, sh: number, C: number, OH: number) => ({ N: 1, C, OH, OW: OH, win: { kh, kw: kh, sh, sw: sh, dh: 1, dw: 1, padT: 0, padL: 0, padB: 0, padR: 0 } }) as PoolStep;
  assert.equal(convBand(conv, pool(3, 2, 4, 4)), undefined);
  assert.deepEqual(convBand(conv, pool(2, 2, 1, 5)), { pooled: 1, rows: 2 }, 'a budget below one pooled row still makes one');
  assert.deepEqual(convBand(conv, pool(2, 2, 64, 5)), { pooled: 5, rows: 10 });
});

test('plan: target and threads are checked', () => {
  const b = new GraphBuilder(6);
  const g = b.build([b.op1('Relu', [b.input('x', [1, 4])])], 17);
  assert.throws(() => planGraph(g, { inputShapes: { x: [1, 4] }, target: 'gpu' as 'c' }), /target='gpu'; use 'wasm' or 'c'/);
  assert.throws(() => planGraph(g, { inputShapes: { x: [1, 4] }, target: 'c', threads: 2 }), /target 'c' runs on one thread/);
});
