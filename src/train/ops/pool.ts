// MaxPool, AveragePool (2-D, NCHW; pads, strides, dilations for MaxPool,
// ceil_mode, count_include_pad), GlobalAveragePool and ReduceMean over H, W.
import { attrInt, attrInts, type Node } from '../../ir/graph.js';
import { fail } from '../../ir/errors.js';
import { toNumbers } from '../../ir/tensor.js';
import type { Tape, TapeOp, Var } from '../autograd.js';
import { where, type BuildCtx, type OpEntry } from './types.js';
import { window2d, type Window2d } from './window.js';

/** NC planes of H×W in, OH×OW out. */
interface Planes { nc: number; H: number; W: number }

class MaxPoolOp implements TapeOp {
  /** Flat input index of each output's maximum (for backward), stored in the tape's memory. */
  private readonly argBuf: Var;
  private arg: Int32Array | null = null;

  constructor(readonly name: string, private readonly tape: Tape, private readonly x: Var, private readonly y: Var, private readonly pl: Planes, private readonly g: Window2d) {
    this.argBuf = tape.buffer(`${name}:argmax`, y.size);
  }

  private args(): Int32Array {
    const d = this.argBuf.data;
    this.arg ??= new Int32Array(d.buffer, d.byteOffset, d.length);
    return this.arg;
  }

  forward(): void {
    this.tape.maxPool(this.x.data, this.y.data, this.args(), this.pl.nc, this.pl.H, this.pl.W, this.g);
  }

  backward(): void {
    const dx = this.x.grad;
    const dy = this.y.grad;
    if (!dx || !dy) return;
    this.tape.maxPoolBack(dy, this.args(), dx);
  }
}

/** Max over each window; arg = flat index of the first maximum (row-major window order). */
export function maxPool(x: Float32Array, y: Float32Array, arg: Int32Array, nc: number, H: number, W: number, g: Window2d): void {
  if (g.kh === 2 && g.kw === 2 && g.sh === 2 && g.sw === 2 && g.dh === 1 && g.dw === 1 && g.pt === 0 && g.pl === 0 && 2 * g.oh <= H && 2 * g.ow <= W) {
    maxPool2x2(x, y, arg, nc, H, W, g.oh, g.ow);
    return;
  }
  let o = 0;
  for (let p = 0; p < nc; p++) {
    const base = p * H * W;
    for (let oh = 0; oh < g.oh; oh++) {
      for (let ow = 0; ow < g.ow; ow++, o++) {
        let best = -Infinity;
        let bi = -1;
        for (let ki = 0; ki < g.kh; ki++) {
          const ih = oh * g.sh - g.pt + ki * g.dh;
          if (ih < 0 || ih >= H) continue;
          for (let kj = 0; kj < g.kw; kj++) {
            const iw = ow * g.sw - g.pl + kj * g.dw;
            if (iw < 0 || iw >= W) continue;
            const v = x[base + ih * W + iw];
            if (v > best || bi < 0) { best = v; bi = base + ih * W + iw; }
          }
        }
        y[o] = best;
        arg[o] = bi;
      }
    }
  }
}

/** dx[arg[o]] += dy[o]. */
export function maxPoolBack(dy: Float32Array, arg: Int32Array, dx: Float32Array): void {
  for (let o = 0; o < dy.length; o++) if (arg[o] >= 0) dx[arg[o]] += dy[o];
}

/** The common 2×2 stride-2 unpadded window, unrolled (first maximum wins, as in the general path). */
function maxPool2x2(x: Float32Array, y: Float32Array, arg: Int32Array, nc: number, H: number, W: number, OH: number, OW: number): void {
  let o = 0;
  for (let p = 0; p < nc; p++) {
    for (let i = 0; i < OH; i++) {
      const r0 = p * H * W + 2 * i * W;
      const r1 = r0 + W;
      for (let j = 0; j < OW; j++, o++) {
        const a = r0 + 2 * j;
        const c = r1 + 2 * j;
        const ia = x[a + 1] > x[a] ? a + 1 : a;
        const ic = x[c + 1] > x[c] ? c + 1 : c;
        const best = x[ic] > x[ia] ? ic : ia;
        y[o] = x[best];
        arg[o] = best;
      }
    }
  }
}

class AvgPoolOp implements TapeOp {
  /** 1 / (number of elements averaged) for each output position of a plane. */
  private readonly inv: Float32Array;

  constructor(readonly name: string, private readonly x: Var, private readonly y: Var, private readonly pl: Planes, private readonly g: Window2d, includePad: boolean) {
    const { H, W } = pl;
    this.inv = new Float32Array(g.oh * g.ow);
    for (let oh = 0; oh < g.oh; oh++) {
      for (let ow = 0; ow < g.ow; ow++) {
        // count_include_pad counts pad cells but never cells past the padded input (ceil_mode overhang).
        const [h0, h1] = includePad ? [-g.pt, H + g.pb] : [0, H];
        const [w0, w1] = includePad ? [-g.pl, W + g.pr] : [0, W];
        const rows = Math.min(oh * g.sh - g.pt + g.kh, h1) - Math.max(oh * g.sh - g.pt, h0);
        const cols = Math.min(ow * g.sw - g.pl + g.kw, w1) - Math.max(ow * g.sw - g.pl, w0);
        this.inv[oh * g.ow + ow] = 1 / Math.max(1, rows * cols);
      }
    }
  }

  /** Calls body(outIndex, inIndex) for every (output, in-image input) pair. */
  private sweep(body: (o: number, i: number) => void): void {
    const { nc, H, W } = this.pl;
    const g = this.g;
    let o = 0;
    for (let p = 0; p < nc; p++) {
      const base = p * H * W;
      for (let oh = 0; oh < g.oh; oh++) {
        const h0 = Math.max(0, oh * g.sh - g.pt);
        const h1 = Math.min(H, oh * g.sh - g.pt + g.kh);
        for (let ow = 0; ow < g.ow; ow++, o++) {
          const w0 = Math.max(0, ow * g.sw - g.pl);
          const w1 = Math.min(W, ow * g.sw - g.pl + g.kw);
          for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) body(o, base + ih * W + iw);
        }
      }
    }
  }

  forward(): void {
    const x = this.x.data;
    const y = this.y.data;
    const inv = this.inv;
    const per = inv.length;
    y.fill(0);
    this.sweep((o, i) => { y[o] += x[i]; });
    for (let o = 0; o < y.length; o++) y[o] *= inv[o % per];
  }

  backward(): void {
    const dx = this.x.grad;
    const dy = this.y.grad;
    if (!dx || !dy) return;
    const inv = this.inv;
    const per = inv.length;
    this.sweep((o, i) => { dx[i] += dy[o] * inv[o % per]; });
  }
}

/** Mean over each H×W plane (GlobalAveragePool, ReduceMean over axes 2, 3). */
class PlaneMeanOp implements TapeOp {
  constructor(readonly name: string, private readonly x: Var, private readonly y: Var, private readonly hw: number) {}

  forward(): void {
    const x = this.x.data;
    const y = this.y.data;
    const hw = this.hw;
    for (let p = 0; p < y.length; p++) {
      let s = 0;
      for (let i = p * hw; i < (p + 1) * hw; i++) s += x[i];
      y[p] = s / hw;
    }
  }

  backward(): void {
    const dx = this.x.grad;
    const dy = this.y.grad;
    if (!dx || !dy) return;
    const hw = this.hw;
    for (let p = 0; p < dy.length; p++) {
      const g = dy[p] / hw;
      for (let i = p * hw; i < (p + 1) * hw; i++) dx[i] += g;
    }
  }
}

function input4d(node: Node, x: Var | undefined): [number, number, number, number] {
  if (!x || x.shape.length !== 4) fail(`${where(node)}: needs a 4-D NCHW input (got [${x?.shape ?? ''}])`);
  return x.shape as [number, number, number, number];
}

function buildPool(node: Node, inputs: (Var | undefined)[], ctx: BuildCtx, max: boolean): Var[] {
  const x = inputs[0];
  const [N, C, H, W] = input4d(node, x);
  const ks = attrInts(node, 'kernel_shape', []);
  if (ks.length !== 2) fail(`${where(node)}: kernel_shape must have 2 values (got [${ks}])`);
  if (!max && attrInts(node, 'dilations', [1, 1]).some((d) => d !== 1)) fail(`${where(node)}: dilated AveragePool is not supported`);
  const g = window2d(node, H, W, ks[0], ks[1]);
  const y = ctx.tape.newVar(node.outputs[0], [N, C, g.oh, g.ow], x!.grad !== null);
  const pl = { nc: N * C, H, W };
  ctx.tape.push(max ? new MaxPoolOp(node.name, ctx.tape, x!, y, pl, g) : new AvgPoolOp(node.name, x!, y, pl, g, attrInt(node, 'count_include_pad', 0) === 1));
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
  if (axes.length !== 2 || axes[0] !== 2 || axes[1] !== 3) fail(`${where(node)}: only the mean over the spatial axes [2, 3] of NCHW is supported (got axes [${axes}])`);
  return buildPlaneMean(node, inputs[0], ctx, attrInt(node, 'keepdims', 1) === 1);
}

export const POOL_OPS: Record<string, OpEntry> = {
  MaxPool: { build: (n, i, c) => buildPool(n, i, c, true), paramSlots: [] },
  AveragePool: { build: (n, i, c) => buildPool(n, i, c, false), paramSlots: [] },
  GlobalAveragePool: { build: (n, i, c) => buildPlaneMean(n, i[0], c, true), paramSlots: [] },
  ReduceMean: { build: buildReduceMean, paramSlots: [] },
};
