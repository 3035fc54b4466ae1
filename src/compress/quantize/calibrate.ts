// Calibration: the float model runs on N sample images (the fast runtime, with
// the observed tensors as extra outputs) and every observed tensor's statistics
// are collected — min / max in a first pass, then a histogram of |x| over
// [0, max|x|] (2048 bins) when the range is chosen by percentile or entropy.
// The range of a tensor, by method:
//   minmax      [min, max];
//   percentile  |x| clipped at its 99.999th percentile (onnxruntime's default);
//   entropy     the clip of |x| whose int8 histogram is closest to the float one in
//               KL divergence (TensorRT's calibration; onnxruntime's "Entropy").
// A nonnegative tensor (after a ReLU) keeps 0 as its lower end; others are symmetric.
import { fail } from '../../ir/errors.js';
import type { Graph } from '../../ir/graph.js';
import { inferShapes } from '../../ir/infer.js';
import { f32 } from '../../ir/tensor.js';
import { Session } from '../../runtime/session.js';
import type { TrainData } from '../../train/loop.js';

export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'entropy'];

export const HISTOGRAM_BINS = 2048;
/** onnxruntime's percentile calibrator default. */
export const PERCENTILE = 99.999;

export interface TensorStats {
  min: number;
  max: number;
  /** Counts of |x| in HISTOGRAM_BINS bins over [0, absMax] (percentile and entropy only). */
  hist?: Float64Array;
}

/** Calibration images: the first `count` of a dataset. */
export interface CalibrationSet {
  data: TrainData;
  count: number;
  /** Names the set in messages (e.g. "mnist train, 1000 images"). */
  label: string;
}

export const BATCH = 100;

export function checkCalibrationSet(set: CalibrationSet | undefined, where: string): CalibrationSet {
  if (!set) fail(`${where}: calibration needs data; give --dataset (and --calib-samples N)`);
  if (!Number.isInteger(set.count) || set.count < 1) fail(`${where}: ${set.count} calibration images; give --calib-samples of at least 1`);
  if (set.count > set.data.count) fail(`${where}: ${set.count} calibration images asked for, but ${set.label} has ${set.data.count}`);
  return set;
}

/** A session on a copy of the graph whose outputs are the observed tensors. */
export function tapSession(graph: Graph, tensors: readonly string[], batch: number) {
  const types = inferShapes(graph);
  const g = graph.clone();
  g.outputs = tensors.map((name) => {
    const t = types.get(name);
    if (!t) fail(`calibration: tensor "${name}" is not in the graph`);
    if (t.dtype !== 'float32') fail(`calibration: tensor "${name}" is ${t.dtype}; only float tensors are calibrated`);
    return { name, dtype: 'float32', shape: ['N', ...t.shape.slice(1)] };
  });
  const input = g.inputs[0].name, session = Session.createSync(g, { batch });
  return {
    /** The observed tensors on images [from, from + n) of the set. */
    run(set: CalibrationSet, from: number, n: number): Record<string, Float32Array> {
      const per = set.data.shape.reduce((a, b) => a * b, 1);
      const out = session.run({ [input]: f32([n, ...set.data.shape], set.data.images.subarray(from * per, (from + n) * per)) });
      return Object.fromEntries(tensors.map((t) => [t, out[t].data as Float32Array]));
    },
    dispose: () => void session.dispose(), // no thread pool: nothing to wait for
  };
}

/** Runs the graph on the calibration images, calling visit(tensor, values) for every observed tensor of every batch. */
export function observe(graph: Graph, tensors: readonly string[], set: CalibrationSet, visit: (name: string, v: Float32Array) => void): void {
  const tap = tapSession(graph, tensors, Math.min(BATCH, set.count));
  try {
    for (let s = 0; s < set.count; s += BATCH) {
      const out = tap.run(set, s, Math.min(BATCH, set.count - s));
      for (const name of tensors) visit(name, out[name]);
    }
  } finally {
    tap.dispose();
  }
}

/**
 * Min / max (and the |x| histogram when `histogram`) of each tensor; NaN and ±Inf
 * are refused. A constant tensor (a ReLU that is dead on every image) is kept:
 * the range then spans 0 and the value, and an all-zero one takes scale 1
 * (rangeParams), as onnxruntime's quantize_static does.
 */
export function collectStats(graph: Graph, tensors: readonly string[], set: CalibrationSet, histogram: boolean): Map<string, TensorStats> {
  const stats = new Map(tensors.map((t) => [t, { min: Infinity, max: -Infinity } as TensorStats]));
  observe(graph, tensors, set, (name, v) => {
    const s = stats.get(name)!;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (!Number.isFinite(x)) fail(`calibration: tensor "${name}" holds ${x} on ${set.label}; fix the model or the data (NaN and ±Inf cannot be quantized)`);
      if (x < s.min) s.min = x;
      if (x > s.max) s.max = x;
    }
  });
  if (!histogram) return stats;
  for (const s of stats.values()) s.hist = new Float64Array(HISTOGRAM_BINS);
  observe(graph, tensors, set, (name, v) => {
    const s = stats.get(name)!, hist = s.hist!, top = Math.max(-s.min, s.max), k = HISTOGRAM_BINS / top;
    if (top === 0) return; // all zero: an empty histogram, whose clip is 0
    for (let i = 0; i < v.length; i++) hist[Math.min(HISTOGRAM_BINS - 1, Math.floor(Math.abs(v[i]) * k))]++;
  });
  return stats;
}

/** The float range a tensor is quantized over, by method; `levels` = integer steps of the positive half (127 for int8). */
export function chooseRange(s: TensorStats, method: CalibrationMethod, levels: number): [number, number] {
  if (method === 'minmax') return [s.min, s.max];
  if (!s.hist) throw new Error('chooseRange: percentile and entropy need the histogram');
  const top = Math.max(-s.min, s.max), width = top / HISTOGRAM_BINS;
  const bin = method === 'percentile' ? percentileBin(s.hist, PERCENTILE) : entropyBin(s.hist, s.min >= 0 ? 2 * levels + 1 : levels + 1);
  const t = Math.min(top, (bin + 1) * width);
  return s.min >= 0 ? [0, Math.min(s.max, t)] : [Math.max(s.min, -t), Math.min(s.max, t)];
}

/** The first bin at which the cumulative count reaches p% of the total. */
function percentileBin(hist: Float64Array, p: number): number {
  let total = 0;
  for (const c of hist) total += c;
  let cum = 0;
  for (let i = 0; i < hist.length; i++) {
    cum += hist[i];
    if (cum >= (p / 100) * total) return i;
  }
  return hist.length - 1;
}

/**
 * The clip bin whose `levels`-bin quantization best keeps the distribution:
 * P = the histogram up to the clip with the outliers added to its last bin, Q = P
 * merged into `levels` bins and spread back over their nonzero source bins; the
 * smallest KL(P‖Q) wins (TensorRT's entropy calibration).
 */
function entropyBin(hist: Float64Array, levels: number): number {
  const n = hist.length;
  if (n <= levels) return n - 1;
  let best = n - 1, bestKl = Infinity;
  const p = new Float64Array(n), q = new Float64Array(n);
  let outliers = 0;
  for (let i = levels; i < n; i++) outliers += hist[i];
  for (let i = levels; i <= n; i++) {
    p.set(hist.subarray(0, i));
    p[i - 1] += outliers;
    if (i < n) outliers -= hist[i];
    q.fill(0, 0, i);
    for (let j = 0; j < levels; j++) {
      const from = Math.floor((j * i) / levels), to = Math.floor(((j + 1) * i) / levels);
      let sum = 0, used = 0;
      for (let k = from; k < to; k++) { sum += hist[k]; if (hist[k] > 0) used++; }
      for (let k = from; k < to; k++) if (hist[k] > 0) q[k] = sum / used;
    }
    const kl = divergence(p, q, i);
    if (kl < bestKl) { bestKl = kl; best = i - 1; }
  }
  return best;
}

/** KL(P‖Q) of the first n bins, both normalised; bins where P is 0 add nothing, where only Q is 0 a large penalty. */
function divergence(p: Float64Array, q: Float64Array, n: number): number {
  let sp = 0, sq = 0;
  for (let i = 0; i < n; i++) { sp += p[i]; sq += q[i]; }
  if (sp === 0 || sq === 0) return Infinity;
  let kl = 0;
  for (let i = 0; i < n; i++) {
    if (p[i] === 0) continue;
    const a = p[i] / sp, b = q[i] / sq;
    kl += b > 0 ? a * Math.log(a / b) : a * 30;
  }
  return kl;
}
