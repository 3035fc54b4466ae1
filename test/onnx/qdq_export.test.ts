// QDQ export: a quantized graph's 8-bit grid weights and int32-grid biases are
// written as integers behind DequantizeLinear (per-axis scales), onnxruntime loads
// the model and agrees, and importing it gives the same values and grids back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quantizeGraph } from '../../src/compress/quantize/ptq.js';
import { ortRun, ortSession } from '../../src/eval/ort.js';
import { NnzipError } from '../../src/ir/errors.js';
import { f32 } from '../../src/ir/tensor.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { importOnnx } from '../../src/onnx/import.js';
import { decodeModel, int64 } from '../../src/onnx/onnx_proto.js';
import { Session } from '../../src/runtime/session.js';
import { smallNet, syntheticSet } from '../compress/quantize/helpers.js';

test('QDQ export: int8 weights and int32 biases behind DequantizeLinear; onnxruntime agrees; the import keeps the grids', async () => {
  const set = syntheticSet(40);
  const r = quantizeGraph(smallNet(), { scheme: 'int8', bits: 8 }, set);
  const bytes = exportOnnx(r.graph);
  const m = decodeModel(bytes).graph!;
  const init = new Map((m.initializer ?? []).map((t) => [t.name, t]));
  for (const w of ['conv1.weight', 'conv2.weight', 'fc.weight']) {
    assert.equal(init.get(`${w}_quantized`)?.data_type, 3, `${w} is written as int8`);
    assert.ok(!init.has(w), `${w} is not written as float`);
  }
  for (const b of ['conv1.bias', 'conv2.bias', 'fc.bias']) assert.equal(init.get(`${b}_quantized`)?.data_type, 6, `${b} is written as int32`);
  const dq = (m.node ?? []).find((n) => n.output?.[0] === 'conv2.weight')!; // the dequantized value keeps the weight's name
  assert.equal(dq.op_type, 'DequantizeLinear');
  assert.equal(int64(dq.attribute!.find((a) => a.name === 'axis')!.i), 0);

  const back = importOnnx(bytes);
  for (const [name, t] of r.graph.initializers) {
    if (!back.initializers.has(name)) continue;
    assert.deepEqual(back.initializers.get(name)!.data, t.data, name);
  }
  for (const w of ['conv1.weight', 'conv2.weight', 'fc.weight']) {
    const [a, b] = [r.graph.formats.get(w), back.formats.get(w)];
    assert.ok(a?.kind === 'grid' && b?.kind === 'grid');
    assert.deepEqual([b.q, b.scale], [a.q, a.scale], `${w} keeps its grid through ONNX`);
  }

  const x = f32([20, 1, 8, 8], set.data.images.subarray(0, 20 * 64));
  const out = r.graph.outputs[0].name;
  const ort = await ortSession(bytes);
  const theirs = (await ortRun(ort, { input: x }))[out].data as Float32Array;
  const s = await Session.create(back, { batch: 20 });
  const mine = s.run({ input: x })[out].data as Float32Array;
  await s.dispose();
  const step = r.tensors.get(r.layers[2].output)!.scale;
  mine.forEach((v, i) => assert.ok(Math.abs(v - theirs[i]) <= step + 1e-6, `output ${i}: nnzip ${v}, onnxruntime ${theirs[i]} (step ${step})`));
});

test('QDQ export refuses what ONNX cannot hold: 16-bit activations', async () => {
  const r = quantizeGraph(smallNet(), { scheme: 'int8', bits: 8, act16: ['conv2'] }, syntheticSet(10));
  assert.throws(() => exportOnnx(r.graph), (e: Error) => e instanceof NnzipError && /int16 quantization has no ONNX form at opset 17.*\.nnz/.test(e.message));
});
