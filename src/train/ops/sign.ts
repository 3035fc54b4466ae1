// Binary activations (XNOR-Net, BinaryNet, Larq's ste_sign): Sign forward as ONNX
// defines it; backward the clipped straight-through estimator, dx = dy where
// |x| ≤ 1 and 0 elsewhere (the gradient of hardtanh). Abs (XNOR-Net's
// per-position scaling reads |x|) has the gradient sign(x), 0 at x = 0.
import type { Node } from '../../ir/graph.js';
import { nodeFail } from '../../ir/util.js';
import type { TapeOp, Var } from '../autograd.js';
import type { BuildCtx, OpEntry } from './types.js';

/** Inputs beyond this magnitude get no gradient through Sign. */
export const SIGN_STE_CLIP = 1;

class SignOp implements TapeOp {
  constructor(readonly name: string, private readonly x: Var, private readonly y: Var) {}

  forward(): void {
    const x = this.x.data, y = this.y.data;
    for (let i = 0; i < x.length; i++) { const v = x[i]; y[i] = v > 0 ? 1 : v < 0 ? -1 : 0; }
  }

  backward(): void {
    const dx = this.x.grad, dy = this.y.grad;
    if (!dx || !dy) return;
    const x = this.x.data;
    for (let i = 0; i < dy.length; i++) if (Math.abs(x[i]) <= SIGN_STE_CLIP) dx[i] += dy[i];
  }
}

class AbsOp implements TapeOp {
  constructor(readonly name: string, private readonly x: Var, private readonly y: Var) {}

  forward(): void {
    const x = this.x.data, y = this.y.data;
    for (let i = 0; i < x.length; i++) y[i] = Math.abs(x[i]);
  }

  backward(): void {
    const dx = this.x.grad, dy = this.y.grad;
    if (!dx || !dy) return;
    const x = this.x.data;
    for (let i = 0; i < dy.length; i++) dx[i] += x[i] > 0 ? dy[i] : x[i] < 0 ? -dy[i] : 0;
  }
}

function unary(Op: new (name: string, x: Var, y: Var) => TapeOp): (node: Node, inputs: (Var | undefined)[], ctx: BuildCtx) => Var[] {
  return (node, inputs, ctx) => {
    const x = inputs[0];
    if (!x) nodeFail(node, 'needs a float input');
    const y = ctx.tape.newVar(node.outputs[0], x.shape, x.grad !== null);
    ctx.tape.push(new Op(node.name, x, y));
    return [y];
  };
}

export const SIGN_OPS: Record<string, OpEntry> = {
  Sign: { build: unary(SignOp), paramSlots: [] },
  Abs: { build: unary(AbsOp), paramSlots: [] },
};
