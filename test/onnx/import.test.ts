// Importing the reference models: node counts, parameters, shapes, value infos, speed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Graph } from '../../src/ir/graph.js';
import { inferShapes } from '../../src/ir/infer.js';
import { isFloat } from '../../src/ir/tensor.js';
import { verify } from '../../src/ir/verify.js';
import { importOnnx } from '../../src/onnx/import.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { FIXTURES, fixture } from './helpers.js';

function opCounts(g: Graph): Record<string, number> {
  const c: Record<string, number> = {};
  for (const n of g.nodes) c[n.op] = (c[n.op] ?? 0) + 1;
  return c;
}

function floatParams(g: Graph): number {
  let n = 0;
  for (const t of g.initializers.values()) if (isFloat(t.dtype)) n += t.size;
  return n;
}

const EXPECTED: Record<string, { ops: Record<string, number>; params: number; out: number }> = {
  lenet300_dense: { ops: { Gemm: 3, Relu: 2, Reshape: 1 }, params: 266_610, out: 10 },
  lenet5_dense: { ops: { Conv: 2, MaxPool: 2, Gemm: 2, Relu: 1, Reshape: 1 }, params: 431_080, out: 10 },
  // weights' DequantizeLinear are folded into float initializers; activations keep Q/DQ pairs
  lenet5_int8_qdq: { ops: { Conv: 2, MaxPool: 2, Gemm: 2, Reshape: 1, QuantizeLinear: 8, DequantizeLinear: 8 }, params: 431_080 + 5, out: 10 },
  vggs_fmnist_dense: { ops: { Conv: 6, MaxPool: 3, Gemm: 2, Relu: 7, Reshape: 1 }, params: 584_170, out: 10 },
  squeezenet1_1_random: { ops: { Conv: 26, Relu: 26, Concat: 8, MaxPool: 3, ReduceMean: 1, Reshape: 1 }, params: 1_231_552, out: 1000 },
};

for (const name of FIXTURES) {
  test(`import ${name}: ops, parameters, value infos`, () => {
    const g = loadOnnxFile(fixture(name));
    verify(g);
    const e = EXPECTED[name];
    assert.deepEqual(opCounts(g), e.ops);
    assert.equal(floatParams(g), e.params);
    assert.equal(g.inputs.length, 1);
    assert.deepEqual({ ...g.inputs[0] }, { name: 'input', dtype: 'float32', shape: ['N', ...(name.startsWith('squeeze') ? [3, 224, 224] : [1, 28, 28])] });
    assert.deepEqual({ ...g.outputs[0] }, { name: 'logits', dtype: 'float32', shape: ['N', e.out] });
    assert.equal(g.opset, name.startsWith('lenet') ? 17 : 18);
    const types = inferShapes(g, { N: 3 });
    assert.deepEqual(types.get('logits')!.shape, [3, e.out]);
  });
}

test('LeNet-5 flattens 50×4×4 = 800 features into fc1', () => {
  const g = loadOnnxFile(fixture('lenet5_dense'));
  const types = inferShapes(g);
  const gemm = g.nodes.find((n) => n.op === 'Gemm')!;
  assert.deepEqual(types.get(gemm.inputs[0])!.shape, [1, 800]);
  assert.deepEqual(g.initializers.get('fc1.weight')!.shape, [500, 800]);
  assert.deepEqual(types.get('conv2d_1')!.shape, [1, 50, 8, 8]);
});

test('SqueezeNet: ceil_mode pools, ReduceMean axes normalised to an attribute, import well under a second', (t) => {
  const bytes = readFileSync(fixture('squeezenet1_1_random'));
  importOnnx(bytes); // warm-up (protobuf schema parse, JIT)
  const times: number[] = [];
  let g: Graph | undefined;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    g = importOnnx(bytes, { source: 'squeezenet1_1_random.onnx' });
    times.push(performance.now() - t0);
  }
  const median = times.sort((a, b) => a - b)[1];
  t.diagnostic(`SqueezeNet 1.1 import (5 MB): median ${median.toFixed(1)} ms`);
  assert.ok(median < 1000, `import took ${median} ms`);
  const types = inferShapes(g!);
  const pools = g!.nodes.filter((n) => n.op === 'MaxPool').map((n) => types.get(n.outputs[0])!.shape);
  assert.deepEqual(pools, [[1, 64, 55, 55], [1, 128, 27, 27], [1, 256, 13, 13]]);
  const mean = g!.nodes.find((n) => n.op === 'ReduceMean')!;
  assert.deepEqual(mean.inputs.length, 1);
  assert.deepEqual(mean.attrs.axes, [-1, -2]);
  assert.deepEqual(types.get(mean.outputs[0])!.shape, [1, 1000, 1, 1]);
});

test('QDQ model: weights are float initializers, activation scales stay', () => {
  const g = loadOnnxFile(fixture('lenet5_int8_qdq'));
  const conv = g.nodes.find((n) => n.op === 'Conv')!;
  const w = g.initializers.get(conv.inputs[1]);
  assert.ok(w, 'conv weight is an initializer');
  assert.equal(w.dtype, 'float32');
  assert.deepEqual(w.shape, [20, 1, 5, 5]);
  const q = g.nodes.find((n) => n.op === 'QuantizeLinear')!;
  assert.equal(g.initializers.get(q.inputs[2])!.dtype, 'int8');
});
