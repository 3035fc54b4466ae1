// Evaluating one candidate: its recipe run by the compress pipeline with a short
// fine-tune (the proxy), then size = the encoded file's bytes, accuracy = the
// decoded file on a held-out slice of the training set (seeded, never the test set),
// latency = nnzip's runtime on this machine (batch 1, 1 thread or `threads`), memoised by plan,
// flash = the C backend's memory report.
import { createHash } from 'node:crypto';
import { compressGraph } from '../compress/pipeline.js';
import type { FinetuneData } from '../compress/finetune.js';
import { loadDataset, type Dataset, type DatasetName } from '../data/datasets.js';
import { nnzToGraph } from '../format/nnz.js';
import type { Graph } from '../ir/graph.js';
import { Rng } from '../ir/random.js';
import { f32 } from '../ir/tensor.js';
import { planGraph } from '../compile/plan.js';
import { compileC } from '../compile/backends/c/index.js';
import { measureCortexM4 } from '../compile/backends/c/measure.js';
import { hasTool } from '../compile/backends/c/toolchain.js';
import { sessionAccuracy } from '../eval/runners.js';
import { createNodeSession } from '../runtime/session_node.js';
import { candidateHash, candidateRecipe, searchSpace, smallest, type Candidate, type Method, type Proxy, type Space } from './space.js';

/** Everything a worker needs besides the model's bytes to evaluate candidates the same way. */
export interface ProblemSpec {
  dataset: DatasetName;
  /** Seed of the slices, the fine-tunes and k-means. */
  seed: number;
  /** Training images of the proxy fine-tune, and held-out images it is scored on (disjoint, from the training set). */
  train: number;
  holdout: number;
  proxy: Proxy;
  /** measured: the runtime timed here; estimated: the planner's cost model (the same on every machine). */
  latency: 'measured' | 'estimated';
  /** Threads the latency is measured (or planned) at; absent = 1 (left out at 1, so a 1-thread search keeps its problem id). */
  threads?: number;
  /** Compile each candidate to C for its flash figure. */
  flash: boolean;
  /** The methods mixed (default: all). */
  methods?: Method[];
  /** The model's file name, stored in each file's metadata as `compress` stores it (so the sizes are the same bytes). */
  source?: string;
  /** A final run's problem: the whole training set, scored on the test set (train and holdout unused). */
  final?: boolean;
}

export interface Problem {
  graph: Graph;
  spec: ProblemSpec;
  space: Space;
  data: FinetuneData & { test: Dataset };
  /** Held-out accuracy of the model as given. */
  baseline: number;
  /** Latency by plan key (the same kernels with the same estimates run in the same time). */
  latencyMemo: Map<string, number>;
}

export interface Evaluation {
  hash: string;
  /** Bytes of the .nnz file the recipe writes. */
  size: number;
  latencyMs: number;
  /** Held-out accuracy of the decoded file. */
  accuracy: number;
  /** Flash bytes of the C build (text + data with arm-none-eabi-gcc, else its constant arrays). */
  flash?: number;
  flashSource?: 'cortex-m4' | 'const-arrays';
  seconds: number;
}

/** `n` images picked by `idx` from `ds` (a copy). */
function pick(ds: Dataset, idx: number[], split: Dataset['split']): Dataset {
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const images = new Float32Array(idx.length * per);
  const labels = new Uint8Array(idx.length);
  idx.forEach((j, i) => {
    images.set(ds.images.subarray(j * per, (j + 1) * per), i * per);
    labels[i] = ds.labels[j];
  });
  return { ...ds, split, images, labels, count: idx.length };
}

/** The proxy's training slice and the held-out slice: disjoint, seeded, from the training set. */
export function slices(name: DatasetName, seed: number, train: number, holdout: number): { train: Dataset; test: Dataset } {
  const ds = loadDataset(name, 'train');
  const order = Array.from({ length: ds.count }, (_, i) => i);
  const rng = new Rng(seed ^ 0x5eed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return { test: pick(ds, order.slice(0, holdout), 'train'), train: pick(ds, order.slice(holdout, holdout + train), 'train') };
}

export async function makeProblem(graph: Graph, spec: ProblemSpec): Promise<Problem> {
  const data = spec.final
    ? { train: loadDataset(spec.dataset, 'train'), test: loadDataset(spec.dataset, 'test') }
    : slices(spec.dataset, spec.seed, spec.train, spec.holdout);
  const baseline = (await sessionAccuracy(graph, data.test)).accuracy;
  return { graph, spec, space: searchSpace(graph, spec.methods), data, baseline, latencyMemo: new Map() };
}

function inputShapes(graph: Graph): Record<string, number[]> {
  const fed = graph.inputs.filter((v) => !graph.initializers.has(v.name));
  return Object.fromEntries(fed.map((v) => [v.name, v.shape.map((d) => (typeof d === 'number' ? d : 1))]));
}

/** Median ms per run of the runtime at `threads` threads, batch 1 (warm-up, then samples of >= 2 ms). */
async function timeRuns(graph: Graph, threads: number): Promise<number> {
  const session = await createNodeSession(graph, { threads, batch: 1 });
  try {
    const feeds = Object.fromEntries(Object.entries(inputShapes(graph)).map(([k, s]) => [k, f32(s, new Float32Array(s.reduce((a, b) => a * b, 1)))]));
    let t = performance.now();
    let n = 0;
    while (n < 3 || performance.now() - t < 2) { session.run(feeds); n++; }
    const per = Math.max(1, Math.ceil(n / (performance.now() - t) * 2));
    const samples: number[] = [];
    for (let s = 0; s < 7; s++) {
      t = performance.now();
      for (let i = 0; i < per; i++) session.run(feeds);
      samples.push((performance.now() - t) / per);
    }
    return samples.sort((a, b) => a - b)[3];
  } finally {
    await session.dispose();
  }
}

/** Latency of a graph at `threads` threads, batch 1: the planner's estimate (its steps' shares), or the runtime timed (once per plan key). */
export async function latencyOf(graph: Graph, mode: ProblemSpec['latency'], memo: Map<string, number>, threads = 1): Promise<number> {
  const plan = planGraph(graph, { inputShapes: inputShapes(graph), threads });
  // each step's estimate is one thread's work; a step split over threads takes its share of it
  if (mode === 'estimated') return plan.steps.reduce((s, st) => s + (st.estNs ?? 0) / st.split, 0) / 1e6;
  const key = createHash('sha256').update(`${threads}\n`).update(plan.steps.map((s) => `${s.kernel}|${s.reason}|${s.split}`).join('\n')).digest('hex');
  let ms = memo.get(key);
  if (ms === undefined) memo.set(key, (ms = await timeRuns(graph, threads)));
  return ms;
}

/** Flash of the C build of a graph: measured with the Cortex-M4 toolchain, else its constant arrays (code not counted). */
export function flashOf(graph: Graph): Pick<Evaluation, 'flash' | 'flashSource'> {
  const p = compileC(graph, { name: 'model' });
  if (hasTool('arm-none-eabi-gcc')) {
    const o = measureCortexM4(p).object;
    if (o) return { flash: o.text + o.data, flashSource: 'cortex-m4' };
  }
  return { flash: p.layers.reduce((s, l) => s + l.constBytes, 0), flashSource: 'const-arrays' };
}

/** Runs the candidate's recipe and measures its file. */
export async function evaluateCandidate(p: Problem, c: Candidate): Promise<Evaluation> {
  const t0 = performance.now();
  const recipe = candidateRecipe(p.space, c, p.spec.proxy);
  const meta = p.spec.source === undefined ? undefined : { source: p.spec.source, recipe: recipe.name };
  const r = compressGraph(p.graph, { recipe, data: { ...p.data, score: false }, seed: p.spec.seed, maxStepsPerEpoch: p.spec.proxy.maxSteps, meta });
  const bytes = r.file.bytes;
  const decoded = nnzToGraph(bytes, 'candidate', { maxElements: Infinity }).graph;
  const accuracy = (await sessionAccuracy(decoded, p.data.test)).accuracy;
  const latencyMs = await latencyOf(decoded, p.spec.latency, p.latencyMemo, p.spec.threads);
  const flash = p.spec.flash ? flashOf(decoded) : {};
  return { hash: candidateHash(c), size: bytes.length, latencyMs, accuracy, ...flash, seconds: (performance.now() - t0) / 1000 };
}

/** A candidate compressed without fine-tuning (calibrated on the training slice): the file's bytes and the graph decoded from them. */
export function compressUntuned(p: Problem, c: Candidate): { bytes: Uint8Array; graph: Graph } {
  const recipe = candidateRecipe(p.space, c, { ...p.spec.proxy, epochs: 0 });
  const bytes = compressGraph(p.graph, { recipe, seed: p.spec.seed, calibration: p.data.train }).file.bytes;
  return { bytes, graph: nnzToGraph(bytes, 'candidate', { maxElements: Infinity }).graph };
}

/**
 * The least a target's figure can be in this space: the most compressed candidates
 * (binary, ternary, 2-bit shared, at the lowest density, filters kept and quantization
 * bits, with and without the most pruned patterns) run without fine-tuning. A target
 * below it cannot be met whatever the search tries.
 */
export async function leastReachable(p: Problem, kind: 'size' | 'latency' | 'flash'): Promise<number> {
  let least = Infinity;
  const patterns = p.space.layers.some((l) => l.pattern.length > 1) ? [false, true] : [false];
  for (const values of ['bwn', 'twn', 'q2'] as const) {
    for (const pattern of patterns) {
      const { bytes, graph: g } = compressUntuned(p, smallest(p.space, values, pattern));
      const v = kind === 'size' ? bytes.length : kind === 'latency' ? await latencyOf(g, p.spec.latency, p.latencyMemo, p.spec.threads) : flashOf(g).flash!;
      least = Math.min(least, v);
    }
  }
  return least;
}
