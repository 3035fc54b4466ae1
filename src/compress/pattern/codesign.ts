// Compression–compilation co-design: the pattern count K and connectivity rate of
// each layer chosen from the compiler's measured time of the generated kernel (the
// tuner, compile/pattern_tune.ts) — or the stored bytes — against a target, with
// the accuracy cost of each choice estimated before any training: the test-free
// accuracy drop on a slice of the training data with only that layer projected
// (or, without data, the weight energy the projection removes). Greedy: from the
// least compressed choice, take the step that saves the most time (or bytes) per
// unit of estimated loss until the target is met.
import { NnzipError } from '../../ir/errors.js';
import { inferShapes } from '../../ir/infer.js';
import { patternCounts } from '../../ir/pattern.js';
import { tunePatternConv } from '../../compile/pattern_tune.js';
import type { Model } from '../../train/model.js';
import type { FinetuneData } from '../finetune.js';
import type { CodesignSettings } from '../recipe.js';
import { projectLayer, rankPatterns } from './project.js';
import type { PatternTarget } from './pattern_prune.js';

export interface LayerOption {
  K: number;
  rate: number;
  /** The compiler's measured ns per image of the layer's pattern kernel (tuned). */
  ns: number;
  /** Stored bytes: 4 per weight, about one per kernel index. */
  bytes: number;
  /** Estimated accuracy cost (drop on the slice, or energy removed). */
  loss: number;
}

export interface CodesignResult {
  choices: { layer: string; option: LayerOption }[];
  /** Σ of the chosen options' ns or bytes, and whether it meets the target. */
  total: number;
  met: boolean;
}

/** Samples of the training data the estimate evaluates on. */
const SLICE = 2000;

function sliceOf(data: FinetuneData): { images: Float32Array; labels: ArrayLike<number>; count: number } {
  const t = data.train, count = Math.min(SLICE, t.count), per = t.images.length / t.count;
  return { images: t.images.subarray(0, count * per), labels: Array.from({ length: count }, (_, i) => t.labels[i]), count };
}

/** Every candidate (K, rate) of one layer, measured. */
function options(model: Model, t: PatternTarget, ranking: number[], s: CodesignSettings, input: number[], base?: number,
  slice?: ReturnType<typeof sliceOf>): LayerOption[] {
  const p = model.param(t.layer.weight), w = p.master.slice(), energy = w.reduce((a, v) => a + v * v, 0);
  const pads = (t.layer.node.attrs.pads as number[] | undefined) ?? [0, 0, 0, 0];
  const out: LayerOption[] = [];
  for (const K of s.patterns) {
    for (const rate of s.connectivity) {
      let proj;
      try {
        proj = projectLayer({ name: t.layer.name, w, M: t.M, C: t.C }, ranking.slice(0, K), rate);
      } catch (e) {
        if (e instanceof NnzipError) continue; // too few kernels for the filters: not a candidate
        throw e;
      }
      const c = patternCounts(proj.format);
      const ns = s.latencyUs === undefined ? NaN // a size target needs no timing
        : tunePatternConv({ C: t.C, M: t.M, H: input[2], W: input[3], pads: [pads[0], pads[1], pads[2], pads[3]] }, proj.w, proj.format, { samples: 3 }).ns;
      let loss: number;
      if (slice && base !== undefined) {
        p.master.set(proj.w);
        model.refreshWeights();
        loss = Math.max(0, base - model.evaluate(slice.images, slice.labels, slice.count, 256).accuracy);
        p.master.set(w);
        model.refreshWeights();
      } else {
        loss = 1 - proj.w.reduce((a, v) => a + v * v, 0) / Math.max(energy, 1e-30);
      }
      out.push({ K, rate, ns, bytes: 4 * c.weights + c.kept, loss });
    }
  }
  return out;
}

/** Chooses K and the connectivity rate of each target to meet the latency or size target. */
export function codesign(model: Model, targets: readonly PatternTarget[], s: CodesignSettings, scope: 'model' | 'layer', data?: FinetuneData): CodesignResult {
  const metric = (o: LayerOption) => (s.latencyUs !== undefined ? o.ns : o.bytes);
  const goal = s.latencyUs !== undefined ? s.latencyUs * 1000 : s.sizeBytes!;
  const types = inferShapes(model.graph, Object.fromEntries(model.graph.inputs.flatMap((v) => v.shape.filter((d) => typeof d === 'string').map((d) => [d, 1]))));
  const layerW = (t: PatternTarget) => ({ w: model.param(t.layer.weight).master, rate: Math.max(...s.connectivity) });
  const shared = scope === 'model' ? rankPatterns(targets.map(layerW)) : undefined;
  const slice = data ? sliceOf(data) : undefined;
  const base = slice ? model.evaluate(slice.images, slice.labels, slice.count, 256).accuracy : undefined;
  const all = targets.map((t) => {
    const input = types.get(t.layer.node.inputs[0])!.shape as number[];
    const opts = options(model, t, shared ?? rankPatterns([layerW(t)]), s, input, base, slice);
    if (!opts.length) throw new NnzipError(`co-design: layer ${t.layer.name} has no candidate that keeps a kernel per filter; give lower connectivity rates`);
    return opts;
  });
  // start from the least compressed option of each layer (the lowest loss, then the largest metric)
  const pick = all.map((opts) => opts.reduce((b, o) => (o.loss < b.loss || (o.loss === b.loss && metric(o) > metric(b)) ? o : b)));
  let total = pick.reduce((a, o) => a + metric(o), 0);
  while (total > goal) {
    let best: { i: number; o: LayerOption; score: number } | undefined;
    all.forEach((opts, i) => {
      for (const o of opts) {
        const saved = metric(pick[i]) - metric(o);
        if (saved <= 0) continue;
        const score = saved / (Math.max(0, o.loss - pick[i].loss) + 1e-6);
        if (!best || score > best.score) best = { i, o, score };
      }
    });
    if (!best) break;
    total += metric(best.o) - metric(pick[best.i]);
    pick[best.i] = best.o;
  }
  return { choices: targets.map((t, i) => ({ layer: t.layer.name, option: pick[i] })), total, met: total <= goal };
}

/** One line: the target, what the choice reaches, and each layer's K and rate. */
export function codesignNote(r: CodesignResult, s: CodesignSettings): string {
  const target = s.latencyUs !== undefined ? `${s.latencyUs} µs` : `${s.sizeBytes} bytes`;
  const reached = s.latencyUs !== undefined ? `${(r.total / 1000).toFixed(1)} µs measured` : `${r.total} bytes`;
  const layers = r.choices.map((c) => `${c.layer} K=${c.option.K} ×${c.option.rate}`).join(', ');
  return `co-design: target ${target}, ${reached}${r.met ? '' : ' (NOT met: the most compressed candidates are not enough)'}; ${layers}`;
}
