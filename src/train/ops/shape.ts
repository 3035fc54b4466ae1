// Shape ops. Flatten, Reshape and Identity are zero-copy views (the output
// shares the input's data and gradient buffers, so their backward is a no-op);
// Concat copies blocks along its axis.
import { attrInt, type Node } from '../../ir/graph.js';
import { toNumbers } from '../../ir/tensor.js';
import { anyGrad, type TapeOp, type Var } from '../autograd.js';
import type { BuildCtx, OpEntry } from './types.js';
import { nodeFail } from '../../ir/util.js';

function first(node: Node, inputs: (Var | undefined)[]): Var {
  const x = inputs[0];
  if (!x) nodeFail(node, `needs a float input`);
  return x;
}

function buildFlatten(node: Node, inputs: (Var | undefined)[], ctx: BuildCtx): Var[] {
  const x = first(node, inputs);
  const r = x.shape.length;
  let axis = attrInt(node, 'axis', 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r) nodeFail(node, `axis ${attrInt(node, 'axis', 1)} is out of range for rank ${r}`);
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  return [ctx.tape.view(node.outputs[0], x, [outer, x.size / outer])];
}

function buildReshape(node: Node, inputs: (Var | undefined)[], ctx: BuildCtx): Var[] {
  const x = first(node, inputs);
  const t = node.inputs[1] ? ctx.constant(node.inputs[1]) : undefined;
  if (!t) nodeFail(node, `the target shape must be a constant initializer to train through Reshape`);
  const allowZero = attrInt(node, 'allowzero', 0) === 1;
  const spec = toNumbers(t);
  const shape = spec.map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const minus = shape.filter((d) => d === -1).length;
  if (minus > 1) nodeFail(node, `shape [${spec}] has more than one -1`);
  if (minus === 1) {
    if (known === 0 || x.size % known !== 0) nodeFail(node, `cannot reshape [${x.shape}] (${x.size} values) to [${spec}]`);
    shape[shape.indexOf(-1)] = x.size / known;
  }
  if (shape.reduce((a, b) => a * b, 1) !== x.size) {
    nodeFail(node, `cannot reshape [${x.shape}] (${x.size} values) to [${spec}]; a fixed batch size in the shape must be -1 to train with other batch sizes`);
  }
  return [ctx.tape.view(node.outputs[0], x, shape)];
}

class ConcatOp implements TapeOp {
  /** outer = product of dims before the axis; each input contributes `chunks[i]` contiguous values per outer index. */
  constructor(readonly name: string, private readonly xs: Var[], private readonly y: Var, private readonly outer: number, private readonly chunks: number[]) {}

  forward(): void {
    const y = this.y.data;
    const total = this.y.size / this.outer;
    let off = 0;
    for (let k = 0; k < this.xs.length; k++) {
      const x = this.xs[k].data;
      const c = this.chunks[k];
      for (let o = 0; o < this.outer; o++) y.set(x.subarray(o * c, (o + 1) * c), o * total + off);
      off += c;
    }
  }

  backward(): void {
    const dy = this.y.grad;
    if (!dy) return;
    const total = this.y.size / this.outer;
    let off = 0;
    for (let k = 0; k < this.xs.length; k++) {
      const g = this.xs[k].grad;
      const c = this.chunks[k];
      if (g) {
        for (let o = 0; o < this.outer; o++) {
          const s = o * total + off;
          for (let i = 0; i < c; i++) g[o * c + i] += dy[s + i];
        }
      }
      off += c;
    }
  }
}

function buildConcat(node: Node, inputs: (Var | undefined)[], ctx: BuildCtx): Var[] {
  const xs = inputs.filter((v): v is Var => v !== undefined);
  if (xs.length === 0 || xs.length !== node.inputs.filter((n) => n).length) nodeFail(node, `every input must be a float tensor`);
  const r = xs[0].shape.length;
  let axis = attrInt(node, 'axis', 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r) nodeFail(node, `axis ${attrInt(node, 'axis', 1)} is out of range for rank ${r}`);
  for (const x of xs) {
    if (x.shape.length !== r || x.shape.some((d, i) => i !== axis && d !== xs[0].shape[i])) {
      nodeFail(node, `input shapes [${xs[0].shape}] and [${x.shape}] differ outside axis ${axis}`);
    }
  }
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((s, x) => s + x.shape[axis], 0);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const y = ctx.tape.newVar(node.outputs[0], shape, anyGrad(...xs));
  ctx.tape.push(new ConcatOp(node.name, xs, y, outer, xs.map((x) => x.size / outer)));
  return [y];
}

export const SHAPE_OPS: Record<string, OpEntry> = {
  Flatten: { build: buildFlatten, paramSlots: [] },
  Reshape: { build: buildReshape, paramSlots: [] },
  Identity: { build: (n, i, c) => [c.tape.view(n.outputs[0], first(n, i), first(n, i).shape)], paramSlots: [] },
  Concat: { build: buildConcat, paramSlots: [] },
};
