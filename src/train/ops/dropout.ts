// Dropout: in train mode zeroes each value with probability `ratio` (seeded by
// the model's RNG) and scales the rest by 1/(1 − ratio); identity in eval mode.
import { attrFloat, type Node } from '../../ir/graph.js';
import { toNumbers } from '../../ir/tensor.js';
import type { TapeCtx, TapeOp, Var } from '../autograd.js';
import type { BuildCtx, OpEntry } from './types.js';
import { nodeFail } from '../../ir/util.js';

class DropoutOp implements TapeOp {
  /** Per element: the scale applied in the last forward (0 or 1/(1−p); 1 in eval mode). */
  private readonly keep: Float32Array;

  constructor(readonly name: string, private readonly ctx: TapeCtx, private readonly x: Var, private readonly y: Var, private readonly ratio: number) {
    this.keep = new Float32Array(x.size);
  }

  forward(): void {
    const x = this.x.data;
    const y = this.y.data;
    const keep = this.keep;
    if (!this.ctx.training || this.ratio === 0) {
      keep.fill(1);
      y.set(x);
      return;
    }
    const scale = 1 / (1 - this.ratio);
    const rng = this.ctx.rng;
    for (let i = 0; i < x.length; i++) {
      keep[i] = rng.next() < this.ratio ? 0 : scale;
      y[i] = x[i] * keep[i];
    }
  }

  backward(): void {
    const dx = this.x.grad;
    const dy = this.y.grad;
    if (!dx || !dy) return;
    for (let i = 0; i < dy.length; i++) dx[i] += dy[i] * this.keep[i];
  }
}

function buildDropout(node: Node, inputs: (Var | undefined)[], ctx: BuildCtx): Var[] {
  const x = inputs[0];
  if (!x) nodeFail(node, `needs a float input`);
  let ratio = attrFloat(node, 'ratio', 0.5);
  if (node.inputs[1]) {
    const t = ctx.constant(node.inputs[1]);
    if (!t || t.size !== 1) nodeFail(node, `ratio "${node.inputs[1]}" must be a constant scalar`);
    ratio = toNumbers(t)[0];
  }
  if (!(ratio >= 0 && ratio < 1)) nodeFail(node, `ratio=${ratio} must be in [0, 1)`);
  if (node.outputs[1]) nodeFail(node, `the mask output is not supported; remove it from the graph`);
  const y = ctx.tape.newVar(node.outputs[0], x.shape, x.grad !== null);
  ctx.tape.push(new DropoutOp(node.name, ctx.tape.ctx, x, y, ratio));
  return [y];
}

export const DROPOUT_OPS: Record<string, OpEntry> = {
  Dropout: { build: buildDropout, paramSlots: [] },
};
