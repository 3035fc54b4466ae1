// Gemm (Y = α·op(A)·op(B) + β·C, as PyTorch's Linear exports it with transB=1:
// W stored [out, in]) and MatMul (A[..., K] · B[K, N]). Forward and both
// gradients are single batch-level GEMMs.
import { attrFloat, attrInt, type Node } from '../../ir/graph.js';
import { anyGrad, type Tape, type TapeOp, type Var } from '../autograd.js';
import { gemmCall, type GemmCall } from '../backend.js';
import type { BuildCtx, OpEntry } from './types.js';
import { nodeFail } from '../../ir/util.js';

/** How C broadcasts over Y[M×N]: C(i,j) = c[i·rs + j·cs]. */
interface Bcast { rs: number; cs: number }

class GemmOp implements TapeOp {
  private readonly g: GemmCall = gemmCall();
  /** α·dY when α ≠ 1 (the gradients use the scaled output gradient). */
  private readonly dyScaled: Var | null;
  /** C is one value per column (a Linear bias): added by the GEMM itself. */
  private readonly fusedBias: boolean;

  constructor(
    readonly name: string, private readonly tape: Tape,
    private readonly a: Var, private readonly b: Var, private readonly c: Var | undefined, private readonly y: Var,
    private readonly M: number, private readonly N: number, private readonly K: number,
    private readonly transA: boolean, private readonly transB: boolean,
    private readonly alpha: number, private readonly beta: number, private readonly bc: Bcast,
  ) {
    this.dyScaled = alpha !== 1 && tape.withGrad ? tape.scratch('gemm.dy', M * N) : null;
    this.fusedBias = !!c && beta === 1 && alpha === 1 && bc.rs === 0 && bc.cs === 1;
    tape.planGemm(M, N, K);
    if (tape.withGrad) {
      tape.planGemm(M, K, N);
      tape.planGemm(K, M, N);
      tape.planGemm(K, N, M);
      tape.planGemm(N, K, M);
    }
  }

  /** Sets up C (+)= op(A)·op(B) on dense row-major operands and runs it. */
  private run(M: number, N: number, K: number, a: Float32Array, ta: boolean, b: Float32Array, tb: boolean, c: Float32Array, acc: boolean, bias: Float32Array | null): void {
    const g = this.g;
    g.M = M; g.N = N; g.K = K;
    g.a = a; g.aOff = 0; g.lda = ta ? M : K; g.transA = ta;
    g.b = b; g.bOff = 0; g.ldb = tb ? K : N; g.transB = tb;
    g.c = c; g.cOff = 0; g.ldc = N; g.accumulate = acc; g.reuseA = false;
    g.bias = bias; g.biasOff = 0; g.biasPer = 'col';
    this.tape.gemm(g);
  }

  forward(): void {
    const { M, N, K } = this;
    const y = this.y.data;
    this.run(M, N, K, this.a.data, this.transA, this.b.data, this.transB, y, false, this.fusedBias ? this.c!.data : null);
    if (this.alpha !== 1) for (let i = 0; i < M * N; i++) y[i] *= this.alpha;
    if (!this.c || this.beta === 0 || this.fusedBias) return;
    const c = this.c.data;
    const { rs, cs } = this.bc;
    const beta = this.beta;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) y[i * N + j] += beta * c[i * rs + j * cs];
    }
  }

  backward(): void {
    let dy = this.y.grad;
    if (!dy) return;
    const { M, N, K, transA, transB } = this;
    const c = this.c;
    if (c?.grad && this.beta !== 0) {
      const dc = c.grad;
      const { rs, cs } = this.bc;
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) dc[i * rs + j * cs] += this.beta * dy[i * N + j];
    }
    if (this.dyScaled) {
      const s = this.dyScaled.data;
      for (let i = 0; i < M * N; i++) s[i] = this.alpha * dy[i];
      dy = s;
    }
    const a = this.a;
    const b = this.b;
    if (a.grad) {
      // dop(A) = dY · op(B)ᵀ; stored transposed when transA.
      if (!transA) this.run(M, K, N, dy, false, b.data, !transB, a.grad, true, null);
      else this.run(K, M, N, b.data, transB, dy, true, a.grad, true, null);
    }
    if (b.grad) {
      // dop(B) = op(A)ᵀ · dY; stored transposed when transB.
      if (!transB) this.run(K, N, M, a.data, !transA, dy, false, b.grad, true, null);
      else this.run(N, K, M, dy, true, a.data, transA, b.grad, true, null);
    }
  }
}

function bcastOf(node: Node, c: Var, M: number, N: number): Bcast {
  const s = c.shape;
  const d0 = s.length === 2 ? s[0] : 1;
  const d1 = s.length === 0 ? 1 : s[s.length - 1];
  if (s.length > 2 || (d0 !== 1 && d0 !== M) || (d1 !== 1 && d1 !== N)) {
    nodeFail(node, `C of shape [${s}] does not broadcast to the ${M}×${N} output`);
  }
  return { rs: d0 === 1 ? 0 : d1, cs: d1 === 1 ? 0 : 1 };
}

function buildGemm(node: Node, inputs: (Var | undefined)[], ctx: BuildCtx): Var[] {
  const [a, b, c] = inputs;
  if (!a || !b) nodeFail(node, `needs inputs A and B`);
  if (a.shape.length !== 2 || b.shape.length !== 2) nodeFail(node, `A and B must be 2-D (got [${a.shape}] and [${b.shape}]); add a Flatten before it`);
  const transA = attrInt(node, 'transA', 0) === 1;
  const transB = attrInt(node, 'transB', 0) === 1;
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : a.shape;
  const [Kb, N] = transB ? [b.shape[1], b.shape[0]] : b.shape;
  if (K !== Kb) nodeFail(node, `inner sizes differ: A gives K=${K}, B gives K=${Kb} (transA=${+transA}, transB=${+transB})`);
  if (node.inputs[2] && !c) nodeFail(node, `C "${node.inputs[2]}" is not a float tensor the trainer can use`);
  const bc = c ? bcastOf(node, c, M, N) : { rs: 0, cs: 0 };
  const y = ctx.tape.newVar(node.outputs[0], [M, N], anyGrad(a, b, c));
  ctx.tape.push(new GemmOp(node.name, ctx.tape, a, b, c, y, M, N, K, transA, transB, attrFloat(node, 'alpha', 1), attrFloat(node, 'beta', 1), bc));
  return [y];
}

function buildMatMul(node: Node, inputs: (Var | undefined)[], ctx: BuildCtx): Var[] {
  const [a, b] = inputs;
  if (!a || !b) nodeFail(node, `needs inputs A and B`);
  if (a.shape.length < 2 || b.shape.length !== 2) {
    nodeFail(node, `supported form is A[..., K] · B[K, N] with a 2-D B (got [${a.shape}] · [${b.shape}])`);
  }
  const K = a.shape[a.shape.length - 1];
  const M = a.size / K;
  const [Kb, N] = b.shape;
  if (K !== Kb) nodeFail(node, `inner sizes differ: A[..., ${K}] · B[${Kb}, ${N}]`);
  const y = ctx.tape.newVar(node.outputs[0], [...a.shape.slice(0, -1), N], anyGrad(a, b));
  ctx.tape.push(new GemmOp(node.name, ctx.tape, a, b, undefined, y, M, N, K, false, false, 1, 0, { rs: 0, cs: 0 }));
  return [y];
}

export const LINEAR_OPS: Record<string, OpEntry> = {
  Gemm: { build: buildGemm, paramSlots: [0, 1, 2] },
  MatMul: { build: buildMatMul, paramSlots: [0, 1] },
};
