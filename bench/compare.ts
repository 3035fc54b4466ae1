// One comparison run: nnzip and its peers on one task, 1 and 2 threads,
// interleaved; prints the table. Shared by gemm.ts and conv.ts.
import { WasmArena } from '../src/kernels/wasm/arena.js';
import { wasmFeatures } from '../src/kernels/wasm/features.js';
import { NodeThreadPool } from '../src/kernels/wasm/thread_pool_node.js';
import { localPeer, measureInterleaved, taskFlops, taskName, workerPeer, type Peer, type Task } from './peers.js';
import { printTable, type Row } from './table.js';

export function syncPeer(name: string, threads: number, op: () => void, close: () => Promise<void> = async () => undefined): Peer {
  return {
    name, threads, close,
    round: async (n) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) op();
      return (performance.now() - t0) / n;
    },
  };
}

const TFJS_NO_THREADS = 'tfjs-wasm ×2: tfjs-backend-wasm turns threads off under Node (WASM_HAS_MULTITHREAD_SUPPORT is false there, tfjs#3830)';

export interface CompareOptions {
  /** Peer labels to keep (prefix match), e.g. ['nnzip', 'ort-node']. */
  only?: string[];
  rounds?: number;
  /** Extra nnzip rows (e.g. the copying array API), single-threaded. */
  extra?: [string, () => Peer][];
}

/** Measures nnzip (made by `nnzip(pool?)`) against the peers on `task`; returns the rows. */
export async function compare(task: Task, nnzip: (pool?: NodeThreadPool) => Peer, o: CompareOptions = {}): Promise<Row[]> {
  const pool = new NodeThreadPool(new WasmArena({ shared: true, maximumBytes: 1 << 30 }), 2);
  const candidates: [string, () => Promise<Peer>][] = [
    ['nnzip ×1', async () => nnzip()],
    ...(o.extra ?? []).map(([label, make]): [string, () => Promise<Peer>] => [label, async () => make()]),
    ['tfjs-wasm ×1', () => workerPeer('tfjs-wasm', task, 1)],
    ['ort-node ×1', () => localPeer('ort-node', task, 1)],
    ['ort-web ×1', () => workerPeer('ort-web', task, 1)],
    ['nnzip ×2', async () => nnzip(pool)],
    ['ort-node ×2', () => localPeer('ort-node', task, 2)],
    ['ort-web ×2', () => workerPeer('ort-web', task, 2)],
  ];
  const peers: Peer[] = [];
  const skipped = [TFJS_NO_THREADS];
  for (const [label, make] of candidates) {
    if (o.only && !o.only.some((p) => label.startsWith(p))) continue;
    try {
      peers.push(await make());
    } catch (e) {
      skipped.push(`${label}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const rounds = o.rounds ?? 11;
  const results = await measureInterleaved(peers, { warmup: 2, rounds, roundMs: 100 });
  for (const p of peers) await p.close();
  await pool.close();
  const flops = taskFlops(task);
  const rows = results.map((r) => ({ name: r.peer.name, threads: r.peer.threads, ms: r.median, gflops: flops / r.median / 1e6 }));
  const f = wasmFeatures();
  console.log(`\n${taskName(task)} (f32): median of ${rounds} interleaved rounds after 2 warm-up rounds`);
  console.log(`engine: Node ${process.version}, wasm SIMD ${f.simd}, relaxed SIMD ${f.relaxedSimd}, wasm threads ${f.threads}`);
  printTable(rows, 'nnzip-wasm');
  for (const s of skipped) console.log(`not measured: ${s}`);
  return rows;
}

/** `--only=a,b` and positional numbers from argv. */
export function parseArgs(argv: string[]): { only?: string[]; numbers: number[] } {
  const only = argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
  return { only, numbers: argv.filter((a) => !a.startsWith('--')).map(Number) };
}
