// What every fusion pass works on (fuse.ts, fuse_int.ts): the lowered steps, the
// reshape aliases (a pass may add one), the plan's inputs and outputs, the
// constants, the value types and the target; and who reads each value.
import type { ValueType } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import type { PlanStep, PlanTarget, QuantBoundary, QuantParams, WinogradMode } from './plan_types.js';

export interface FuseInput {
  steps: PlanStep[];
  /** Output value → the value whose buffer it shares (reshapes); a pass may add some. */
  aliases: Map<string, string>;
  /** The plan's fed inputs and its outputs; a pass may replace one by its 8-bit form (then listed in `boundary`). */
  inputs: string[];
  outputs: string[];
  /** Constant values (initializers and values folded at plan time). */
  consts: ReadonlyMap<string, Tensor>;
  types: ReadonlyMap<string, ValueType>;
  target: PlanTarget;
  boundary: QuantBoundary[];
  /** The plan's Winograd setting ('off' keeps integer convs on im2col too); absent = 'auto'. */
  winograd?: WinogradMode;
}

/** Readers of each value: step inputs, reshapes of it, and being a graph output. */
export function useCounts(f: { steps: readonly PlanStep[]; outputs: readonly string[]; aliases: ReadonlyMap<string, string> }): Map<string, number> {
  const uses = new Map<string, number>();
  const add = (v: string) => uses.set(v, (uses.get(v) ?? 0) + 1);
  for (const s of f.steps) for (const v of s.inputs) add(v);
  for (const src of f.aliases.values()) add(src);
  for (const o of f.outputs) add(o);
  return uses;
}

/** Two (de)quantizations with the same scales, zero points and integer range (per tensor: whatever the tensors' sizes). */
export function sameParams(a: QuantParams, b: QuantParams): boolean {
  return (a.count === 1 || a.inner === b.inner) && a.count === b.count && a.lo === b.lo && a.hi === b.hi &&
    a.scale.every((v, i) => v === b.scale[i]) && a.zero.every((v, i) => v === b.zero[i]);
}
