// The pattern layers of a model as `inspect` shows them: per layer its patterns
// (3×3 pictures with how many kernels use each), the kernels and weights kept,
// and the kernel the compiler chose for it at batch 1 with the reason.
import { planGraph } from '../compile/plan.js';
import type { ConvStep } from '../compile/plan_types.js';
import type { Graph } from '../ir/graph.js';
import { detectPatterns, maskPicture, patternCounts } from '../ir/pattern.js';
import type { PatternFormat } from '../ir/tensor_format.js';
import { formatTable } from './table.js';

export interface PatternLayerRow {
  node: string;
  weight: string;
  /** Stored as patterns, or found in the zeros of a weight stored otherwise. */
  source: 'format' | 'zeros';
  patterns: { picture: string; kernels: number }[];
  kernels: number;
  kept: number;
  weights: number;
  /** The compiler's kernel at batch 1 and why (absent when the graph does not plan). */
  kernel?: string;
  reason?: string;
}

function patternsOf(g: Graph, weight: string): { f: PatternFormat; source: 'format' | 'zeros' } | undefined {
  const f = g.formats.get(weight), t = g.initializers.get(weight);
  if (f?.kind === 'pattern') return { f, source: 'format' };
  const found = t?.dtype === 'float32' ? detectPatterns(t.data as Float32Array, t.shape) : undefined;
  return found && { f: found, source: 'zeros' };
}

export function patternLayerRows(g: Graph): PatternLayerRow[] {
  let steps: ConvStep[] = [];
  try {
    const shapes = Object.fromEntries(g.inputs.filter((v) => !g.initializers.has(v.name)).map((v) => [v.name, v.shape.map((d) => (typeof d === 'number' ? d : 1))]));
    steps = planGraph(g, { inputShapes: shapes }).steps.filter((s): s is ConvStep => s.kind === 'conv');
  } catch {
    // a graph the planner cannot take (dynamic shapes...): the rows go without the kernel
  }
  const rows: PatternLayerRow[] = [];
  for (const node of g.nodes.filter((n) => n.op === 'Conv')) {
    const found = patternsOf(g, node.inputs[1]);
    if (!found) continue;
    const c = patternCounts(found.f);
    const step = steps.find((s) => s.nodes.includes(node.name));
    rows.push({
      node: node.name, weight: node.inputs[1], source: found.source, kernels: c.kernels, kept: c.kept, weights: c.weights,
      patterns: found.f.masks.map((m, i) => ({ picture: maskPicture(m), kernels: c.perPattern[i] })).sort((a, b) => b.kernels - a.kernels),
      kernel: step?.kernel, reason: step?.reason,
    });
  }
  return rows;
}

/** The layer as compress names it (the weight without ".weight"), and its node. */
function layerName(r: PatternLayerRow): string {
  const name = r.weight.replace(/\.weight$/, '');
  return name === r.node ? name : `${name} (${r.node})`;
}

export function formatPatternLayers(rows: PatternLayerRow[]): string {
  if (!rows.length) return 'pattern layers: none';
  const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)}%`;
  const table = formatTable(['layer', 'patterns', 'kernels kept', 'weights kept', 'kernel (batch 1)'], rows.map((r) => [
    layerName(r), `${r.patterns.length}${r.source === 'zeros' ? ' (from zeros)' : ''}`, `${r.kept}/${r.kernels} (${pct(r.kept, r.kernels)})`, r.weights, r.kernel ?? '-',
  ]));
  const lines = ['pattern layers (patterns as rows of the 3×3 window, × kernels using each; then the compiler\'s reason):', table];
  for (const r of rows) {
    lines.push(`  ${layerName(r)}: ${r.patterns.map((p) => `${p.picture} ×${p.kernels}`).join(', ')}`);
    if (r.reason) lines.push(`    ${r.reason}`);
  }
  return lines.join('\n');
}
