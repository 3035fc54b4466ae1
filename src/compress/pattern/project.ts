// Pattern and connectivity pruning of 3×3 convs (PatDNN §4): the 56 four-tap
// candidates (the centre and 3 of its 8 neighbours), the pattern set chosen by
// frequency after a magnitude projection, and the Euclidean projection of a
// weight onto "each kernel in one of K patterns, at most n/rate kernels kept":
// each kernel takes the pattern keeping the most L2 energy, then the kernels
// keeping the most energy survive (that is exactly the nearest point of the set).
import { fail } from '../../ir/errors.js';
import { CENTRE_TAP, KERNEL_TAPS, MAX_PATTERNS, maskTaps, REMOVED_KERNEL } from '../../ir/pattern.js';
import type { PatternFormat } from '../../ir/tensor_format.js';

/** The 56 candidates: the centre tap plus 3 of its 8 neighbours, as masks in ascending order. */
export const CANDIDATES: readonly number[] = (() => {
  const out: number[] = [];
  for (let m = 0; m < 1 << KERNEL_TAPS; m++) {
    if (m & (1 << CENTRE_TAP) && maskTaps(m).length === 4) out.push(m);
  }
  return out;
})();

/** One layer to prune: its weight [M, C, 3, 3] flattened, filters M and channels C. */
export interface PatternLayer {
  name: string;
  w: Float32Array;
  M: number;
  C: number;
}

/** The L2 energy each mask keeps of kernel k (tap values squared, summed). */
function keptEnergy(w: Float32Array, k: number, taps: readonly number[]): number {
  let e = 0;
  for (const t of taps) e += w[k * KERNEL_TAPS + t] ** 2;
  return e;
}

/** For every kernel, the mask keeping the most energy and that energy (ties → the earlier mask). */
export function bestPatterns(w: Float32Array, masks: readonly number[]): { index: Uint8Array; energy: Float64Array } {
  const kernels = w.length / KERNEL_TAPS;
  const taps = masks.map(maskTaps);
  const index = new Uint8Array(kernels);
  const energy = new Float64Array(kernels);
  for (let k = 0; k < kernels; k++) {
    let best = -1, bestE = -1;
    for (let i = 0; i < taps.length; i++) {
      const e = keptEnergy(w, k, taps[i]);
      if (e > bestE) { best = i; bestE = e; }
    }
    index[k] = best;
    energy[k] = bestE;
  }
  return { index, energy };
}

export function checkPatternCount(K: number, where: string): void {
  if (!Number.isInteger(K) || K < 1 || K > MAX_PATTERNS) fail(`${where}: patterns=${K} must be an integer from 1 to ${MAX_PATTERNS} (the 4-tap candidates)`);
}

export function checkConnectivity(rate: number, where: string): void {
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 1) fail(`${where}: connectivity=${rate} must be a number ≥ 1 (kernels kept = kernels / rate; 1 keeps all)`);
}

/** Kernels a layer keeps at a connectivity rate. */
export function keptKernels(kernels: number, rate: number): number {
  return Math.max(1, Math.round(kernels / rate));
}

/**
 * The candidates by how often they are used after projecting every kernel onto
 * its best candidate, most used first (a pattern set of K is the first K). Only
 * the kernels that connectivity pruning would keep vote (the removed ones are the
 * weakest, whose shape is noise). Ties → the lower mask.
 */
export function rankPatterns(layers: readonly { w: Float32Array; rate: number }[]): number[] {
  const votes = new Float64Array(CANDIDATES.length);
  for (const l of layers) {
    const { index, energy } = bestPatterns(l.w, CANDIDATES);
    const keep = strongest(energy, keptKernels(energy.length, l.rate));
    for (let k = 0; k < index.length; k++) if (keep[k]) votes[index[k]]++;
  }
  return CANDIDATES.map((m, i) => [m, votes[i]] as const).sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([m]) => m);
}

/** 1 for the `keep` entries of largest energy (ties → the lower index). */
function strongest(energy: Float64Array, keep: number): Uint8Array {
  const order = Array.from(energy.keys()).sort((a, b) => energy[b] - energy[a] || a - b);
  const out = new Uint8Array(energy.length);
  for (let i = 0; i < keep; i++) out[order[i]] = 1;
  return out;
}

/**
 * The kernels a layer keeps: each filter's strongest (a filter without kernels
 * would be a constant), then the strongest of the rest up to n/rate — the set of
 * that size keeping the most energy with every filter connected.
 */
function connected(l: PatternLayer, energy: Float64Array, rate: number): Uint8Array {
  const total = keptKernels(l.M * l.C, rate);
  if (total < l.M) {
    fail(`layer ${l.name}: connectivity ${rate} keeps ${total} kernels, fewer than its ${l.M} filters, so it would remove every kernel of a filter; use a rate of at most ${l.C} (its input channels) or leave the layer out`);
  }
  const keep = new Uint8Array(energy.length);
  for (let m = 0; m < l.M; m++) {
    let best = m * l.C;
    for (let k = best + 1; k < (m + 1) * l.C; k++) if (energy[k] > energy[best]) best = k;
    keep[best] = 1;
  }
  const rest = Float64Array.from(energy, (e, k) => (keep[k] ? -1 : e));
  const more = strongest(rest, total - l.M);
  for (let k = 0; k < keep.length; k++) keep[k] |= more[k];
  return keep;
}

/** The nearest pattern-pruned weight: its values, format and mask (1 = kept weight). */
export interface Projection {
  w: Float32Array;
  format: PatternFormat;
  mask: Uint8Array;
}

/** Projects a layer onto its patterns and connectivity rate (the ADMM Z-step, and the final pruning). */
export function projectLayer(l: PatternLayer, masks: readonly number[], rate: number): Projection {
  const kernels = l.M * l.C;
  if (l.w.length !== kernels * KERNEL_TAPS) fail(`layer ${l.name}: weight has ${l.w.length} values, [${l.M},${l.C},3,3] needs ${kernels * KERNEL_TAPS}`);
  const { index, energy } = bestPatterns(l.w, masks);
  const keep = connected(l, energy, rate);
  const assign = new Uint8Array(kernels);
  const w = new Float32Array(l.w.length);
  const mask = new Uint8Array(l.w.length);
  for (let k = 0; k < kernels; k++) {
    if (!keep[k]) { assign[k] = REMOVED_KERNEL; continue; }
    assign[k] = index[k];
    for (let t = 0; t < KERNEL_TAPS; t++) {
      if (!(masks[index[k]] & (1 << t))) continue;
      w[k * KERNEL_TAPS + t] = l.w[k * KERNEL_TAPS + t];
      mask[k * KERNEL_TAPS + t] = 1;
    }
  }
  return { w, format: { kind: 'pattern', masks: [...masks], assign }, mask };
}
