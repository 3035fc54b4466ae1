// Optimizers, with PyTorch's update rules so recipes carry over:
//   SGD:  g = ∇ + wd·w;  buf = μ·buf + (1−τ)·g (buf = g on the first step);
//         g = nesterov ? g + μ·buf : buf;  w −= lr·g
//   Adam: g = ∇ (+ wd·w unless decoupled);  m, v with bias correction;
//         decoupled (AdamW): w −= lr·wd·w before the Adam step.
// They update Param.master and skip frozen parameters. State is allocated on the
// first step and reused; with WASM SIMD the update runs there (optim_wasm.ts),
// else in the JS loops of src/kernels/ts/optim.ts.
import { fail } from '../ir/errors.js';
import type { Param } from './autograd.js';
import { adamUpdate, sgdFirst, sgdMomentum, sgdNesterov, sgdPlain } from '../kernels/ts/optim.js';
import { WasmOptimState } from './optim_wasm.js';

export interface Optimizer {
  readonly name: string;
  /** One update of every trainable parameter from its grad, with this step's learning rate. */
  step(params: readonly Param[], lr: number): void;
}

export interface SgdOptions {
  lr: number;
  /** Run the update with WASM SIMD when the engine has it (default true; false = the JS loops). */
  simd?: boolean;
  momentum?: number;
  nesterov?: boolean;
  dampening?: number;
  weightDecay?: number;
}

export interface AdamOptions {
  lr: number;
  /** Run the update with WASM SIMD when the engine has it (default true; false = the JS loops). */
  simd?: boolean;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** AdamW: weight decay applied to the weights directly, not through the gradient. */
  decoupled?: boolean;
}

export type OptimizerSpec = ({ kind: 'sgd' } & SgdOptions) | ({ kind: 'adam' } & AdamOptions);

/** Option checks shared by specs: `what` names the option in the message. */
export function checkLr(lr: number, what: string): void {
  if (!(lr > 0) || !Number.isFinite(lr)) fail(`${what}=${lr}: the learning rate must be a number > 0`);
}

function checkRange(v: number, lo: number, hi: number, what: string, hiOpen = true): void {
  if (!(v >= lo && (hiOpen ? v < hi : v <= hi))) fail(`${what}=${v} must be in [${lo}, ${hi}${hiOpen ? ')' : ']'}`);
}

export class Sgd implements Optimizer {
  readonly name = 'sgd';
  private readonly o: Required<SgdOptions>;
  private readonly bufs = new Map<Param, Float32Array>();

  constructor(opts: SgdOptions) {
    this.o = { momentum: 0, nesterov: false, dampening: 0, weightDecay: 0, simd: true, ...opts };
    checkLr(this.o.lr, 'sgd lr');
    checkRange(this.o.momentum, 0, 1, 'sgd momentum');
    checkRange(this.o.dampening, 0, 1, 'sgd dampening', false);
    checkRange(this.o.weightDecay, 0, Infinity, 'sgd weightDecay');
    if (this.o.nesterov && (this.o.momentum === 0 || this.o.dampening !== 0)) fail('sgd nesterov=true needs momentum > 0 and dampening = 0');
  }

  private wasm: WasmOptimState | null | undefined;

  step(params: readonly Param[], lr: number): void {
    const { momentum: mu, nesterov, dampening, weightDecay: wd } = this.o;
    if (this.wasm === undefined) this.wasm = mu === 0 || !this.o.simd ? null : WasmOptimState.create(params.filter((p) => p.trainable), 1);
    for (const p of params) {
      if (!p.trainable) continue;
      if (this.wasm?.has(p)) {
        this.wasm.sgd(p, lr, mu, 1 - dampening, wd, nesterov);
        continue;
      }
      const w = p.master;
      const g = p.grad;
      if (mu === 0) {
        sgdPlain(w, g, lr, wd);
        continue;
      }
      const buf = this.bufs.get(p);
      if (!buf) {
        const b = new Float32Array(w.length);
        this.bufs.set(p, b);
        sgdFirst(w, g, b, lr, mu, wd, nesterov);
        continue;
      }
      if (nesterov) sgdNesterov(w, g, buf, lr, mu, wd);
      else sgdMomentum(w, g, buf, lr, mu, 1 - dampening, wd);
    }
  }
}

export class Adam implements Optimizer {
  readonly name: string;
  private readonly o: Required<AdamOptions>;
  private readonly state = new Map<Param, { m: Float32Array; v: Float32Array; t: number }>();

  constructor(opts: AdamOptions) {
    this.o = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, simd: true, ...opts };
    this.name = this.o.decoupled ? 'adamw' : 'adam';
    checkLr(this.o.lr, `${this.name} lr`);
    checkRange(this.o.beta1, 0, 1, `${this.name} beta1`);
    checkRange(this.o.beta2, 0, 1, `${this.name} beta2`);
    if (!(this.o.eps > 0)) fail(`${this.name} eps=${this.o.eps} must be > 0`);
    checkRange(this.o.weightDecay, 0, Infinity, `${this.name} weightDecay`);
  }

  private wasm: WasmOptimState | null | undefined;

  step(params: readonly Param[], lr: number): void {
    const { beta1: b1, beta2: b2, eps, weightDecay: wd, decoupled } = this.o;
    if (this.wasm === undefined) this.wasm = this.o.simd ? WasmOptimState.create(params.filter((p) => p.trainable), 2) : null;
    for (const p of params) {
      if (!p.trainable) continue;
      if (this.wasm?.has(p)) {
        this.wasm.adam(p, lr, b1, b2, eps, wd, decoupled);
        continue;
      }
      let s = this.state.get(p);
      if (!s) this.state.set(p, (s = { m: new Float32Array(p.size), v: new Float32Array(p.size), t: 0 }));
      s.t++;
      const c1 = 1 - b1 ** s.t;
      const c2 = 1 - b2 ** s.t;
      adamUpdate(p.master, p.grad, s.m, s.v, lr, b1, b2, eps, wd, decoupled, 1 / c1, 1 / c2);
    }
  }
}

export function makeOptimizer(spec: OptimizerSpec): Optimizer {
  switch (spec.kind) {
    case 'sgd': return new Sgd(spec);
    case 'adam': return new Adam(spec);
    default: fail(`optimizer "${(spec as { kind: string }).kind}" is unknown; use sgd or adam`);
  }
}

/** The base learning rate a spec carries. */
export function specLr(spec: OptimizerSpec): number {
  return spec.lr;
}
