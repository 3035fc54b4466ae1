// The fine-tuning loop: epochs of seeded-shuffled mini-batches with optional
// augmentation, an optimizer and schedule, per-epoch evaluation, progress
// callbacks, and divergence handling (a non-finite loss restores the weights of
// the last good epoch and throws an NnzipError naming the step).
import { fail, NnzipError } from '../ir/errors.js';
import { checkAugment, copySample, type AugmentOptions } from './augment.js';
import { checkDistill } from './loss.js';
import type { Model, Snapshot } from './model.js';
import { makeOptimizer, type OptimizerSpec } from './optim.js';
import { Rng } from '../ir/random.js';
import { makeSchedule, type ScheduleSpec } from './schedule.js';
import { trainStep, type StepResult } from './step.js';

/** Samples as N×C×H×W float32 plus labels (src/data's Dataset fits). */
export interface TrainData {
  name?: string;
  images: Float32Array;
  labels: ArrayLike<number>;
  count: number;
  shape: readonly number[];
}

export interface Progress {
  /** 'average': the test score of the averaged weights (TrainOptions.average), after the last epoch. */
  phase: 'train' | 'eval' | 'average';
  epoch: number; // 1-based
  epochs: number;
  step: number; // 1-based within the epoch
  steps: number;
  /** Mean training loss of the epoch so far. */
  loss: number;
  /** Training accuracy of the epoch so far (0..1). */
  accuracy: number;
  samplesPerSec: number;
  etaSeconds: number;
  lr: number;
  /** Set on the 'eval' report at the end of each epoch and on the 'average' report. */
  testAccuracy?: number;
  testLoss?: number;
  /** On the 'average' report: how many epochs' weights were averaged. */
  averaged?: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize?: number;
  seed?: number;
  optimizer?: OptimizerSpec;
  schedule?: ScheduleSpec;
  augment?: AugmentOptions;
  /** Cap on steps per epoch (quick runs, tests). */
  maxStepsPerEpoch?: number;
  onProgress?: (p: Progress) => void;
  /** Report every n steps (default 10); the last step of an epoch always reports. */
  progressEvery?: number;
  /**
   * Knowledge distillation: the teacher (eval mode) sees the same augmented
   * batch; loss = (1 − α)·CE + α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)).
   */
  distill?: Distill;
  /**
   * Stochastic weight averaging (Izmailov et al., 2018): after the last epoch the weights
   * become the mean of the weights at the ends of epochs fromEpoch..epochs (1-based), and
   * every BatchNorm's running statistics are recomputed for them over one pass of the
   * training set. Masked weights stay 0 (a mean of zeros).
   */
  average?: { fromEpoch: number };
}

export interface Distill {
  teacher: Model;
  alpha: number;
  temperature: number;
}

export interface EpochStats {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  testAccuracy?: number;
  testLoss?: number;
  seconds: number;
  samplesPerSec: number;
}

export interface TrainResult {
  epochs: EpochStats[];
  /** Test accuracy of the returned weights (when test data was given): after the last epoch, or of the average. */
  testAccuracy?: number;
  /** With TrainOptions.average: the epochs averaged and the average's test score. */
  averaged?: { epochs: number; testAccuracy?: number; testLoss?: number };
}

/** A sample as C × H × W (flat samples as 1 × 1 × n), as the augmentation copies it. */
function sampleDims(d: TrainData): [number, number, number] {
  const s = d.shape;
  return s.length === 3 ? [s[0], s[1], s[2]] : [1, 1, s.reduce((a, b) => a * b, 1)];
}

function checkData(model: Model, d: TrainData, role: string): void {
  const name = d.name ?? role;
  const want = model.sampleShape;
  if (d.shape.length !== want.length || d.shape.some((v, i) => v !== want[i])) {
    fail(`dataset ${name}: samples are [${d.shape}] but the model input "${model.inputName}" expects [${want}]`);
  }
  const per = want.reduce((a, b) => a * b, 1);
  if (!(d.count >= 1) || d.images.length < d.count * per || d.labels.length < d.count) {
    fail(`dataset ${name}: ${d.count} samples need ${d.count * per} pixel values and ${d.count} labels (got ${d.images.length} and ${d.labels.length})`);
  }
}

function checkOptions(o: TrainOptions): Required<Pick<TrainOptions, 'batchSize' | 'seed' | 'optimizer' | 'schedule' | 'augment' | 'progressEvery'>> {
  if (!Number.isInteger(o.epochs) || o.epochs < 0) fail(`epochs=${o.epochs} must be a whole number ≥ 0`);
  const batchSize = o.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) fail(`batchSize=${batchSize} must be a whole number ≥ 1`);
  const augment = o.augment ?? {};
  checkAugment(augment);
  if (o.distill) checkDistill(o.distill.alpha, o.distill.temperature, 'distill');
  const from = o.average?.fromEpoch;
  if (o.average && (!Number.isInteger(from) || from! < 1 || from! > Math.max(1, o.epochs))) {
    fail(`average.fromEpoch=${from} must be a whole number from 1 to the epochs (${o.epochs})`);
  }
  return {
    batchSize,
    seed: o.seed ?? 0,
    optimizer: o.optimizer ?? { kind: 'sgd', lr: 0.01, momentum: 0.9 },
    schedule: o.schedule ?? { kind: 'constant' },
    augment,
    progressEvery: Math.max(1, o.progressEvery ?? 10),
  };
}

export function train(model: Model, data: { train: TrainData; test?: TrainData }, options: TrainOptions): TrainResult {
  const o = checkOptions(options);
  checkData(model, data.train, 'train');
  if (data.test) checkData(model, data.test, 'test');
  const t = options.distill?.teacher;
  if (t && (t.sampleShape.length !== model.sampleShape.length || t.sampleShape.some((v, i) => v !== model.sampleShape[i]))) {
    fail(`distill: the teacher takes samples of [${t.sampleShape}], the model [${model.sampleShape}]`);
  }
  const { train: tr, test } = data;
  const [C, H, W] = sampleDims(tr);
  const per = C * H * W;
  const batch = Math.min(o.batchSize, tr.count);
  const steps = Math.min(Math.ceil(tr.count / batch), options.maxStepsPerEpoch ?? Infinity);
  const optimizer = makeOptimizer(o.optimizer);
  const schedule = makeSchedule(o.schedule, { lr: o.optimizer.lr, totalSteps: steps * options.epochs, stepsPerEpoch: steps });
  const rng = new Rng(o.seed);
  const order = new Int32Array(tr.count);
  const result: TrainResult = { epochs: [] };
  const stepOut: StepResult = { loss: 0, correct: 0 };
  let good: Snapshot = model.snapshot();
  const sum = options.average ? new WeightSum(model) : null;
  const t0 = performance.now();
  let seen = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = 0; i < order.length; i++) order[i] = i;
    rng.shuffle(order);
    const te = performance.now();
    let lossSum = 0;
    let correct = 0;
    let samples = 0;
    for (let s = 0; s < steps; s++) {
      const start = s * batch;
      const n = Math.min(batch, tr.count - start);
      const bt = model.tape(n, true);
      const labels = bt.loss!.labels;
      for (let i = 0; i < n; i++) {
        const idx = order[start + i];
        copySample(tr.images, idx * per, bt.input.data, i * per, C, H, W, o.augment, rng);
        labels[i] = tr.labels[idx];
      }
      const d = options.distill;
      bt.loss!.setTeacher(d ? d.teacher.predict(bt.input.data, n, n) : null, d?.alpha, d?.temperature);
      const lr = schedule(epoch * steps + s);
      trainStep(model, bt, labels, 0, optimizer, lr, stepOut);
      if (!Number.isFinite(stepOut.loss)) {
        model.restore(good);
        throw new NnzipError(
          `training diverged: the loss is not finite at epoch ${epoch + 1}, step ${s + 1} (lr ${lr.toPrecision(3)}); ` +
          `the model keeps the weights from ${epoch === 0 ? 'before training' : `the end of epoch ${epoch}`}; lower the learning rate`,
        );
      }
      lossSum += stepOut.loss * n;
      correct += stepOut.correct;
      samples += n;
      seen += n;
      if (options.onProgress && ((s + 1) % o.progressEvery === 0 || s + 1 === steps)) {
        const elapsed = (performance.now() - t0) / 1000;
        const rate = seen / Math.max(elapsed, 1e-9);
        const remaining = (options.epochs - epoch - 1) * steps * batch + (steps - s - 1) * batch;
        options.onProgress({
          phase: 'train', epoch: epoch + 1, epochs: options.epochs, step: s + 1, steps,
          loss: lossSum / samples, accuracy: correct / samples, samplesPerSec: rate, etaSeconds: remaining / rate, lr,
        });
      }
    }
    const seconds = (performance.now() - te) / 1000;
    const stats: EpochStats = { epoch: epoch + 1, loss: lossSum / samples, trainAccuracy: correct / samples, seconds, samplesPerSec: samples / seconds };
    if (test) {
      const ev = model.evaluate(test.images, test.labels, test.count, batch);
      stats.testAccuracy = ev.accuracy;
      stats.testLoss = ev.loss;
      result.testAccuracy = ev.accuracy;
      options.onProgress?.({
        phase: 'eval', epoch: epoch + 1, epochs: options.epochs, step: steps, steps, loss: stats.loss, accuracy: stats.trainAccuracy,
        samplesPerSec: stats.samplesPerSec, etaSeconds: 0, lr: schedule(epoch * steps + steps - 1), testAccuracy: ev.accuracy, testLoss: ev.loss,
      });
    }
    result.epochs.push(stats);
    good = model.snapshot(good);
    if (sum && epoch + 1 >= options.average!.fromEpoch) sum.add();
  }
  if (sum && sum.count > 0) {
    sum.setMean();
    recomputeBatchNormStats(model, tr, batch, o.augment, rng);
    result.averaged = { epochs: sum.count };
    if (test) {
      const ev = model.evaluate(test.images, test.labels, test.count, batch);
      result.averaged.testAccuracy = result.testAccuracy = ev.accuracy;
      result.averaged.testLoss = ev.loss;
      const last = result.epochs.at(-1)!;
      options.onProgress?.({
        phase: 'average', epoch: options.epochs, epochs: options.epochs, step: steps, steps, loss: last.loss, accuracy: last.trainAccuracy,
        samplesPerSec: last.samplesPerSec, etaSeconds: 0, lr: 0, testAccuracy: ev.accuracy, testLoss: ev.loss, averaged: sum.count,
      });
    }
  }
  model.refreshWeights();
  return result;
}

/** A running sum of the trainable weights (float64), for weight averaging. */
class WeightSum {
  private readonly sums: Float64Array[];
  count = 0;

  constructor(private readonly model: Model) {
    this.sums = model.parameters().map((p) => new Float64Array(p.master.length));
  }

  add(): void {
    this.model.parameters().forEach((p, i) => {
      const s = this.sums[i];
      for (let j = 0; j < s.length; j++) s[j] += p.master[j];
    });
    this.count++;
  }

  /** Replaces every weight by its mean. */
  setMean(): void {
    this.model.parameters().forEach((p, i) => {
      const s = this.sums[i];
      for (let j = 0; j < s.length; j++) p.master[j] = s[j] / this.count;
    });
    this.model.refreshWeights();
  }
}

/**
 * One pass over the training set in train mode (full batches, the training augmentation),
 * no weight changes: every BatchNorm's running statistics become the mean of its batch
 * statistics (PyTorch's update_bn). A model without BatchNorm is left as it is.
 */
function recomputeBatchNormStats(model: Model, tr: TrainData, batch: number, augment: AugmentOptions, rng: Rng): void {
  if (model.buffers.size === 0) return;
  const [C, H, W] = sampleDims(tr);
  const per = C * H * W;
  const bt = model.tape(batch, true);
  try {
    // batch ≤ tr.count (train's), so every batch is full and inside the set
    for (let k = 0; k < Math.floor(tr.count / batch); k++) {
      for (let i = 0; i < batch; i++) copySample(tr.images, (k * batch + i) * per, bt.input.data, i * per, C, H, W, augment, rng);
      model.setBatchNormMomentum(k / (k + 1));
      model.run(bt, true);
    }
  } finally {
    model.setBatchNormMomentum(null);
  }
}
