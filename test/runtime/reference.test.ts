// The reference runtime: feed checks, node order, requested outputs, release
// schedule, errors; and the fixture models against onnxruntime-node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { Graph, type Node } from '../../src/ir/graph.js';
import { f32, i64, Tensor } from '../../src/ir/tensor.js';
import { Rng } from '../../src/ir/random.js';
import { runReference, releaseSchedule } from '../../src/runtime/reference.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { assertClose, assertBadInput } from '../ir/ref/helpers.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const node = (op: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): Node => ({ name: `${op}_${outputs[0]}`, op, inputs, outputs, attrs });

/** input [N,1,2,2] → Flatten → Gemm(w,b) → Relu → y ; also exposes the Gemm output "h". */
function smallGraph(): Graph {
  return new Graph({
    name: 'small',
    inputs: [{ name: 'input', dtype: 'float32', shape: ['N', 1, 2, 2] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3] }],
    nodes: [
      node('Flatten', ['input'], ['flat']),
      node('Gemm', ['flat', 'w', 'b'], ['h'], { transB: 1 }),
      node('Relu', ['h'], ['y']),
    ],
    initializers: new Map([
      ['w', f32([3, 4], [1, 0, 0, 0, 0, 1, 0, 0, -1, -1, -1, -1])],
      ['b', f32([3], [0, 0.5, 0])],
    ]),
  });
}

test('runReference: runs nodes in order and returns the graph outputs', () => {
  const x = f32([2, 1, 2, 2], [1, 2, 3, 4, -1, -2, -3, -4]);
  const out = runReference(smallGraph(), { input: x });
  assert.deepEqual(Object.keys(out), ['y']);
  assertClose(out.y, { shape: [2, 3], data: [1, 2.5, 0, 0, 0, 10] });
});

test('runReference: requested outputs may be intermediate values, inputs or initializers', () => {
  const x = f32([1, 1, 2, 2], [1, 2, 3, 4]);
  const out = runReference(smallGraph(), { input: x }, { outputs: ['h', 'flat', 'y', 'b'] });
  assertClose(out.h, { shape: [1, 3], data: [1, 2.5, -10] });
  assertClose(out.flat, { shape: [1, 4], data: [1, 2, 3, 4] });
  assertClose(out.y, { shape: [1, 3], data: [1, 2.5, 0] });
  assertClose(out.b, { shape: [3], data: [0, 0.5, 0] });
  assertBadInput(() => runReference(smallGraph(), { input: x }, { outputs: ['nope'] }), /output "nope" is not a value of graph "small"/);
});

test('releaseSchedule: each value is dropped right after its last reader; kept values and initializers never', () => {
  const g = smallGraph();
  assert.deepEqual(releaseSchedule(g, new Set(['y'])), [['input'], ['flat'], ['h']]);
  assert.deepEqual(releaseSchedule(g, new Set(['y', 'h'])), [['input'], ['flat'], []]);
  // An output nobody reads is dropped by the node that made it.
  g.nodes[1].outputs = ['h'];
  g.nodes.push(node('Sigmoid', ['flat'], ['unused']));
  assert.deepEqual(releaseSchedule(g, new Set(['y'])), [['input'], [], ['h'], ['flat', 'unused']]);
});

test('runReference: feed checks name the input, the expected and the received type', () => {
  const g = smallGraph();
  assertBadInput(() => runReference(g, {}), /^input "input": missing from the feeds; expected float32 \[N,1,2,2\]$/);
  assertBadInput(() => runReference(g, { input: f32([1, 2, 2]) }), /^input "input": expected float32 \[N,1,2,2\], got float32 \[1,2,2\]$/);
  assertBadInput(() => runReference(g, { input: f32([1, 3, 2, 2]) }), /expected float32 \[N,1,2,2\], got float32 \[1,3,2,2\]/);
  assertBadInput(() => runReference(g, { input: new Tensor('float64', [1, 1, 2, 2]) }), /expected float32 \[N,1,2,2\], got float64 \[1,1,2,2\]/);
  assertBadInput(() => runReference(g, { input: f32([1, 1, 2, 2]), extra: f32([1]) }), /feed "extra" is not an input of graph "small"; its inputs are: input/);
});

test('runReference: a symbolic dim must agree across inputs', () => {
  const g = new Graph({
    inputs: [{ name: 'a', dtype: 'float32', shape: ['N', 2] }, { name: 'b', dtype: 'float32', shape: ['N', 2] }],
    outputs: [{ name: 'c', dtype: 'float32', shape: ['N', 2] }],
    nodes: [node('Add', ['a', 'b'], ['c'])],
  });
  assertClose(runReference(g, { a: f32([1, 2], [1, 2]), b: f32([1, 2], [3, 4]) }).c, { shape: [1, 2], data: [4, 6] });
  assertBadInput(() => runReference(g, { a: f32([2, 2]), b: f32([3, 2]) }), /input "b": dim N is 3 here but 2 in input "a"/);
});

test('runReference: an input with an initializer default may be left out or overridden', () => {
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: [2] }, { name: 'k', dtype: 'float32', shape: [2] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [2] }],
    nodes: [node('Mul', ['x', 'k'], ['y'])],
    initializers: new Map([['k', f32([2], [10, 100])]]),
  });
  const x = f32([2], [1, 2]);
  assertClose(runReference(g, { x }).y, { shape: [2], data: [10, 200] });
  assertClose(runReference(g, { x, k: f32([2], [2, 2]) }).y, { shape: [2], data: [2, 4] });
});

test('runReference: broken graphs fail with the node named', () => {
  const x = f32([1, 1, 2, 2]);
  const unknownOp = smallGraph();
  unknownOp.nodes[2] = node('Frobnicate', ['h'], ['y']);
  assertBadInput(() => runReference(unknownOp, { input: x }), /node "Frobnicate_y" \(Frobnicate\): op Frobnicate has no reference kernel; supported: .*Conv/);
  const outOfOrder = smallGraph();
  outOfOrder.nodes.reverse();
  assertBadInput(() => runReference(outOfOrder, { input: x }), /node "Relu_y" \(Relu\): input "h" is not defined by any earlier node/);
  const badShape = smallGraph();
  badShape.initializers.set('w', f32([3, 5]));
  assertBadInput(() => runReference(badShape, { input: x }), /node "Gemm_h" \(Gemm\): .*inner dimension \(4 vs 5\)/);
});

test('runReference: int64 shape arithmetic feeds a Reshape (PyTorch-style dynamic flatten)', () => {
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 2, 3] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 6] }],
    nodes: [
      node('Shape', ['x'], ['s']),
      node('Gather', ['s', 'zero'], ['n']),
      node('Unsqueeze', ['n'], ['n1'], { axes: [0] }),
      node('Concat', ['n1', 'minus1'], ['shape'], { axis: 0 }),
      node('Reshape', ['x', 'shape'], ['y']),
    ],
    initializers: new Map([['zero', i64([], [0])], ['minus1', i64([1], [-1])]]),
  });
  const x = f32([2, 2, 3], Array.from({ length: 12 }, (_, i) => i));
  const y = runReference(g, { x }).y;
  assert.deepEqual(y.shape, [2, 6]);
  assert.deepEqual(Array.from(y.data as Float32Array), Array.from(x.data));
});

/** Whole fixture models: the reference runtime (after import + simplify) against onnxruntime-node on the original file. */
const MODELS: [string, number][] = [
  ['lenet300_dense', 64],
  ['lenet5_dense', 32],
  ['lenet5_int8_qdq', 32],
  ['vggs_fmnist_dense', 4],
  ['squeezenet1_1_random', 1],
];

for (const [name, batch] of MODELS) {
  test(`runReference matches onnxruntime on ${name} (batch ${batch})`, async () => {
    const file = join(REPO, 'fixtures', 'models', `${name}.onnx`);
    const g = loadOnnxFile(file);
    const input = g.inputs[0];
    const shape = input.shape.map((d) => (typeof d === 'number' ? d : batch));
    const x = f32(shape, new Rng(99).floats(shape.reduce((p, d) => p * d, 1), 0, 1));
    const t0 = performance.now();
    const ours = runReference(g, { [input.name]: x })[g.outputs[0].name];
    const ms = performance.now() - t0;
    const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
    const res = await session.run({ [input.name]: new ort.Tensor('float32', x.data, shape) });
    const theirs = res[session.outputNames[0]];
    await session.release();
    // Whole networks: float32 rounding differs in every layer; 1e-4 relative to the logits' scale.
    assertClose(ours, { shape: theirs.dims as number[], data: theirs.data as Float32Array }, 1e-4, name);
    if (name === 'lenet5_int8_qdq') {
      // Quantized activations: both runtimes must land on the same int8 steps almost everywhere.
      let far = 0;
      for (let i = 0; i < ours.size; i++) if (Math.abs((ours.data[i] as number) - (theirs.data[i] as number)) > 1e-3) far++;
      assert.ok(far <= ours.size * 0.01, `${far} of ${ours.size} QDQ logits differ by more than 1e-3`);
    }
    assert.ok(ms < 30000, `${name}: reference run took ${ms.toFixed(0)} ms`);
  });
}
