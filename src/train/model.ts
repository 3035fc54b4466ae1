// A trainable model: the IR graph's structure, its weights as named Params
// (named exactly as the graph's initializers), BatchNorm running stats as
// buffers, and the hooks compression passes set. Tapes are built from the graph
// per batch size and cached (see autograd.ts).
import type { Graph } from '../ir/graph.js';
import { fail } from '../ir/errors.js';
import { Param, Tape, TapeCtx, type GradTransform, type Var, type WeightTransform } from './autograd.js';
import type { Backend } from './backend.js';
import { defaultBackend } from './default_backend.js';
import type { LossTerm } from './hooks.js';
import { countCorrect, SoftmaxCrossEntropy } from './loss.js';
import { trainOp, type BuildCtx } from './ops/index.js';
import { Rng } from '../ir/random.js';

/** A tape for one batch size, with its input, output and (for gradient tapes) loss. */
export interface BuiltTape {
  tape: Tape;
  batch: number;
  input: Var;
  output: Var;
  loss: SoftmaxCrossEntropy | null;
  /** Every value of the graph by name (activations after a forward pass). */
  values: Map<string, Var>;
}

/** Copies of the master weights and buffers (to restore after a divergence). */
export type Snapshot = Map<string, Float32Array>;

export interface ModelOptions {
  backend?: Backend;
  /** Seeds dropout. */
  seed?: number;
}

const MAX_TAPES = 4;

export class Model {
  readonly graph: Graph;
  readonly params: Map<string, Param>;
  readonly buffers: Map<string, Float32Array>;
  readonly inputName: string;
  readonly outputName: string;
  /** Input dims after the batch dim, e.g. [1, 28, 28]. */
  readonly sampleShape: number[];
  readonly lossTerms: LossTerm[] = [];
  private ctx: TapeCtx;
  private readonly tapes = new Map<string, BuiltTape>();

  constructor(graph: Graph, params: Map<string, Param>, buffers: Map<string, Float32Array>, io: { input: string; output: string; sampleShape: number[] }, opts: ModelOptions = {}) {
    this.graph = graph;
    this.params = params;
    this.buffers = buffers;
    this.inputName = io.input;
    this.outputName = io.output;
    this.sampleShape = io.sampleShape;
    this.ctx = new TapeCtx(opts.backend ?? defaultBackend(), new Rng(opts.seed ?? 0));
  }

  get backend(): Backend {
    return this.ctx.backend;
  }

  /** Switches the GEMM backend (drops the cached tapes, which captured the old one). */
  setBackend(backend: Backend): void {
    this.ctx = new TapeCtx(backend, this.ctx.rng);
    this.tapes.clear();
  }

  parameters(): Param[] {
    return [...this.params.values()];
  }

  numParams(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.size;
    return n;
  }

  param(name: string): Param {
    const p = this.params.get(name);
    if (!p) fail(`the model has no parameter "${name}"; parameters: ${[...this.params.keys()].join(', ')}`);
    return p;
  }

  /**
   * Gives back every tape's memory. Call it on a model that will not run again: on a thread pool's
   * shared arena a dropped model's tapes would otherwise hold their memory until the pool closes.
   */
  dispose(): void {
    for (const t of this.tapes.values()) t.tape.release();
    this.tapes.clear();
  }

  /** The tape for `batch` (built on first use). Gradient tapes also carry the loss. */
  tape(batch: number, withGrad: boolean): BuiltTape {
    const key = `${batch}/${withGrad}`;
    let t = this.tapes.get(key);
    if (t) {
      this.tapes.delete(key); // re-insert: the Map's order is the LRU order
    } else {
      if (this.tapes.size >= MAX_TAPES) this.tapes.delete(this.tapes.keys().next().value!);
      t = this.build(batch, withGrad);
    }
    this.tapes.set(key, t);
    return t;
  }

  private build(batch: number, withGrad: boolean): BuiltTape {
    if (!Number.isInteger(batch) || batch < 1) fail(`batch size ${batch} must be a positive integer`);
    const tape = new Tape(this.ctx, withGrad);
    const input = tape.newVar(this.inputName, [batch, ...this.sampleShape], false);
    const values = new Map<string, Var>([[this.inputName, input]]);
    const bctx: BuildCtx = {
      tape,
      constant: (name) => this.graph.initializers.get(name),
      buffer: (name) => this.buffers.get(name) ?? fail(`BatchNormalization input "${name}" is not an initializer the trainer can keep running statistics in`),
    };
    for (const node of this.graph.nodes) {
      const entry = trainOp(node.op)!;
      const inputs = node.inputs.map((name) => {
        const p = name ? this.params.get(name) : undefined;
        return name ? values.get(name) ?? (p && tape.paramVar(p)) : undefined;
      });
      node.inputs.forEach((name, i) => {
        if (name && !inputs[i] && !this.graph.initializers.has(name)) fail(`node "${node.name}" (${node.op}): input "${name}" is not produced by any earlier node`);
      });
      const outs = entry.build(node, inputs, bctx);
      node.outputs.forEach((o, i) => { if (o && outs[i]) values.set(o, outs[i]); });
    }
    const output = values.get(this.outputName) ?? fail(`graph output "${this.outputName}" is not produced by any node`);
    tape.finalize();
    const loss = withGrad ? new SoftmaxCrossEntropy(output) : null;
    return { tape, batch, input, output, loss, values };
  }

  /** Recomputes data = transform(master) for parameters with a weight transform (pruned weights stay 0). */
  refreshWeights(): void {
    for (const p of this.params.values()) {
      if (!p.transform) continue;
      p.transform.forward(p.master, p.data, p.shape);
      const mask = p.mask;
      if (mask) for (let i = 0; i < mask.length; i++) if (!mask[i]) p.data[i] = 0;
    }
  }

  /** Runs one batch (already copied into bt.input) in train or eval mode. */
  run(bt: BuiltTape, training: boolean): void {
    this.ctx.training = training;
    bt.tape.forward();
  }

  /** Overrides every BatchNorm's running-statistics momentum in train mode (null: each its own). */
  setBatchNormMomentum(m: number | null): void {
    this.ctx.bnMomentum = m;
  }

  /** Logits for `count` samples (count × classes), in eval mode. */
  predict(images: Float32Array, count: number, batchSize = 64): Float32Array {
    this.refreshWeights();
    const per = this.sampleShape.reduce((a, b) => a * b, 1);
    if (images.length < count * per) fail(`predict: ${count} samples need ${count * per} values, got ${images.length}`);
    const bt = this.forwardTape(Math.min(batchSize, Math.max(1, count)));
    const classes = bt.output.size / bt.batch;
    const out = new Float32Array(count * classes);
    for (let s = 0; s < count; s += bt.batch) {
      const n = Math.min(bt.batch, count - s);
      bt.input.data.set(images.subarray(s * per, (s + n) * per));
      if (n < bt.batch) bt.input.data.fill(0, n * per);
      this.run(bt, false);
      out.set(bt.output.data.subarray(0, n * classes), s * classes);
    }
    return out;
  }

  /** Top-1 accuracy (0..1) and mean loss over `count` labelled samples. */
  evaluate(images: Float32Array, labels: ArrayLike<number>, count: number, batchSize = 64): { accuracy: number; loss: number } {
    const logits = this.predict(images, count, batchSize);
    const classes = logits.length / Math.max(1, count);
    let loss = 0;
    for (let r = 0; r < count; r++) {
      const o = r * classes;
      let m = -Infinity;
      for (let j = 0; j < classes; j++) m = Math.max(m, logits[o + j]);
      let s = 0;
      for (let j = 0; j < classes; j++) s += Math.exp(logits[o + j] - m);
      loss += m + Math.log(s) - logits[o + labels[r]];
    }
    const correct = countCorrect(logits, labels, count, classes);
    return { accuracy: count ? correct / count : 0, loss: count ? loss / count : 0 };
  }

  /** The gradient tape of this batch size if one exists (no new buffers), else an inference tape. */
  private forwardTape(batch: number): BuiltTape {
    return this.tapes.get(`${batch}/true`) ?? this.tape(batch, false);
  }

  // ---- hooks (see hooks.ts) ----

  /** Prunes: mask[i] = 0 zeroes weight i now and keeps it (and its gradient) at 0. null removes the mask. */
  setMask(name: string, mask: Uint8Array | null): void {
    const p = this.param(name);
    if (mask && mask.length !== p.size) fail(`mask for "${name}" has ${mask.length} values, the parameter ${p.size}`);
    p.mask = mask;
    if (mask) for (let i = 0; i < mask.length; i++) if (!mask[i]) p.master[i] = 0;
    this.refreshWeights();
  }

  /** The forward pass sees t(master); gradients reach master straight-through. null removes it. */
  setWeightTransform(name: string, t: WeightTransform | null): void {
    const p = this.param(name);
    if (t && p.master === p.data) p.master = p.data.slice();
    if (!t && p.master !== p.data) {
      p.data.set(p.master);
      p.master = p.data;
    }
    p.transform = t;
    this.refreshWeights();
  }

  setGradTransform(name: string, t: GradTransform | null): void {
    const p = this.param(name);
    p.gradTransform = t;
    t?.attach?.(p);
    this.refreshWeights();
  }

  /** A trained value outside the graph (TTQ's scales): the optimizer updates it, snapshots keep it, modelToGraph leaves it out. */
  addParam(name: string, values: Float32Array): Param {
    if (this.params.has(name) || this.graph.initializers.has(name)) fail(`parameter "${name}" already exists; pick another name`);
    const p = new Param(name, [values.length], values.slice());
    this.params.set(name, p);
    return p;
  }

  addLossTerm(term: LossTerm): void {
    this.lossTerms.push(term);
  }

  removeLossTerm(term: LossTerm): void {
    const i = this.lossTerms.indexOf(term);
    if (i >= 0) this.lossTerms.splice(i, 1);
  }

  // ---- snapshots ----

  /** Copies master weights and buffers (into `into` when given, reusing its arrays). */
  snapshot(into: Snapshot = new Map()): Snapshot {
    const copy = (key: string, src: Float32Array) => {
      const dst = into.get(key);
      if (dst && dst.length === src.length) dst.set(src);
      else into.set(key, src.slice());
    };
    for (const [k, p] of this.params) copy(`p:${k}`, p.master);
    for (const [k, b] of this.buffers) copy(`b:${k}`, b);
    return into;
  }

  restore(s: Snapshot): void {
    for (const [k, p] of this.params) {
      const v = s.get(`p:${k}`);
      if (v) p.master.set(v);
    }
    for (const [k, b] of this.buffers) {
      const v = s.get(`b:${k}`);
      if (v) b.set(v);
    }
    this.refreshWeights();
  }
}
