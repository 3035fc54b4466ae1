// TF.js with its WebAssembly backend (XNNPACK) as an inference peer, running in Node.
// The graph is converted once by convert.ts; the backend starts once per process
// (backend.ts), with the thread count of the first peer.
import type { Graph } from '../../../src/ir/graph.js';
import { checkThreads, type Peer, type PeerOptions } from '../peer.js';
import { tfjsThreadsNote, tfjsWasmThreads } from './backend.js';
import { convertToTf } from './convert.js';

export async function createTfjsWasmPeer(graph: Graph, opts: PeerOptions): Promise<Peer> {
  checkThreads('tfjs-wasm', opts.threads);
  const threads = await tfjsWasmThreads(opts.threads);
  const model = convertToTf(graph);
  return {
    name: 'tfjs-wasm',
    threads,
    note: tfjsThreadsNote(opts.threads, threads),
    async run(feeds) {
      return model.run(feeds);
    },
    async dispose() {
      model.dispose();
    },
  };
}
