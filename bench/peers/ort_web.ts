// onnxruntime-web with its WebAssembly backend, running in Node (the build the
// package exports for Node). Its thread count is process-wide: ort.env.wasm.numThreads
// is read once, when the first session starts the wasm module, so one process (or
// worker thread) runs ort-web at one thread count only: bench/models.ts runs each
// setting in its own process, bench/compare.ts each ort-web in its own worker.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { NnzipError } from '../../src/ir/errors.js';
import { checkThreads, onnxInput, type OnnxSource, type Peer, type PeerOptions } from './peer.js';
import { fromOrtOutputs, toOrtFeeds } from './ort_node.js';
import { ortSpinning } from './ort_options.js';

/** The thread count the wasm module was started with (undefined until the first session). */
let startedWith: number | undefined;

export async function createOrtWebPeer(onnx: OnnxSource, opts: PeerOptions): Promise<Peer> {
  checkThreads('ort-web', opts.threads);
  if (startedWith === undefined) ort.env.wasm.numThreads = opts.threads;
  const { model, where } = onnxInput(onnx);
  const bytes = typeof model === 'string' ? readFileSync(model) : model;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', ...ortSpinning(opts) });
  } catch (e) {
    throw new NnzipError(`ort-web peer: ${where}: onnxruntime-web cannot load it (${String((e as Error).message ?? e).split('\n')[0]})`);
  }
  startedWith ??= ort.env.wasm.numThreads ?? 1;
  const threads = startedWith;
  return {
    name: 'ort-web',
    threads,
    note: threads !== opts.threads ? `ort-web: asked for ${opts.threads} threads, the wasm module already runs ${threads} in this process` : undefined,
    async run(feeds) {
      const out = await session.run(toOrtFeeds(feeds, (type, data, dims) => new ort.Tensor(type as ort.Tensor.Type, data as ort.Tensor.DataType, dims)));
      return fromOrtOutputs(out);
    },
    async dispose() {
      await session.release();
    },
  };
}
