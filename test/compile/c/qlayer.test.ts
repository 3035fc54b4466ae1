// The C backend's integer steps (backends/c/kernels/qlayer.ts and the 8-bit pools)
// against nnzip's WASM runtime on a small seeded QDQ graph: uint8 activations read
// as x − 128, a padded conv (the padding is the input zero point), a fused ReLU and
// max pool, per-channel and per-tensor int8 weights, a global max pool on 8-bit
// values. Both targets run the same integer steps (compile/fuse_int.ts), so the
// outputs agree bit for bit. (A QDQ Add, which C keeps float, is planned in
// test/compile/plan_c.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planGraph } from '../../../src/compile/plan.js';
import type { Graph } from '../../../src/ir/graph.js';
import { Rng } from '../../../src/ir/random.js';
import { Tensor, f32 } from '../../../src/ir/tensor.js';
import { GraphBuilder } from '../../onnx/graph_builder.js';
import { runC, runNnzip } from './helpers.js';

function qdqNet(): Graph {
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
  const a = qdq(x, 0.02, 128, 'x');
  const conv = b.op1('Conv', [a, int8w('w1', [4, 2, 3, 3], [0.004, 0.006, 0.005, 0.003]), b.weight('b1', [4])], { pads: [1, 1, 1, 1] });
  const r = qdq(b.op1('Relu', [conv]), 0.03, 0, 'r');
  const p = qdq(b.op1('MaxPool', [r], { kernel_shape: [2, 2], strides: [2, 2] }), 0.03, 0, 'r2');
  const gp = qdq(b.op1('GlobalMaxPool', [p]), 0.03, 0, 'gp');
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
