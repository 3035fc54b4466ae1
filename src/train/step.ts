// One training step on a batch already in bt.input, with every hook applied in
// the documented order (hooks.ts). Returns the loss before the update, or NaN
// (and leaves the weights untouched) when the loss is not finite.
import type { BuiltTape, Model } from './model.js';
import type { Optimizer } from './optim.js';

export interface StepResult {
  /** Data loss + extra loss terms. */
  loss: number;
  /** Correctly classified samples in the batch (before the update). */
  correct: number;
}

export function trainStep(model: Model, bt: BuiltTape, labels: ArrayLike<number>, offset: number, optimizer: Optimizer, lr: number, out: StepResult): StepResult {
  const loss = bt.loss!;
  loss.setLabels(labels, offset, bt.batch);
  model.refreshWeights();
  model.run(bt, true);
  let value = loss.forward();
  out.correct = loss.correct();
  if (!Number.isFinite(value)) {
    out.loss = NaN;
    return out;
  }
  const params = model.parameters();
  for (const p of params) p.grad.fill(0);
  bt.tape.zeroGrads();
  loss.backward();
  bt.tape.backward();
  for (const p of params) if (p.transform?.backward) p.transform.backward(p.master, p.grad, p.shape);
  for (const term of model.lossTerms) value += term.apply(model.params);
  for (const p of params) {
    if (p.mask) applyMask(p.grad, p.mask);
    p.gradTransform?.transformGrad(p);
  }
  optimizer.step(params, lr);
  for (const p of params) {
    if (p.mask) applyMask(p.master, p.mask);
    p.gradTransform?.afterStep?.(p);
  }
  out.loss = value;
  return out;
}

function applyMask(a: Float32Array, mask: Uint8Array): void {
  for (let i = 0; i < a.length; i++) if (!mask[i]) a[i] = 0;
}
