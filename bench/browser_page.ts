// The page side of bench/browser.ts, bundled by esbuild and run in Chromium:
// nnzip's bundle and onnxruntime-web (its WebAssembly build, served from the
// npm package) time the same models on the same inputs in one page, with the
// project's harness (interleaved rounds, warm-up, median). One page = one thread
// count: onnxruntime-web fixes its threads when its wasm module starts.
import type * as Ort from 'onnxruntime-web';
import type * as Nnzip from '../src/browser.js';
import { contender, measure, type Contender } from './harness.js';
import { ortSpinning } from './peers/ort_options.js';

export interface PageCase {
  model: string;
  /** The dense .onnx both runtimes load, and the .nnz nnzip also runs when there is one. */
  onnx: string;
  nnz?: string;
  image: number[];
  batches: number[];
}

export interface PageRow {
  model: string;
  batch: number;
  threads: number;
  peers: Record<string, { ms?: number; samples?: number[]; threads?: number; maxAbs?: number }>;
}

/** Seeded pixels in [0, 1) (mulberry32), the same in every runtime. */
function pixels(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  });
}

async function bytesOf(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

const maxAbs = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** Times every case at `threads` threads, each contender warmed up `warmupMs` first; returns one row per (model, batch). */
export async function benchPage(cases: PageCase[], threads: number, rounds: number, warmupMs: number): Promise<PageRow[]> {
  const nnzipUrl: string = '/nnzip.js', ortUrl: string = '/ort/ort.wasm.min.mjs';
  const nn = (await import(nnzipUrl)) as typeof Nnzip;
  const ort = (await import(ortUrl)) as typeof Ort;
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = threads;
  const rows: PageRow[] = [];
  for (const c of cases) {
    const onnx = await bytesOf(c.onnx);
    const nnzip: Record<string, Nnzip.Session> = { nnzip: await nn.createWebSession(onnx, { threads, batch: Math.max(...c.batches) }) };
    if (c.nnz) nnzip['nnzip .nnz'] = await nn.createWebSession(await bytesOf(c.nnz), { threads, batch: Math.max(...c.batches) });
    // its pool threads do not spin between runs: spinning workers would hold the second core while nnzip's rows run in the same page
    const peer = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', ...ortSpinning({ spinning: false }) });
    for (const batch of c.batches) {
      const shape = [batch, ...c.image];
      const x = pixels(shape.reduce((a, b) => a * b, 1), batch);
      const feed = { [peer.inputNames[0]]: new ort.Tensor('float32', x, shape) };
      const ortRun = async () => (await peer.run(feed))[peer.outputNames[0]].data as Float32Array;
      const want = await ortRun();
      const row: PageRow = { model: c.model, batch, threads, peers: { 'ort-web': { threads } } };
      const contenders: Contender[] = [contender('ort-web', ortRun)];
      for (const [name, s] of Object.entries(nnzip)) {
        const input = { [s.inputNames[0]]: new nn.Tensor('float32', shape, x) };
        const run = () => s.run(input)[s.outputNames[0]].data as Float32Array;
        // the .nnz holds other (compressed) weights: only the dense model must agree with onnxruntime
        row.peers[name] = { threads: s.threads, maxAbs: name === 'nnzip' ? maxAbs(run(), want) : undefined };
        contenders.push(contender(name, run));
      }
      for (const t of await measure(contenders, { rounds, warmupMs, pauseMs: 30 })) Object.assign(row.peers[t.name], { ms: t.ms, samples: t.samples });
      rows.push(row);
    }
    for (const s of Object.values(nnzip)) await s.dispose();
    await peer.release();
  }
  return rows;
}

(globalThis as { benchPage?: typeof benchPage }).benchPage = benchPage;
