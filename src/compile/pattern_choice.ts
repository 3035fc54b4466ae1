// The pattern kernel's entry in the conv candidate table (cost.ts CONV_CANDIDATES):
// a conv runs on kernels/wasm/pattern.ts when its weight is stored as patterns
// (graph.formats) or its zeros follow patterns (a model pruned elsewhere, found by
// ir/pattern.ts), its window is 3×3 with stride 1 (WASM: or 2) and no dilation, group 1,
// and its estimate beats the other candidates'.
import { detectPatterns, KERNEL_TAPS, kernelMasks, patternCounts, REMOVED_KERNEL } from '../ir/pattern.js';
import type { PatternFormat } from '../ir/tensor_format.js';
import type { Window2d } from '../ir/window.js';
import { defaultPatternVariant, patternConvNs, patternGeometry, type PatternConvParams } from '../kernels/wasm/pattern.js';
import { planeFits } from '../kernels/wasm/pattern_plane_codegen.js';
import { patternTuneKey, tuneClass, tunedVariant } from './pattern_cache.js';
import type { KernelsMode, PatternOptions, PatternPlan, PlanTarget, PlanWeight, WinogradMode } from './plan_types.js';

/** What the pattern entry reads of a conv (cost.ts ConvProblem has these fields). */
export interface PatternProblem {
  node?: string; N: number; C: number; H: number; W: number; M: number; group: number; win: Window2d;
  weight: PlanWeight;
  kernels: KernelsMode;
  patterns?: PatternOptions;
  /** Default 'wasm'; the C backend runs every pattern layer it can on its FKW kernel (backends/c/kernels/conv_pattern.ts). */
  target?: PlanTarget;
  /** Winograd forced ('on' or a tile) leaves C's dense 3×3 layers to it. */
  winograd?: WinogradMode;
  /** The plan's threads (default 1): with N, the tuning class whose variant runs (pattern_cache.ts tuneClass). */
  threads?: number;
}

/** The pattern kernel as a candidate: its estimate and plan, or only a note on why it cannot run. */
export type PatternCandidate =
  | { impl: 'pattern'; label: string; detail: string; estNs: number; pattern: PatternPlan; forced?: string }
  | { note: string };

/** The layer's patterns: its format's, or those its zeros follow. */
export function patternsOf(w: PlanWeight, shape: readonly number[]): { format: PatternFormat; detected: boolean } | undefined {
  if (w.format?.kind === 'pattern') return { format: w.format, detected: false };
  if (!w.data.includes(0)) return undefined;
  const f = detectPatterns(w.data, shape);
  return f && { format: f, detected: true };
}

/**
 * Target c: an uncompressed 3×3 weight as one pattern of all 9 taps (its all-zero kernels
 * removed), so dense layers also run the FKW kernel's straight-line blocks, the C backend's
 * fastest direct conv (the filters stay as they are: no transform, no extra flash).
 */
function denseAsPattern(w: PlanWeight, shape: readonly number[]): PatternFormat {
  const masks = kernelMasks(w.data, shape[0] * shape[1]);
  return { kind: 'pattern', masks: [(1 << KERNEL_TAPS) - 1], assign: Uint8Array.from(masks, (m) => (m ? 0 : REMOVED_KERNEL)) };
}

/** The pattern kernel's parameters of a conv (its input, filters, pads and stride). */
export function patternParams(s: { C: number; M: number; H: number; W: number; win: Window2d }): PatternConvParams {
  const w = s.win;
  return { C: s.C, M: s.M, H: s.H, W: s.W, pads: [w.padT, w.padL, w.padB, w.padR], stride: w.sh };
}

/**
 * Why the pattern kernel cannot run this window, or undefined when it can: stride 1, or on WASM 2
 * (the same both ways, pads of at most 1 above and left: the plane layouts' phase planes).
 */
export function patternWindowIssue(s: { C: number; M: number; H: number; W: number; group: number; win: Window2d }): string | undefined {
  const { win } = s;
  if (s.group !== 1) return `group ${s.group}`;
  if (win.kh !== 3 || win.kw !== 3) return `a ${win.kh}×${win.kw} window`;
  if (win.dh !== 1 || win.dw !== 1) return `dilation ${win.dh}×${win.dw}`;
  if (win.sh === 1 && win.sw === 1) return undefined;
  if (win.sh === 2 && win.sw === 2 && planeFits(patternGeometry(patternParams(s)))) return undefined;
  return `stride ${win.sh}×${win.sw} (the pattern kernel takes stride 1, or 2 both ways with pads of at most 1 above and left)`;
}

/**
 * The pattern candidate of a conv whose weight has patterns (none otherwise, or with
 * kernels: 'dense' / patterns.use 'never'); the variant is the one tuned for this batch class and thread
 * count when the tuner knows the layer (else its one-image variant), else the default.
 */
export function patternCandidates(p: PatternProblem): PatternCandidate[] {
  if (p.win.kh !== 3 || p.win.kw !== 3) return [];
  const shape = [p.M, p.C / p.group, 3, 3];
  const winogradForced = p.winograd !== undefined && p.winograd !== 'auto' && p.winograd !== 'off';
  // C: a dense 3×3 stride-1 conv runs as one 9-tap pattern (stride 2 keeps the taps kernel: not measured against it)
  const dense = p.target === 'c' && p.win.sh === 1 && !winogradForced && !p.weight.format && !patternWindowIssue(p) && !detectPatterns(p.weight.data, shape);
  const found = dense ? { format: denseAsPattern(p.weight, shape), detected: false } : patternsOf(p.weight, shape);
  if (!found) return [];
  const issue = patternWindowIssue(p);
  const what = dense ? 'dense 3×3 as one 9-tap pattern' : `${found.format.masks.length} patterns${found.detected ? ' (found in the zeros)' : ''}`;
  if (issue) return [{ note: `${what}, but ${issue}` }];
  const o = p.patterns ?? {};
  if (p.kernels === 'dense' || o.use === 'never') return [];
  const c = patternCounts(found.format);
  const geo = patternGeometry(patternParams(p));
  const key = patternTuneKey(geo, p.M, found.format);
  const variant = (p.node === undefined ? undefined : o.variant?.(p.node, key)) ?? tunedVariant(key, tuneClass(p.N, p.threads ?? 1)) ?? defaultPatternVariant(geo);
  const estNs = p.N * patternConvNs(geo, { rows: p.M, kernels: c.kept, weights: c.weights }, variant);
  return [{
    impl: 'pattern', label: 'pattern', estNs, detail: `${what}, ${((100 * c.kept) / c.kernels).toFixed(0)}% of kernels kept`,
    pattern: { format: found.format, variant, reorder: o.reorder ?? true },
    // C: the FKW kernel does the work of the stored weights only, in straight-line code; no other C kernel is as lean on them
    forced: o.use === 'always' ? `patterns.use: 'always' forced` : p.target === 'c' ? 'target c: the FKW pattern kernel' : undefined,
  }];
}
