// What every op lowering sees: the graph, the concrete value types, the options,
// and small helpers to read constants and build the common step fields.
import type { Graph, Node } from '../ir/graph.js';
import type { ValueType } from '../ir/ops.js';
import type { Tensor } from '../ir/tensor.js';
import type { KernelsMode, PatternOptions, PlanStep, PlanTarget, WinogradMode } from './plan_types.js';

export interface LowerCtx {
  graph: Graph;
  types: ReadonlyMap<string, ValueType>;
  /** What the plan is for: the C backend has no xnor or Winograd kernel. */
  target: PlanTarget;
  kernels: KernelsMode;
  winograd: WinogradMode;
  threads: number;
  /** Smallest step (in flops) split over the threads. */
  splitFlops: number;
  /** GEMM register tile: packed panels are padded to whole tiles. */
  tile: { mr: number; nr: number };
  patterns: PatternOptions;
  /** Producer node of each value (for hints such as "this input comes out of a ReLU"). */
  producers: ReadonlyMap<string, Node>;
}

/** A lowering gives a step, says its output 0 is its input 0 seen with another shape, or falls back with a reason. */
export type LowerResult = { step: PlanStep } | { alias: true } | { fallback: string };

export function fallback(why: string): LowerResult {
  return { fallback: why };
}

export function typeOf(ctx: LowerCtx, name: string): ValueType {
  const t = ctx.types.get(name);
  if (!t) throw new Error(`planner: value "${name}" has no type`);
  return t;
}

/** The constant behind a value, if it is one (an initializer or folded at plan time). */
export function constOf(ctx: LowerCtx, name: string | undefined): Tensor | undefined {
  return name ? ctx.types.get(name)?.value : undefined;
}

export function constF32(ctx: LowerCtx, name: string | undefined): Tensor<'float32'> | undefined {
  const t = constOf(ctx, name);
  return t?.dtype === 'float32' ? (t as Tensor<'float32'>) : undefined;
}

/** The fields every step shares; kernel-specific fields are added by the caller. */
export function stepBase(node: Node, kernel: string, reason: string, inputs: string[], outputs = [node.outputs[0]]) {
  return {
    name: node.name, op: node.op, nodes: [node.name], inputs: inputs.filter((n) => n !== ''), outputs,
    kernel, reason, split: 1, scratch: 0, scratchAt: 0,
  };
}

const PASS_THROUGH = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout']);

/** Fraction of zeros expected in a value: about half after a ReLU (through reshapes), else unknown (0). */
export function expectedZeros(ctx: LowerCtx, name: string): number {
  let at = ctx.producers.get(name);
  while (at && PASS_THROUGH.has(at.op)) at = ctx.producers.get(at.inputs[0]);
  return at?.op === 'Relu' ? 0.5 : 0;
}

export function product(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}
