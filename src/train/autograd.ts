// Reverse-mode autograd as a static tape. A model is built once per batch size
// into a Tape: ops are recorded with the shapes of their values, then
// finalize() allocates every activation, gradient and scratch buffer in one go
// from the backend (in WASM memory for the WASM backend, so GEMMs run on them
// without copies). A training step then allocates nothing (allocation per step
// kills speed in V8). forward() runs the ops in order; backward() runs each op's
// backward in reverse. Every backward ACCUMULATES into its inputs' gradients (a
// value read by two ops gets both contributions); zeroGrads() clears them.
import type { Pool2dGeom } from '../ir/ref/pool.js';
import type { Backend, GemmCall, ImageBatch, TapeMemory } from './backend.js';
import type { Rng } from '../ir/random.js';

/** Placeholder for buffers not yet allocated (a tape before finalize()). */
const PENDING = new Float32Array(0);

/** A float32 tensor with an optional gradient of the same size. */
export class Var {
  readonly name: string;
  readonly shape: number[];
  readonly size: number;
  data: Float32Array;
  /** null when nothing upstream needs a gradient (e.g. the input images). */
  grad: Float32Array | null;

  constructor(name: string, shape: readonly number[], data?: Float32Array, grad?: Float32Array | null) {
    let n = 1;
    for (const d of shape) n *= d;
    this.name = name;
    this.shape = [...shape];
    this.size = n;
    this.data = data ?? new Float32Array(n);
    this.grad = grad === undefined ? null : grad;
    if (this.data !== PENDING && this.data.length !== n) throw new Error(`Var ${name}: shape [${shape.join(',')}] needs ${n} values, got ${this.data.length}`);
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

/** A parameter's weight transform (hooks.ts explains the hooks): forward sees transform(master). */
export interface WeightTransform {
  readonly name: string;
  /** out = f(master); `shape` is the parameter's shape (axis 0 = output channels for Conv/Gemm-transB). */
  forward(master: Float32Array, out: Float32Array, shape: readonly number[]): void;
  /** Turns the gradient w.r.t. out into the gradient w.r.t. master, in place. Absent = straight-through. */
  backward?(master: Float32Array, grad: Float32Array, shape: readonly number[]): void;
}

/** A parameter's gradient transform (hooks.ts), e.g. weight sharing's per-cluster gradient. */
export interface GradTransform {
  readonly name: string;
  /** Called once when set on a parameter (e.g. to snap the weights to the centroids). */
  attach?(p: Param): void;
  /** Rewrites p.grad (after masking, before the optimizer step). */
  transformGrad(p: Param): void;
  /** Called after the optimizer step (and after the mask is re-applied). */
  afterStep?(p: Param): void;
}

/** One recorded operation. backward() reads its outputs' grads and adds to its inputs' grads. */
export interface TapeOp {
  readonly name: string;
  forward(): void;
  backward(): void;
}

/** What a model's tapes share: the backend, the train/eval mode, the dropout RNG. */
export class TapeCtx {
  readonly backend: Backend;
  readonly rng: Rng;
  /** Train mode (batch statistics, dropout) vs eval mode; read by ops on every forward. */
  training = true;
  /**
   * When set, every BatchNorm's running-statistics momentum in train mode (instead of its
   * own): (k − 1)/k on the k-th batch makes the running statistics the batches' plain mean.
   */
  bnMomentum: number | null = null;

  constructor(backend: Backend, rng: Rng) {
    this.backend = backend;
    this.rng = rng;
  }
}

interface Request { v: Var; field: 'data' | 'grad'; size: number }

export class Tape {
  readonly ctx: TapeCtx;
  /** false = inference-only tape: no activation gradients, transient scratch for im2col. */
  readonly withGrad: boolean;
  readonly ops: TapeOp[] = [];
  private readonly requests: Request[] = [];
  private readonly aliases: [view: Var, src: Var][] = [];
  private readonly scratchVars = new Map<string, Var>();
  private readonly gemms: [number, number, number][] = [];
  private readonly mirrors: [Param, Var][] = [];
  private readonly mirrorOf = new Map<Param, Var>();
  private gradBufs: Float32Array[] = [];
  private mem: TapeMemory | null = null;
  private released = false;

  constructor(ctx: TapeCtx, withGrad: boolean) {
    this.ctx = ctx;
    this.withGrad = withGrad;
  }

  /** A new activation; it gets a gradient buffer if `needsGrad` and this tape computes gradients. */
  newVar(name: string, shape: readonly number[], needsGrad: boolean): Var {
    const v = new Var(name, shape, PENDING, needsGrad && this.withGrad ? PENDING : null);
    this.requests.push({ v, field: 'data', size: v.size });
    if (v.grad) this.requests.push({ v, field: 'grad', size: v.size });
    return v;
  }

  /** An op's private buffer of n floats, alive as long as the tape (e.g. a conv's im2col). */
  buffer(name: string, n: number): Var {
    return this.newVar(name, [n], false);
  }

  /** A buffer of at least n floats shared by every op that asks for `key` (valid within one op call). */
  scratch(key: string, n: number): Var {
    const old = this.scratchVars.get(key);
    if (old && old.size >= n) return old;
    const v = this.buffer(`scratch:${key}`, n);
    this.scratchVars.set(key, v);
    // Earlier users of the smaller buffer switch to this one at finalize (same key, same role).
    if (old) this.aliases.push([old, v]);
    return v;
  }

  /** A Var sharing data and grad with `src` (Reshape/Flatten/Identity views: zero-copy). */
  view(name: string, src: Var, shape: readonly number[]): Var {
    const v = new Var(name, shape, src.data === PENDING ? PENDING : src.data, src.grad);
    if (src.data === PENDING || src.grad === PENDING) this.aliases.push([v, src]);
    return v;
  }

  /** The Var an op reads for a parameter: the Param itself, or its mirror in the backend's memory. */
  paramVar(p: Param): Var {
    if (!this.ctx.backend.ownsMemory) return p;
    let m = this.mirrorOf.get(p);
    if (!m) {
      m = this.newVar(p.name, p.shape, true);
      this.mirrorOf.set(p, m);
      this.mirrors.push([p, m]);
    }
    return m;
  }

  /** Declares a GEMM shape the tape will run (the backend sizes its packing space from these). */
  planGemm(M: number, N: number, K: number): void {
    this.gemms.push([M, N, K]);
  }

  push(op: TapeOp): void {
    this.ops.push(op);
  }

  /** Allocates every buffer; call once, after the last op is recorded. */
  finalize(): void {
    if (this.mem) throw new Error('tape finalized twice');
    this.mem = this.ctx.backend.allocate(this.requests.map((r) => r.size), this.gemms);
    this.requests.forEach((r, i) => { r.v[r.field] = this.mem!.buffers[i]; });
    for (const [view, src] of this.aliases) {
      view.data = src.data;
      if (view.grad) view.grad = src.grad;
    }
    this.gradBufs = this.requests.filter((r) => r.field === 'grad').map((r) => r.v.grad!);
  }

  /** Gives the buffers back to the backend (a shared WASM arena reuses them); the tape cannot run after. */
  release(): void {
    this.mem?.release?.();
    this.mem = null;
    this.released = true;
  }

  private memory(): TapeMemory {
    if (!this.mem) throw new Error(this.released ? 'tape used after release()' : 'tape used before finalize()');
    return this.mem;
  }

  gemm(g: GemmCall): void {
    this.memory().gemm(g);
  }

  im2colGemm(g: GemmCall, b: ImageBatch): void {
    this.memory().im2colGemm(g, b);
  }

  gemmCol2im(g: GemmCall, b: ImageBatch): void {
    this.memory().gemmCol2im(g, b);
  }

  clip(x: Float32Array, y: Float32Array, lo: number, hi: number): void {
    this.memory().clip(x, y, lo, hi);
  }

  clipBack(x: Float32Array, dy: Float32Array, dx: Float32Array, lo: number, hi: number): void {
    this.memory().clipBack(x, dy, dx, lo, hi);
  }

  maxPool(x: Float32Array, y: Float32Array, arg: Int32Array, g: Pool2dGeom): void {
    this.memory().maxPool(x, y, arg, g);
  }

  maxPoolBack(dy: Float32Array, arg: Int32Array, dx: Float32Array): void {
    this.memory().maxPoolBack(dy, arg, dx);
  }

  planeStats(a: Float32Array, b: Float32Array, planes: number, C: number, HW: number, ca: Float32Array, cb: Float32Array, s1: Float32Array, s2: Float32Array): void {
    this.memory().planeStats(a, b, planes, C, HW, ca, cb, s1, s2);
  }

  planeLinear(a: Float32Array, b: Float32Array, out: Float32Array, planes: number, C: number, HW: number, ka: Float32Array, kb: Float32Array, k0: Float32Array, acc: boolean): void {
    this.memory().planeLinear(a, b, out, planes, C, HW, ka, kb, k0, acc);
  }

  forward(): void {
    this.memory();
    for (const [p, m] of this.mirrors) m.data.set(p.data);
    for (const op of this.ops) op.forward();
  }

  /** Zeroes activation gradients (parameter gradients are the caller's job). */
  zeroGrads(): void {
    for (const g of this.gradBufs) g.fill(0);
  }

  /**
   * Runs the ops' backward passes in reverse; the seed gradient must be set
   * already. The parameters' gradients end up in Param.grad: ops add into it
   * directly, or (mirrored parameters) it is overwritten with the mirror's. So
   * zero Param.grad before (as trainStep does).
   */
  backward(): void {
    for (let i = this.ops.length - 1; i >= 0; i--) this.ops[i].backward();
    for (const [p, m] of this.mirrors) if (m.grad) p.grad.set(m.grad);
  }
}

/** True when any of the vars carries a gradient (so an op's output needs one too). */
export function anyGrad(...vars: (Var | undefined)[]): boolean {
  for (const v of vars) if (v && v.grad) return true;
  return false;
}
