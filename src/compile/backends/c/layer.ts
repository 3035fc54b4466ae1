// What one step's C emitter produces and what it may ask of the backend: the
// layer function (its own constants inlined), the plan values it is called with,
// its constant arrays and the prelude helpers / headers it uses.
import type { Plan, PlanStep } from '../../plan_types.js';
import { cFloat, cType, type CArray } from './writer.js';

export interface CLayer {
  /** The function definition, named ctx.id. */
  code: string[];
  /** Plan values passed as its arguments, in order (arena pointers or constant arrays); SCRATCH = the step's scratch. */
  args: string[];
  arrays: CArray[];
  helpers: string[];
  /** Standard headers beyond <stdint.h> (math.h for expf, HUGE_VALF; string.h for memcpy). */
  includes: string[];
  /** The kernel, for the report. */
  kernel: string;
  /** How its weights are stored, for the report ('' without weights). */
  weights: string;
}

export interface CStepCtx {
  plan: Plan;
  /** Identifier of the step's function and prefix of its arrays. */
  id: string;
  /** Where the step is, for error messages: `node "conv1" (Conv)`. */
  where: string;
}

export type CEmitter<S extends PlanStep = PlanStep> = (step: S, ctx: CStepCtx) => CLayer;

/** C element type of a plan value. */
export function valueType(ctx: CStepCtx, value: string): string {
  const v = ctx.plan.values.get(value);
  if (!v) throw new Error(`C backend: value "${value}" is not in the plan`);
  return cType(v.dtype, ctx.where);
}

/** The argument standing for the step's scratch area (a float pointer). */
export const SCRATCH = '#scratch';

/** `static NNZ_NOINLINE void id(const T *x, T *y)` for the step's parameters (inputs const), then `extra` ones. */
export function signature(ctx: CStepCtx, ins: [string, string][], outs: [string, string][], extra: string[] = []): string {
  const params = [
    ...ins.map(([p, v]) => `const ${valueType(ctx, v)} *${p}`),
    ...outs.map(([p, v]) => `${valueType(ctx, v)} *${p}`),
    ...extra,
  ];
  return `static NNZ_NOINLINE void ${ctx.id}(${params.join(', ')}) {`;
}

export function layer(partial: Partial<CLayer> & Pick<CLayer, 'code' | 'args' | 'kernel'>): CLayer {
  return { arrays: [], helpers: [], includes: [], weights: '', ...partial };
}

/** Statements clamping `v` (a float lvalue) to [lo, hi], either side left out when infinite. */
export function clampLines(v: string, clamp: [number, number] | undefined): string[] {
  if (!clamp) return [];
  const [lo, hi] = clamp;
  const out: string[] = [];
  if (lo !== -Infinity) out.push(`if (${v} < ${cFloat(lo)}) ${v} = ${cFloat(lo)};`);
  if (hi !== Infinity) out.push(`if (${v} > ${cFloat(hi)}) ${v} = ${cFloat(hi)};`);
  return out;
}

/** A layer's bias: its array (none when absent) and the C expression of bias[i]. */
export function biasOf(ctx: CStepCtx, bias: Float32Array | undefined): { arrays: CArray[]; at(i: string): string } {
  if (!bias) return { arrays: [], at: () => '0.0f' };
  const name = `${ctx.id}_b`;
  return { arrays: [{ name, type: 'float', values: bias, what: 'bias' }], at: (i) => `${name}[${i}]` };
}

export function indent(lines: string[], by = '  '): string[] {
  return lines.map((l) => by + l);
}
