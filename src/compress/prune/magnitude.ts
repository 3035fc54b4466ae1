// Magnitude pruning masks (1 = keep, 0 = prune).
// - magnitudeMask: keep exactly round(density·n) weights of largest |w|;
//   ties go to the lower index, so the result never depends on sort stability.
// - hanMask: Han et al. (2015) keep |w| > quality × std(w) of the layer.
// - globalMagnitudeMasks: one threshold across several tensors for an overall density
//   (ties → earlier tensor, then lower index).
import { NnzipError } from '../../ir/errors.js';

export function checkDensity(density: number, where = 'magnitude pruning'): void {
  if (typeof density !== 'number' || !(density > 0 && density <= 1)) {
    throw new NnzipError(`${where}: option density=${density} is outside (0, 1]; give the fraction of weights to keep, e.g. 0.08`);
  }
}

export function magnitudeMask(weights: Float32Array, density: number): Uint8Array {
  return globalMagnitudeMasks([weights], density)[0];
}

export function globalMagnitudeMasks(tensors: Float32Array[], density: number): Uint8Array[] {
  checkDensity(density);
  let n = 0;
  for (const t of tensors) n += t.length;
  const keep = Math.round(density * n);
  const abs = new Float32Array(n);
  let o = 0;
  tensors.forEach((t, ti) => {
    for (let i = 0; i < t.length; i++) {
      if (Number.isNaN(t[i])) throw new NnzipError(`magnitude pruning: tensor ${ti} has NaN at element ${i}; weights must be numbers`);
      abs[o++] = Math.abs(t[i]);
    }
  });
  const masks = tensors.map((t) => new Uint8Array(t.length));
  if (keep === 0) return masks;
  const threshold = abs.slice().sort()[n - keep]; // the keep-th largest magnitude
  let above = 0;
  for (let i = 0; i < n; i++) if (abs[i] > threshold) above++;
  let ties = keep - above; // weights equal to the threshold still to keep, in order
  o = 0;
  for (const m of masks) {
    for (let i = 0; i < m.length; i++, o++) {
      if (abs[o] > threshold) m[i] = 1;
      else if (abs[o] === threshold && ties > 0) {
        m[i] = 1;
        ties--;
      }
    }
  }
  return masks;
}

/** Keep |w| > threshold. */
export function thresholdMask(weights: Float32Array, threshold: number): Uint8Array {
  if (!(threshold >= 0)) throw new NnzipError(`magnitude pruning: threshold ${threshold} must be a number ≥ 0`);
  const mask = new Uint8Array(weights.length);
  for (let i = 0; i < weights.length; i++) mask[i] = Math.abs(weights[i]) > threshold ? 1 : 0;
  return mask;
}

/** Han's threshold: quality × the (population) standard deviation of the layer's weights. */
export function hanThreshold(weights: Float32Array, quality: number): number {
  if (!(quality >= 0) || !Number.isFinite(quality)) {
    throw new NnzipError(`magnitude pruning: option quality=${quality} must be a finite number ≥ 0 (Han's q, threshold = q × std)`);
  }
  if (weights.length === 0) return 0;
  let mean = 0;
  for (let i = 0; i < weights.length; i++) mean += weights[i];
  mean /= weights.length;
  let ss = 0;
  for (let i = 0; i < weights.length; i++) ss += (weights[i] - mean) ** 2;
  return quality * Math.sqrt(ss / weights.length);
}

export function hanMask(weights: Float32Array, quality: number): Uint8Array {
  return thresholdMask(weights, hanThreshold(weights, quality));
}

/** A copy of weights with the pruned ones set to +0. */
export function applyMask(weights: Float32Array, mask: Uint8Array): Float32Array {
  if (mask.length !== weights.length) throw new NnzipError(`magnitude pruning: mask of ${mask.length} for ${weights.length} weights; they must match`);
  const out = new Float32Array(weights.length);
  for (let i = 0; i < weights.length; i++) if (mask[i]) out[i] = weights[i];
  return out;
}

/** Fraction of ones (1 for an empty mask). */
export function maskDensity(mask: Uint8Array): number {
  if (mask.length === 0) return 1;
  let ones = 0;
  for (let i = 0; i < mask.length; i++) ones += mask[i] ? 1 : 0;
  return ones / mask.length;
}
