// Reverse-mode autograd as a static tape. A model is built once per batch size
// into a Tape: every activation, gradient and scratch buffer is allocated at
// build time, so a training step allocates nothing (allocation per step kills
// speed in V8). forward() runs the ops in order; backward() zeroes the
// activation gradients and runs each op's backward in reverse order. Every
// backward ACCUMULATES into its inputs' gradients (a value read by two ops gets
// both contributions).
import type { Backend } from './backend.js';
import type { GradTransform, WeightTransform } from './hooks.js';
import { Rng } from './rng.js';

/** A float32 tensor with an optional gradient of the same size. */
export class Var {
  readonly name: string;
  readonly shape: number[];
  data: Float32Array;
  /** null when nothing upstream needs a gradient (e.g. the input images). */
  grad: Float32Array | null;

  constructor(name: string, shape: readonly number[], data?: Float32Array, grad?: Float32Array | null) {
    let n = 1;
    for (const d of shape) n *= d;
    this.name = name;
    this.shape = [...shape];
    this.data = data ?? new Float32Array(n);
    this.grad = grad === undefined ? null : grad;
    if (this.data.length !== n) throw new Error(`Var ${name}: shape [${shape.join(',')}] needs ${n} values, got ${this.data.length}`);
  }

  get size(): number {
    return this.data.length;
  }
}

/**
 * A trainable weight tensor, named as its IR initializer.
 * `data` is what the forward pass reads; `master` is the float weight the
 * optimizer updates. They are the same array unless a WeightTransform is set
 * (then data = transform(master) is recomputed before each forward pass).
 * `grad` is always allocated and shared by every tape of the model.
 */
export class Param extends Var {
  master: Float32Array;
  declare grad: Float32Array;
  /** false = frozen: the optimizer skips it (its gradient is still computed). */
  trainable = true;
  /** 1 = keep, 0 = pruned (gradient zeroed, weight forced to 0 after each step). */
  mask: Uint8Array | null = null;
  transform: WeightTransform | null = null;
  gradTransform: GradTransform | null = null;

  constructor(name: string, shape: readonly number[], data: Float32Array) {
    super(name, shape, data, new Float32Array(data.length));
    this.master = this.data;
  }
}

/** One recorded operation. backward() reads its outputs' grads and adds to its inputs' grads. */
export interface TapeOp {
  readonly name: string;
  forward(): void;
  backward(): void;
}

/** What ops share at run time: the GEMM backend, the mode, the dropout RNG, scratch buffers. */
export class TapeCtx {
  readonly backend: Backend;
  readonly rng: Rng;
  /** Train mode (batch statistics, dropout) vs eval mode; read by ops on every forward. */
  training = true;
  private readonly scratchBufs = new Map<string, Float32Array>();

  constructor(backend: Backend, rng: Rng) {
    this.backend = backend;
    this.rng = rng;
  }

  /** A shared buffer of at least n floats under `key`; valid only within one op call. */
  scratch(key: string, n: number): Float32Array {
    let buf = this.scratchBufs.get(key);
    if (!buf || buf.length < n) {
      buf = new Float32Array(n);
      this.scratchBufs.set(key, buf);
    }
    return buf.length === n ? buf : buf.subarray(0, n);
  }
}

export class Tape {
  readonly ctx: TapeCtx;
  /** false = inference-only tape: no activation gradients, transient scratch for im2col. */
  readonly withGrad: boolean;
  readonly ops: TapeOp[] = [];
  private readonly gradBufs: Float32Array[] = [];

  constructor(ctx: TapeCtx, withGrad: boolean) {
    this.ctx = ctx;
    this.withGrad = withGrad;
  }

  /** A new activation; it gets a gradient buffer if `needsGrad` and this tape computes gradients. */
  newVar(name: string, shape: readonly number[], needsGrad: boolean): Var {
    const v = new Var(name, shape);
    if (needsGrad && this.withGrad) {
      v.grad = new Float32Array(v.size);
      this.gradBufs.push(v.grad);
    }
    return v;
  }

  /** A Var sharing data and grad with `src` (Reshape/Flatten/Identity views: zero-copy). */
  view(name: string, src: Var, shape: readonly number[]): Var {
    return new Var(name, shape, src.data, src.grad);
  }

  push(op: TapeOp): void {
    this.ops.push(op);
  }

  forward(): void {
    for (const op of this.ops) op.forward();
  }

  /** Zeroes activation gradients (parameter gradients are the caller's job). */
  zeroGrads(): void {
    for (const g of this.gradBufs) g.fill(0);
  }

  /** Runs the ops' backward passes in reverse; the seed gradient must be set already. */
  backward(): void {
    for (let i = this.ops.length - 1; i >= 0; i--) this.ops[i].backward();
  }
}

/** True when any of the vars carries a gradient (so an op's output needs one too). */
export function anyGrad(...vars: (Var | undefined)[]): boolean {
  for (const v of vars) if (v && v.grad) return true;
  return false;
}
