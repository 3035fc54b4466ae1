// Learning-rate schedules as plain functions of the global step (0-based):
//   constant   lr
//   step       lr·γ^⌊epoch / every⌋
//   cosine     min + (lr − min)·(1 + cos(π·t/T))/2, after an optional linear warm-up
//   one-cycle  PyTorch's OneCycleLR (cosine up from max/div to max over pctStart,
//              then cosine down to max/(div·finalDiv))
import { fail } from '../ir/errors.js';
import { checkLr } from './optim.js';

export type ScheduleSpec =
  | { kind: 'constant' }
  | { kind: 'step'; everyEpochs: number; gamma?: number }
  | { kind: 'cosine'; minLr?: number; warmupSteps?: number }
  | { kind: 'one-cycle'; maxLr?: number; pctStart?: number; divFactor?: number; finalDivFactor?: number };

export type Schedule = (step: number) => number;

export interface ScheduleContext {
  /** The optimizer's learning rate (the peak for one-cycle unless maxLr is given). */
  lr: number;
  totalSteps: number;
  stepsPerEpoch: number;
}

function cosBetween(from: number, to: number, frac: number): number {
  return to + ((from - to) * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, frac))))) / 2;
}

export function makeSchedule(spec: ScheduleSpec, c: ScheduleContext): Schedule {
  checkLr(c.lr, 'lr');
  const T = Math.max(1, c.totalSteps);
  switch (spec.kind) {
    case 'constant':
      return () => c.lr;
    case 'step': {
      const gamma = spec.gamma ?? 0.1;
      if (!(spec.everyEpochs > 0)) fail(`schedule step: everyEpochs=${spec.everyEpochs} must be > 0`);
      if (!(gamma > 0)) fail(`schedule step: gamma=${gamma} must be > 0`);
      return (s) => c.lr * gamma ** Math.floor(s / c.stepsPerEpoch / spec.everyEpochs);
    }
    case 'cosine': {
      const min = spec.minLr ?? 0;
      const warm = spec.warmupSteps ?? 0;
      if (!(min >= 0 && min <= c.lr)) fail(`schedule cosine: minLr=${min} must be in [0, lr=${c.lr}]`);
      if (!(warm >= 0)) fail(`schedule cosine: warmupSteps=${warm} must be ≥ 0`);
      return (s) => (s < warm ? (c.lr * (s + 1)) / warm : cosBetween(c.lr, min, (s - warm) / Math.max(1, T - warm)));
    }
    case 'one-cycle': {
      const max = spec.maxLr ?? c.lr;
      const pct = spec.pctStart ?? 0.3;
      const div = spec.divFactor ?? 25;
      const finalDiv = spec.finalDivFactor ?? 1e4;
      checkLr(max, 'schedule one-cycle maxLr');
      if (!(pct > 0 && pct < 1)) fail(`schedule one-cycle: pctStart=${pct} must be in (0, 1)`);
      if (!(div >= 1) || !(finalDiv >= 1)) fail(`schedule one-cycle: divFactor=${div} and finalDivFactor=${finalDiv} must be ≥ 1`);
      const start = max / div;
      const end = start / finalDiv;
      const up = Math.max(1e-9, pct * T - 1);
      const down = Math.max(1e-9, T - 1 - up);
      return (s) => (s <= up ? cosBetween(start, max, s / up) : cosBetween(max, end, (s - up) / down));
    }
    default:
      fail(`schedule "${(spec as { kind: string }).kind}" is unknown; use constant, step, cosine or one-cycle`);
  }
}
