// Worker entry for one benchmark peer (see workerPeer in peers.ts): builds the
// peer with the requested thread count, says ready, then runs rounds on request.
import { parentPort, workerData } from 'node:worker_threads';
import { localPeer, type Peer, type PeerKind, type Task } from './peers.js';

const { kind, task, threads } = workerData as { kind: PeerKind; task: Task; threads: number };
const port = parentPort!;

let peer: Peer | undefined;
try {
  peer = await localPeer(kind, task, threads);
  port.postMessage({ ready: true, threads: peer.threads });
} catch (e) {
  port.postMessage({ error: e instanceof Error ? e.message : String(e) });
}

port.on('message', async (m: { n: number }) => {
  try {
    port.postMessage({ ms: await peer!.round(m.n) });
  } catch (e) {
    port.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
});
