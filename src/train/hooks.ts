// The hooks compression passes use during fine-tuning. Each is a small explicit
// interface, set per parameter on the Model (or, for loss terms, per model):
//
//   mask          Param.mask (Uint8Array, 1 keep / 0 pruned): pruned weights get a
//                 zero gradient AND are forced back to exactly 0 after every
//                 optimizer step, so momentum or weight decay cannot revive them.
//   transform     WeightTransform: forward sees transform(master) (binarize,
//                 ternarize, fake-quantize); the gradient goes to the float master
//                 straight-through (identity) unless backward() says otherwise.
//   loss terms    LossTerm: an extra differentiable term over parameters, e.g.
//                 ADMM's ρ/2‖W − Z + U‖²; adds its gradient, returns its value.
//   gradTransform GradTransform: rewrites a parameter's gradient before the
//                 optimizer step and may fix the weights after it (weight sharing:
//                 every weight of a cluster gets the cluster's summed gradient,
//                 then weights are re-set from the centroids).
//
// Order inside one training step (src/train/step.ts):
//   transform.forward → forward/backward → transform.backward → loss terms →
//   mask the grads → gradTransform.transformGrad → optimizer → mask the weights →
//   gradTransform.afterStep
import type { GradTransform, Param, WeightTransform } from './autograd.js';
import { fail } from '../ir/errors.js';

export interface LossTerm {
  readonly name: string;
  /** Adds d(term)/d(master) into the parameters' grads and returns the term's value. */
  apply(params: ReadonlyMap<string, Param>): number;
}

/** ADMM's augmented-Lagrangian term ρ/2‖W − Z + U‖² on one parameter; Z, U and ρ are updated by the caller between epochs. */
export class AdmmTerm implements LossTerm {
  readonly name: string;
  readonly param: string;
  z: Float32Array;
  u: Float32Array;
  rho: number;

  constructor(param: string, z: Float32Array, u: Float32Array, rho: number) {
    if (!(rho >= 0)) fail(`ADMM term on "${param}": rho=${rho} must be ≥ 0`);
    if (z.length !== u.length) fail(`ADMM term on "${param}": Z has ${z.length} values but U has ${u.length}`);
    this.name = `admm(${param})`;
    this.param = param;
    this.z = z;
    this.u = u;
    this.rho = rho;
  }

  apply(params: ReadonlyMap<string, Param>): number {
    const p = params.get(this.param);
    if (!p) fail(`ADMM term: the model has no parameter "${this.param}"`);
    if (p.size !== this.z.length) fail(`ADMM term on "${this.param}": Z has ${this.z.length} values, the parameter ${p.size}`);
    const w = p.master;
    const g = p.grad;
    const rho = this.rho;
    let sum = 0;
    for (let i = 0; i < w.length; i++) {
      const d = w[i] - this.z[i] + this.u[i];
      g[i] += rho * d;
      sum += d * d;
    }
    return 0.5 * rho * sum;
  }
}

/**
 * Weight sharing (Deep Compression, centroid fine-tuning): weight i equals
 * centroids[assignments[i]] (assignment -1 = pruned, stays 0). Each weight's
 * gradient is replaced by the sum of the gradients of its cluster, so every
 * weight of a cluster takes the same optimizer step its centroid would (this
 * holds for SGD, momentum, weight decay and Adam alike: identical values with
 * identical gradients keep identical optimizer state). After the step the
 * centroids are read back and all weights re-set from them.
 */
export class WeightSharing implements GradTransform {
  readonly name = 'weight-sharing';
  readonly centroids: Float32Array;
  readonly assignments: Int32Array;
  private readonly sums: Float64Array;
  /** One weight index per centroid (the first assigned), -1 if the centroid is unused. */
  private readonly first: Int32Array;

  constructor(centroids: Float32Array, assignments: Int32Array) {
    const k = centroids.length;
    this.first = new Int32Array(k).fill(-1);
    for (let i = 0; i < assignments.length; i++) {
      const a = assignments[i];
      if (a < -1 || a >= k || !Number.isInteger(a)) fail(`weight sharing: assignment ${a} at index ${i} is not a centroid index (0..${k - 1}) or -1 (pruned)`);
      if (a >= 0 && this.first[a] < 0) this.first[a] = i;
    }
    this.centroids = centroids.slice();
    this.assignments = assignments;
    this.sums = new Float64Array(k);
  }

  attach(p: Param): void {
    if (p.size !== this.assignments.length) fail(`weight sharing on "${p.name}": ${this.assignments.length} assignments for ${p.size} weights`);
    this.resetWeights(p.master);
  }

  transformGrad(p: Param): void {
    const g = p.grad;
    const a = this.assignments;
    this.sums.fill(0);
    for (let i = 0; i < g.length; i++) if (a[i] >= 0) this.sums[a[i]] += g[i];
    for (let i = 0; i < g.length; i++) g[i] = a[i] >= 0 ? this.sums[a[i]] : 0;
  }

  afterStep(p: Param): void {
    const w = p.master;
    for (let c = 0; c < this.centroids.length; c++) if (this.first[c] >= 0) this.centroids[c] = w[this.first[c]];
    this.resetWeights(w);
  }

  private resetWeights(w: Float32Array): void {
    const a = this.assignments;
    for (let i = 0; i < w.length; i++) w[i] = a[i] >= 0 ? this.centroids[a[i]] : 0;
  }
}
