// Softmax cross-entropy fused with its gradient, numerically stable (max
// subtracted before exp). Loss = mean over the batch of −log softmax(z)[label];
// d loss / d z = (softmax(z) − onehot(label)) / B.
// With a teacher (knowledge distillation, Hinton et al. 2015), per row:
//   loss = (1 − α)·CE + α·T²·KL(softmax(t/T) ‖ softmax(z/T))
//   d loss / d z = ((1 − α)·(softmax(z) − onehot) + α·T·(softmax(z/T) − softmax(t/T))) / B
import { fail } from '../ir/errors.js';
import type { Var } from './autograd.js';

export class SoftmaxCrossEntropy {
  readonly logits: Var;
  readonly batch: number;
  readonly classes: number;
  /** The labels of the current batch (set before forward). */
  readonly labels: Int32Array;
  /** softmax(logits), kept for backward. */
  readonly probs: Float32Array;
  /** Number of rows (from the front) that count; the rest are padding. */
  rows: number;
  /** Distillation: the teacher's logits for the counted rows, α and T (null = plain cross-entropy). */
  private kd: { teacher: Float32Array; alpha: number; T: number } | null = null;
  /** softmax(z/T) and softmax(t/T) (distillation, kept for backward). */
  private soft: Float32Array | null = null;
  private teacherSoft: Float32Array | null = null;

  constructor(logits: Var) {
    if (logits.shape.length !== 2) fail(`loss: the model output "${logits.name}" must be [batch, classes], got [${logits.shape}]`);
    this.logits = logits;
    [this.batch, this.classes] = logits.shape;
    this.labels = new Int32Array(this.batch);
    this.probs = new Float32Array(logits.size);
    this.rows = this.batch;
  }

  setLabels(labels: ArrayLike<number>, offset = 0, rows = this.batch): void {
    this.rows = rows;
    for (let i = 0; i < rows; i++) {
      const l = labels[offset + i];
      if (!(l >= 0 && l < this.classes)) fail(`loss: label ${l} (sample ${offset + i}) is outside 0..${this.classes - 1}`);
      this.labels[i] = l;
    }
  }

  /** Distils from `teacher` (row-major logits, at least rows × classes) from the next forward on; null = plain cross-entropy. */
  setTeacher(teacher: Float32Array | null, alpha = 0, T = 1): void {
    if (!teacher) {
      this.kd = null;
      return;
    }
    checkDistill(alpha, T, 'distillation');
    this.kd = { teacher, alpha, T };
    this.soft ??= new Float32Array(this.logits.size);
    this.teacherSoft ??= new Float32Array(this.logits.size);
  }

  /** Mean loss over the counted rows (also fills probs). */
  forward(): number {
    const ce = this.crossEntropy();
    if (!this.kd) return ce;
    const { teacher, alpha, T } = this.kd;
    if (teacher.length < this.rows * this.classes) fail(`distillation: the teacher gave ${teacher.length} logits for ${this.rows} rows of ${this.classes} classes`);
    let kl = 0;
    for (let r = 0; r < this.rows; r++) {
      const o = r * this.classes;
      const lt = softmaxRow(teacher, o, this.classes, T, this.teacherSoft!);
      const ls = softmaxRow(this.logits.data, o, this.classes, T, this.soft!);
      // KL = Σ p_t·(log p_t − log q_s), log p = z/T − logsumexp(z/T)
      for (let j = 0; j < this.classes; j++) {
        const p = this.teacherSoft![o + j];
        if (p > 0) kl += p * ((teacher[o + j] / T - lt) - (this.logits.data[o + j] / T - ls));
      }
    }
    return (1 - alpha) * ce + alpha * T * T * (kl / this.rows);
  }

  private crossEntropy(): number {
    const z = this.logits.data;
    let total = 0;
    for (let r = 0; r < this.rows; r++) {
      const o = r * this.classes;
      total += softmaxRow(z, o, this.classes, 1, this.probs) - z[o + this.labels[r]];
    }
    return total / this.rows;
  }

  /** Adds d loss / d logits into logits.grad. */
  backward(): void {
    const g = this.logits.grad;
    if (!g) return;
    const C = this.classes;
    const a = this.kd ? this.kd.alpha : 0;
    const inv = (1 - a) / this.rows;
    for (let r = 0; r < this.rows; r++) {
      const o = r * C;
      for (let j = 0; j < C; j++) g[o + j] += this.probs[o + j] * inv;
      g[o + this.labels[r]] -= inv;
    }
    if (!this.kd) return;
    const k = (a * this.kd.T) / this.rows;
    for (let i = 0; i < this.rows * C; i++) g[i] += k * (this.soft![i] - this.teacherSoft![i]);
  }

  /** How many counted rows have their label as the top logit. */
  correct(): number {
    return countCorrect(this.logits.data, this.labels, this.rows, this.classes);
  }
}

/** Distillation settings: α in [0, 1] (the weight of the teacher's term), temperature T > 0. */
export function checkDistill(alpha: number, T: number, where: string): void {
  if (!(typeof alpha === 'number' && alpha >= 0 && alpha <= 1)) fail(`${where}: alpha ${JSON.stringify(alpha)} must be a number in [0, 1]`);
  if (!(typeof T === 'number' && Number.isFinite(T) && T > 0)) fail(`${where}: temperature ${JSON.stringify(T)} must be a number > 0`);
}

/** out[o..o+C) = softmax(z[o..o+C) / T); returns logsumexp(z/T) over the row. */
function softmaxRow(z: Float32Array, o: number, C: number, T: number, out: Float32Array): number {
  let m = -Infinity;
  for (let j = 0; j < C; j++) m = Math.max(m, z[o + j] / T);
  let s = 0;
  for (let j = 0; j < C; j++) {
    const e = Math.exp(z[o + j] / T - m);
    out[o + j] = e;
    s += e;
  }
  for (let j = 0; j < C; j++) out[o + j] /= s;
  return m + Math.log(s);
}

export function countCorrect(logits: Float32Array, labels: ArrayLike<number>, rows: number, classes: number, offset = 0): number {
  let n = 0;
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (logits[r * classes + j] > logits[r * classes + best]) best = j;
    if (best === labels[offset + r]) n++;
  }
  return n;
}
