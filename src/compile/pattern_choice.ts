// When a conv runs on the pattern kernel (kernels/wasm/pattern.ts): its weight is
// stored as patterns (graph.formats) or its zeros follow patterns (a model
// pruned elsewhere, found by ir/pattern.ts), its window is 3×3 with stride 1 and
// no dilation, group 1, and the cost model says it beats the dense and CSR kernels.
import { detectPatterns, patternCounts } from '../ir/pattern.js';
import type { PatternFormat } from '../ir/tensor_format.js';
import type { Window2d } from '../ir/window.js';
import { defaultPatternVariant, patternConvNs, patternGeometry } from '../kernels/wasm/pattern.js';
import { patternTuneKey, tunedVariant } from './pattern_cache.js';
import { convKernelCosts } from '../kernels/wasm/sparse.js';
import { IM2COL_NS } from './conv_layout.js';
import { formatUs, storedCount, type Decision } from './cost.js';
import type { KernelsMode, PatternOptions, PatternPlan, PlanWeight } from './plan_types.js';

export interface ConvShape { node: string; N: number; C: number; H: number; W: number; M: number; group: number; win: Window2d }

/** The layer's patterns: its format's, or those its zeros follow. */
export function patternsOf(w: PlanWeight, shape: readonly number[]): { format: PatternFormat; detected: boolean } | undefined {
  if (w.format?.kind === 'pattern') return { format: w.format, detected: false };
  if (!w.data.includes(0)) return undefined;
  const f = detectPatterns(w.data, shape);
  return f && { format: f, detected: true };
}

/** Why the pattern kernel cannot run this window, or undefined when it can. */
export function patternWindowIssue(s: ConvShape): string | undefined {
  const { win } = s;
  if (s.group !== 1) return `group ${s.group}`;
  if (win.kh !== 3 || win.kw !== 3) return `a ${win.kh}×${win.kw} window`;
  if (win.sh !== 1 || win.sw !== 1) return `stride ${win.sh}×${win.sw} (the pattern kernel takes stride 1)`;
  if (win.dh !== 1 || win.dw !== 1) return `dilation ${win.dh}×${win.dw}`;
  return undefined;
}

/**
 * The pattern decision for a conv whose weight has patterns, or undefined (the
 * dense/CSR choice then applies); the variant is the tuned one when the tuner knows the layer.
 */
export function choosePatternConv(w: PlanWeight, s: ConvShape, mode: KernelsMode, o: PatternOptions):
  { decision: Decision<'pattern'>; plan: PatternPlan } | { note: string } | undefined {
  if (s.win.kh !== 3 || s.win.kw !== 3) return undefined;
  const found = patternsOf(w, [s.M, s.C / s.group, 3, 3]);
  if (!found) return undefined;
  const issue = patternWindowIssue(s);
  const what = `${found.format.masks.length} patterns${found.detected ? ' (found in the zeros)' : ''}`;
  if (issue) return { note: `${what}, but ${issue}` };
  if (mode === 'dense' || o.use === 'never') return undefined;
  const c = patternCounts(found.format);
  const geo = patternGeometry({ C: s.C, M: s.M, H: s.H, W: s.W, pads: [s.win.padT, s.win.padL, s.win.padB, s.win.padR] });
  const key = patternTuneKey(geo, s.M, found.format);
  const variant = o.variant?.(s.node, key) ?? tunedVariant(key) ?? defaultPatternVariant(geo);
  const est = s.N * patternConvNs(geo, { rows: s.M, kernels: c.kept, weights: c.weights }, variant);
  const K = s.C * 9, P = geo.OH * geo.OW;
  const spmm = convKernelCosts(s.M, K, Math.min(storedCount(w), s.M * K), P);
  const other = { dense: spmm.dense, csr: spmm.csr + IM2COL_NS * K * P }; // both unfold the patches; the pattern kernel does not
  const best = Math.min(other.dense, other.csr) * s.N;
  const kept = `${((100 * c.kept) / c.kernels).toFixed(0)}% of kernels kept`;
  if (est >= best && o.use !== 'always') return { note: `${what}, ${kept}: est ${formatUs(est)}, but ${other.csr < other.dense ? 'csr' : 'dense'} ${formatUs(best)} wins` };
  return {
    decision: { impl: 'pattern', estNs: est, reason: `${what}, ${kept}, est ${formatUs(est)} vs dense ${formatUs(other.dense * s.N)}, csr ${formatUs(other.csr * s.N)}` },
    plan: { format: found.format, variant, reorder: o.reorder ?? true },
  };
}
