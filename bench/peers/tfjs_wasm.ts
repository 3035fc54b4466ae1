// TF.js with its WebAssembly backend (XNNPACK) as a peer, running in Node. The graph
// is converted once by tfjs_convert.ts. The backend is process-wide: its thread count
// is fixed when it starts (setThreadsCount before setBackend). In Node, tfjs-backend-wasm
// 4.x turns multithreading off (tfjs issue #3830), so it runs one thread whatever is asked.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { NnzipError } from '../../src/ir/errors.js';
import type { Graph } from '../../src/ir/graph.js';
import { checkThreads, type Peer, type PeerOptions } from './peer.js';
import { convertToTf } from './tfjs_convert.js';

let started: Promise<number> | undefined;

async function startBackend(threads: number): Promise<number> {
  setThreadsCount(threads);
  // the .wasm files sit beside the package's Node entry; load them from disk (no network)
  const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
  setWasmPaths(`${dirname(entry)}/`);
  if (!(await tf.setBackend('wasm'))) throw new NnzipError('tfjs-wasm peer: the TF.js wasm backend failed to start', 1);
  await tf.ready();
  return getThreadsCount();
}

/** Starts the wasm backend once per process; returns the threads it really runs. */
export function tfjsWasmThreads(threads: number): Promise<number> {
  started ??= startBackend(threads);
  return started;
}

export async function createTfjsWasmPeer(graph: Graph, opts: PeerOptions): Promise<Peer> {
  checkThreads('tfjs-wasm', opts.threads);
  const threads = await tfjsWasmThreads(opts.threads);
  const model = convertToTf(graph);
  return {
    name: 'tfjs-wasm',
    threads,
    note: threads !== opts.threads ? `tfjs-wasm: asked for ${opts.threads} threads, runs ${threads} (tfjs-backend-wasm has no threads in Node, tfjs#3830)` : undefined,
    async run(feeds) {
      return model.run(feeds);
    },
    async dispose() {
      model.dispose();
    },
  };
}
