// Conv (2-D, NCHW) as batch-level GEMMs per group:
//   forward   Yt[O × N·P]  = W[O × C·K]      · cols[C·K × N·P]     (then Yt → NCHW, + bias)
//   filter    dW[O × C·K] += dYt[O × N·P]    · cols^T
//   data      dcols        = W^T[C·K × O]    · dYt   → col2im → dX
// (per group, the O, C·K rows are the group's slices). cols is kept from the
// forward pass and overwritten by dcols in backward (the next forward recomputes it).
import { attrInt, attrInts, type Node } from '../../ir/graph.js';
import { fail } from '../../ir/errors.js';
import { anyGrad, type Tape, type TapeCtx, type TapeOp, type Var } from '../autograd.js';
import { col2im, colPlan, im2col, type ColPlan } from './im2col.js';
import { where, type BuildCtx, type OpEntry } from './types.js';
import { window2d } from './window.js';

interface ConvGeom {
  N: number; C: number; H: number; W: number;
  O: number; G: number;
  P: number; // output pixels per image
  ck: number; // (C/G)·KH·KW: one group's GEMM depth
}

class Conv2dOp implements TapeOp {
  readonly name: string;
  private readonly ctx: TapeCtx;
  /** Persistent im2col buffer (training tapes) or null (inference: shared scratch). */
  private readonly cols: Float32Array | null;

  constructor(
    name: string, tape: Tape,
    private readonly x: Var, private readonly w: Var, private readonly b: Var | undefined,
    private readonly y: Var, private readonly geo: ConvGeom, private readonly plan: ColPlan,
  ) {
    this.name = name;
    this.ctx = tape.ctx;
    this.cols = tape.withGrad ? new Float32Array(geo.G * geo.ck * geo.N * geo.P) : null;
  }

  private colsBuf(): Float32Array {
    const { G, ck, N, P } = this.geo;
    return this.cols ?? this.ctx.scratch('conv.cols', G * ck * N * P);
  }

  forward(): void {
    const { N, C, H, W, O, G, P, ck } = this.geo;
    const NP = N * P;
    const og = O / G;
    const cols = this.colsBuf();
    im2col(this.x.data, N, C, H, W, this.plan, cols);
    const yt = this.ctx.scratch('conv.yt', O * NP);
    const w = this.w.data;
    for (let g = 0; g < G; g++) {
      this.ctx.backend.sgemm(
        og, NP, ck,
        w.subarray(g * og * ck, (g + 1) * og * ck), false,
        cols.subarray(g * ck * NP, (g + 1) * ck * NP), false,
        yt.subarray(g * og * NP, (g + 1) * og * NP), false,
      );
    }
    // Yt[o][n·P + p] → y[n][o][p] + bias[o]
    const y = this.y.data;
    const bias = this.b?.data;
    for (let o = 0; o < O; o++) {
      const bv = bias ? bias[o] : 0;
      for (let n = 0; n < N; n++) {
        const src = o * NP + n * P;
        const dst = (n * O + o) * P;
        for (let p = 0; p < P; p++) y[dst + p] = yt[src + p] + bv;
      }
    }
  }

  backward(): void {
    const dy = this.y.grad;
    if (!dy) return;
    const { N, C, H, W, O, G, P, ck } = this.geo;
    const NP = N * P;
    const og = O / G;
    const dyt = this.ctx.scratch('conv.dyt', O * NP);
    const db = this.b?.grad;
    for (let o = 0; o < O; o++) {
      let s = 0;
      for (let n = 0; n < N; n++) {
        const src = (n * O + o) * P;
        const dst = o * NP + n * P;
        for (let p = 0; p < P; p++) {
          const v = dy[src + p];
          dyt[dst + p] = v;
          s += v;
        }
      }
      if (db) db[o] += s;
    }
    const cols = this.colsBuf();
    const be = this.ctx.backend;
    const dw = this.w.grad;
    const w = this.w.data;
    for (let g = 0; g < G; g++) {
      const dytG = dyt.subarray(g * og * NP, (g + 1) * og * NP);
      const colsG = cols.subarray(g * ck * NP, (g + 1) * ck * NP);
      if (dw) be.sgemm(og, ck, NP, dytG, false, colsG, true, dw.subarray(g * og * ck, (g + 1) * og * ck), true);
      // cols is no longer needed for this group: reuse it for dcols.
      if (this.x.grad) be.sgemm(ck, NP, og, w.subarray(g * og * ck, (g + 1) * og * ck), true, dytG, false, colsG, false);
    }
    if (this.x.grad) col2im(cols, N, C, H, W, this.plan, this.x.grad);
  }
}

function buildConv(node: Node, inputs: (Var | undefined)[], ctx: BuildCtx): Var[] {
  const [x, w, b] = inputs;
  if (!x || !w) fail(`${where(node)}: needs an input and a weight (got ${node.inputs.length} inputs)`);
  if (x.shape.length !== 4 || w.shape.length !== 4) {
    fail(`${where(node)}: only 2-D convolution over NCHW is supported (input rank ${x.shape.length}, weight rank ${w.shape.length})`);
  }
  const [N, C, H, W] = x.shape;
  const [O, cg, KH, KW] = w.shape;
  const G = attrInt(node, 'group', 1);
  if (G < 1 || C % G !== 0 || O % G !== 0) fail(`${where(node)}: group=${G} does not divide ${C} input and ${O} output channels`);
  if (cg !== C / G) fail(`${where(node)}: weight has ${cg} input channels per group, expected ${C / G} (input ${C} channels, group=${G})`);
  const ks = attrInts(node, 'kernel_shape', [KH, KW]);
  if (ks[0] !== KH || ks[1] !== KW) fail(`${where(node)}: kernel_shape [${ks}] does not match the weight's ${KH}×${KW}`);
  if (b && (b.size !== O)) fail(`${where(node)}: bias has ${b.size} values, expected ${O}`);
  const g = window2d(node, H, W, KH, KW);
  const P = g.oh * g.ow;
  const y = ctx.tape.newVar(node.outputs[0], [N, O, g.oh, g.ow], anyGrad(x, w, b));
  const geo: ConvGeom = { N, C, H, W, O, G, P, ck: cg * KH * KW };
  ctx.tape.push(new Conv2dOp(node.name, ctx.tape, x, w, b, y, geo, colPlan(g, H, W)));
  return [y];
}

export const CONV_OPS: Record<string, OpEntry> = {
  Conv: { build: buildConv, paramSlots: [1, 2] },
};
