// Small torchvision-style graphs built in the IR, exported at several opsets: onnxruntime
// loads and runs them, its output shapes equal inferShapes, and its values equal
// nnzip's reference runtime. Also: what cannot be written at an old opset is refused.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { NnzipError } from '../../src/ir/errors.js';
import type { Graph } from '../../src/ir/graph.js';
import { inferShapes, resolveShape } from '../../src/ir/infer.js';
import { Tensor, f32, fromNumbers, i64 } from '../../src/ir/tensor.js';
import { verify } from '../../src/ir/verify.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { importOnnx } from '../../src/onnx/import.js';
import { getRefKernel } from '../../src/ir/ref/index.js';
import { runReference } from '../../src/runtime/reference.js';
import { GraphBuilder } from './graph_builder.js';
import { convNet, miscNet, quantNet, sliceNet } from './nets.js';
import { assertClose, ortRun, randomInput } from './helpers.js';

test('Slice exported at opset 13 matches onnxruntime and a plain index computation', async () => {
  const g = sliceNet(13);
  verify(g);
  const x = randomInput([2, 4, 6], 5);
  const ort = await ortRun(exportOnnx(g), { x });
  const types = inferShapes(g);
  const at = (n: number, c: number, w: number) => x.data[(n * 4 + c) * 6 + w];
  const want1 = [0, 1].flatMap((n) => [0, 1, 2, 3].flatMap((c) => [1, 3].map((w) => at(n, c, w))));
  const want2 = [0, 1].flatMap((n) => [3, 1].flatMap((c) => [0, 3].map((w) => at(n, c, w))));
  assert.deepEqual(types.get(g.outputs[0].name)!.shape, [2, 4, 2]);
  assert.deepEqual(types.get(g.outputs[1].name)!.shape, [2, 2, 2]);
  assert.deepEqual([...ort[g.outputs[0].name].data], want1);
  assert.deepEqual([...ort[g.outputs[1].name].data], want2);
});

/** Ops of the graph that the reference runtime cannot run yet (values then go unchecked). */
function missingRef(g: Graph): string[] {
  return [...new Set(g.nodes.map((n) => n.op))].filter((op) => !getRefKernel(op));
}

async function checkAgainstOrt(g: Graph, what: string, seed: number, t: TestContext): Promise<void> {
  verify(g);
  const bytes = exportOnnx(g);
  const dims = { N: 2 };
  const feeds = { x: randomInput(resolveShape(g.inputs[0], dims), seed, -1, 1) };
  const ort = await ortRun(bytes, feeds);
  const types = inferShapes(g, dims);
  const missing = missingRef(g);
  if (missing.length) t.diagnostic(`${what}: no reference kernel for ${missing.join(', ')}; values not compared`);
  const ref = missing.length ? undefined : runReference(g, feeds);
  for (const o of g.outputs) {
    assert.deepEqual(ort[o.name].shape, types.get(o.name)!.shape, `${what}: shape of ${o.name}`);
    assert.equal(ort[o.name].dtype, o.dtype, `${what}: dtype of ${o.name}`);
    if (ref) assertClose(ref[o.name], ort[o.name], 1e-4, 1e-5, `${what}: ${o.name} reference vs onnxruntime`);
  }
  // and nnzip reads its own export back
  verify(importOnnx(bytes, { source: `${what}.onnx` }));
}

for (const opset of [11, 12, 13, 17, 18]) {
  test(`conv net exported at opset ${opset} runs in onnxruntime with matching shapes and values`, async (t) => {
    await checkAgainstOrt(convNet(opset), `convnet@${opset}`, opset, t);
  });
  test(`misc ops exported at opset ${opset} run in onnxruntime with matching shapes and values`, async (t) => {
    await checkAgainstOrt(miscNet(opset), `misc@${opset}`, 100 + opset, t);
  });
}

for (const opset of [13, 17, 18]) {
  test(`QDQ graph (per-axis weights) exported at opset ${opset} matches onnxruntime`, async (t) => {
    await checkAgainstOrt(quantNet(opset), `quant@${opset}`, 200 + opset, t);
  });
}

test('export refuses what an old opset cannot express', () => {
  assert.throws(() => exportOnnx(quantNet(12)), (e: Error) => e instanceof NnzipError && /per-axis quantization needs opset ≥ 13/.test(e.message));
  const b = new GraphBuilder(1);
  const x = b.input('x', [2, 3, 4]);
  const sm = b.op1('Softmax', [x], { axis: 1 });
  assert.throws(() => exportOnnx(b.build([sm], 12)), /Softmax over axis 1 \(not the last\) cannot be written at opset 12/);
  const b2 = new GraphBuilder(1);
  const y = b2.op1('Reshape', [b2.input('x', [2, 3]), b2.constant('s', i64([1], [6]))], { allowzero: 1 });
  assert.throws(() => exportOnnx(b2.build([y], 13)), /node "Reshape_0" \(Reshape\): allowzero=1 needs opset ≥ 14/);
  assert.throws(() => exportOnnx(b2.build([y], 9)), /cannot export opset 9/);
});

test('export writes symbolic dims, raw_data initializers and the producer', () => {
  const g = convNet(17);
  const bytes = exportOnnx(g, { producer: 'unit-test' });
  const text = new TextDecoder('latin1').decode(bytes);
  assert.ok(text.includes('unit-test'));
  const back = importOnnx(bytes);
  assert.deepEqual(back.inputs[0].shape, ['N', 3, 16, 16]);
  assert.deepEqual(back.outputs[0].shape, ['N', 10]);
  // same bytes for the same graph (deterministic)
  assert.deepEqual(exportOnnx(g, { producer: 'unit-test' }), bytes);
});
