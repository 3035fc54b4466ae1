// 1-D k-means weight sharing (Han et al., Deep Compression §3): the weights of one
// layer are clustered into k = 2^bits shared values; pruned zeros stay zero and are
// not clustered (unless includeZeros). In 1-D, clusters are runs of the sorted
// values split at the midpoints between centroids, so each Lloyd step is a few
// binary searches over prefix sums instead of an O(n·k) distance scan.
import { NnzipError } from '../../ir/errors.js';
import { IndexArray, indexArray, MAX_CODEBOOK_SIZE } from '../../format/codebook.js';
import { Rng } from '../../ir/random.js';
import { roundToFloat16 } from '../../format/float16.js';

export type KMeansInit = 'linear' | 'density' | 'random';

export interface KMeansOptions {
  /** Index width: at most 2^bits clusters (1..16). */
  bits: number;
  /** 'linear' (default; evenly spaced between min and max, Han's choice), 'density' (CDF quantiles), 'random' (seeded sample). */
  init?: KMeansInit;
  /** Cluster exact zeros too (default false: they stay zero, index = centroids.length). */
  includeZeros?: boolean;
  /** Seed for 'random' (default 1). */
  seed?: number;
  /** Lloyd steps at most (default 300; 1-D runs usually settle in tens). */
  maxIterations?: number;
  /** Drop clusters left empty, shrinking the codebook (default true). */
  dropEmpty?: boolean;
  /**
   * Round the centroids to float16 before the final assignment (default false):
   * the .nnz codebook then takes 2 bytes per centroid instead of 4, losslessly.
   */
  float16Centroids?: boolean;
}

export interface KMeansResult {
  /** Ascending. */
  centroids: Float32Array;
  /** Per weight: its centroid, or centroids.length for a zero that was not clustered. */
  assignments: IndexArray;
  iterations: number;
  /** True when the assignments stopped changing before maxIterations. */
  converged: boolean;
}

const INITS: Record<KMeansInit, (sorted: Float64Array, k: number, seed: number) => number[]> = {
  linear: (s, k) => Array.from({ length: k }, (_, j) => (k === 1 ? (s[0] + s[s.length - 1]) / 2 : s[0] + (j * (s[s.length - 1] - s[0])) / (k - 1))),
  density: (s, k) => Array.from({ length: k }, (_, j) => s[Math.min(s.length - 1, Math.floor(((j + 0.5) * s.length) / k))]),
  random: (s, k, seed) => sampleDistinct(s, k, seed),
};

export function kmeans1d(weights: Float32Array, options: KMeansOptions): KMeansResult {
  const { bits, init = 'linear', includeZeros = false, seed = 1, maxIterations = 300, dropEmpty = true, float16Centroids = false } = options;
  checkOptions(bits, init, maxIterations);
  const sorted = clusteredValues(weights, includeZeros);
  const k = Math.min(2 ** bits, countDistinct(sorted), MAX_CODEBOOK_SIZE);
  if (k === 0) return { centroids: new Float32Array(0), assignments: indexArray(weights.length, 0), iterations: 0, converged: true };
  let centroids = dedupeSorted(INITS[init](sorted, k, seed));
  const prefix = new Float64Array(sorted.length + 1);
  for (let i = 0; i < sorted.length; i++) prefix[i + 1] = prefix[i] + sorted[i];
  let splits = splitPoints(sorted, centroids);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    centroids = segmentMeans(prefix, splits, centroids);
    const next = splitPoints(sorted, centroids);
    if (next.every((v, i) => v === splits[i])) {
      converged = true;
      break;
    }
    splits = next;
  }
  let final = Float32Array.from(centroids);
  if (float16Centroids) final = Float32Array.from(dedupeSorted([...roundToFloat16(final)]));
  return finish(weights, final, includeZeros, dropEmpty, iterations, converged);
}

function checkOptions(bits: number, init: string, maxIterations: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) {
    throw new NnzipError(`k-means: option bits=${bits} is outside 1..16; pick the index width in bits (e.g. 5 for fc, 8 for conv)`);
  }
  if (!(init in INITS)) throw new NnzipError(`k-means: option init="${init}" is unknown; use linear, density or random`);
  if (!Number.isInteger(maxIterations) || maxIterations < 1) throw new NnzipError(`k-means: option maxIterations=${maxIterations} must be a positive integer`);
}

function clusteredValues(weights: Float32Array, includeZeros: boolean): Float64Array {
  const values: number[] = [];
  for (let i = 0; i < weights.length; i++) {
    const v = weights[i];
    if (!Number.isFinite(v)) throw new NnzipError(`k-means: weight ${i} is ${v}; weights must be finite`);
    if (includeZeros || v !== 0) values.push(v);
  }
  return Float64Array.from(values).sort();
}

function countDistinct(sorted: Float64Array): number {
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) n++;
  return n;
}

function dedupeSorted(values: number[]): number[] {
  return [...values].sort((a, b) => a - b).filter((v, i, a) => i === 0 || v !== a[i - 1]);
}

/** First index of each cluster after the first: values ≤ the midpoint go to the lower cluster. */
function splitPoints(sorted: Float64Array, centroids: ArrayLike<number>): number[] {
  const splits: number[] = [];
  for (let j = 0; j + 1 < centroids.length; j++) splits.push(upperBound(sorted, (centroids[j] + centroids[j + 1]) / 2));
  return splits;
}

function upperBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Means of the runs between splits; an empty run keeps its centroid (order is preserved). */
function segmentMeans(prefix: Float64Array, splits: number[], centroids: number[]): number[] {
  const n = prefix.length - 1;
  return centroids.map((c, j) => {
    const s = j === 0 ? 0 : splits[j - 1];
    const e = j === splits.length ? n : splits[j];
    return e > s ? (prefix[e] - prefix[s]) / (e - s) : c;
  });
}

/** Assigns every weight to its nearest float32 centroid (ties → lower), then drops empty clusters. */
function finish(weights: Float32Array, centroids: Float32Array, includeZeros: boolean, dropEmpty: boolean, iterations: number, converged: boolean): KMeansResult {
  const k = centroids.length;
  const mids = Array.from({ length: k - 1 }, (_, j) => (centroids[j] + centroids[j + 1]) / 2);
  const raw = new Uint32Array(weights.length);
  const counts = new Uint32Array(k + 1);
  for (let i = 0; i < weights.length; i++) {
    const v = weights[i];
    let j = k;
    if (includeZeros || v !== 0) {
      let lo = 0;
      let hi = k - 1;
      while (lo < hi) {
        const m = (lo + hi) >>> 1;
        if (v <= mids[m]) hi = m;
        else lo = m + 1;
      }
      j = lo;
    }
    raw[i] = j;
    counts[j]++;
  }
  const remap = new Uint32Array(k + 1);
  const kept: number[] = [];
  for (let j = 0; j < k; j++) {
    remap[j] = kept.length;
    if (!dropEmpty || counts[j] > 0) kept.push(centroids[j]);
  }
  remap[k] = kept.length;
  const assignments = indexArray(weights.length, kept.length);
  for (let i = 0; i < raw.length; i++) assignments[i] = remap[raw[i]];
  return { centroids: Float32Array.from(kept), assignments, iterations, converged };
}

/**
 * Centroid fine-tuning (Han Fig. 3): the gradient of each shared value is the sum of
 * the gradients of the weights that share it. Entries with index ≥ k (pruned) are skipped.
 */
export function centroidGradients(grad: Float32Array, assignments: ArrayLike<number>, k: number): Float32Array {
  if (grad.length !== assignments.length) {
    throw new NnzipError(`centroid gradients: ${grad.length} gradients for ${assignments.length} assignments; they must match one to one`);
  }
  const sums = new Float64Array(k);
  for (let i = 0; i < grad.length; i++) {
    const j = assignments[i];
    if (j < k) sums[j] += grad[i];
  }
  return Float32Array.from(sums);
}

/** k distinct values drawn from sorted data with a seeded generator (partial Fisher–Yates). */
function sampleDistinct(sorted: Float64Array, k: number, seed: number): number[] {
  const distinct = Array.from(sorted).filter((v, i) => i === 0 || v !== sorted[i - 1]);
  const rng = new Rng(seed);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(distinct.length - i);
    [distinct[i], distinct[j]] = [distinct[j], distinct[i]];
  }
  return distinct.slice(0, k);
}
