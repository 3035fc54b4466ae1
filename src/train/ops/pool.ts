// MaxPool, AveragePool (2-D, NCHW; pads, strides, dilations, ceil_mode,
// count_include_pad), GlobalAveragePool and ReduceMean over H, W. Max pooling
// runs on the backend (it keeps each window's argmax for backward); the others
// run the reference pooling kernels (src/ir/ref/pool.ts).
import { attrInt, attrInts, type Node } from '../../ir/graph.js';
import { avgPool2d, avgPoolBack, globalAvgPoolBack, globalPool, type Pool2dGeom } from '../../ir/ref/pool.js';
import { toNumbers } from '../../ir/tensor.js';
import { kernelAttr, nodeWindow2d } from '../../ir/window.js';
import type { Tape, TapeOp, Var } from '../autograd.js';
import type { BuildCtx, OpEntry } from './types.js';
import { nodeFail } from '../../ir/util.js';

class MaxPoolOp implements TapeOp {
  /** Flat input index of each output's maximum (for backward), stored in the tape's memory. */
  private readonly argBuf: Var;
  private arg: Int32Array | null = null;

  constructor(readonly name: string, private readonly tape: Tape, private readonly x: Var, private readonly y: Var, private readonly g: Pool2dGeom) {
    this.argBuf = tape.buffer(`${name}:argmax`, y.size);
  }

  private args(): Int32Array {
    const d = this.argBuf.data;
    this.arg ??= new Int32Array(d.buffer, d.byteOffset, d.length);
    return this.arg;
  }

  forward(): void {
    this.tape.maxPool(this.x.data, this.y.data, this.args(), this.g);
  }

  backward(): void {
    const dx = this.x.grad;
    const dy = this.y.grad;
    if (!dx || !dy) return;
    this.tape.maxPoolBack(dy, this.args(), dx);
  }
}

class AvgPoolOp implements TapeOp {
  constructor(readonly name: string, private readonly x: Var, private readonly y: Var, private readonly g: Pool2dGeom, private readonly includePad: boolean) {}

  forward(): void {
    avgPool2d(this.g, this.x.data, this.y.data, this.includePad);
  }

  backward(): void {
    const dx = this.x.grad;
    const dy = this.y.grad;
    if (dx && dy) avgPoolBack(this.g, dy, dx, this.includePad);
  }
}

/** Mean over each H×W plane (GlobalAveragePool, ReduceMean over axes 2, 3). */
class PlaneMeanOp implements TapeOp {
  constructor(readonly name: string, private readonly x: Var, private readonly y: Var, private readonly hw: number) {}

  forward(): void {
    globalPool('avg', this.x.data, this.y.data, this.y.size, this.hw);
  }

  backward(): void {
    const dx = this.x.grad;
    const dy = this.y.grad;
    if (dx && dy) globalAvgPoolBack(dy, dx, dy.length, this.hw);
  }
}

function input4d(node: Node, x: Var | undefined): [number, number, number, number] {
  if (!x || x.shape.length !== 4) nodeFail(node, `needs a 4-D NCHW input (got [${x?.shape ?? ''}])`);
  return x.shape as [number, number, number, number];
}

function buildPool(node: Node, inputs: (Var | undefined)[], ctx: BuildCtx, max: boolean): Var[] {
  const x = inputs[0];
  const [N, C, H, W] = input4d(node, x);
  const { win, out: [OH, OW] } = nodeWindow2d(node, [H, W], kernelAttr(node, 2));
  const y = ctx.tape.newVar(node.outputs[0], [N, C, OH, OW], x!.grad !== null);
  const g: Pool2dGeom = { planes: N * C, H, W, OH, OW, win };
  ctx.tape.push(max ? new MaxPoolOp(node.name, ctx.tape, x!, y, g) : new AvgPoolOp(node.name, x!, y, g, attrInt(node, 'count_include_pad', 0) === 1));
  return [y];
}

function buildPlaneMean(node: Node, x: Var | undefined, ctx: BuildCtx, keep: boolean): Var[] {
  const [N, C, H, W] = input4d(node, x);
  const y = ctx.tape.newVar(node.outputs[0], keep ? [N, C, 1, 1] : [N, C], x!.grad !== null);
  ctx.tape.push(new PlaneMeanOp(node.name, x!, y, H * W));
  return [y];
}

function buildReduceMean(node: Node, inputs: (Var | undefined)[], ctx: BuildCtx): Var[] {
  const axesT = node.inputs[1] ? ctx.constant(node.inputs[1]) : undefined;
  const axes = (axesT ? toNumbers(axesT) : attrInts(node, 'axes', [])).map((a) => (a < 0 ? a + 4 : a)).sort();
  if (axes.length !== 2 || axes[0] !== 2 || axes[1] !== 3) nodeFail(node, `only the mean over the spatial axes [2, 3] of NCHW is supported (got axes [${axes}])`);
  return buildPlaneMean(node, inputs[0], ctx, attrInt(node, 'keepdims', 1) === 1);
}

export const POOL_OPS: Record<string, OpEntry> = {
  MaxPool: { build: (n, i, c) => buildPool(n, i, c, true), paramSlots: [] },
  AveragePool: { build: (n, i, c) => buildPool(n, i, c, false), paramSlots: [] },
  GlobalAveragePool: { build: (n, i, c) => buildPlaneMean(n, i[0], c, true), paramSlots: [] },
  ReduceMean: { build: buildReduceMean, paramSlots: [] },
};
