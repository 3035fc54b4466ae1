// Fine-tuning settings shared by the compression stages: one place turns a
// recipe's train block into the trainer's options.
import { train, type Progress, type TrainData, type TrainResult } from '../train/loop.js';
import type { Model } from '../train/model.js';
import type { ScheduleSpec } from '../train/schedule.js';

export interface FinetuneData {
  train: TrainData;
  test: TrainData;
}

export interface FinetuneConfig {
  lr: number;
  batch: number;
  momentum: number;
  weightDecay: number;
  /** Random shifts of up to this many pixels (augmentation). */
  shift?: number;
  /** Random horizontal flips (augmentation). */
  flip?: boolean;
  seed: number;
  /** Steps per epoch cap (quick runs, tests). */
  maxStepsPerEpoch?: number;
  onProgress?: (stage: string, p: Progress) => void;
}

/** Trains `epochs` epochs with SGD + momentum and (unless told otherwise) a cosine decay to lr/20 over them. */
export function finetune(model: Model, data: FinetuneData, epochs: number, cfg: FinetuneConfig, stage: string,
  schedule: ScheduleSpec = { kind: 'cosine', minLr: cfg.lr / 20 }): TrainResult {
  return train(model, data, {
    epochs,
    batchSize: cfg.batch,
    seed: cfg.seed,
    optimizer: { kind: 'sgd', lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay },
    schedule,
    augment: { shift: cfg.shift ?? 0, flip: cfg.flip ?? false },
    maxStepsPerEpoch: cfg.maxStepsPerEpoch,
    onProgress: cfg.onProgress ? (p) => cfg.onProgress!(stage, p) : undefined,
  });
}

export function accuracyOf(model: Model, data: FinetuneData): number {
  return model.evaluate(data.test.images, data.test.labels, data.test.count, 256).accuracy;
}
