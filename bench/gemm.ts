// GEMM benchmark: nnzip's WASM GEMM against onnxruntime-node, onnxruntime-web and
// tfjs-wasm, side by side in one process run (interleaved rounds, warm-up, median).
// Run: npx tsc -p . && node dist/bench/gemm.js [M N K] [--only=nnzip,ort-node,...]
//      node --experimental-wasm-relaxed-simd dist/bench/gemm.js   (fused multiply-add kernel)
import { WasmArena } from '../src/kernels/wasm/arena.js';
import { wasmFeatures } from '../src/kernels/wasm/features.js';
import { WasmGemm } from '../src/kernels/wasm/gemm.js';
import { NodeThreadPool } from '../src/kernels/wasm/thread_pool_node.js';
import { localPeer, measureInterleaved, taskData, taskFlops, taskName, workerPeer, type Peer, type Task } from './peers.js';
import { printTable, type Row } from './table.js';

/** nnzip on the offset API: B packed once (constant weights), A packed per call, no copies. */
function nnzipPeer(t: Extract<Task, { kind: 'matmul' }>, pool?: NodeThreadPool): Peer {
  const g = new WasmGemm({ threads: pool });
  const { M, N, K } = t;
  const d = taskData(t);
  const ar = g.arena;
  const a = ar.allocF32(M * K), b = ar.allocF32(K * N), c = ar.allocF32(M * N);
  const pa = ar.alloc(g.packedASize(M, K)), pb = ar.alloc(g.packedBSize(K, N));
  ar.f32(a, M * K).set(d.x);
  ar.f32(b, K * N).set(d.w);
  g.packB(b, N, false, K, N, pb);
  const op = (): void => { g.packA(a, K, false, M, K, pa); g.gemmPacked(M, N, K, pa, pb, c); };
  return syncPeer('nnzip-wasm', pool?.size ?? 1, op, async () => { await pool?.close(); });
}

/** nnzip's array API: copies A, B in and C out and packs both every call (training-style use). */
function nnzipArrayPeer(t: Extract<Task, { kind: 'matmul' }>): Peer {
  const g = new WasmGemm();
  const d = taskData(t);
  const c = new Float32Array(t.M * t.N);
  return syncPeer('nnzip-wasm sgemm()', 1, () => g.sgemm(t.M, t.N, t.K, d.x, d.w, c), async () => undefined);
}

export function syncPeer(name: string, threads: number, op: () => void, close: () => Promise<void>): Peer {
  return {
    name, threads, close,
    round: async (n) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) op();
      return (performance.now() - t0) / n;
    },
  };
}

async function tryPeer(make: () => Promise<Peer>, label: string, skipped: string[]): Promise<Peer | undefined> {
  try {
    return await make();
  } catch (e) {
    skipped.push(`${label}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',');
  const dims = args.filter((a) => !a.startsWith('--')).map(Number);
  const [M, N, K] = dims.length === 3 ? dims : [256, 256, 256];
  const task: Extract<Task, { kind: 'matmul' }> = { kind: 'matmul', M, N, K };
  const f = wasmFeatures();
  const skipped = ['tfjs-wasm ×2: tfjs-backend-wasm turns threads off under Node (WASM_HAS_MULTITHREAD_SUPPORT is false there, tfjs#3830)'];
  const pool = new NodeThreadPool(new WasmArena({ shared: true, maximumBytes: 1 << 28 }), 2);
  const candidates: [string, () => Promise<Peer>][] = [
    ['nnzip ×1', async () => nnzipPeer(task)],
    ['nnzip sgemm ×1', async () => nnzipArrayPeer(task)],
    ['tfjs-wasm ×1', () => workerPeer('tfjs-wasm', task, 1)],
    ['ort-node ×1', () => localPeer('ort-node', task, 1)],
    ['ort-web ×1', () => workerPeer('ort-web', task, 1)],
    ['nnzip ×2', async () => nnzipPeer(task, pool)],
    ['ort-node ×2', () => localPeer('ort-node', task, 2)],
    ['ort-web ×2', () => workerPeer('ort-web', task, 2)],
  ];
  const peers: Peer[] = [];
  for (const [label, make] of candidates) {
    if (only && !only.some((o) => label.startsWith(o))) continue;
    const p = await tryPeer(make, label, skipped);
    if (p) peers.push(p);
  }
  const results = await measureInterleaved(peers, { warmup: 2, rounds: 7, roundMs: 150 });
  const flops = taskFlops(task);
  const rows: Row[] = results.map((r) => ({ name: r.peer.name, threads: r.peer.threads, ms: r.median, gflops: flops / r.median / 1e6 }));
  console.log(`${taskName(task)} (f32), median of 7 interleaved rounds after 2 warm-up rounds`);
  console.log(`engine: Node ${process.version}, wasm SIMD ${f.simd}, relaxed SIMD (fused madd) ${f.relaxedSimd}, threads ${f.threads}`);
  printTable(rows, 'nnzip-wasm');
  const one = (name: string): Row | undefined => rows.find((r) => r.name === name && r.threads === 1);
  const nz = one('nnzip-wasm'), tfjs = one('tfjs-wasm'), ortNode = one('ort-node');
  if (nz && tfjs) console.log(`target nnzip/tfjs-wasm (1 thread) >= 1.30: ${(nz.gflops / tfjs.gflops).toFixed(2)} ${nz.gflops / tfjs.gflops >= 1.3 ? 'met' : 'MISSED'}`);
  if (nz && ortNode) console.log(`target nnzip/ort-node  (1 thread) >= 0.27: ${(nz.gflops / ortNode.gflops).toFixed(2)} ${nz.gflops / ortNode.gflops >= 0.27 ? 'met' : 'MISSED'}`);
  for (const s of skipped) console.log(`not measured: ${s}`);
  for (const p of peers) await p.close();
}

await main();
