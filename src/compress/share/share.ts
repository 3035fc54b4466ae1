// Weight sharing on a trainable Model: k-means per layer, then centroid
// fine-tuning (each centroid moves by the summed gradient of its weights).
import type { CodebookFormat } from '../../ir/tensor_format.js';
import { WeightSharing } from '../../train/hooks.js';
import type { Model } from '../../train/model.js';
import { accuracyOf, finetune, type FinetuneConfig, type FinetuneData } from '../finetune.js';
import { kmeans1d, type KMeansInit } from './kmeans.js';
import type { Codebook } from '../../format/codebook.js';

export interface ShareTarget {
  weight: string;
  bits: number;
  /** The layer's own exact codebook, when it already has at most 2^bits values: used as is instead of k-means. */
  codebook?: Codebook;
}

export interface ShareResult {
  formats: Map<string, CodebookFormat>;
  /** Test accuracy right after clustering, and after centroid fine-tuning. */
  accuracyClustered?: number;
  accuracyTuned?: number;
  /** The centroid fine-tune's lr (train.lr, or less under maxStep). */
  lr?: number;
  /** The most populated cluster of any layer: its weights and the layer's weight tensor. */
  largest: { weights: number; where: string };
}

export function shareWeights(
  model: Model,
  targets: ShareTarget[],
  opts: { init: KMeansInit; epochs: number; seed: number; data?: FinetuneData; train: FinetuneConfig; maxStep?: number },
): ShareResult {
  const hooks = new Map<string, { hook: WeightSharing; bits: number }>();
  for (const t of targets) {
    const p = model.param(t.weight);
    const km = t.codebook ? { centroids: t.codebook.centroids, assignments: t.codebook.indices } : kmeans1d(p.master, { bits: t.bits, init: opts.init, seed: opts.seed });
    const k = km.centroids.length;
    // the trainer marks pruned weights with -1; the format with k
    const assignments = Int32Array.from(km.assignments, (a) => (a === k ? -1 : a));
    const hook = new WeightSharing(km.centroids, assignments);
    model.setGradTransform(t.weight, hook);
    hooks.set(t.weight, { hook, bits: t.bits });
  }
  const result: ShareResult = { formats: new Map(), largest: largestCluster(hooks) };
  if (opts.data) {
    result.accuracyClustered = accuracyOf(model, opts.data);
    if (opts.epochs > 0) {
      result.lr = opts.maxStep === undefined ? opts.train.lr : Math.min(opts.train.lr, opts.maxStep / Math.max(1, result.largest.weights));
      finetune(model, opts.data, opts.epochs, { ...opts.train, lr: result.lr }, 'share');
      result.accuracyTuned = accuracyOf(model, opts.data);
    }
  }
  for (const [weight, { hook, bits }] of hooks) {
    const k = hook.centroids.length;
    const indices = k < 256 ? new Uint8Array(hook.assignments.length) : new Uint16Array(hook.assignments.length);
    hook.assignments.forEach((a, i) => (indices[i] = a < 0 ? k : a));
    result.formats.set(weight, { kind: 'codebook', bits, centroids: hook.centroids.slice(), indices });
    model.setGradTransform(weight, null);
  }
  return result;
}

/** The most populated cluster of any layer (pruned weights, assigned -1, left out); the fine-tune keeps the assignments. */
function largestCluster(hooks: ReadonlyMap<string, { hook: WeightSharing }>): ShareResult['largest'] {
  const largest = { weights: 0, where: '' };
  for (const [weight, { hook }] of hooks) {
    const n = new Array<number>(hook.centroids.length).fill(0);
    for (const a of hook.assignments) if (a >= 0) n[a]++;
    const most = Math.max(0, ...n);
    if (most > largest.weights) [largest.weights, largest.where] = [most, weight];
  }
  return largest;
}
