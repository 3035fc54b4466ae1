// Training throughput: nnzip's trainer against TF.js's, side by side in one process
// (warm-up, interleaved rounds with rotating order, median; bench/harness.ts).
// LeNet-300-100 against TF.js's wasm backend, LeNet-5 against its CPU backend (its wasm
// backend cannot train convolutions: the error it throws is shown, not assumed).
// Same graph, same initial weights, batch 64 of real MNIST, SGD momentum 0.9, lr 0.01,
// softmax cross-entropy; every step reads its loss back. One thread everywhere.
// Run: npx tsc -p . && node dist/bench/train.js [--rounds N] [--models lenet300,lenet5] [--json FILE]
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { batchImages, loadDataset, type Dataset } from '../src/data/datasets.js';
import { NnzipError } from '../src/ir/errors.js';
import type { Graph } from '../src/ir/graph.js';
import { inferShapes } from '../src/ir/infer.js';
import { Rng } from '../src/ir/random.js';
import { WasmGemm } from '../src/kernels/wasm/gemm.js';
import { buildArchitecture, makeOptimizer, modelFromGraph, trainStep, type Model, type StepResult } from '../src/train/index.js';
import { formatTable, measure, median, watchForeignLoad, type Contender } from './harness.js';
import { tfjsWasmThreads } from './peers/tfjs_wasm.js';

export const BATCH = 64;
export const LR = 0.01;
export const MOMENTUM = 0.9;
const GEMM_N = 256;

export type TfBackend = 'wasm' | 'cpu';
/** 'ops': tf.fused ops under optimizer.minimize; 'layers': tf.sequential + trainOnBatch. */
export type TfApi = 'ops' | 'layers';

/** TF.js's slow peers (tens of seconds a step) get this much time: 3 to 5 timed steps. */
const SLOW_BUDGET_MS = 100_000;

/**
 * Per model, the TF.js backends: timed through both APIs in the harness's rounds, timed
 * for a few steps only (too slow for more), or tried once to show the error they throw.
 */
const PLAN: Record<string, { timed: TfBackend[]; slow: TfBackend[]; tried: TfBackend[]; rounds: number; label: string }> = {
  lenet300: { timed: ['wasm', 'cpu'], slow: [], tried: [], rounds: 7, label: 'LeNet-300-100' },
  lenet5: { timed: [], slow: ['cpu'], tried: ['wasm'], rounds: 5, label: 'LeNet-5' },
};

// ---- TF.js: the model as a chain of layers read off the nnzip graph ----

type Layer =
  | { kind: 'conv'; filter: Float32Array; shape: [number, number, number, number]; bias: Float32Array; relu: boolean }
  | { kind: 'dense'; kernel: Float32Array; shape: [number, number]; bias: Float32Array; relu: boolean }
  | { kind: 'pool'; size: number }
  | { kind: 'flatten' };

function unsupported(node: { name: string; op: string }, why: string): never {
  throw new NnzipError(`bench/train: node "${node.name}" (${node.op}): ${why}; the TF.js training peer handles chains of Conv (stride 1, no padding), MaxPool, Reshape (flatten), Gemm (transB=1) and Relu`);
}

/** nnzip's conv weight [O,I,KH,KW] as TF.js's filter [KH,KW,I,O]. */
function convFilter(src: Float32Array, [O, I, KH, KW]: readonly number[]): Float32Array {
  const f = new Float32Array(src.length);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let k = 0; k < KH * KW; k++) f[(k * I + i) * O + o] = src[(o * I + i) * KH * KW + k];
  return f;
}

/**
 * nnzip's Linear weight [out,in] as TF.js's kernel [in,out]. After a flatten of [C,H,W]
 * TF.js orders features (h,w,c), nnzip (c,h,w): the rows are permuted to match.
 */
function denseKernel(src: Float32Array, [out, inp]: readonly number[], chw: readonly number[] | null): Float32Array {
  const k = new Float32Array(src.length);
  const [C, HW] = chw ? [chw[0], chw[1] * chw[2]] : [inp, 1];
  for (let c = 0; c < C; c++) for (let p = 0; p < HW; p++) {
    const row = p * C + c;
    for (let o = 0; o < out; o++) k[row * out + o] = src[o * inp + c * HW + p];
  }
  return k;
}

/** The graph as a chain of layers in TF.js's layout (NHWC activations). */
export function tfLayers(graph: Graph): Layer[] {
  const init = (name: string) => graph.initializers.get(name)?.data as Float32Array;
  let [C, H, W] = graph.inputs[0].shape.slice(1) as number[];
  if (C !== 1) throw new NnzipError(`bench/train: input "${graph.inputs[0].name}" has ${C} channels; the TF.js peer feeds NCHW images as NHWC, which only holds for 1 channel`);
  let chw: number[] | null = null; // the [C,H,W] of the last flatten, until a dense layer uses it
  const layers: Layer[] = [];
  for (const node of graph.nodes) {
    const w = graph.initializers.get(node.inputs[1] ?? '');
    const last = layers.at(-1);
    if (node.op === 'Conv') {
      const [O, , KH, KW] = w!.shape;
      if ((node.attrs.strides as number[]).some((s) => s !== 1) || (node.attrs.pads as number[]).some((p) => p !== 0)) unsupported(node, 'strides or pads are not 1 and 0');
      layers.push({ kind: 'conv', filter: convFilter(w!.data as Float32Array, w!.shape), shape: [KH, KW, w!.shape[1], O], bias: init(node.inputs[2]), relu: false });
      [C, H, W] = [O, H - KH + 1, W - KW + 1];
    } else if (node.op === 'MaxPool') {
      const k = (node.attrs.kernel_shape as number[])[0];
      layers.push({ kind: 'pool', size: k });
      [H, W] = [Math.floor(H / k), Math.floor(W / k)];
    } else if (node.op === 'Reshape') {
      if (last?.kind !== 'flatten') layers.push({ kind: 'flatten' });
      chw ??= [C, H, W];
    } else if (node.op === 'Gemm') {
      if (node.attrs.transB !== 1 || node.attrs.transA) unsupported(node, 'only transA=0, transB=1 (PyTorch Linear) is handled');
      const kernel = denseKernel(w!.data as Float32Array, w!.shape, chw);
      layers.push({ kind: 'dense', kernel, shape: [w!.shape[1], w!.shape[0]], bias: init(node.inputs[2]), relu: false });
      chw = null;
    } else if (node.op === 'Relu') {
      if (last?.kind !== 'conv' && last?.kind !== 'dense') unsupported(node, 'Relu must follow a Conv or Gemm');
      last.relu = true;
    } else unsupported(node, 'op not handled');
  }
  return layers;
}

/** TF.js's training step on one of its backends, through one of its two APIs. */
export interface TfTrainer {
  readonly name: string;
  readonly backend: TfBackend;
  /** One SGD step on `batch` samples (NCHW floats, one-hot labels); the loss before the update. */
  step(images: Float32Array, onehot: Float32Array, batch: number): number | Promise<number>;
  /** Mean loss on `batch` samples, no update. */
  loss(images: Float32Array, onehot: Float32Array, batch: number): number;
  dispose(): void;
}

/** Makes `name` TF.js's active backend (the wasm one once started with 1 thread, as bench/peers/tfjs_wasm.ts does). */
export async function useTfBackend(name: TfBackend): Promise<void> {
  if (name === 'wasm') await tfjsWasmThreads(1);
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new NnzipError(`bench/train: the TF.js ${name} backend failed to start`, 1);
}

const act = (relu: boolean) => (relu ? 'relu' : 'linear');
const ce = (ys: tf.Tensor, logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(ys, logits) as tf.Scalar;
const inputs = (images: Float32Array, onehot: Float32Array, n: number) =>
  [tf.tensor4d(images.subarray(0, n * 784), [n, 28, 28, 1]), tf.tensor2d(onehot.subarray(0, n * 10), [n, 10])] as const;

function opsTrainer(layers: Layer[], backend: TfBackend): TfTrainer {
  const v = (data: Float32Array, shape: number[]) => tf.variable(tf.tensor(data, shape));
  const vars = layers.map((l) => (l.kind === 'conv' ? [v(l.filter, l.shape), v(l.bias, [l.bias.length])] : l.kind === 'dense' ? [v(l.kernel, l.shape), v(l.bias, [l.bias.length])] : []));
  const opt = tf.train.momentum(LR, MOMENTUM);
  const forward = (x: tf.Tensor): tf.Tensor => {
    layers.forEach((l, i) => {
      const [w, b] = vars[i];
      if (l.kind === 'conv') x = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'valid', bias: b, activation: act(l.relu) });
      else if (l.kind === 'dense') x = tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b, activation: act(l.relu) });
      else if (l.kind === 'pool') x = tf.maxPool(x as tf.Tensor4D, l.size, l.size, 'valid');
      else x = tf.reshape(x, [x.shape[0], -1]);
    });
    return x;
  };
  return {
    name: `tfjs-${backend}`, backend,
    step(images, onehot, n) {
      const cost = tf.tidy(() => {
        const [xs, ys] = inputs(images, onehot, n);
        return opt.minimize(() => ce(ys, forward(xs)), true, vars.flat())!;
      });
      const value = cost.dataSync()[0];
      cost.dispose();
      return value;
    },
    loss: (images, onehot, n) => tf.tidy(() => { const [xs, ys] = inputs(images, onehot, n); return ce(ys, forward(xs)); }).dataSync()[0],
    dispose() { tf.dispose(vars.flat()); opt.dispose(); },
  };
}

function layersTrainer(layers: Layer[], backend: TfBackend): TfTrainer {
  const model = tf.sequential();
  const first = { inputShape: [28, 28, 1] };
  const weights: tf.Tensor[] = [];
  layers.forEach((l, i) => {
    const opts = i === 0 ? first : {};
    if (l.kind === 'conv') model.add(tf.layers.conv2d({ ...opts, filters: l.shape[3], kernelSize: [l.shape[0], l.shape[1]], activation: act(l.relu) }));
    else if (l.kind === 'dense') model.add(tf.layers.dense({ ...opts, units: l.shape[1], activation: act(l.relu) }));
    else if (l.kind === 'pool') model.add(tf.layers.maxPooling2d({ ...opts, poolSize: l.size }));
    else model.add(tf.layers.flatten(opts));
    if (l.kind === 'conv' || l.kind === 'dense') weights.push(tf.tensor(l.kind === 'conv' ? l.filter : l.kernel, l.shape), tf.tensor1d(l.bias));
  });
  model.setWeights(weights);
  tf.dispose(weights);
  model.compile({ optimizer: tf.train.momentum(LR, MOMENTUM), loss: ce });
  return {
    name: `tfjs-${backend} layers`, backend,
    async step(images, onehot, n) {
      const [xs, ys] = inputs(images, onehot, n);
      const value = (await model.trainOnBatch(xs, ys)) as number;
      tf.dispose([xs, ys]);
      return value;
    },
    loss: (images, onehot, n) => tf.tidy(() => { const [xs, ys] = inputs(images, onehot, n); return ce(ys, model.predict(xs) as tf.Tensor); }).dataSync()[0],
    dispose() { model.dispose(); },
  };
}

/** A TF.js trainer of `graph`'s architecture and initial weights, on `backend` (made active). */
export async function createTfTrainer(graph: Graph, backend: TfBackend, api: TfApi = 'ops'): Promise<TfTrainer> {
  await useTfBackend(backend);
  tf.enableProdMode(); // TF.js's documented speed switch: no debug checks on every op
  const layers = tfLayers(graph);
  return api === 'ops' ? opsTrainer(layers, backend) : layersTrainer(layers, backend);
}

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
export function nnzipTrainer(graph: Graph): { model: Model; step(ds: Dataset, start: number, n?: number): number } {
  const model = modelFromGraph(graph);
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
  /**
   * Timed rounds per model (default: 7 for LeNet-300-100, 5 for LeNet-5); at least 5. The
   * TF.js CPU LeNet-5 peer (~30 s a step) gets 3 to 5 steps within SLOW_BUDGET_MS instead.
   */
  rounds?: number;
  /** Model keys (default lenet300, lenet5). */
  models?: string[];
}

export interface TrainRow {
  model: string;
  peer: string;
  /** Timed steps (median) when the peer is too slow for the harness's rounds. */
  steps?: number;
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
  foreignCores?: number;
}

const rate = (ms: number) => (BATCH * 1000) / ms;

function tfContender(t: TfTrainer, ds: Dataset, onehot: Float32Array): Contender {
  const cursor = new Cursor(ds.count);
  const step = () => { const s = cursor.next(); return t.step(batchImages(ds, s, BATCH), onehot.subarray(s * 10), BATCH); };
  return { name: t.name, run: () => (tf.getBackend() === t.backend ? step() : useTfBackend(t.backend).then(step)) };
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
    { name: 'gemm256 sgemm', run: () => g.sgemm(n, n, n, a, b, c) },
    { name: 'gemm256 packed', run: () => { g.packA(pin, n, false, n, n, pa); g.gemmPacked(n, n, n, pa, pb, pc); } },
  ];
}

function timeFor(c: Contender, minMs: number): number {
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < minMs) { c.run(); calls++; }
  return (performance.now() - t0) / calls;
}

/**
 * A TF.js peer that needs tens of seconds a step, against nnzip (synchronous), interleaved:
 * a 4-sample step warms it up and estimates a 64-sample one, which sets how many fit the budget.
 */
async function fewSteps(nz: Contender, t: TfTrainer, ds: Dataset, onehot: Float32Array): Promise<{ nzMs: number; tfMs: number; steps: number }> {
  const t0 = performance.now();
  await t.step(batchImages(ds, 0, 4), onehot, 4);
  const steps = Math.max(3, Math.min(5, Math.floor(SLOW_BUDGET_MS / (((performance.now() - t0) * BATCH) / 4))));
  timeFor(nz, 300);
  const tfc = tfContender(t, ds, onehot);
  const [nzMs, tfMs]: number[][] = [[], []];
  for (let r = 0; r < steps; r++) {
    for (const who of r % 2 ? [1, 0] : [0, 1]) {
      globalThis.gc?.();
      const ts = performance.now();
      if (who === 0) nzMs.push(timeFor(nz, 150));
      else { await tfc.run(); tfMs.push(performance.now() - ts); }
    }
  }
  return { nzMs: median(nzMs), tfMs: median(tfMs), steps };
}

/** One training step that a backend cannot run: its error message (measured, not assumed). */
async function tryStep(graph: Graph, backend: TfBackend, ds: Dataset, onehot: Float32Array): Promise<string | undefined> {
  let t: TfTrainer | undefined;
  try {
    t = await createTfTrainer(graph, backend);
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
  const nzc: Contender = { name: 'nnzip', run: () => nz.step(ds, cursor.next()) };
  let nzRate: number | undefined;
  if (plan.timed.length > 0 || withGemm) {
    const trainers: TfTrainer[] = [];
    for (const backend of plan.timed) for (const api of ['ops', 'layers'] as const) trainers.push(await createTfTrainer(graph, backend, api));
    const contenders = [nzc, ...trainers.map((t) => tfContender(t, ds, onehot)), ...(withGemm ? gemmContenders() : [])];
    const timings = await measure(contenders, { rounds: rounds ?? plan.rounds, warmupMs: 300, minSampleMs: 150, between: () => globalThis.gc?.() });
    trainers.forEach((t) => t.dispose());
    nzRate = rate(timings[0].ms);
    trainers.forEach((t, i) => report.rows.push({ model: plan.label, peer: t.name, peerSamplesPerSec: rate(timings[i + 1].ms), nnzipSamplesPerSec: nzRate! }));
    if (withGemm) [report.gemmGflops, report.gemmPackedGflops] = timings.slice(-2).map((t) => (2 * GEMM_N ** 3) / (t.ms * 1e6));
  }
  for (const backend of plan.slow) {
    const t = await createTfTrainer(graph, backend);
    const r = await fewSteps(nzc, t, ds, onehot);
    t.dispose();
    nzRate ??= rate(r.nzMs);
    report.rows.push({ model: plan.label, peer: t.name, steps: r.steps, peerSamplesPerSec: rate(r.tfMs), nnzipSamplesPerSec: rate(r.nzMs) });
  }
  nzRate ??= rate(timeFor(nzc, 1000));
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
  const report: TrainReport = { rows: [], gflops: [] };
  for (const [i, m] of models.entries()) await benchModel(m, ds, onehot, args.rounds, i === 0, report);
  report.foreignCores = foreign();
  return report;
}

const fmt = (v: number | undefined, digits = 3) => (v === undefined ? '-' : v >= 1000 ? v.toFixed(0) : v.toPrecision(digits));

export function formatTrainReport(r: TrainReport): string {
  const rows = r.rows.map((x) => [x.model, x.peer + (x.steps ? ` (${x.steps} steps)` : ''), x.error ? 'not supported' : fmt(x.peerSamplesPerSec), fmt(x.nnzipSamplesPerSec),
    x.peerSamplesPerSec ? `${(x.nnzipSamplesPerSec / x.peerSamplesPerSec).toFixed(2)}x` : '-']);
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
  if (r.foreignCores !== undefined) lines.push(`other processes used ${r.foreignCores.toFixed(2)} cores during the run${r.foreignCores > 0.5 ? ' (timings noisy; ratios less so)' : ''}`);
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
