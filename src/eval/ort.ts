// onnxruntime-node: the oracle for whole models and the native peer in benchmarks (Node only).
// An optional package: imported on first use, so the library and the other commands run without it.
import type * as Ort from 'onnxruntime-node';
import { importOptional } from '../ir/optional.js';
import { Tensor, type DType, type TensorData } from '../ir/tensor.js';

export type OrtSession = Ort.InferenceSession;

let ortModule: Promise<typeof Ort> | undefined;

/** The onnxruntime-node module, or the error line that says to install it. */
export function loadOrt(): Promise<typeof Ort> {
  return (ortModule ??= importOptional<typeof Ort>('onnxruntime-node', 'comparing with onnxruntime (the ONNX oracle)'));
}

export async function ortSession(onnx: string | Uint8Array, threads = 1): Promise<OrtSession> {
  const ort = await loadOrt();
  const options: Ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
  return typeof onnx === 'string' ? ort.InferenceSession.create(onnx, options) : ort.InferenceSession.create(onnx, options);
}

export async function ortRun(session: OrtSession, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const ort = await loadOrt();
  const inputs: Record<string, Ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) inputs[k] = new ort.Tensor(t.dtype as Ort.Tensor.Type, t.data as Ort.Tensor.DataType, t.shape);
  const out = await session.run(inputs);
  const result: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(out)) {
    result[k] = new Tensor(t.type as DType, t.dims as number[], t.data as TensorData[DType]);
  }
  return result;
}
