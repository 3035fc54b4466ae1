// onnxruntime-node (native CPU execution provider) as a peer: the ONNX file as it is
// (or an nnzip Graph exported to ONNX), full graph optimizations, intra-op threads as asked.
import * as ort from 'onnxruntime-node';
import { NnzipError } from '../../src/ir/errors.js';
import { Tensor, type DType, type TensorData } from '../../src/ir/tensor.js';
import { checkThreads, onnxInput, type Feeds, type OnnxSource, type Peer, type PeerOptions } from './peer.js';
import { ortSpinning } from './ort_options.js';

export function toOrtFeeds<T>(feeds: Feeds, make: (type: string, data: TensorData[DType], dims: number[]) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = make(t.dtype, t.data, t.shape);
  return out;
}

/** Outputs of either onnxruntime flavour as nnzip Tensors (the data is not copied). */
export function fromOrtOutputs(out: Record<string, { type: string; dims: readonly number[]; data: unknown }>): Feeds {
  const result: Feeds = {};
  for (const [name, t] of Object.entries(out)) {
    result[name] = new Tensor(t.type as DType, [...t.dims], t.data as TensorData[DType]);
  }
  return result;
}

export async function createOrtNodePeer(onnx: OnnxSource, opts: PeerOptions): Promise<Peer> {
  checkThreads('ort-node', opts.threads);
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    ...ortSpinning(opts),
  };
  const { model, where } = onnxInput(onnx);
  let session: ort.InferenceSession;
  try {
    session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  } catch (e) {
    throw new NnzipError(`ort-node peer: ${where}: onnxruntime-node cannot load it (${(e as Error).message.split('\n')[0]})`);
  }
  return {
    name: 'ort-node',
    threads: opts.threads,
    async run(feeds) {
      const out = await session.run(toOrtFeeds(feeds, (type, data, dims) => new ort.Tensor(type as ort.Tensor.Type, data as ort.Tensor.DataType, dims)));
      return fromOrtOutputs(out);
    },
    async dispose() {
      await session.release();
    },
  };
}
