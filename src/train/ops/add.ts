// Add and Mul with numpy broadcasting (residual connections, bias vectors,
// XNOR-Net's per-position scaling). An input whose shape differs from the output
// reads through an index map computed once at build time; its gradient is the
// sum over the broadcast positions.
import type { Node } from '../../ir/graph.js';
import { broadcastShapes, nodeFail } from '../../ir/util.js';
import { anyGrad, type TapeOp, type Var } from '../autograd.js';
import type { BuildCtx, OpEntry } from './types.js';

/** For each output element, the index of the input element it reads (null when shapes are equal). */
function indexMap(inShape: readonly number[], outShape: readonly number[]): Int32Array | null {
  const r = outShape.length;
  const padded = [...new Array(r - inShape.length).fill(1), ...inShape];
  if (padded.every((d, i) => d === outShape[i])) return null;
  const strides = new Array<number>(r);
  let s = 1;
  for (let i = r - 1; i >= 0; i--) {
    strides[i] = padded[i] === 1 ? 0 : s;
    s *= padded[i];
  }
  const size = outShape.reduce((x, y) => x * y, 1);
  const map = new Int32Array(size);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < size; o++) {
    let src = 0;
    for (let i = 0; i < r; i++) src += idx[i] * strides[i];
    map[o] = src;
    for (let i = r - 1; i >= 0 && ++idx[i] === outShape[i]; i--) idx[i] = 0;
  }
  return map;
}

class AddOp implements TapeOp {
  constructor(
    readonly name: string, protected readonly a: Var, protected readonly b: Var, protected readonly y: Var,
    protected readonly ma: Int32Array | null, protected readonly mb: Int32Array | null,
  ) {}

  forward(): void {
    const a = this.a.data;
    const b = this.b.data;
    const y = this.y.data;
    const { ma, mb } = this;
    if (!ma && !mb) for (let i = 0; i < y.length; i++) y[i] = a[i] + b[i];
    else if (!ma) for (let i = 0; i < y.length; i++) y[i] = a[i] + b[mb![i]];
    else if (!mb) for (let i = 0; i < y.length; i++) y[i] = a[ma[i]] + b[i];
    else for (let i = 0; i < y.length; i++) y[i] = a[ma[i]] + b[mb[i]];
  }

  backward(): void {
    const dy = this.y.grad;
    if (!dy) return;
    if (this.a.grad) accumulate(this.a.grad, dy, this.ma);
    if (this.b.grad) accumulate(this.b.grad, dy, this.mb);
  }
}

/** y = a·b; da = dy·b, db = dy·a (summed over broadcast positions). */
class MulOp extends AddOp {
  override forward(): void {
    const a = this.a.data, b = this.b.data, y = this.y.data, { ma, mb } = this;
    for (let i = 0; i < y.length; i++) y[i] = a[ma ? ma[i] : i] * b[mb ? mb[i] : i];
  }

  override backward(): void {
    const dy = this.y.grad;
    if (!dy) return;
    const a = this.a.data, b = this.b.data, ga = this.a.grad, gb = this.b.grad, { ma, mb } = this;
    for (let i = 0; i < dy.length; i++) {
      const ia = ma ? ma[i] : i, ib = mb ? mb[i] : i;
      if (ga) ga[ia] += dy[i] * b[ib];
      if (gb) gb[ib] += dy[i] * a[ia];
    }
  }
}

function accumulate(g: Float32Array, dy: Float32Array, m: Int32Array | null): void {
  if (!m) for (let i = 0; i < dy.length; i++) g[i] += dy[i];
  else for (let i = 0; i < dy.length; i++) g[m[i]] += dy[i];
}

function buildArith(Op: typeof AddOp): (node: Node, inputs: (Var | undefined)[], ctx: BuildCtx) => Var[] {
  return (node, inputs, ctx) => {
    const [a, b] = inputs;
    if (!a || !b) nodeFail(node, `needs two float inputs`);
    const shape = broadcastShapes(node, [a.shape, b.shape]);
    const y = ctx.tape.newVar(node.outputs[0], shape, anyGrad(a, b));
    ctx.tape.push(new Op(node.name, a, b, y, indexMap(a.shape, shape), indexMap(b.shape, shape)));
    return [y];
  };
}

export const ADD_OPS: Record<string, OpEntry> = {
  Add: { build: buildArith(AddOp), paramSlots: [0, 1] },
  Mul: { build: buildArith(MulOp), paramSlots: [0, 1] },
};
