// QuantizeLinear and DequantizeLinear in training (quantization-aware training of
// a QDQ graph): the forward pass computes them exactly (ir/quant.ts; the integers
// travel as float32 values), the backward pass is the straight-through estimator
// with clipping — a QuantizeLinear passes dy/scale where the value did not
// saturate, a DequantizeLinear passes dy·scale, so a Q→DQ pair passes dy inside
// the quantization range and 0 outside. Per-tensor parameters only.
import type { Node } from '../../ir/graph.js';
import { dequantizeValue, quantizeValue, QUANT_RANGES, roundHalfEven } from '../../ir/quant.js';
import { toNumbers } from '../../ir/tensor.js';
import { nodeFail } from '../../ir/util.js';
import type { TapeOp, Var } from '../autograd.js';
import type { BuildCtx, OpEntry } from './types.js';

class QuantOp implements TapeOp {
  constructor(
    readonly name: string, private readonly quantize: boolean, private readonly x: Var, private readonly y: Var,
    private readonly scale: number, private readonly zero: number, private readonly lo: number, private readonly hi: number,
  ) {}

  forward(): void {
    const { scale: s, zero: z, lo, hi } = this;
    const x = this.x.data, y = this.y.data;
    if (this.quantize) for (let i = 0; i < x.length; i++) y[i] = quantizeValue(x[i], s, z, lo, hi);
    else for (let i = 0; i < x.length; i++) y[i] = dequantizeValue(x[i], s, z);
  }

  backward(): void {
    const dx = this.x.grad, dy = this.y.grad;
    if (!dx || !dy) return;
    const { scale: s, zero: z, lo, hi } = this;
    if (!this.quantize) {
      for (let i = 0; i < dy.length; i++) dx[i] += dy[i] * s;
      return;
    }
    const x = this.x.data;
    for (let i = 0; i < dy.length; i++) {
      const q = roundHalfEven(Math.fround(x[i] / s)) + z;
      if (q >= lo && q <= hi) dx[i] += dy[i] / s;
    }
  }
}

/** The constant per-tensor scale and zero point of a (de)quantization node. */
function params(node: Node, ctx: BuildCtx): { scale: number; zero: number; lo: number; hi: number } {
  const s = ctx.constant(node.inputs[1]);
  const z = node.inputs[2] ? ctx.constant(node.inputs[2]) : undefined;
  if (!s || s.size !== 1 || (node.inputs[2] && (!z || z.size !== 1))) {
    nodeFail(node, 'scale and zero point must be constant scalars to train through it (per-axis activation quantization cannot be trained)');
  }
  const dtype = node.op === 'QuantizeLinear' ? z?.dtype ?? 'uint8' : z?.dtype ?? 'int32';
  const range = QUANT_RANGES[dtype] ?? QUANT_RANGES.int32!;
  return { scale: toNumbers(s)[0], zero: z ? toNumbers(z)[0] : 0, lo: range[0], hi: range[1] };
}

function build(node: Node, inputs: (Var | undefined)[], ctx: BuildCtx): Var[] {
  const x = inputs[0];
  if (!x) nodeFail(node, 'needs a computed input (constant inputs are folded before training)');
  const p = params(node, ctx);
  const y = ctx.tape.newVar(node.outputs[0], x.shape, x.grad !== null);
  ctx.tape.push(new QuantOp(node.name, node.op === 'QuantizeLinear', x, y, p.scale, p.zero, p.lo, p.hi));
  return [y];
}

export const QUANT_OPS: Record<string, OpEntry> = {
  QuantizeLinear: { build, paramSlots: [] },
  DequantizeLinear: { build, paramSlots: [] },
};
