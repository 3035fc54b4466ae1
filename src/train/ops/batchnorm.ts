// BatchNormalization over NCHW (or NC). Train mode normalizes with the batch's
// statistics and updates the running ones (ONNX momentum: running = m·running +
// (1 − m)·batch; the running variance takes the unbiased batch variance, as
// PyTorch does). Eval mode uses the running statistics.
import { attrFloat, type Node } from '../../ir/graph.js';
import { fail } from '../../ir/errors.js';
import type { TapeCtx, TapeOp, Var } from '../autograd.js';
import { where, type BuildCtx, type OpEntry } from './types.js';

class BatchNormOp implements TapeOp {
  private readonly mean: Float64Array;
  private readonly invStd: Float64Array;
  /** The mode the last forward ran in (backward must match it). */
  private trained = false;

  constructor(
    readonly name: string, private readonly ctx: TapeCtx,
    private readonly x: Var, private readonly gamma: Var, private readonly beta: Var, private readonly y: Var,
    private readonly runMean: Float32Array, private readonly runVar: Float32Array,
    private readonly N: number, private readonly C: number, private readonly HW: number,
    private readonly eps: number, private readonly momentum: number,
  ) {
    this.mean = new Float64Array(C);
    this.invStd = new Float64Array(C);
  }

  private batchStats(): void {
    const { N, C, HW, momentum } = this;
    const x = this.x.data;
    const m = N * HW;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let n = 0; n < N; n++) for (let i = (n * C + c) * HW, e = i + HW; i < e; i++) s += x[i];
      const mu = s / m;
      let v = 0;
      for (let n = 0; n < N; n++) for (let i = (n * C + c) * HW, e = i + HW; i < e; i++) v += (x[i] - mu) * (x[i] - mu);
      v /= m;
      this.mean[c] = mu;
      this.invStd[c] = 1 / Math.sqrt(v + this.eps);
      this.runMean[c] = momentum * this.runMean[c] + (1 - momentum) * mu;
      this.runVar[c] = momentum * this.runVar[c] + (1 - momentum) * (m > 1 ? (v * m) / (m - 1) : v);
    }
  }

  forward(): void {
    this.trained = this.ctx.training;
    if (this.trained) this.batchStats();
    else {
      for (let c = 0; c < this.C; c++) {
        this.mean[c] = this.runMean[c];
        this.invStd[c] = 1 / Math.sqrt(this.runVar[c] + this.eps);
      }
    }
    const { N, C, HW } = this;
    const x = this.x.data;
    const y = this.y.data;
    const g = this.gamma.data;
    const b = this.beta.data;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const scale = g[c] * this.invStd[c];
        const shift = b[c] - this.mean[c] * scale;
        for (let i = (n * C + c) * HW, e = i + HW; i < e; i++) y[i] = x[i] * scale + shift;
      }
    }
  }

  backward(): void {
    const dy = this.y.grad;
    if (!dy) return;
    const { N, C, HW } = this;
    const m = N * HW;
    const x = this.x.data;
    const dx = this.x.grad;
    const g = this.gamma.data;
    for (let c = 0; c < C; c++) {
      const mu = this.mean[c];
      const is = this.invStd[c];
      let sdy = 0;
      let sdyx = 0; // Σ dy·x̂
      for (let n = 0; n < N; n++) {
        for (let i = (n * C + c) * HW, e = i + HW; i < e; i++) {
          sdy += dy[i];
          sdyx += dy[i] * (x[i] - mu) * is;
        }
      }
      if (this.gamma.grad) this.gamma.grad[c] += sdyx;
      if (this.beta.grad) this.beta.grad[c] += sdy;
      if (!dx) continue;
      const k = g[c] * is;
      if (!this.trained) {
        for (let n = 0; n < N; n++) for (let i = (n * C + c) * HW, e = i + HW; i < e; i++) dx[i] += k * dy[i];
        continue;
      }
      // dx = γ·σ⁻¹/m · (m·dy − Σdy − x̂·Σ(dy·x̂))
      const a = sdy / m;
      const bq = sdyx / m;
      for (let n = 0; n < N; n++) {
        for (let i = (n * C + c) * HW, e = i + HW; i < e; i++) dx[i] += k * (dy[i] - a - (x[i] - mu) * is * bq);
      }
    }
  }
}

function buildBatchNorm(node: Node, inputs: (Var | undefined)[], ctx: BuildCtx): Var[] {
  const [x, gamma, beta] = inputs;
  if (!x || !gamma || !beta) fail(`${where(node)}: needs input, scale and bias (scale and bias must be float initializers or values)`);
  if (x.shape.length < 2) fail(`${where(node)}: input must be at least 2-D (N, C, ...), got [${x.shape}]`);
  if (node.outputs.filter((o) => o).length > 1) fail(`${where(node)}: training-mode outputs (running mean/var) are not supported; export the graph in inference form`);
  const [N, C] = x.shape;
  const HW = x.size / (N * C);
  const [meanName, varName] = [node.inputs[3], node.inputs[4]];
  if (!meanName || !varName) fail(`${where(node)}: needs running mean and variance inputs`);
  const rm = ctx.buffer(meanName);
  const rv = ctx.buffer(varName);
  for (const [what, n] of [['scale', gamma.size], ['bias', beta.size], ['mean', rm.length], ['var', rv.length]] as const) {
    if (n !== C) fail(`${where(node)}: ${what} has ${n} values, expected ${C} (one per channel)`);
  }
  const y = ctx.tape.newVar(node.outputs[0], x.shape, true);
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const momentum = attrFloat(node, 'momentum', 0.9);
  ctx.tape.push(new BatchNormOp(node.name, ctx.tape.ctx, x, gamma, beta, y, rm, rv, N, C, HW, eps, momentum));
  return [y];
}

export const BATCHNORM_OPS: Record<string, OpEntry> = {
  BatchNormalization: { build: buildBatchNorm, paramSlots: [1, 2], bufferSlots: [3, 4] },
};
