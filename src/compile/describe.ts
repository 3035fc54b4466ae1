// A plan as text: one line per step (kernel, output shape, why), the kernel
// choices of layers with compressed weights, the nodes on reference kernels,
// and the memory figures.
import { formatBytes } from '../ir/print.js';
import type { Plan, PlanStep } from './plan_types.js';

function shapeOf(plan: Plan, s: PlanStep): string {
  const v = plan.values.get(s.outputs[0]);
  return v ? `[${v.shape.join(',')}]` : '';
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** `name: impl (reason)` for each conv / fc step whose weights carry a compressed format. */
export function kernelChoices(plan: Plan): string[] {
  const out: string[] = [];
  for (const s of plan.steps) {
    if ((s.kind === 'fc' || s.kind === 'conv') && s.weight.format) out.push(`${s.name} (${s.weight.name}): ${s.impl} (${s.reason})`);
  }
  return out;
}

export function describePlan(plan: Plan): string {
  const shapes = Object.entries(plan.inputShapes).map(([k, v]) => `${k} [${v.join(',')}]`).join(', ');
  const lines = [`plan of "${plan.graph}" for ${shapes || 'no inputs'}: ${plan.steps.length} steps, ${plan.threads} thread${plan.threads > 1 ? 's' : ''}, kernels ${plan.kernels}, winograd ${plan.winograd}`];
  const nameW = Math.min(28, Math.max(4, ...plan.steps.map((s) => s.name.length)));
  const kernel = (s: PlanStep) => (s.split > 1 ? `${s.kernel} ×${s.split}` : s.kernel);
  const kernW = Math.min(48, Math.max(6, ...plan.steps.map((s) => kernel(s).length)));
  plan.steps.forEach((s, i) => {
    lines.push(`  ${pad(String(i), 3)} ${pad(s.name, nameW)}  ${pad(kernel(s), kernW)}  ${pad(shapeOf(plan, s), 16)}  ${s.reason}`);
  });
  const choices = kernelChoices(plan);
  lines.push(choices.length ? 'compressed layers:' : 'compressed layers: none');
  for (const c of choices) lines.push(`  ${c}`);
  if (plan.fallbacks.length === 0) lines.push('reference fallbacks: none');
  else {
    lines.push(`reference fallbacks (${plan.fallbacks.length}):`);
    for (const f of plan.fallbacks) lines.push(`  ${f.node} (${f.op}): ${f.why}`);
  }
  const m = plan.memory;
  lines.push(`activation region ${formatBytes(m.regionBytes)} (values without reuse: ${formatBytes(m.intermediateBytes)}; largest scratch ${formatBytes(m.scratchBytes)})`);
  return lines.join('\n');
}
