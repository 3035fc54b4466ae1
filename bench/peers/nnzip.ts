// The nnzip side of every comparison, in one place. Today it is the plain-TS
// reference runtime (single-threaded, the correctness oracle, not built for speed).
// When the fast runtime lands, swap the body for:
//   const session = await Session.create(graph, { threads: opts.threads });
//   return { name: 'nnzip', threads: opts.threads, run: (feeds) => session.run(feeds), dispose: ... };
import type { Graph } from '../../src/ir/graph.js';
import { runReference } from '../../src/runtime/reference.js';
import { checkThreads, type Peer, type PeerOptions } from './peer.js';

export async function createNnzipPeer(graph: Graph, opts: PeerOptions): Promise<Peer> {
  checkThreads('nnzip', opts.threads);
  return {
    name: 'nnzip',
    threads: 1,
    note: opts.threads > 1 ? 'nnzip: the reference runtime is single-threaded (the fast Session is not wired in yet)' : undefined,
    async run(feeds) {
      return runReference(graph, feeds);
    },
    async dispose() {},
  };
}
