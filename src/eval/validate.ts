// nnzip vs onnxruntime-node on the same inputs: error figures and top-1 agreement.
import type { Dataset } from '../data/datasets.js';
import { fail } from '../ir/errors.js';
import type { Dim, Graph } from '../ir/graph.js';
import { Rng } from '../ir/random.js';
import { Tensor, f32 } from '../ir/tensor.js';
import { argmaxRows } from './evaluate.js';
import { ortRun, type OrtSession } from './ort.js';

/** Runs the graph in nnzip on feeds, returning outputs by name. */
export type GraphRunner = (feeds: Record<string, Tensor>) => Promise<Record<string, Tensor>> | Record<string, Tensor>;

export interface Comparison {
  /** max |nnzip − ort| over all output elements. */
  maxAbs: number;
  /** maxAbs relative to the outputs' scale: max|a − b| / max|b|. */
  maxRel: number;
  /** Rows whose argmax agrees (for 2-D outputs), out of rows. */
  top1Agree: number;
  rows: number;
}

export interface ValidateOptions {
  seed?: number;
  batch?: number;
  /** Random batches to try. */
  trials?: number;
  dataset?: Dataset;
  limit?: number;
}

/** Concrete shape for a graph input: symbolic dims (the batch) become `batch`. */
export function concreteShape(shape: Dim[], batch: number): number[] {
  return shape.map((d) => (typeof d === 'number' ? d : batch));
}

export function randomFeeds(graph: Graph, rng: Rng, batch: number): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const input of graph.inputs) {
    if (input.dtype !== 'float32') fail(`input "${input.name}": validate generates float32 inputs only, got ${input.dtype}`);
    const shape = concreteShape(input.shape, batch);
    // pixels / 255 range, as the models expect
    feeds[input.name] = f32(shape, rng.floats(shape.reduce((a, b) => a * b, 1), 0, 1));
  }
  return feeds;
}

function accumulate(c: Comparison, a: Tensor, b: Tensor): void {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  let scale = 0;
  let abs = 0;
  for (let i = 0; i < y.length; i++) {
    abs = Math.max(abs, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  c.maxAbs = Math.max(c.maxAbs, abs);
  c.maxRel = Math.max(c.maxRel, scale > 0 ? abs / scale : abs);
  if (a.shape.length === 2) {
    const n = a.shape[0];
    const pa = argmaxRows(x, n);
    const pb = argmaxRows(y, n);
    for (let i = 0; i < n; i++) if (pa[i] === pb[i]) c.top1Agree++;
    c.rows += n;
  }
}

export async function compareWithOrt(
  graph: Graph,
  run: GraphRunner,
  ort: OrtSession,
  opts: ValidateOptions = {},
): Promise<Comparison> {
  const c: Comparison = { maxAbs: 0, maxRel: 0, top1Agree: 0, rows: 0 };
  const rng = new Rng(opts.seed ?? 1);
  const batches: Record<string, Tensor>[] = [];
  for (let t = 0; t < (opts.trials ?? 3); t++) batches.push(randomFeeds(graph, rng, opts.batch ?? 1));
  const ds = opts.dataset;
  if (ds) {
    const n = Math.min(opts.limit ?? ds.count, ds.count);
    const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
    for (let s = 0; s < n; s += 100) {
      const m = Math.min(100, n - s);
      batches.push({ [graph.inputs[0].name]: f32([m, ...ds.shape], ds.images.subarray(s * per, (s + m) * per)) });
    }
  }
  for (const feeds of batches) {
    const mine = await run(feeds);
    const theirs = await ortRun(ort, feeds);
    for (const out of graph.outputs) accumulate(c, mine[out.name], theirs[out.name]);
  }
  return c;
}
