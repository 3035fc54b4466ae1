// ADMM for pattern + connectivity pruning (Zhang et al. 2018, as PatDNN uses it):
// minimise loss(W) subject to W ∈ S (the pattern set and the kernel budget) by
// alternating: W ← train on loss + ρ/2‖W − Z + U‖² (the trainer's AdmmTerm),
// Z ← Proj_S(W + U), U ← U + W − Z; ρ grows each round so W is pulled into S.
// The hard projection and masked retraining follow (pattern_prune.ts).
import { AdmmTerm } from '../../train/hooks.js';
import type { Model } from '../../train/model.js';
import { finetune, type FinetuneConfig, type FinetuneData } from '../finetune.js';
import type { AdmmSettings } from '../recipe.js';
import { projectLayer } from './project.js';

export interface AdmmTarget {
  weight: string;
  M: number;
  C: number;
  masks: readonly number[];
  rate: number;
}

export interface AdmmRound {
  round: number;
  rho: number;
  /** Mean ‖W − Z‖ / ‖W‖ over the layers after the round (how far W still is from the set). */
  residual: number;
}

/** Z = Proj(W + U) for one target. */
function zStep(t: AdmmTarget, w: Float32Array, u: Float32Array): Float32Array {
  const v = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) v[i] = w[i] + u[i];
  return projectLayer({ name: t.weight, w: v, M: t.M, C: t.C }, t.masks, t.rate).w;
}

/** Runs the ADMM rounds on the model (in place); returns each round's ρ and residual. */
export function admmPatterns(model: Model, targets: readonly AdmmTarget[], s: AdmmSettings, data: FinetuneData, train: FinetuneConfig): AdmmRound[] {
  const terms = targets.map((t) => {
    const w = model.param(t.weight).master;
    const u = new Float32Array(w.length);
    return new AdmmTerm(t.weight, zStep(t, w, u), u, s.rho);
  });
  for (const term of terms) model.addLossTerm(term);
  const rounds: AdmmRound[] = [];
  let rho = s.rho;
  try {
    for (let r = 1; r <= s.rounds; r++) {
      for (const term of terms) term.rho = rho;
      // a constant rate within ADMM: the decay (and any weight averaging) belongs to the retraining
      finetune(model, data, s.epochsPerRound, { ...train, swa: undefined }, `admm ${r}/${s.rounds}`, { kind: 'constant' });
      let residual = 0;
      targets.forEach((t, i) => {
        const term = terms[i], w = model.param(t.weight).master;
        term.z = zStep(t, w, term.u);
        let d = 0, n = 0;
        for (let j = 0; j < w.length; j++) {
          term.u[j] += w[j] - term.z[j];
          d += (w[j] - term.z[j]) ** 2;
          n += w[j] ** 2;
        }
        residual += Math.sqrt(d / Math.max(n, 1e-30)) / targets.length;
      });
      rounds.push({ round: r, rho, residual });
      rho *= s.rhoGrowth;
    }
  } finally {
    for (const term of terms) model.removeLossTerm(term);
  }
  return rounds;
}
