// The arithmetic of pattern-pruned 3×3 convolutions (PatDNN), shared by the
// compressor, the .nnz encoding, the planner and the kernels: a kernel (m, c) of a
// [M, C, 3, 3] weight keeps the taps of one of the layer's patterns (9-bit masks,
// bit ky·3 + kx) or is removed whole (connectivity pruning).
// Detection finds the patterns of a model pruned elsewhere from its zeros alone.
import { fail } from './errors.js';
import type { PatternFormat } from './tensor_format.js';

/** Taps of a 3×3 kernel. */
export const KERNEL_TAPS = 9;
/** The centre tap (every PatDNN candidate keeps it). */
export const CENTRE_TAP = 4;
/** assign[] value of a removed kernel. */
export const REMOVED_KERNEL = 255;
/** Most patterns a layer may have: every 4-tap candidate (centre + 3 of 8 neighbours). */
export const MAX_PATTERNS = 56;

const FULL = (1 << KERNEL_TAPS) - 1;

/** Whether a weight shape is a 3×3 conv weight [M, C, 3, 3] (the only one patterns apply to). */
export function isPatternShape(shape: readonly number[]): boolean {
  return shape.length === 4 && shape[2] === 3 && shape[3] === 3 && shape[0] > 0 && shape[1] > 0;
}

/** The tap indices (ky·3 + kx) of a mask, ascending. */
export function maskTaps(mask: number): number[] {
  const taps: number[] = [];
  for (let t = 0; t < KERNEL_TAPS; t++) if (mask & (1 << t)) taps.push(t);
  return taps;
}

export function popcount(mask: number): number {
  let n = 0;
  for (let m = mask; m; m &= m - 1) n++;
  return n;
}

/** A mask as a 3×3 picture, rows joined by "/": "010/111/000". */
export function maskPicture(mask: number): string {
  const row = (r: number) => [0, 1, 2].map((c) => ((mask >> (r * 3 + c)) & 1 ? '1' : '0')).join('');
  return `${row(0)}/${row(1)}/${row(2)}`;
}

/** The nonzero mask of each kernel of a [M, C, 3, 3] weight (−0 counts as a value: only +0 is a pruned zero, as in .nnz). */
export function kernelMasks(w: Float32Array, kernels: number): Uint16Array {
  const out = new Uint16Array(kernels);
  const bits = new Uint32Array(w.buffer, w.byteOffset, kernels * KERNEL_TAPS);
  for (let k = 0; k < kernels; k++) {
    let m = 0;
    for (let t = 0; t < KERNEL_TAPS; t++) if (bits[k * KERNEL_TAPS + t] !== 0) m |= 1 << t;
    out[k] = m;
  }
  return out;
}

/** Kernels kept and weights stored (the taps of each kept kernel's pattern). */
export function patternCounts(f: PatternFormat): { kernels: number; kept: number; weights: number; perPattern: number[] } {
  const perPattern = f.masks.map(() => 0);
  let kept = 0, weights = 0;
  for (const a of f.assign) {
    if (a === REMOVED_KERNEL) continue;
    kept++;
    perPattern[a]++;
    weights += popcount(f.masks[a]);
  }
  return { kernels: f.assign.length, kept, weights, perPattern };
}

/** Checks that a format describes a weight: masks, one entry per kernel, zeros outside each kernel's pattern. */
export function checkPatternFormat(w: Float32Array, shape: readonly number[], f: PatternFormat, where: string): void {
  if (!isPatternShape(shape)) fail(`${where}: patterns apply to 3×3 conv weights [M, C, 3, 3], not [${shape.join(',')}]`);
  const kernels = shape[0] * shape[1];
  if (f.masks.length < 1 || f.masks.length > MAX_PATTERNS) fail(`${where}: ${f.masks.length} patterns; a layer has 1 to ${MAX_PATTERNS}`);
  if (new Set(f.masks).size !== f.masks.length) fail(`${where}: the patterns are not distinct`);
  for (const m of f.masks) if (!Number.isInteger(m) || m < 1 || m > FULL) fail(`${where}: pattern mask ${m} is not a non-empty 9-bit mask`);
  if (f.assign.length !== kernels) fail(`${where}: ${f.assign.length} pattern assignments for ${kernels} kernels`);
  const masks = kernelMasks(w, kernels);
  for (let k = 0; k < kernels; k++) {
    const a = f.assign[k];
    const allowed = a === REMOVED_KERNEL ? 0 : f.masks[a];
    if (allowed === undefined) fail(`${where}: kernel ${k} has pattern index ${a}, over the ${f.masks.length} patterns`);
    if (masks[k] & ~allowed) {
      const what = a === REMOVED_KERNEL ? 'is removed but has nonzeros' : `has nonzeros outside its pattern ${maskPicture(allowed)}`;
      fail(`${where}: kernel (filter ${Math.floor(k / shape[1])}, channel ${k % shape[1]}) ${what}`);
    }
  }
}

/**
 * The patterns of a weight pruned elsewhere, from its zeros: the distinct nonzero
 * masks, each covered by the most frequent largest mask that contains it.
 * Undefined when the weight is not a 3×3 conv, has no zeros, needs more than
 * MAX_PATTERNS patterns, or the patterns would store over 10% more values than
 * its nonzeros (zeros scattered at random, not in patterns).
 */
export function detectPatterns(w: Float32Array, shape: readonly number[]): PatternFormat | undefined {
  if (!isPatternShape(shape)) return undefined;
  const kernels = shape[0] * shape[1];
  const masks = kernelMasks(w, kernels);
  const freq = new Map<number, number>();
  for (const m of masks) if (m) freq.set(m, (freq.get(m) ?? 0) + 1);
  if (freq.size === 0 || (freq.size === 1 && freq.has(FULL) && !masks.includes(0))) return undefined;
  // widest masks first, then the most frequent (ties by mask value: deterministic)
  const order = [...freq.keys()].sort((a, b) => popcount(b) - popcount(a) || freq.get(b)! - freq.get(a)! || a - b);
  const chosen: number[] = [];
  for (const m of order) {
    if (chosen.some((c) => (c & m) === m)) continue;
    chosen.push(m);
    if (chosen.length > MAX_PATTERNS) return undefined;
  }
  const covered = new Map<number, number>(); // a kernel mask → index of its pattern
  const uses = chosen.map((c) => [...freq].reduce((n, [m, f]) => ((c & m) === m ? n + f : n), 0));
  for (const m of freq.keys()) {
    let best = -1;
    chosen.forEach((c, i) => { if ((c & m) === m && (best < 0 || uses[i] > uses[best])) best = i; });
    covered.set(m, best);
  }
  const assign = new Uint8Array(kernels);
  let nonzeros = 0, stored = 0;
  for (let k = 0; k < kernels; k++) {
    assign[k] = masks[k] ? covered.get(masks[k])! : REMOVED_KERNEL;
    nonzeros += popcount(masks[k]);
    if (masks[k]) stored += popcount(chosen[assign[k]]);
  }
  return stored <= 1.1 * nonzeros ? { kind: 'pattern', masks: chosen, assign } : undefined;
}
