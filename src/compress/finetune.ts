// Fine-tuning settings shared by the compression stages: one place turns a
// recipe's train block into the trainer's options. Three options apply to every
// stage's fine-tuning: `batchnorm: refold` (a BatchNorm after each conv during
// training, folded back into its weights and bias at the end: train/bn_refold.ts),
// `distill` (knowledge distillation from the uncompressed model) and `swa`
// (stochastic weight averaging after the scheduled epochs).
import { foldBatchNorms, insertBatchNorms } from '../train/bn_refold.js';
import { fail } from '../ir/errors.js';
import { train, type Progress, type TrainData, type TrainResult } from '../train/loop.js';
import type { Model } from '../train/model.js';
import type { ScheduleSpec } from '../train/schedule.js';

export interface FinetuneData {
  train: TrainData;
  test: TrainData;
  /**
   * false: the test set is not scored after each epoch and stage (accuracyOf gives NaN):
   * the caller scores only the file it writes. Scoring changes no weight, so the file is
   * the same bytes either way (the search's final runs: 10k test images per score).
   */
  score?: boolean;
}

/** Training images the inserted BatchNorms are calibrated on (the first ones of the training set). */
export const REFOLD_CALIBRATION_IMAGES = 512;

export interface FinetuneConfig {
  lr: number;
  batch: number;
  momentum: number;
  weightDecay: number;
  /** Random shifts of up to this many pixels (augmentation). */
  shift?: number;
  /** Random horizontal flips (augmentation). */
  flip?: boolean;
  /** 'refold': train with a BatchNorm after each conv that has none, folded back at the end. */
  batchnorm?: 'refold' | 'off';
  /** Knowledge distillation from `teacher` (the uncompressed model). */
  distill?: { alpha: number; temperature: number };
  /**
   * Stochastic weight averaging (Izmailov et al., 2018): after the scheduled epochs, `epochs`
   * more at a constant `lr`; the weights become the mean of those epochs' ends, BatchNorm
   * statistics recomputed for them.
   */
  swa?: { epochs: number; lr: number };
  /** The distillation teacher (the pipeline builds it from the input graph). */
  teacher?: Model;
  seed: number;
  /** Steps per epoch cap (quick runs, tests). */
  maxStepsPerEpoch?: number;
  onProgress?: (stage: string, p: Progress) => void;
}

/**
 * Trains `epochs` epochs with SGD + momentum and (unless told otherwise) a cosine decay to
 * lr/20 over them, then cfg.swa's averaged epochs.
 */
export function finetune(model: Model, data: FinetuneData, epochs: number, cfg: FinetuneConfig, stage: string,
  schedule: ScheduleSpec = { kind: 'cosine', minLr: cfg.lr / 20 }): TrainResult {
  const distill = cfg.distill && cfg.distill.alpha > 0
    ? { teacher: cfg.teacher ?? fail(`${stage}: distillation needs the uncompressed model as its teacher`), alpha: cfg.distill.alpha, temperature: cfg.distill.temperature }
    : undefined;
  const tr = data.train;
  const calib = Math.min(REFOLD_CALIBRATION_IMAGES, tr.count);
  const swa = cfg.swa && cfg.swa.epochs > 0 ? cfg.swa : undefined;
  const refold = cfg.batchnorm === 'refold' && epochs + (swa?.epochs ?? 0) > 0
    ? insertBatchNorms(model, { images: tr.images.subarray(0, calib * tr.shape.reduce((a, b) => a * b, 1)), count: calib }, { seed: cfg.seed, batch: cfg.batch })
    : undefined;
  const run = (n: number, lr: number, sched: ScheduleSpec, seed: number, name: string, average?: { fromEpoch: number }) =>
    train(refold?.model ?? model, data.score === false ? { train: data.train } : data, {
      epochs: n,
      batchSize: cfg.batch,
      seed,
      optimizer: { kind: 'sgd', lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay },
      schedule: sched,
      augment: { shift: cfg.shift ?? 0, flip: cfg.flip ?? false },
      maxStepsPerEpoch: cfg.maxStepsPerEpoch,
      onProgress: cfg.onProgress ? (p) => cfg.onProgress!(name, p) : undefined,
      distill,
      average,
    });
  try {
    const main = run(epochs, cfg.lr, schedule, cfg.seed, stage);
    if (!swa) return main;
    const avg = run(swa.epochs, swa.lr, { kind: 'constant' }, cfg.seed + 1, `${stage} swa`, { fromEpoch: 1 });
    return { epochs: [...main.epochs, ...avg.epochs], testAccuracy: avg.testAccuracy, averaged: avg.averaged };
  } finally {
    if (refold) {
      foldBatchNorms(refold);
      refold.model.dispose();
    }
  }
}

export function accuracyOf(model: Model, data: FinetuneData): number {
  if (data.score === false) return NaN;
  return model.evaluate(data.test.images, data.test.labels, data.test.count, 256).accuracy;
}
