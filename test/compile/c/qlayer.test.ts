// The C backend's integer steps (backends/c/kernels/qlayer.ts and the 8-bit pools)
// against nnzip's WASM runtime on a small seeded QDQ graph: uint8 activations read
// as x − 128, a padded conv (the padding is the input zero point), a fused ReLU and
// max pool, per-channel and per-tensor int8 weights, a global max pool on 8-bit
// values. Both targets run the same integer steps (compile/fuse_int.ts), so the
// outputs agree bit for bit; with an Add and an average pool after the max pool too.
// With a QDQ Mul there instead, C runs a float island (dequantize, Mul, quantize)
// between integer layers: the form gcc 12 -O2 once miscompiled (backends/c/emit.ts,
// nnz_arena_base).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planGraph } from '../../../src/compile/plan.js';
import type { Graph } from '../../../src/ir/graph.js';
import { Rng } from '../../../src/ir/random.js';
import { Tensor, f32 } from '../../../src/ir/tensor.js';
import { GraphBuilder } from '../../onnx/graph_builder.js';
import { ARM_MISSING, HAS_ARM, runC, runNnzip } from './helpers.js';

/** The net; `mid` inserts mid(p, p) (QDQ 0.05) after the max pool, an Add then a padded average pool; `o` sets the input zero point and the conv's window. */
function qdqNet(mid?: 'Add' | 'Mul', o: { xZero?: number; conv?: Record<string, number[]> } = {}): Graph {
  const b = new GraphBuilder(21);
  const rng = new Rng(5);
  const u8 = (name: string, z: number) => b.constant(name, new Tensor('uint8', [], Uint8Array.of(z)));
  const qdq = (v: string, s: number, z: number, tag: string) => {
    const sc = b.constant(`s_${tag}`, f32([], [s])), zp = u8(`z_${tag}`, z);
    return b.op1('DequantizeLinear', [b.op1('QuantizeLinear', [v, sc, zp]), sc, zp]);
  };
  const int8w = (name: string, shape: number[], scales: number[]) => {
    const n = shape.reduce((p, d) => p * d, 1);
    const ints = Int8Array.from({ length: n }, () => Math.round(rng.uniform(-127, 127)));
    for (let r = 0; r < shape[0]; r++) ints[r * (n / shape[0])] = 127; // a symmetric quantizer's largest |w| of each row
    const q = b.constant(`${name}_q`, new Tensor('int8', shape, ints));
    const s = b.constant(`${name}_s`, f32([scales.length], scales));
    const z = b.constant(`${name}_z`, new Tensor('int8', [scales.length], new Int8Array(scales.length)));
    return b.op1('DequantizeLinear', [q, s, z], scales.length > 1 ? { axis: 0 } : {});
  };
  const x = b.input('x', ['N', 2, 6, 6]);
  const a = qdq(x, 0.02, o.xZero ?? 128, 'x');
  const conv = b.op1('Conv', [a, int8w('w1', [4, 2, 3, 3], [0.004, 0.006, 0.005, 0.003]), b.weight('b1', [4])], o.conv ?? { pads: [1, 1, 1, 1] });
  const r = qdq(b.op1('Relu', [conv]), 0.03, 0, 'r');
  const p = qdq(b.op1('MaxPool', [r], { kernel_shape: [2, 2], strides: [2, 2] }), 0.03, 0, 'r2');
  let s = mid ? qdq(b.op1(mid, [p, p]), 0.05, 0, 'mid') : p;
  if (mid === 'Add') s = qdq(b.op1('AveragePool', [s], { kernel_shape: [2, 2], pads: [1, 1, 0, 0] }), 0.05, 0, 'avg');
  const gp = qdq(b.op1('GlobalMaxPool', [s]), mid ? 0.05 : 0.03, 0, 'gp');
  const fc = b.op1('Gemm', [b.op1('Flatten', [gp]), int8w('w2', [3, 4], [0.01]), b.weight('b2', [3])], { transB: 1 });
  return b.build([qdq(fc, 0.1, 128, 'y')], 17, 'N');
}

test('C integer layers: uint8 in, padded conv + relu + max pool, global max pool, fc: bit for bit the WASM runtime', async () => {
  const g = qdqNet();
  const c = planGraph(g, { inputShapes: { x: [1, 2, 6, 6] }, target: 'c' });
  assert.deepEqual(c.steps.map((s) => s.kind), ['qconv', 'globalpool', 'qfc'], c.steps.map((s) => `${s.kind}: ${s.reason}`).join('\n'));
  assert.ok(c.steps[0].kind === 'qconv' && c.steps[0].pool?.mode === 'max');
  const rng = new Rng(3);
  for (const batch of [1, 2]) {
    const xs = Float32Array.from({ length: batch * 72 * 3 }, () => rng.uniform(-2.5, 2.5));
    const run = runC(g, xs, { batch });
    assert.deepEqual(run.program.layers.map((l) => l.kernel.split(' ')[0]), ['conv', 'global', 'fc']);
    const want = await runNnzip(g, xs, [batch, 2, 6, 6]);
    assert.deepEqual(Array.from(run.outputs), Array.from(want), `batch ${batch}: C and WASM differ`);
    assert.ok(new Set(want).size > 3, 'the outputs are not all alike');
  }
});

test('C integer conv: asymmetric pads with an input zero point off the reading offset, stride 2 × 1, dilation 1 × 2: bit for bit the WASM runtime', async () => {
  const g = qdqNet(undefined, { xZero: 100, conv: { pads: [2, 1, 0, 2], strides: [2, 1], dilations: [1, 2] } });
  const rng = new Rng(4);
  const xs = Float32Array.from({ length: 72 * 4 }, () => rng.uniform(-2.5, 2.5));
  const run = runC(g, xs);
  assert.match(run.program.layers[0].kernel, /^conv 3x3\/2 8-bit .*\+ max pool 2x2\/2$/);
  const want = await runNnzip(g, xs, [1, 2, 6, 6]);
  assert.deepEqual(Array.from(run.outputs), Array.from(want), 'C and WASM differ');
  assert.ok(new Set(want).size > 3, 'the outputs are not all alike');
});

test('C integer Add and average pool: bit for bit the WASM runtime', async () => {
  const g = qdqNet('Add');
  const c = planGraph(g, { inputShapes: { x: [1, 2, 6, 6] }, target: 'c' });
  assert.deepEqual(c.steps.map((s) => s.kind), ['qconv', 'qadd', 'qpool', 'globalpool', 'qfc'], c.steps.map((s) => `${s.kind}: ${s.reason}`).join('\n'));
  const rng = new Rng(6);
  const xs = Float32Array.from({ length: 72 * 20 }, () => rng.uniform(-2.5, 2.5));
  const run = runC(g, xs);
  assert.deepEqual(run.program.layers.map((l) => l.kernel.split(' ').slice(0, 2).join(' ')), ['conv 3x3/1', 'add 8-bit', 'avg pool', 'global max', 'fc 8-bit']);
  const want = await runNnzip(g, xs, [1, 2, 6, 6]);
  assert.deepEqual(Array.from(run.outputs), Array.from(want), 'C and WASM differ');
  assert.ok(new Set(want).size > 3, 'the outputs are not all alike');
});

test('C: a float Mul between integer layers (dequantize, Mul, quantize) runs every layer at -O2, natively and on the Cortex-M4', async (t) => {
  const g = qdqNet('Mul');
  const c = planGraph(g, { inputShapes: { x: [1, 2, 6, 6] }, target: 'c' });
  assert.ok(c.steps.some((s) => s.kind === 'dequantize') && c.steps.some((s) => s.op === 'Mul'), c.steps.map((s) => `${s.kind} ${s.op}`).join(', '));
  const rng = new Rng(4);
  const xs = Float32Array.from({ length: 72 * 20 }, () => rng.uniform(-2.5, 2.5));
  const want = await runNnzip(g, xs, [1, 2, 6, 6]);
  assert.ok(new Set(want).size > 3, 'the outputs are not all alike');
  const step = 0.1; // the output's quantization step (C and WASM run the same float Mul; one step of slack for float rounding)
  const check = (got: Float32Array, samples: number, where: string) => {
    assert.equal(got.length, samples * 3, where);
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= step + 1e-6, `${where}: output ${i} is ${got[i]}, nnzip ${want[i]}`);
  };
  check(runC(g, xs).outputs, 20, 'native');
  if (!HAS_ARM) return t.skip(ARM_MISSING);
  check(runC(g, xs.slice(0, 72 * 5), { m4: true }).outputs, 5, 'Cortex-M4 (QEMU)');
});
