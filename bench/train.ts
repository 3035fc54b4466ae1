// Training throughput: nnzip's trainer against TF.js's, side by side in one process
// (warm-up, interleaved rounds with rotating order, median; bench/harness.ts).
// LeNet-300-100 against TF.js's wasm backend, LeNet-5 against its CPU backend (its wasm
// backend cannot train convolutions: the error it throws is shown, not assumed).
// Same graph, same initial weights, batch 64 of real MNIST, SGD momentum 0.9, lr 0.01,
// softmax cross-entropy; every step reads its loss back. One thread everywhere; then
// nnzip alone on 1 and 2 threads (LeNet-300-100, LeNet-5, VGG-S).
// Run: npx tsc -p . && node dist/bench/train.js [--rounds N] [--models lenet300,lenet5] [--json FILE]
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { batchImages, loadDataset, type Dataset } from '../src/data/datasets.js';
import { NnzipError } from '../src/ir/errors.js';
import type { Graph } from '../src/ir/graph.js';
import { inferShapes } from '../src/ir/infer.js';
import { Rng } from '../src/ir/random.js';
import { WasmGemm } from '../src/kernels/wasm/gemm.js';
import { buildArchitecture, makeOptimizer, modelFromGraph, trainStep, wasmBackend, type Backend, type Model, type StepResult } from '../src/train/index.js';
import type { NodeThreadPool } from '../src/kernels/wasm/thread_pool_node.js';
import { trainingPool } from '../src/train/threads_node.js';
import { contender, measure, type Contender } from './harness.js';
import { foreignLoadLine, watchForeignLoad } from './harness_node.js';
import type { TfBackend } from './peers/tfjs/backend.js';
import { createTfTrainer, type TfApi, type TfTrainer } from './peers/tfjs/train.js';
import { formatRatio, formatSig, formatTable } from './table.js';

export const BATCH = 64;
export const LR = 0.01;
export const MOMENTUM = 0.9;
const SGD = { lr: LR, momentum: MOMENTUM };
const GEMM_N = 256;

/**
 * Per model, the TF.js backends timed (through these APIs) beside nnzip, and those
 * tried once to show the error they throw. TF.js's CPU backend needs ~30 s a LeNet-5
 * step: one API only, 5 rounds (plus one warm-up step).
 */
const PLAN: Record<string, { timed: TfBackend[]; apis: TfApi[]; tried: TfBackend[]; rounds: number; label: string }> = {
  lenet300: { timed: ['wasm', 'cpu'], apis: ['ops', 'layers'], tried: [], rounds: 7, label: 'LeNet-300-100' },
  lenet5: { timed: ['cpu'], apis: ['ops'], tried: ['wasm'], rounds: 5, label: 'LeNet-5' },
};

// ---- nnzip and the shared data ----

/** One-hot float labels for the whole dataset (TF.js's loss takes them). */
export function oneHot(labels: ArrayLike<number>, classes = 10): Float32Array {
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) out[i * classes + labels[i]] = 1;
  return out;
}

/** Consecutive batches over the dataset, wrapping around; each contender keeps its own. */
class Cursor {
  private at = 0;
  constructor(private readonly count: number) {}
  next(): number {
    if (this.at + BATCH > this.count) this.at = 0;
    const s = this.at;
    this.at += BATCH;
    return s;
  }
}

/** nnzip's training step as the CLI's `train` runs it: the batch copied into the tape, trainStep, SGD momentum. */
export function nnzipTrainer(graph: Graph, backend?: Backend): { model: Model; step(ds: Dataset, start: number, n?: number): number } {
  const model = modelFromGraph(graph, { backend });
  const opt = makeOptimizer({ kind: 'sgd', lr: LR, momentum: MOMENTUM });
  const out: StepResult = { loss: 0, correct: 0 };
  return {
    model,
    step(ds, start, n = BATCH) {
      const bt = model.tape(n, true);
      bt.input.data.set(batchImages(ds, start, n));
      return trainStep(model, bt, ds.labels, start, opt, LR, out).loss;
    },
  };
}

/**
 * Multiply-accumulates per sample of the Conv and Gemm layers: forward, and the input
 * gradient of the first such layer (backprop never computes it: the image needs none).
 */
export function trainingMacs(graph: Graph): { forward: number; firstInput: number } {
  const types = inferShapes(graph, { N: 1 });
  let forward = 0;
  let firstInput = -1;
  for (const node of graph.nodes) {
    if (node.op !== 'Conv' && node.op !== 'Gemm') continue;
    const out = types.get(node.outputs[0])!.shape.reduce((a, b) => a * b, 1);
    const w = graph.initializers.get(node.inputs[1])!.shape;
    const macs = out * (node.op === 'Conv' ? w.slice(1).reduce((a, b) => a * b, 1) : w[1]);
    forward += macs;
    if (firstInput < 0) firstInput = macs;
  }
  return { forward, firstInput: Math.max(0, firstInput) };
}

// ---- the bench ----

export interface TrainBenchOptions {
  /** Timed rounds per model (default: 7 for LeNet-300-100, 5 for LeNet-5); at least 5. */
  rounds?: number;
  /** Model keys (default lenet300, lenet5). */
  models?: string[];
}

export interface TrainRow {
  model: string;
  peer: string;
  /** Undefined when the peer cannot train the model (see error). */
  peerSamplesPerSec?: number;
  nnzipSamplesPerSec: number;
  error?: string;
}

export interface TrainReport {
  rows: TrainRow[];
  /** nnzip training GFLOP/s per model: counted as forward MACs × 3 × 2, and as the work really done. */
  gflops: { model: string; counted: number; done: number }[];
  /** nnzip's WASM GEMM on 256³, timed in the first model's rounds: WasmGemm.sgemm (arrays in and out, both packed per call) ... */
  gemmGflops?: number;
  /** ... and the offset API as bench/gemm.ts times it (A packed per call, B packed once). */
  gemmPackedGflops?: number;
  /** nnzip alone on 1 and 2 threads (same weights either way), interleaved rounds. */
  threads: { model: string; one: number; two: number }[];
  foreignCores?: number;
}

/** Models timed on 1 and 2 threads (VGG-S has no TF.js peer: its convs are padded). */
const THREAD_MODELS: Record<string, string> = { lenet300: 'LeNet-300-100', lenet5: 'LeNet-5', vggs: 'VGG-S' };

/** nnzip's training samples/s on 1 and 2 threads, interleaved (bench/harness.ts). */
async function benchThreads(ds: Dataset, pool: NodeThreadPool, rounds: number | undefined, report: TrainReport): Promise<void> {
  for (const [key, label] of Object.entries(THREAD_MODELS)) {
    const graph = buildArchitecture(key, { seed: 1 });
    const contenders = [nnzipTrainer(graph), nnzipTrainer(graph, wasmBackend({ threads: pool }))].map((t, i) => {
      const cursor = new Cursor(ds.count);
      return contender(`nnzip x${i + 1}`, () => t.step(ds, cursor.next()));
    });
    const [one, two] = await measure(contenders, { rounds: rounds ?? 5, warmupMs: 300, minSampleMs: 200, between: () => globalThis.gc?.() });
    report.threads.push({ model: label, one: rate(one.ms), two: rate(two.ms) });
  }
}

const rate = (ms: number) => (BATCH * 1000) / ms;

function tfContender(t: TfTrainer, ds: Dataset, onehot: Float32Array): Contender {
  const cursor = new Cursor(ds.count);
  return contender(t.name, () => { const s = cursor.next(); return t.step(batchImages(ds, s, BATCH), onehot.subarray(s * 10), BATCH); });
}

function gemmContenders(): Contender[] {
  const rng = new Rng(1);
  const n = GEMM_N;
  const [a, b, c] = [rng.floats(n * n), rng.floats(n * n), new Float32Array(n * n)];
  const g = new WasmGemm();
  const ar = g.arena;
  const [pa, pb, pc] = [ar.alloc(g.packedASize(n, n)), ar.alloc(g.packedBSize(n, n)), ar.allocF32(n * n)];
  const pin = ar.allocF32(n * n);
  ar.f32(pin, n * n).set(b);
  g.packB(pin, n, false, n, n, pb);
  ar.f32(pin, n * n).set(a);
  return [
    contender('gemm256 sgemm', () => g.sgemm(n, n, n, a, b, c)),
    contender('gemm256 packed', () => { g.packA(pin, n, false, n, n, pa); g.gemmPacked(n, n, n, pa, pb, pc); }),
  ];
}

/** One training step that a backend cannot run: its error message (measured, not assumed). */
async function tryStep(graph: Graph, backend: TfBackend, ds: Dataset, onehot: Float32Array): Promise<string | undefined> {
  let t: TfTrainer | undefined;
  try {
    t = await createTfTrainer(graph, backend, 'ops', SGD);
    await t.step(batchImages(ds, 0, BATCH), onehot, BATCH);
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  } finally {
    t?.dispose();
  }
}

async function benchModel(key: string, ds: Dataset, onehot: Float32Array, rounds: number | undefined, withGemm: boolean, report: TrainReport): Promise<void> {
  const plan = PLAN[key];
  const graph = buildArchitecture(key, { seed: 1 });
  const nz = nnzipTrainer(graph);
  const cursor = new Cursor(ds.count);
  const trainers: TfTrainer[] = [];
  for (const backend of plan.timed) for (const api of plan.apis) trainers.push(await createTfTrainer(graph, backend, api, SGD));
  const contenders = [contender('nnzip', () => nz.step(ds, cursor.next())), ...trainers.map((t) => tfContender(t, ds, onehot)), ...(withGemm ? gemmContenders() : [])];
  const timings = await measure(contenders, { rounds: rounds ?? plan.rounds, warmupMs: 300, minSampleMs: 150, between: () => globalThis.gc?.() });
  trainers.forEach((t) => t.dispose());
  const nzRate = rate(timings[0].ms);
  trainers.forEach((t, i) => report.rows.push({ model: plan.label, peer: t.name, peerSamplesPerSec: rate(timings[i + 1].ms), nnzipSamplesPerSec: nzRate }));
  if (withGemm) [report.gemmGflops, report.gemmPackedGflops] = timings.slice(-2).map((t) => (2 * GEMM_N ** 3) / (t.ms * 1e6));
  for (const backend of plan.tried) {
    const error = await tryStep(graph, backend, ds, onehot);
    report.rows.push({ model: plan.label, peer: `tfjs-${backend}`, nnzipSamplesPerSec: nzRate, error: error ?? 'trains (not timed)' });
  }
  const macs = trainingMacs(graph);
  const perSec = nzRate / 1e9;
  report.gflops.push({ model: plan.label, counted: macs.forward * 6 * perSec, done: (macs.forward * 3 - macs.firstInput) * 2 * perSec });
}

export async function benchTrain(args: TrainBenchOptions = {}): Promise<TrainReport> {
  const models = args.models ?? Object.keys(PLAN);
  for (const m of models) if (!PLAN[m]) throw new NnzipError(`bench/train: unknown model "${m}"; choose from ${Object.keys(PLAN).join(', ')}`);
  if (args.rounds !== undefined && !(Number.isInteger(args.rounds) && args.rounds >= 5)) throw new NnzipError(`bench/train: rounds=${args.rounds}; the median needs an integer >= 5`);
  const ds = loadDataset('mnist', 'train');
  const onehot = oneHot(ds.labels);
  const foreign = watchForeignLoad();
  const report: TrainReport = { rows: [], gflops: [], threads: [] };
  for (const [i, m] of models.entries()) await benchModel(m, ds, onehot, args.rounds, i === 0, report);
  const pool = trainingPool(2);
  try {
    await benchThreads(ds, pool, args.rounds, report);
  } finally {
    await pool.close();
  }
  report.foreignCores = foreign();
  return report;
}


export function formatTrainReport(r: TrainReport): string {
  const rows = r.rows.map((x) => [x.model, x.peer, x.error ? 'not supported' : formatSig(x.peerSamplesPerSec), formatSig(x.nnzipSamplesPerSec),
    formatRatio(x.nnzipSamplesPerSec, x.peerSamplesPerSec)]);
  const lines = [formatTable(['model', 'peer', 'samples/s', 'nnzip samples/s', 'ratio'], rows), ''];
  for (const x of r.rows) if (x.error) lines.push(`${x.model} ${x.peer}: ${x.error}`);
  const wasm300 = r.rows.filter((x) => x.model === 'LeNet-300-100' && x.peer.startsWith('tfjs-wasm') && x.peerSamplesPerSec);
  if (wasm300.length > 0) {
    const ratio = wasm300[0].nnzipSamplesPerSec / Math.max(...wasm300.map((x) => x.peerSamplesPerSec!));
    lines.push(`target LeNet-300-100 nnzip / fastest tfjs-wasm >= 3x: ${ratio.toFixed(2)}x ${ratio >= 3 ? 'met' : 'MISSED'}`);
  }
  for (const g of r.gflops) lines.push(`nnzip training ${g.model}: ${g.counted.toFixed(2)} GFLOP/s (forward MACs x3 x2 per sample); ${g.done.toFixed(2)} GFLOP/s of work done (no input gradient)`);
  if (r.gemmGflops) {
    lines.push(`nnzip WASM GEMM 256^3: ${r.gemmGflops.toFixed(2)} GFLOP/s WasmGemm.sgemm (arrays, both packed per call); ${r.gemmPackedGflops!.toFixed(2)} GFLOP/s packed offset API (B packed once)`);
    const g = r.gflops.find((x) => x.model === 'LeNet-300-100');
    if (g) lines.push(`target LeNet-300-100 training GFLOP/s >= 40% of GEMM: ${((100 * g.counted) / r.gemmGflops).toFixed(0)}% counted, ${((100 * g.done) / r.gemmGflops).toFixed(0)}% done ${g.counted >= 0.4 * r.gemmGflops ? 'met' : 'MISSED'}`);
  }
  for (const t of r.threads) lines.push(`nnzip training ${t.model} on 2 threads: ${formatSig(t.two)} samples/s vs ${formatSig(t.one)} on 1 (${(t.two / t.one).toFixed(2)}x)`);
  const load = foreignLoadLine(r.foreignCores);
  if (load) lines.push(load);
  return lines.join('\n');
}

export function parseTrainArgs(argv: string[]): TrainBenchOptions & { json?: string } {
  const o: TrainBenchOptions & { json?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, v] = [argv[i], argv[i + 1]];
    if (!['--rounds', '--models', '--json'].includes(flag)) throw new NnzipError(`bench/train: unknown option ${flag}; use --rounds N, --models lenet300,lenet5, --json FILE`);
    if (!v || v.startsWith('--')) throw new NnzipError(`bench/train: ${flag} needs a value`);
    if (flag === '--rounds') o.rounds = Number(v);
    else if (flag === '--models') o.models = v.split(',').filter(Boolean);
    else o.json = v;
    i++;
  }
  return o;
}

async function main(): Promise<void> {
  const o = parseTrainArgs(process.argv.slice(2));
  const t0 = performance.now();
  const report = await benchTrain(o);
  process.stdout.write(`${formatTrainReport(report)}\nbench/train: done in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  if (o.json) writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(() => process.exit(0), (e) => {
    process.stderr.write(e instanceof NnzipError ? `nnzip: error: ${e.message}\n` : `${(e as Error).stack ?? e}\n`);
    process.exit(e instanceof NnzipError ? e.exitCode : 1);
  });
}
