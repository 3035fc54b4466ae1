// Conv (2-D, NCHW) as GEMMs per image and group (P = OH·OW output pixels,
// ck = (C/G)·KH·KW), on cols = im2col of the image:
//   forward   Y_n[O_g × P]    = W_g[O_g × ck] · cols_n[ck × P] (+ bias)   written straight into NCHW
//   filter    dW_g[O_g × ck] += dY_n[O_g × P] · cols_nᵀ
//   data      dcols_n         = W_gᵀ · dY_n   → col2im → dX_n
// The packed W is reused across the images of a batch. Training tapes keep
// every image's cols from the forward pass for the filter gradient and overwrite
// them with dcols in backward (the next forward recomputes them).
import { attrInt, attrInts, type Node } from '../../ir/graph.js';
import { anyGrad, type Tape, type TapeOp, type Var } from '../autograd.js';
import type { Patches } from '../../ir/ref/im2col.js';
import { nodeWindow2d } from '../../ir/window.js';
import { gemmCall, imageBatch, type GemmCall, type ImageBatch } from '../backend.js';
import type { BuildCtx, OpEntry } from './types.js';
import { nodeFail } from '../../ir/util.js';

interface ConvGeom {
  N: number; C: number; H: number; W: number;
  O: number; G: number;
  P: number; // output pixels per image
  ck: number; // (C/G)·KH·KW: one group's GEMM depth
}

class Conv2dOp implements TapeOp {
  readonly name: string;
  /** All images' cols (training) or one image's (inference: shared scratch). */
  private readonly cols: Var;
  private readonly perImage: boolean;
  private readonly g: GemmCall = gemmCall();
  private readonly batch = imageBatch();

  constructor(
    name: string, private readonly tape: Tape,
    private readonly x: Var, private readonly w: Var, private readonly b: Var | undefined,
    private readonly y: Var, private readonly geo: ConvGeom, private readonly patches: Patches,
  ) {
    this.name = name;
    const { N, G, ck, P, O } = geo;
    const colsPerImage = G * ck * P;
    this.perImage = tape.withGrad;
    this.cols = tape.withGrad ? tape.buffer(`${name}:cols`, N * colsPerImage) : tape.scratch('conv.cols', colsPerImage);
    const og = O / G;
    tape.planGemm(og, P, ck); // forward
    if (tape.withGrad) {
      tape.planGemm(og, ck, P); // filter gradient
      tape.planGemm(ck, P, og); // data gradient
    }
  }

  private colsOff(n: number): number {
    return this.perImage ? n * this.geo.G * this.geo.ck * this.geo.P : 0;
  }

  forward(): void {
    const { O, G, P, ck } = this.geo;
    const og = O / G;
    const g = this.g;
    g.M = og; g.N = P; g.K = ck;
    g.a = this.w.data; g.lda = ck; g.transA = false;
    g.b = this.cols.data; g.ldb = P; g.transB = false;
    g.c = this.y.data; g.ldc = P; g.accumulate = false; g.reuseA = false;
    g.bias = this.b ? this.b.data : null; g.biasPer = 'row';
    for (let gi = 0; gi < G; gi++) {
      g.aOff = gi * og * ck;
      g.biasOff = gi * og;
      g.cOff = gi * og * P;
      this.tape.im2colGemm(g, this.images(gi, this.x.data));
    }
  }

  /** Group gi of every image: input planes of x (or dx) and the columns. */
  private images(gi: number, x: Float32Array): ImageBatch {
    const { N, C, H, W, O, G, P, ck } = this.geo;
    const b = this.batch;
    b.N = N; b.x = x; b.p = this.patches;
    b.xOff = gi * (C / G) * H * W; b.xStride = C * H * W;
    b.cols = this.cols.data; b.colsOff = gi * ck * P; b.colsStride = this.perImage ? G * ck * P : 0;
    b.bStride = O * P; b.cStride = O * P;
    return b;
  }

  backward(): void {
    const dy = this.y.grad;
    if (!dy) return;
    const { N, C, H, W, O, G, P, ck } = this.geo;
    const og = O / G;
    const cg = C / G;
    const db = this.b?.grad;
    if (db) {
      for (let n = 0; n < N; n++) {
        for (let o = 0; o < O; o++) {
          let s = 0;
          for (let i = (n * O + o) * P, e = i + P; i < e; i++) s += dy[i];
          db[o] += s;
        }
      }
    }
    const cols = this.cols.data;
    const g = this.g;
    g.bias = null;
    const dw = this.w.grad;
    if (dw) {
      // dW_g += dY_n · cols_nᵀ
      g.M = og; g.N = ck; g.K = P;
      g.a = dy; g.lda = P; g.transA = false;
      g.b = cols; g.ldb = P; g.transB = true;
      g.c = dw; g.ldc = ck; g.accumulate = true; g.reuseA = false;
      for (let gi = 0; gi < G; gi++) {
        g.cOff = gi * og * ck;
        for (let n = 0; n < N; n++) {
          g.aOff = (n * O + gi * og) * P;
          g.bOff = this.colsOff(n) + gi * ck * P;
          this.tape.gemm(g);
        }
      }
    }
    const dx = this.x.grad;
    if (!dx) return;
    // dcols_n = W_gᵀ · dY_n, written over cols_n, then scattered back by col2im.
    g.M = ck; g.N = P; g.K = og;
    g.a = this.w.data; g.lda = ck; g.transA = true;
    g.b = dy; g.ldb = P; g.transB = false;
    g.c = cols; g.ldc = P; g.accumulate = false; g.reuseA = false;
    for (let gi = 0; gi < G; gi++) {
      g.aOff = gi * og * ck;
      g.bOff = gi * og * P;
      this.tape.gemmCol2im(g, this.images(gi, dx));
    }
  }
}

function buildConv(node: Node, inputs: (Var | undefined)[], ctx: BuildCtx): Var[] {
  const [x, w, b] = inputs;
  if (!x || !w) nodeFail(node, `needs an input and a weight (got ${node.inputs.length} inputs)`);
  if (x.shape.length !== 4 || w.shape.length !== 4) {
    nodeFail(node, `only 2-D convolution over NCHW is supported (input rank ${x.shape.length}, weight rank ${w.shape.length})`);
  }
  const [N, C, H, W] = x.shape;
  const [O, cg, KH, KW] = w.shape;
  const G = attrInt(node, 'group', 1);
  if (G < 1 || C % G !== 0 || O % G !== 0) nodeFail(node, `group=${G} does not divide ${C} input and ${O} output channels`);
  if (cg !== C / G) nodeFail(node, `weight has ${cg} input channels per group, expected ${C / G} (input ${C} channels, group=${G})`);
  const ks = attrInts(node, 'kernel_shape', [KH, KW]);
  if (ks[0] !== KH || ks[1] !== KW) nodeFail(node, `kernel_shape [${ks}] does not match the weight's ${KH}×${KW}`);
  if (b && (b.size !== O)) nodeFail(node, `bias has ${b.size} values, expected ${O}`);
  const { win, out: [OH, OW] } = nodeWindow2d(node, [H, W], [KH, KW]);
  const y = ctx.tape.newVar(node.outputs[0], [N, O, OH, OW], anyGrad(x, w, b));
  const geo: ConvGeom = { N, C, H, W, O, G, P: OH * OW, ck: cg * KH * KW };
  ctx.tape.push(new Conv2dOp(node.name, ctx.tape, x, w, b, y, geo, { C: C / G, H, W, OH, OW, win }));
  return [y];
}

export const CONV_OPS: Record<string, OpEntry> = {
  Conv: { build: buildConv, paramSlots: [1, 2] },
};
