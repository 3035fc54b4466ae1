// The peers nnzip is measured against, in one process run: onnxruntime-node
// (native), onnxruntime-web (wasm) and @tensorflow/tfjs with its wasm backend.
// The wasm peers keep global state (thread count fixed at init), so each
// instance runs in its own worker thread (peer_worker.ts); rounds are interleaved
// from the main thread, which is idle while a worker measures.
import { Worker } from 'node:worker_threads';
import { tinyModel } from './onnx_tiny.js';

export type Task =
  | { kind: 'matmul'; M: number; N: number; K: number }
  | { kind: 'conv'; N: number; C: number; H: number; W: number; M: number; kh: number; kw: number; pad: number; stride: number };

export interface Peer {
  readonly name: string;
  readonly threads: number;
  /** Runs the op n times; returns milliseconds per op. */
  round(n: number): Promise<number>;
  close(): Promise<void>;
}

export type PeerKind = 'ort-node' | 'ort-web' | 'tfjs-wasm';

/** mulberry32: a small seeded PRNG, values in [-1, 1). */
export function randomArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

export function convOut(t: Extract<Task, { kind: 'conv' }>): [number, number] {
  return [Math.floor((t.H + 2 * t.pad - t.kh) / t.stride) + 1, Math.floor((t.W + 2 * t.pad - t.kw) / t.stride) + 1];
}

export function taskFlops(t: Task): number {
  if (t.kind === 'matmul') return 2 * t.M * t.N * t.K;
  const [oh, ow] = convOut(t);
  return 2 * t.N * t.M * oh * ow * t.C * t.kh * t.kw;
}

export function taskName(t: Task): string {
  if (t.kind === 'matmul') return `MatMul ${t.M}×${t.K} · ${t.K}×${t.N}`;
  return `Conv N=${t.N} ${t.C}→${t.M} ${t.kh}×${t.kw} on ${t.H}×${t.W} pad ${t.pad} stride ${t.stride}`;
}

/** Inputs and weights of a task, the same for every peer (NCHW / row-major). */
export function taskData(t: Task): { x: Float32Array; w: Float32Array; xDims: number[]; wDims: number[]; yDims: number[] } {
  if (t.kind === 'matmul') {
    return { x: randomArray(t.M * t.K, 1), w: randomArray(t.K * t.N, 2), xDims: [t.M, t.K], wDims: [t.K, t.N], yDims: [t.M, t.N] };
  }
  const [oh, ow] = convOut(t);
  return {
    x: randomArray(t.N * t.C * t.H * t.W, 1), w: randomArray(t.M * t.C * t.kh * t.kw, 2),
    xDims: [t.N, t.C, t.H, t.W], wDims: [t.M, t.C, t.kh, t.kw], yDims: [t.N, t.M, oh, ow],
  };
}

export function taskModel(t: Task): Uint8Array {
  const d = taskData(t);
  const weights = { W: { dims: d.wDims, data: d.w } };
  if (t.kind === 'matmul') return tinyModel({ op: 'MatMul', inputs: ['X', 'W'] }, d.xDims, d.yDims, weights);
  const attrs = { kernel_shape: [t.kh, t.kw], pads: [t.pad, t.pad, t.pad, t.pad], strides: [t.stride, t.stride] };
  return tinyModel({ op: 'Conv', inputs: ['X', 'W'], attrs }, d.xDims, d.yDims, weights);
}

async function timeRounds(n: number, run: () => unknown): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await run();
  return (performance.now() - t0) / n;
}

/** onnxruntime-node or onnxruntime-web running the one-node model, weights as initializers (prepacked by ORT). */
export async function ortPeer(kind: 'ort-node' | 'ort-web', t: Task, threads: number): Promise<Peer> {
  type Ort = typeof import('onnxruntime-node');
  const ort = (kind === 'ort-node' ? await import('onnxruntime-node') : await import('onnxruntime-web')) as unknown as Ort;
  // no spinning: ORT's pool threads otherwise busy-wait after each run and steal a core from the next peer
  const opts: Record<string, unknown> = {
    graphOptimizationLevel: 'all', executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
  if (kind === 'ort-node') Object.assign(opts, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  else (ort.env.wasm as { numThreads?: number; simd?: boolean }).numThreads = threads;
  const session = await ort.InferenceSession.create(taskModel(t), opts);
  const d = taskData(t);
  const feeds = { X: new ort.Tensor('float32', d.x, d.xDims) };
  return {
    name: kind, threads,
    round: (n) => timeRounds(n, () => session.run(feeds)),
    close: () => session.release(),
  };
}

/** @tensorflow/tfjs on its wasm backend (XNNPACK inside); its native NHWC layout for conv. */
export async function tfjsPeer(t: Task, threads: number): Promise<Peer> {
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setThreadsCount(threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend did not initialise');
  await tf.ready();
  const d = taskData(t);
  let op: () => void;
  if (t.kind === 'matmul') {
    const a = tf.tensor2d(d.x, [t.M, t.K]), b = tf.tensor2d(d.w, [t.K, t.N]);
    op = () => tf.matMul(a, b).dispose();
  } else {
    const x = tf.transpose(tf.tensor4d(d.x, d.xDims as [number, number, number, number]), [0, 2, 3, 1]);
    const w = tf.transpose(tf.tensor4d(d.w, d.wDims as [number, number, number, number]), [2, 3, 1, 0]);
    op = () => tf.conv2d(x as Parameters<typeof tf.conv2d>[0], w as Parameters<typeof tf.conv2d>[1], t.stride, t.pad).dispose();
  }
  return { name: 'tfjs-wasm', threads: wasm.getThreadsCount(), round: (n) => timeRounds(n, op), close: async () => undefined };
}

/** The peer made in this thread (used inside peer_worker.ts, and for ort-node in the main thread). */
export function localPeer(kind: PeerKind, t: Task, threads: number): Promise<Peer> {
  return kind === 'tfjs-wasm' ? tfjsPeer(t, threads) : ortPeer(kind, t, threads);
}

/** A peer hosted in its own worker thread (for peers with process-global settings). */
export function workerPeer(kind: PeerKind, t: Task, threads: number): Promise<Peer> {
  const w = new Worker(new URL('./peer_worker.js', import.meta.url), { workerData: { kind, task: t, threads } });
  let pending: ((v: { ms?: number; error?: string; threads?: number }) => void) | undefined;
  w.on('message', (m) => { const p = pending; pending = undefined; p?.(m); });
  w.on('error', (e) => { const p = pending; pending = undefined; p?.({ error: String(e) }); });
  const ask = (msg: unknown): Promise<{ ms?: number; error?: string; threads?: number }> =>
    new Promise((resolve) => { pending = resolve; if (msg !== undefined) w.postMessage(msg); });
  return ask(undefined).then((ready) => {
    if (ready.error) { void w.terminate(); throw new Error(`${kind}: ${ready.error}`); }
    return {
      name: kind, threads: ready.threads ?? threads,
      round: async (n) => {
        const r = await ask({ n });
        if (r.error !== undefined || r.ms === undefined) throw new Error(`${kind}: ${r.error}`);
        return r.ms;
      },
      close: async () => { await w.terminate(); },
    };
  });
}

/**
 * Waits until this process is idle: V8 keeps optimising the peers' big wasm
 * modules (onnxruntime-web, tfjs) in background threads for seconds after their
 * first runs, and that work would otherwise steal a core from the measurements.
 */
export async function settle(maxMs = 20000): Promise<void> {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const c0 = process.cpuUsage(), w0 = performance.now();
    await new Promise((r) => setTimeout(r, 250));
    const c = process.cpuUsage(c0);
    if ((c.user + c.system) / 1000 / (performance.now() - w0) < 0.05) return;
  }
}

/** cores: CPU time of this process per wall time during the peer's rounds (worker threads included). */
export interface Measured { peer: Peer; msPerOp: number[]; median: number; cores: number }

export interface MeasureOptions {
  /** Interleaved warm-up rounds, not measured (at least). */
  warmup?: number;
  /** Warm-up goes on until every peer has run this long: V8 tiers wasm up per function, and rarely called ones late. */
  warmupMs?: number;
  rounds?: number;
  /** Target length of one peer's round. */
  roundMs?: number;
  /** Idle time before each peer's round, so that one peer's leftover threads do not slow the next. */
  pauseMs?: number;
}

/**
 * Interleaved rounds: each round runs every peer for about `roundMs` (the count
 * of ops per round is calibrated once per peer); warm-up first (by rounds and by
 * time), then a wait for the process to go idle, then the measured rounds.
 */
export async function measureInterleaved(peers: Peer[], opts: MeasureOptions = {}): Promise<Measured[]> {
  const warmup = opts.warmup ?? 2, warmupMs = opts.warmupMs ?? 1500, rounds = opts.rounds ?? 7, roundMs = opts.roundMs ?? 150;
  const counts: number[] = [];
  for (const p of peers) {
    let n = 1, ms = await p.round(1);
    while (ms * n < roundMs / 4 && n < 1e5) { n *= 4; ms = await p.round(n); }
    counts.push(Math.max(1, Math.round(roundMs / Math.max(ms, 1e-3))));
  }
  const ran = peers.map(() => 0);
  for (let r = 0; r < warmup || ran.some((ms) => ms < warmupMs); r++) {
    for (let i = 0; i < peers.length; i++) {
      const t0 = performance.now();
      await peers[i].round(counts[i]);
      ran[i] += performance.now() - t0;
    }
  }
  await settle();
  const res: Measured[] = peers.map((peer) => ({ peer, msPerOp: [], median: NaN, cores: 0 }));
  const cpu = peers.map(() => ({ cpu: 0, wall: 0 }));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < peers.length; i++) {
      await new Promise((done) => setTimeout(done, opts.pauseMs ?? 40));
      const c0 = process.cpuUsage(), t0 = performance.now();
      res[i].msPerOp.push(await peers[i].round(counts[i]));
      const c = process.cpuUsage(c0);
      cpu[i].cpu += (c.user + c.system) / 1000;
      cpu[i].wall += performance.now() - t0;
    }
  }
  res.forEach((m, i) => {
    m.cores = cpu[i].cpu / cpu[i].wall;
    const s = [...m.msPerOp].sort((a, b) => a - b);
    m.median = s[s.length >> 1];
  });
  return res;
}
