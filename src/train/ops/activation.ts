// Elementwise activations: Relu, Clip (ReLU6 = Clip 0..6), LeakyRelu.
// Gradients pass where the function's slope is nonzero (at x = 0 for Relu, and at
// the clip bounds, the gradient is 0, as in PyTorch).
import { attrFloat, type Node } from '../../ir/graph.js';
import { toNumbers } from '../../ir/tensor.js';
import { leakyRelu, leakyReluBack } from '../../kernels/ts/activation.js';
import type { Tape, TapeOp, Var } from '../autograd.js';
import type { BuildCtx, OpEntry } from './types.js';
import { nodeFail } from '../../ir/util.js';

class ClipOp implements TapeOp {
  /** Relu is Clip(0, +∞); LeakyRelu uses `slope` below 0 instead of clipping. */
  constructor(
    readonly name: string, private readonly tape: Tape, private readonly x: Var, private readonly y: Var,
    private readonly lo: number, private readonly hi: number, private readonly slope: number | null,
  ) {}

  forward(): void {
    const x = this.x.data;
    const y = this.y.data;
    if (this.slope === null) this.tape.clip(x, y, this.lo, this.hi);
    else leakyRelu(x, y, this.slope);
  }

  backward(): void {
    const dx = this.x.grad;
    const dy = this.y.grad;
    if (!dx || !dy) return;
    const x = this.x.data;
    if (this.slope === null) this.tape.clipBack(x, dy, dx, this.lo, this.hi);
    else leakyReluBack(x, dy, dx, this.slope);
  }
}

function unary(node: Node, inputs: (Var | undefined)[], ctx: BuildCtx, lo: number, hi: number, slope: number | null): Var[] {
  const x = inputs[0];
  if (!x) nodeFail(node, `needs an input`);
  const y = ctx.tape.newVar(node.outputs[0], x.shape, x.grad !== null);
  ctx.tape.push(new ClipOp(node.name, ctx.tape, x, y, lo, hi, slope));
  return [y];
}

/** Clip's bound from its constant input (opset ≥ 11) or attribute (older form). */
function clipBound(node: Node, ctx: BuildCtx, slot: number, attr: string, dflt: number): number {
  const name = node.inputs[slot];
  if (name) {
    const t = ctx.constant(name);
    if (!t || t.size !== 1) nodeFail(node, `${attr} "${name}" must be a constant scalar to train through Clip`);
    return toNumbers(t)[0];
  }
  return attrFloat(node, attr, dflt);
}

export const ACTIVATION_OPS: Record<string, OpEntry> = {
  Relu: { build: (n, i, c) => unary(n, i, c, 0, Infinity, null), paramSlots: [] },
  LeakyRelu: { build: (n, i, c) => unary(n, i, c, -Infinity, Infinity, attrFloat(n, 'alpha', 0.01)), paramSlots: [] },
  Clip: {
    build: (n, i, c) => unary(n, i, c, clipBound(n, c, 1, 'min', -Infinity), clipBound(n, c, 2, 'max', Infinity), null),
    paramSlots: [],
  },
};
