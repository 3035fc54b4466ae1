// Shared by the ONNX tests: fixture paths, hand-built ONNX models (via the protobuf
// schema), onnxruntime-node runs (graph optimisations off: plain op semantics) and
// tolerance checks with messages that name the index.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../src/ir/random.js';
import { Tensor, f32, type DType, type TensorData } from '../../src/ir/tensor.js';
import { encodeModel, type NodeMsg, type TensorMsg, type ValueInfoMsg } from '../../src/onnx/onnx_proto.js';
import { tensorToProto } from '../../src/onnx/tensor_proto.js';
import { DTYPE_CODE } from '../../src/ir/ops/index.js';

/** The repo root (tests run from dist/test/onnx/). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const MODELS = join(REPO, 'fixtures', 'models');
export const FIXTURES = ['lenet300_dense', 'lenet5_dense', 'lenet5_int8_qdq', 'vggs_fmnist_dense', 'squeezenet1_1_random'];

export function fixture(name: string): string {
  return join(MODELS, `${name}.onnx`);
}

export function vi(name: string, dtype: DType, shape: (number | string)[]): ValueInfoMsg {
  const dim = shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: DTYPE_CODE[dtype], shape: { dim } } } };
}

export function init(name: string, t: Tensor): TensorMsg {
  return tensorToProto(name, t);
}

/** ONNX node with attributes given as AttributeProto objects. */
export function onnxNode(op: string, inputs: string[], outputs: string[], attribute: NodeMsg['attribute'] = [], name = ''): NodeMsg {
  return { op_type: op, input: inputs, output: outputs, attribute, name: name || `${op}_${outputs[0]}` };
}

export const attrInt = (name: string, i: number) => ({ name, type: 2, i });
export const attrInts = (name: string, ints: number[]) => ({ name, type: 7, ints });
export const attrFloat = (name: string, f: number) => ({ name, type: 1, f });

/** A ModelProto from parts (default domain at `opset`). */
export function onnxModel(parts: {
  opset: number; nodes: NodeMsg[]; inputs: ValueInfoMsg[]; outputs: ValueInfoMsg[]; initializers?: TensorMsg[];
}): Uint8Array {
  return encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: parts.opset }],
    producer_name: 'nnzip-test',
    graph: { name: 'test', node: parts.nodes, input: parts.inputs, output: parts.outputs, initializer: parts.initializers ?? [] },
  });
}

export async function ortSession(model: string | Uint8Array): Promise<ort.InferenceSession> {
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, interOpNumThreads: 1 };
  return typeof model === 'string' ? ort.InferenceSession.create(model, opts) : ort.InferenceSession.create(model, opts);
}

export async function ortRun(model: string | Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await ortSession(model);
  const inputs: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) inputs[k] = new ort.Tensor(t.dtype as ort.Tensor.Type, t.data as ort.Tensor.DataType, t.shape);
  const out = await session.run(inputs);
  await session.release();
  const result: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(out)) result[k] = new Tensor(t.type as DType, t.dims as number[], t.data as TensorData[DType]);
  return result;
}

/** Seeded uniform float input in [lo, hi). */
export function randomInput(shape: number[], seed: number, lo = 0, hi = 1): Tensor<'float32'> {
  const n = shape.reduce((a, b) => a * b, 1);
  return f32(shape, new Rng(seed).floats(n, lo, hi));
}

/** |a - b| ≤ atol + rtol·|b| everywhere; the message names the first bad index. */
export function assertClose(a: Tensor, b: Tensor, rtol: number, atol: number, what: string): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shape ${JSON.stringify(a.shape)} vs ${JSON.stringify(b.shape)}`);
  for (let i = 0; i < a.size; i++) {
    const x = Number(a.data[i]);
    const y = Number(b.data[i]);
    if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) {
      assert.fail(`${what}: index ${i} of [${a.shape.join(',')}]: ${x} vs ${y} (rtol ${rtol}, atol ${atol})`);
    }
  }
}
