// Iterative magnitude pruning (Han et al.: prune → retrain, repeated), on a
// trainable Model. Masks keep pruned weights at exactly zero through fine-tuning.
import { agpSparsity } from './schedule.js';
import { fail } from '../../ir/errors.js';
import { magnitudeMask } from './magnitude.js';
import type { Model } from '../../train/model.js';
import { accuracyOf, finetune, type FinetuneConfig, type FinetuneData } from '../finetune.js';

export type PruneSchedule = 'oneshot' | 'stages' | 'agp';

export interface PruneTarget {
  /** Parameter (weight initializer) name. */
  weight: string;
  /** Final fraction of weights kept. */
  density: number;
}

export interface PruneStage {
  stage: number;
  densities: Record<string, number>;
  accuracy?: number;
}

/** Density of stage s (1-based) of S on the way from `start` to `target`. */
export function stageDensity(schedule: PruneSchedule, s: number, S: number, start: number, target: number): number {
  if (schedule === 'oneshot' || s >= S) return target;
  const sparsity0 = 1 - start;
  const sparsityF = 1 - target;
  const sparsity =
    schedule === 'agp'
      ? agpSparsity(s, { initialSparsity: sparsity0, finalSparsity: sparsityF, startStep: 0, steps: S, frequency: 1 })
      : sparsity0 + ((sparsityF - sparsity0) * s) / S;
  return 1 - sparsity;
}

function densityOf(w: Float32Array): number {
  let nz = 0;
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) nz++;
  return w.length ? nz / w.length : 1;
}

/**
 * Prunes each target to its density in `stages` steps, fine-tuning
 * `epochsPerStage` epochs after each. Weights that are already zero (a model
 * pruned elsewhere) stay pruned; a target above the current density prunes nothing more.
 */
export function pruneIteratively(
  model: Model,
  targets: PruneTarget[],
  opts: { schedule: PruneSchedule; stages: number; epochsPerStage: number; data?: FinetuneData; train: FinetuneConfig },
): PruneStage[] {
  for (const t of targets) {
    const n = model.param(t.weight).master.length;
    // a density that rounds to no weight at all is a typo (1e-9 for 1e-1), not a plan
    if (Math.round(t.density * n) < 1) fail(`${t.weight}: density ${t.density} keeps none of its ${n} weights; the smallest that keeps one is ${(0.5 / n).toPrecision(2)}`);
  }
  const start = new Map(targets.map((t) => [t.weight, densityOf(model.param(t.weight).master)]));
  const S = opts.schedule === 'oneshot' ? 1 : opts.stages;
  const out: PruneStage[] = [];
  for (let s = 1; s <= S; s++) {
    const densities: Record<string, number> = {};
    for (const t of targets) {
      const d0 = start.get(t.weight)!;
      const d = Math.min(d0, stageDensity(opts.schedule, s, S, d0, t.density));
      model.setMask(t.weight, magnitudeMask(model.param(t.weight).master, d));
      densities[t.weight] = d;
    }
    const stage: PruneStage = { stage: s, densities };
    if (opts.data && opts.epochsPerStage > 0) {
      finetune(model, opts.data, opts.epochsPerStage, opts.train, `prune ${s}/${S}`);
      stage.accuracy = accuracyOf(model, opts.data);
    }
    out.push(stage);
  }
  return out;
}
