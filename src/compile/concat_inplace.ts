// Concat without copies: a producer whose output only feeds the concat writes
// straight into its slice of the concat's output. With one outer block (batch 1,
// or a concat along axis 0) every slice is contiguous, so any step can; otherwise
// a slice is one block per image, which conv and pool steps write with an image
// stride. Inputs that cannot be placed are still copied by the concat step.
import { useCounts } from './fuse_base.js';
import type { ConcatStep, PlanStep } from './plan_types.js';

/** A value stored inside another value's buffer, `offset` bytes in. */
export interface View {
  into: string;
  offset: number;
}

export interface ConcatInput {
  steps: PlanStep[];
  aliases: ReadonlyMap<string, string>;
  outputs: readonly string[];
  /** Values that are not computed by a step (constants, graph inputs). */
  external: ReadonlySet<string>;
}

/** Whether step p can write value `v` (one image of `block` elements) with images `outBlock` elements apart. */
function canPlace(p: PlanStep, cat: ConcatStep, block: number): boolean {
  if (p.kind === 'concat' || p.outputs.length !== 1) return false;
  if (cat.outer === 1) return true;
  if (p.kind !== 'conv' && p.kind !== 'pool') return false;
  const image = (p.kind === 'conv' ? p.M : p.C) * p.OH * p.OW;
  return image === block && p.N === cat.outer && p.outImageStride === image;
}

/** Places what it can; returns the views and leaves each concat step with only the parts it must still copy. */
export function placeConcatInputs(c: ConcatInput): Map<string, View> {
  const views = new Map<string, View>();
  const uses = useCounts(c);
  const producer = new Map<string, PlanStep>();
  for (const s of c.steps) for (const o of s.outputs) producer.set(o, s);
  for (const cat of c.steps) {
    if (cat.kind !== 'concat' || views.has(cat.outputs[0])) continue;
    const kept = cat.parts.filter((part) => {
      const v = part.value;
      const p = producer.get(v);
      if (c.external.has(v) || uses.get(v) !== 1 || !p || views.has(v) || !canPlace(p, cat, part.block)) return true;
      if (p.kind === 'conv' || p.kind === 'pool') p.outImageStride = cat.outBlock;
      views.set(v, { into: cat.outputs[0], offset: part.at * cat.elemBytes });
      return false;
    });
    const placed = cat.parts.length - kept.length;
    cat.parts = kept;
    if (placed > 0) {
      cat.kernel = kept.length ? 'concat (partly in place)' : 'concat (in place)';
      cat.reason = `${placed} of ${placed + kept.length} inputs written in place by their producers`;
    }
  }
  return views;
}
