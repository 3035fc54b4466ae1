// Test-set accuracy of any runner (reference runtime, Session, onnxruntime).
import type { Dataset } from '../data/datasets.js';

/** Runs a batch of n images (n×C×H×W) and returns n×classes logits. */
export type BatchRunner = (images: Float32Array, n: number) => Promise<Float32Array> | Float32Array;

export interface EvalResult {
  correct: number;
  count: number;
  accuracy: number;
  /** Predicted class per image. */
  predictions: Uint8Array;
  seconds: number;
}

export function argmaxRows(logits: Float32Array, n: number): Uint8Array {
  const classes = logits.length / n;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
}

export async function evaluate(
  run: BatchRunner,
  ds: Dataset,
  opts: { limit?: number; batch?: number; onProgress?: (done: number, total: number, correct: number) => void } = {},
): Promise<EvalResult> {
  const count = Math.min(opts.limit ?? ds.count, ds.count);
  const batch = opts.batch ?? 100;
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const predictions = new Uint8Array(count);
  const t0 = performance.now();
  let correct = 0;
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const logits = await run(ds.images.subarray(start * per, (start + n) * per), n);
    const pred = argmaxRows(logits, n);
    for (let i = 0; i < n; i++) {
      predictions[start + i] = pred[i];
      if (pred[i] === ds.labels[start + i]) correct++;
    }
    opts.onProgress?.(start + n, count, correct);
  }
  return { correct, count, accuracy: count ? correct / count : 0, predictions, seconds: (performance.now() - t0) / 1000 };
}
