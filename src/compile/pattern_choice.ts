// The pattern kernel's entry in the conv candidate table (cost.ts CONV_CANDIDATES):
// a conv runs on kernels/wasm/pattern.ts when its weight is stored as patterns
// (graph.formats) or its zeros follow patterns (a model pruned elsewhere, found by
// ir/pattern.ts), its window is 3×3 with stride 1 and no dilation, group 1, and its
// estimate beats the other candidates'.
import { detectPatterns, patternCounts } from '../ir/pattern.js';
import type { PatternFormat } from '../ir/tensor_format.js';
import type { Window2d } from '../ir/window.js';
import { defaultPatternVariant, patternConvNs, patternGeometry } from '../kernels/wasm/pattern.js';
import { patternTuneKey, tunedVariant } from './pattern_cache.js';
import type { KernelsMode, PatternOptions, PatternPlan, PlanTarget, PlanWeight } from './plan_types.js';

/** What the pattern entry reads of a conv (cost.ts ConvProblem has these fields). */
export interface PatternProblem {
  node?: string; N: number; C: number; H: number; W: number; M: number; group: number; win: Window2d;
  weight: PlanWeight;
  kernels: KernelsMode;
  patterns?: PatternOptions;
  /** Default 'wasm'; the C backend runs every pattern layer it can on its FKW kernel (backends/c/kernels/conv_pattern.ts). */
  target?: PlanTarget;
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

/** Why the pattern kernel cannot run this window, or undefined when it can. */
export function patternWindowIssue(s: { group: number; win: Window2d }): string | undefined {
  const { win } = s;
  if (s.group !== 1) return `group ${s.group}`;
  if (win.kh !== 3 || win.kw !== 3) return `a ${win.kh}×${win.kw} window`;
  if (win.sh !== 1 || win.sw !== 1) return `stride ${win.sh}×${win.sw} (the pattern kernel takes stride 1)`;
  if (win.dh !== 1 || win.dw !== 1) return `dilation ${win.dh}×${win.dw}`;
  return undefined;
}

/**
 * The pattern candidate of a conv whose weight has patterns (none otherwise, or with
 * kernels: 'dense' / patterns.use 'never'); the variant is the tuned one when the tuner knows the layer.
 */
export function patternCandidates(p: PatternProblem): PatternCandidate[] {
  if (p.win.kh !== 3 || p.win.kw !== 3) return [];
  const found = patternsOf(p.weight, [p.M, p.C / p.group, 3, 3]);
  if (!found) return [];
  const issue = patternWindowIssue(p);
  const what = `${found.format.masks.length} patterns${found.detected ? ' (found in the zeros)' : ''}`;
  if (issue) return [{ note: `${what}, but ${issue}` }];
  const o = p.patterns ?? {};
  if (p.kernels === 'dense' || o.use === 'never') return [];
  const c = patternCounts(found.format);
  const geo = patternGeometry({ C: p.C, M: p.M, H: p.H, W: p.W, pads: [p.win.padT, p.win.padL, p.win.padB, p.win.padR] });
  const key = patternTuneKey(geo, p.M, found.format);
  const variant = (p.node === undefined ? undefined : o.variant?.(p.node, key)) ?? tunedVariant(key) ?? defaultPatternVariant(geo);
  const estNs = p.N * patternConvNs(geo, { rows: p.M, kernels: c.kept, weights: c.weights }, variant);
  return [{
    impl: 'pattern', label: 'pattern', estNs, detail: `${what}, ${((100 * c.kept) / c.kernels).toFixed(0)}% of kernels kept`,
    pattern: { format: found.format, variant, reorder: o.reorder ?? true },
    // C: the FKW kernel does the work of the stored weights only, in straight-line code; no other C kernel is as lean on them
    forced: o.use === 'always' ? `patterns.use: 'always' forced` : p.target === 'c' ? 'target c: the FKW pattern kernel' : undefined,
  }];
}
