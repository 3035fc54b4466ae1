// BatchNormalization over NCHW (or NC). Train mode normalizes with the batch's
// statistics and updates the running ones (ONNX momentum: running = m·running +
// (1 − m)·batch; the running variance takes the unbiased batch variance, as
// PyTorch does). Eval mode uses the running statistics.
import { attrFloat, type Node } from '../../ir/graph.js';
import type { Tape, TapeOp, Var } from '../autograd.js';
import type { BuildCtx, OpEntry } from './types.js';
import { nodeFail } from '../../ir/util.js';

/** Per-channel coefficient arrays in the tape's memory (the plane kernels read them there). */
interface BnViews {
  zeros: Float32Array; mean: Float32Array; scale: Float32Array; shift: Float32Array;
  k1: Float32Array; k2: Float32Array; k0: Float32Array;
  s1: Float32Array; s2: Float32Array; // per plane (N·C)
}

class BatchNormOp implements TapeOp {
  private readonly buf: Var;
  private views: BnViews | null = null;
  private readonly invStd: Float64Array;
  /** The mode the last forward ran in (backward must match it). */
  private trained = false;

  constructor(
    readonly name: string, private readonly tape: Tape,
    private readonly x: Var, private readonly gamma: Var, private readonly beta: Var, private readonly y: Var,
    private readonly runMean: Float32Array, private readonly runVar: Float32Array,
    private readonly N: number, private readonly C: number, private readonly HW: number,
    private readonly eps: number, private readonly momentum: number,
  ) {
    this.invStd = new Float64Array(C);
    this.buf = tape.buffer(`${name}:bn`, 7 * C + 2 * N * C);
  }

  private v(): BnViews {
    if (this.views) return this.views;
    const d = this.buf.data;
    const C = this.C;
    const part = (i: number, n = C) => d.subarray(i * C, i * C + n);
    this.views = {
      zeros: part(0), mean: part(1), scale: part(2), shift: part(3), k1: part(4), k2: part(5), k0: part(6),
      s1: part(7, this.N * C), s2: d.subarray(7 * C + this.N * C, 7 * C + 2 * this.N * C),
    };
    return this.views;
  }

  /** Σ over the images of per-plane sums → one value per channel (float64). */
  private channelSum(s: Float32Array, c: number): number {
    let t = 0;
    for (let n = 0; n < this.N; n++) t += s[n * this.C + c];
    return t;
  }

  private batchStats(v: BnViews): void {
    const { N, C, HW } = this;
    const momentum = this.tape.ctx.bnMomentum ?? this.momentum;
    const x = this.x.data;
    const m = N * HW;
    // Two passes (mean, then squared deviations) for a variance that stays accurate.
    this.tape.planeStats(x, x, N * C, C, HW, v.zeros, v.zeros, v.s1, v.s2);
    for (let c = 0; c < C; c++) v.mean[c] = this.channelSum(v.s1, c) / m;
    this.tape.planeStats(x, x, N * C, C, HW, v.mean, v.mean, v.s1, v.s2);
    for (let c = 0; c < C; c++) {
      const vr = Math.max(0, this.channelSum(v.s2, c) / m);
      this.invStd[c] = 1 / Math.sqrt(vr + this.eps);
      this.runMean[c] = momentum * this.runMean[c] + (1 - momentum) * v.mean[c];
      this.runVar[c] = momentum * this.runVar[c] + (1 - momentum) * (m > 1 ? (vr * m) / (m - 1) : vr);
    }
  }

  forward(): void {
    const v = this.v();
    const C = this.C;
    this.trained = this.tape.ctx.training;
    if (this.trained) this.batchStats(v);
    else {
      for (let c = 0; c < C; c++) {
        v.mean[c] = this.runMean[c];
        this.invStd[c] = 1 / Math.sqrt(this.runVar[c] + this.eps);
      }
    }
    const g = this.gamma.data;
    const b = this.beta.data;
    for (let c = 0; c < C; c++) {
      v.scale[c] = g[c] * this.invStd[c];
      v.shift[c] = b[c] - v.mean[c] * v.scale[c];
    }
    const x = this.x.data;
    this.tape.planeLinear(x, x, this.y.data, this.N * C, C, this.HW, v.scale, v.zeros, v.shift, false);
  }

  backward(): void {
    const dy = this.y.grad;
    if (!dy) return;
    const v = this.v();
    const { N, C, HW } = this;
    const m = N * HW;
    const x = this.x.data;
    const g = this.gamma.data;
    // s1 = Σ dy, s2 = Σ dy·(x − μ) per plane
    this.tape.planeStats(dy, x, N * C, C, HW, v.zeros, v.mean, v.s1, v.s2);
    for (let c = 0; c < C; c++) {
      const is = this.invStd[c];
      const sdy = this.channelSum(v.s1, c);
      const sdyx = this.channelSum(v.s2, c) * is; // Σ dy·x̂
      if (this.gamma.grad) this.gamma.grad[c] += sdyx;
      if (this.beta.grad) this.beta.grad[c] += sdy;
      // dx = γσ⁻¹·(dy − Σdy/m − x̂·Σ(dy·x̂)/m) in train mode, γσ⁻¹·dy in eval mode, as k1·dy + k2·x + k0
      const k = g[c] * is;
      const bq = this.trained ? sdyx / m : 0;
      v.k1[c] = k;
      v.k2[c] = -k * is * bq;
      v.k0[c] = this.trained ? -k * (sdy / m) + k * is * bq * v.mean[c] : 0;
    }
    if (this.x.grad) this.tape.planeLinear(dy, x, this.x.grad, N * C, C, HW, v.k1, v.k2, v.k0, true);
  }
}

function buildBatchNorm(node: Node, inputs: (Var | undefined)[], ctx: BuildCtx): Var[] {
  const [x, gamma, beta] = inputs;
  if (!x || !gamma || !beta) nodeFail(node, `needs input, scale and bias (scale and bias must be float initializers or values)`);
  if (x.shape.length < 2) nodeFail(node, `input must be at least 2-D (N, C, ...), got [${x.shape}]`);
  if (node.outputs.filter((o) => o).length > 1) nodeFail(node, `training-mode outputs (running mean/var) are not supported; export the graph in inference form`);
  const [N, C] = x.shape;
  const HW = x.size / (N * C);
  const [meanName, varName] = [node.inputs[3], node.inputs[4]];
  if (!meanName || !varName) nodeFail(node, `needs running mean and variance inputs`);
  const rm = ctx.buffer(meanName);
  const rv = ctx.buffer(varName);
  for (const [what, n] of [['scale', gamma.size], ['bias', beta.size], ['mean', rm.length], ['var', rv.length]] as const) {
    if (n !== C) nodeFail(node, `${what} has ${n} values, expected ${C} (one per channel)`);
  }
  const y = ctx.tape.newVar(node.outputs[0], x.shape, true);
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const momentum = attrFloat(node, 'momentum', 0.9);
  ctx.tape.push(new BatchNormOp(node.name, ctx.tape, x, gamma, beta, y, rm, rv, N, C, HW, eps, momentum));
  return [y];
}

export const BATCHNORM_OPS: Record<string, OpEntry> = {
  BatchNormalization: { build: buildBatchNorm, paramSlots: [1, 2], bufferSlots: [3, 4] },
};
