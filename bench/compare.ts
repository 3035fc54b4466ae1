// One comparison run: nnzip and its peers on one task, 1 and 2 threads,
// interleaved; prints the table. Shared by gemm.ts and conv.ts.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
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
  const rounds = o.rounds ?? 21;
  const load = startLoadProbe();
  const results = await measureInterleaved(peers, { warmup: 2, rounds, roundMs: 60 });
  const foreign = load();
  for (const p of peers) await p.close();
  await pool.close();
  const flops = taskFlops(task);
  const rows = results.map((r) => ({ name: r.peer.name, threads: r.peer.threads, ms: r.median, gflops: flops / r.median / 1e6, cores: r.cores }));
  const f = wasmFeatures();
  console.log(`\n${taskName(task)} (f32): median of ${rounds} interleaved rounds, after a warm-up of at least 1.5 s per peer`);
  console.log(`engine: Node ${process.version}, wasm SIMD ${f.simd}, relaxed SIMD ${f.relaxedSimd}, wasm threads ${f.threads}`);
  if (foreign !== undefined) console.log(`other processes used ${(foreign * 100).toFixed(0)}% of one CPU during the run (0% = a quiet machine)`);
  printTable(rows, 'nnzip-wasm');
  for (const s of skipped) console.log(`not measured: ${s}`);
  return rows;
}

/** `--only=a,b` and positional numbers from argv. */
export function parseArgs(argv: string[]): { only?: string[]; numbers: number[] } {
  const only = argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
  return { only, numbers: argv.filter((a) => !a.startsWith('--')).map(Number) };
}

/** Busy CPU time of the whole machine in ms (Linux /proc/stat), or undefined elsewhere. */
function machineBusyMs(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7]; // user nice system irq softirq steal
    return (busy * 1000) / 100; // USER_HZ = 100
  } catch {
    return undefined;
  }
}

/** Starts measuring the CPU that other processes use; the returned function gives it in CPUs (1 = one core busy). */
function startLoadProbe(): () => number | undefined {
  const m0 = machineBusyMs(), p0 = process.cpuUsage(), t0 = performance.now();
  return () => {
    const m1 = machineBusyMs();
    if (m0 === undefined || m1 === undefined) return undefined;
    const p = process.cpuUsage(p0);
    const ours = (p.user + p.system) / 1000;
    return Math.min(cpus().length, Math.max(0, (m1 - m0 - ours) / (performance.now() - t0)));
  };
}
