// The nnzip side of every comparison, in one place: the runtime Session (plan once,
// WASM kernels, one arena), with worker threads from the Node factory when asked.
import type { PatternOptions, WinogradMode } from '../../src/compile/plan_types.js';
import type { Graph } from '../../src/ir/graph.js';
import { createNodeSession } from '../../src/runtime/session_node.js';
import { checkThreads, type Peer, type PeerOptions } from './peer.js';

/** `winograd: 'off'` (named 'nnzip-direct' in the tables) is nnzip before Winograd: every conv on im2col or its sparse kernel. */
export async function createNnzipPeer(graph: Graph, opts: PeerOptions & { winograd?: WinogradMode; patterns?: PatternOptions }): Promise<Peer> {
  checkThreads('nnzip', opts.threads);
  const session = await createNodeSession(graph, { threads: opts.threads, batch: opts.batch, winograd: opts.winograd, patterns: opts.patterns });
  return {
    name: opts.winograd === 'off' ? 'nnzip-direct' : 'nnzip',
    threads: session.threads,
    async run(feeds) {
      return session.run(feeds);
    },
    async dispose() {
      await session.dispose();
    },
  };
}
