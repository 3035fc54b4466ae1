// loadOnnxFile with external data: tensors stored in a file next to the model load
// (and match onnxruntime reading the same files); a missing or short file, or a
// location outside the model's folder, is a clear error.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { NnzipError } from '../../src/ir/errors.js';
import { f32 } from '../../src/ir/tensor.js';
import { verify } from '../../src/ir/verify.js';
import { importOnnx } from '../../src/onnx/import.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { loadModel } from '../../src/cli/load_model.js';
import { toGraph } from '../../src/runtime/session.js';
import type { TensorMsg } from '../../src/onnx/onnx_proto.js';
import { runReference } from '../../src/runtime/reference.js';
import { Rng } from '../../src/ir/random.js';
import { assertClose, attrInt, onnxModel, onnxNode, ortRun, randomInput, vi } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nnzip-ext-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const rng = new Rng(3);
const W = f32([3, 5], rng.floats(15));
const B = f32([3], rng.floats(3));

function external(name: string, dims: number[], location: string, offset: number, length: number): TensorMsg {
  const entries = [['location', location], ['offset', String(offset)], ['length', String(length)]];
  return { name, dims, data_type: 1, data_location: 1, external_data: entries.map(([key, value]) => ({ key, value })) };
}

/** weights.bin: 16 bytes of padding, W, then B (the layout torch.onnx writes with offsets). */
function writeModel(name: string, location = 'weights.bin', lengthW = 60): string {
  const bin = new Uint8Array(16 + 60 + 12);
  bin.set(new Uint8Array(W.data.buffer), 16);
  bin.set(new Uint8Array(B.data.buffer), 76);
  writeFileSync(join(dir, 'weights.bin'), bin);
  const bytes = onnxModel({
    opset: 17,
    inputs: [vi('x', 'float32', ['N', 5])],
    outputs: [vi('y', 'float32', ['N', 3])],
    initializers: [external('W', [3, 5], location, 16, lengthW), external('B', [3], location, 76, 12)],
    nodes: [onnxNode('Gemm', ['x', 'W', 'B'], ['y'], [attrInt('transB', 1)])],
  });
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

test('a model with external data loads, and agrees with onnxruntime', async () => {
  const path = writeModel('ext.onnx');
  const g = loadOnnxFile(path);
  verify(g);
  assert.deepEqual([...g.initializers.get('W')!.data], [...W.data]);
  assert.deepEqual([...g.initializers.get('B')!.data], [...B.data]);
  const feeds = { x: randomInput([2, 5], 8) };
  const want = (await ortRun(path, feeds)).y;
  assertClose(runReference(g, feeds).y, want, 1e-5, 1e-6, 'external-data Gemm');
});

test('portable(): an external-data model becomes one self-contained file (what search workers get); others stay their own bytes', () => {
  const path = writeModel('portable.onnx');
  const m = loadModel(path);
  const bytes = m.portable();
  assert.throws(() => importOnnx(readFileSync(path)), /no reader was given/); // the file alone is not the model
  const feeds = { x: randomInput([2, 5], 9) };
  assert.deepEqual([...runReference(toGraph(bytes), feeds).y.data], [...runReference(m.graph, feeds).y.data]);
  const inline = join(dir, 'inline.onnx');
  writeFileSync(inline, bytes);
  assert.ok(Buffer.from(loadModel(inline).portable()).equals(readFileSync(inline)), 'a self-contained model is passed on as read');
});

test('errors: missing file, file too short, location outside the folder, no reader', () => {
  const path = writeModel('short.onnx', 'weights.bin', 80);
  assert.throws(() => loadOnnxFile(path), /tensor "W": external data file "weights\.bin" has 88 bytes, but the tensor needs bytes 16\.\.96/);
  const escaping = writeModel('escape.onnx', '../weights.bin');
  assert.throws(() => loadOnnxFile(escaping), /external data location "\.\.\/weights\.bin" must be a relative path inside the model's folder/);
  const ok = writeModel('noreader.onnx');
  assert.throws(() => importOnnx(readFileSync(ok)), /tensor "W" refers to external data file "weights\.bin", but no reader was given/);
  unlinkSync(join(dir, 'weights.bin'));
  assert.throws(
    () => loadOnnxFile(ok),
    (e: unknown) => e instanceof NnzipError && e.message === `${ok}: tensor "W" refers to external data file "weights.bin", which is missing next to the model`,
  );
});
