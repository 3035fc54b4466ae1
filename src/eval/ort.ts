// onnxruntime-node: the oracle for whole models and the native peer in benchmarks (Node only).
import * as ort from 'onnxruntime-node';
import { Tensor, type DType, type TensorData } from '../ir/tensor.js';

export type OrtSession = ort.InferenceSession;

export async function ortSession(onnx: string | Uint8Array, threads = 1): Promise<OrtSession> {
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
  return typeof onnx === 'string' ? ort.InferenceSession.create(onnx, options) : ort.InferenceSession.create(onnx, options);
}

export async function ortRun(session: OrtSession, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const inputs: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) inputs[k] = new ort.Tensor(t.dtype as ort.Tensor.Type, t.data as ort.Tensor.DataType, t.shape);
  const out = await session.run(inputs);
  const result: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(out)) {
    result[k] = new Tensor(t.type as DType, t.dims as number[], t.data as TensorData[DType]);
  }
  return result;
}
