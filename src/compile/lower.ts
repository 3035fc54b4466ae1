// Lowering of a graph to steps: one table from op to its lowering (the fast
// kernels), reshapes as zero-copy aliases, constant outputs dropped (already
// known), and every other node on its reference kernel with the reason kept.
import type { Node } from '../ir/graph.js';
import { lowerConv, lowerFc, lowerGlobalPool, lowerPool } from './lower_layers.js';
import { fallback, type LowerCtx, type LowerResult } from './lower_ctx.js';
import { lowerBatchNorm, lowerBinary, lowerClamp, lowerConcat, lowerQuant, lowerSoftmax, lowerUnary } from './lower_ops.js';
import { lowerQConv, lowerQMatMul } from './lower_int.js';
import type { PlanStep, ReferenceStep } from './plan_types.js';
import { lowerSign } from './lower_xnor.js';

type Lowering = (node: Node, ctx: LowerCtx) => LowerResult;

/** Same bytes, another shape: the output is the input's buffer. */
const alias: Lowering = (node, ctx) => {
  const extra = node.outputs.slice(1).some((o) => o !== '');
  if (extra) return fallback(`the extra outputs of ${node.op} have no fast kernel`);
  const x = ctx.types.get(node.inputs[0]);
  const y = ctx.types.get(node.outputs[0]);
  if (!x || !y || x.dtype !== y.dtype) return fallback('output dtype differs from the input');
  return { alias: true };
};

export const LOWERINGS: Readonly<Record<string, Lowering>> = {
  Conv: lowerConv,
  Sign: lowerSign,
  Gemm: lowerFc,
  MatMul: lowerFc,
  MaxPool: lowerPool,
  AveragePool: lowerPool,
  GlobalAveragePool: lowerGlobalPool,
  GlobalMaxPool: lowerGlobalPool,
  ReduceMean: lowerGlobalPool,
  ReduceMax: lowerGlobalPool,
  Relu: lowerClamp,
  Clip: lowerClamp,
  LeakyRelu: lowerUnary,
  Sigmoid: lowerUnary,
  Tanh: lowerUnary,
  Add: lowerBinary,
  Sub: lowerBinary,
  Mul: lowerBinary,
  Div: lowerBinary,
  Softmax: lowerSoftmax,
  Concat: lowerConcat,
  QuantizeLinear: lowerQuant,
  DequantizeLinear: lowerQuant,
  QLinearConv: lowerQConv,
  ConvInteger: lowerQConv,
  QLinearMatMul: lowerQMatMul,
  MatMulInteger: lowerQMatMul,
  BatchNormalization: lowerBatchNorm,
  Reshape: alias,
  Flatten: alias,
  Squeeze: alias,
  Unsqueeze: alias,
  Identity: alias,
  Dropout: alias,
};

export interface Lowered {
  steps: PlanStep[];
  /** Output value → the value whose buffer it shares (reshapes). */
  aliases: Map<string, string>;
}

function referenceStep(node: Node, why: string): ReferenceStep {
  return {
    name: node.name, op: node.op, nodes: [node.name], inputs: node.inputs.filter((n) => n !== ''),
    outputs: node.outputs.filter((n) => n !== ''), kernel: 'reference', reason: why, split: 1, scratch: 0, scratchAt: 0,
    kind: 'reference', node, why,
  };
}

export function lowerNodes(ctx: LowerCtx): Lowered {
  const steps: PlanStep[] = [];
  const aliases = new Map<string, string>();
  for (const node of ctx.graph.nodes) {
    const outs = node.outputs.filter((o) => o !== '');
    if (outs.every((o) => ctx.types.get(o)?.value !== undefined)) continue; // known at plan time
    const lowering = LOWERINGS[node.op];
    const r = lowering ? lowering(node, ctx) : fallback(`no fast kernel for ${node.op}`);
    if ('alias' in r) aliases.set(node.outputs[0], node.inputs[0]);
    else if ('step' in r) steps.push(r.step);
    else steps.push(referenceStep(node, r.fallback));
  }
  return { steps, aliases };
}
