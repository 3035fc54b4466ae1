// Softmax cross-entropy fused with its gradient, numerically stable (max
// subtracted before exp). Loss = mean over the batch of −log softmax(z)[label];
// d loss / d z = (softmax(z) − onehot(label)) / B.
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

  /** Mean loss over the counted rows (also fills probs). */
  forward(): number {
    const z = this.logits.data;
    const C = this.classes;
    let total = 0;
    for (let r = 0; r < this.rows; r++) {
      const o = r * C;
      let m = -Infinity;
      for (let j = 0; j < C; j++) if (z[o + j] > m) m = z[o + j];
      let s = 0;
      for (let j = 0; j < C; j++) {
        const e = Math.exp(z[o + j] - m);
        this.probs[o + j] = e;
        s += e;
      }
      for (let j = 0; j < C; j++) this.probs[o + j] /= s;
      total += m + Math.log(s) - z[o + this.labels[r]];
    }
    return total / this.rows;
  }

  /** Adds d loss / d logits into logits.grad. */
  backward(): void {
    const g = this.logits.grad;
    if (!g) return;
    const C = this.classes;
    const inv = 1 / this.rows;
    for (let r = 0; r < this.rows; r++) {
      const o = r * C;
      for (let j = 0; j < C; j++) g[o + j] += this.probs[o + j] * inv;
      g[o + this.labels[r]] -= inv;
    }
  }

  /** How many counted rows have their label as the top logit. */
  correct(): number {
    return countCorrect(this.logits.data, this.labels, this.rows, this.classes);
  }
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
