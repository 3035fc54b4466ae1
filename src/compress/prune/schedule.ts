// Pruning schedules as plain functions of the training step (sparsity = 1 − density).
// - agpSparsity: automated gradual pruning (Zhu & Gupta 2017),
//   s_t = s_f + (s_i − s_f)·(1 − (t − t0)/(n·Δt))³ at t = t0, t0+Δt, …, t0+n·Δt;
//   held between pruning steps, s_i before t0 and s_f after the end.
// - stagedSparsity: fixed stages (e.g. Han's iterative prune/retrain rounds).
import { NnzipError } from '../../ir/errors.js';

export interface AgpOptions {
  initialSparsity: number; // s_i
  finalSparsity: number; // s_f
  startStep: number; // t0
  /** Pruning steps n (≥ 1). */
  steps: number;
  /** Steps between pruning steps, Δt (≥ 1). */
  frequency: number;
}

export interface Stage {
  /** First step at which this stage's sparsity applies. */
  step: number;
  sparsity: number;
}

function checkSparsity(s: number, option: string): void {
  if (typeof s !== 'number' || !(s >= 0 && s < 1)) {
    throw new NnzipError(`pruning schedule: option ${option}=${s} is outside [0, 1); give the fraction of weights to remove`);
  }
}

function checkCount(v: number, option: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new NnzipError(`pruning schedule: option ${option}=${v} must be an integer ≥ ${min}`);
}

export function checkAgp(o: AgpOptions): void {
  checkSparsity(o.initialSparsity, 'initialSparsity');
  checkSparsity(o.finalSparsity, 'finalSparsity');
  checkCount(o.startStep, 'startStep', 0);
  checkCount(o.steps, 'steps', 1);
  checkCount(o.frequency, 'frequency', 1);
}

export function agpSparsity(step: number, o: AgpOptions): number {
  checkAgp(o);
  const end = o.startStep + o.steps * o.frequency;
  if (step < o.startStep) return o.initialSparsity;
  if (step >= end) return o.finalSparsity;
  const t = o.startStep + Math.floor((step - o.startStep) / o.frequency) * o.frequency; // last pruning step
  const progress = (t - o.startStep) / (o.steps * o.frequency);
  return o.finalSparsity + (o.initialSparsity - o.finalSparsity) * (1 - progress) ** 3;
}

/** True at the steps where AGP updates the masks: t0, t0+Δt, …, t0+n·Δt. */
export function isAgpPruningStep(step: number, o: AgpOptions): boolean {
  checkAgp(o);
  const d = step - o.startStep;
  return Number.isInteger(step) && d >= 0 && d <= o.steps * o.frequency && d % o.frequency === 0;
}

export function checkStages(stages: Stage[]): void {
  stages.forEach((s, i) => {
    checkCount(s.step, `stages[${i}].step`, 0);
    checkSparsity(s.sparsity, `stages[${i}].sparsity`);
    if (i > 0 && s.step <= stages[i - 1].step) {
      throw new NnzipError(`pruning schedule: stages[${i}].step=${s.step} must be after stages[${i - 1}].step=${stages[i - 1].step}; list stages in order`);
    }
  });
}

/** Sparsity of the last stage that has started (0 before the first). */
export function stagedSparsity(step: number, stages: Stage[]): number {
  checkStages(stages);
  let s = 0;
  for (const stage of stages) if (step >= stage.step) s = stage.sparsity;
  return s;
}

export function densityOf(sparsity: number): number {
  return 1 - sparsity;
}
