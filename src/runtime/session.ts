// The runtime's public API: plan once, run fast.
//
//   const session = await Session.create(graph, { batch: 64 });
//   const { logits } = session.run({ input });
//   console.log(session.describe());
//
// One WebAssembly arena holds the packed weights (prepared once) and one
// activation region whose buffers are reused by lifetime. A plan is made per set
// of input shapes (a bigger batch re-plans; the region grows when it must) and
// bound to fixed offsets, so run() only copies the feeds in, calls the steps and
// copies the outputs out. Browser-safe: threads come in as a ThreadPool
// (Node: createNodeSession in session_node.ts).
import { describePlan } from '../compile/describe.js';
import { formatBytes } from '../ir/print.js';
import { checkWinograd, planGraph } from '../compile/plan.js';
import { tunePlan } from '../compile/pattern_tune.js';
import type { KernelsMode, PatternOptions, Plan, PlanStep, WinogradMode } from '../compile/plan_types.js';
import { fail } from '../ir/errors.js';
import { Graph } from '../ir/graph.js';
import { Tensor } from '../ir/tensor.js';
import { WasmArena } from '../kernels/wasm/arena.js';
import type { ThreadPool } from '../kernels/wasm/thread_pool.js';
import { isNnz, nnzToGraph } from '../format/nnz.js';
import { importOnnx } from '../onnx/import.js';
import { Binding, prepareWeights } from './binding.js';
import { checkFeeds, shapeKey } from './feeds.js';
import { KernelSet } from './kernel_set.js';
import type { BindEnv } from './steps/env.js';
import { ArenaViews } from './views.js';

export interface SessionOptions {
  /** Threads per step (default 1; the pool's size when a threadPool is given). More than 1 needs a threadPool. */
  threads?: number;
  /** Worker threads sharing the arena's memory (Node: createNodeSession makes one). */
  threadPool?: ThreadPool;
  /** Largest batch to plan for at creation (default 1); a bigger batch at run() re-plans. */
  batch?: number;
  /** 'dense' runs compressed layers on the dense kernels (to measure what the sparse ones gain). Default 'auto'. */
  kernels?: KernelsMode;
  /**
   * Winograd for 3×3, stride-1 convs: 'auto' (the cost model picks im2col, a sparse
   * kernel or F(2,3) / F(4,3) / F(6,3) per layer; default), 'off', 'on' (wherever it
   * applies, the best tile), or a tile 2 | 4 | 6 wherever it applies.
   */
  winograd?: WinogradMode;
  /** Smallest step (in flops) split over the threads (default 2^22; 0 splits every step that can be). */
  splitFlops?: number;
  /** The pattern kernel: when it runs, tuned variants, FKR (default: by cost). */
  patterns?: PatternOptions;
  /** dispose() closes the thread pool, and so does a failed create() (set by the factory that made the pool). */
  ownThreadPool?: boolean;
}

/** Plans kept per session (one per distinct set of input shapes), oldest dropped first. */
const MAX_BINDINGS = 8;

interface Region { start: number; bytes: number; end: number; epoch: number; abandoned: number }

function checkOptions(o: SessionOptions): { threads: number; kernels: KernelsMode; batch: number } {
  const threads = o.threads ?? o.threadPool?.size ?? 1;
  if (!Number.isInteger(threads) || threads < 1) fail(`session: threads=${threads}; give an integer >= 1`);
  if (threads > 1 && !o.threadPool) {
    fail(`session: threads=${threads} needs a threadPool; in Node use createNodeSession(model, { threads: ${threads} }) from runtime/session_node.js`);
  }
  if (o.threadPool && threads > o.threadPool.size) fail(`session: threads=${threads} but the thread pool has ${o.threadPool.size}`);
  const kernels = o.kernels ?? 'auto';
  if (kernels !== 'auto' && kernels !== 'dense') fail(`session: kernels='${String(kernels)}'; use 'auto' or 'dense'`);
  const batch = o.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) fail(`session: batch=${batch}; give an integer >= 1`);
  checkWinograd('session', o.winograd);
  return { threads, kernels, batch };
}

/** A model given as a Graph or as the bytes of an .onnx or .nnz file, as a Graph. */
export function toGraph(model: Graph | Uint8Array): Graph {
  if (model instanceof Graph) return model;
  if (model instanceof Uint8Array) return isNnz(model) ? nnzToGraph(model, 'the .nnz model').graph : importOnnx(model);
  return fail('session: the model must be a Graph or the bytes of an .onnx or .nnz file (Uint8Array)');
}

export class Session {
  readonly graph: Graph;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly threads: number;
  readonly kernelsMode: KernelsMode;
  private readonly arena: WasmArena;
  private readonly kernels: KernelSet;
  private readonly views: ArenaViews;
  private readonly pool?: ThreadPool;
  private readonly base: number;
  private readonly weights = new Map<string, unknown>();
  private readonly bindings = new Map<string, Binding>();
  private readonly region: Region = { start: 0, bytes: 0, end: 0, epoch: 0, abandoned: 0 };
  private last?: Binding;
  private disposed = false;

  /** Imports (the bytes of an .onnx or .nnz file), plans for `batch` and packs the weights. */
  static async create(model: Graph | Uint8Array, options: SessionOptions = {}): Promise<Session> {
    try {
      return new Session(model, options);
    } catch (e) {
      if (options.ownThreadPool) await options.threadPool?.close(); // nobody else will
      throw e;
    }
  }

  /** The same, synchronously (for callers that cannot await, such as compression stages). */
  static createSync(model: Graph | Uint8Array, options: SessionOptions = {}): Session {
    return new Session(model, options);
  }

  private constructor(model: Graph | Uint8Array, private readonly options: SessionOptions) {
    const o = checkOptions(options);
    this.graph = toGraph(model);
    this.threads = o.threads;
    this.kernelsMode = o.kernels;
    this.pool = o.threads > 1 ? options.threadPool : undefined;
    this.arena = options.threadPool?.arena ?? new WasmArena({ whenFull: 'the model does not fit in WebAssembly memory at this batch size; use a smaller batch' });
    this.base = this.arena.used;
    this.kernels = new KernelSet(this.arena, this.pool);
    this.views = new ArenaViews(this.arena.memory);
    this.inputNames = this.graph.inputs.map((v) => v.name);
    this.outputNames = this.graph.outputs.map((v) => v.name);
    const shapes = this.batchShapes(o.batch);
    if (shapes) this.last = this.bind(shapes, shapeKey(shapes));
  }

  /** Input shapes with every symbolic dim set to `batch`, when the inputs have one symbol at most (the batch). */
  private batchShapes(batch: number): Record<string, number[]> | undefined {
    const fed = this.graph.inputs.filter((v) => !this.graph.initializers.has(v.name));
    const symbols = new Set(fed.flatMap((v) => v.shape.filter((d) => typeof d === 'string')));
    if (symbols.size > 1) return undefined;
    return Object.fromEntries(fed.map((v) => [v.name, v.shape.map((d) => (typeof d === 'number' ? d : batch))]));
  }

  private env(plan: Plan, regionStart: number): BindEnv {
    return { plan, kernels: this.kernels, views: this.views, pool: this.pool, regionStart, weights: this.weights };
  }

  private bind(shapes: Record<string, number[]>, key: string): Binding {
    const planFor = () => planGraph(this.graph, {
      inputShapes: shapes, kernels: this.kernelsMode, winograd: this.options.winograd, threads: this.threads, tile: this.kernels.gemm.variant,
      splitFlops: this.options.splitFlops, patterns: this.options.patterns,
    });
    let plan = planFor();
    // tuning its pattern layers needs the plan (which run on the pattern kernel, fused pools, folded weights); planned again only when the tuner just picked another variant
    if (this.options.patterns?.tune && tunePlan(plan, { pool: this.pool })) plan = planFor();
    prepareWeights(plan, this.env(plan, 0)); // weights first, so the region stays at the top of the arena and can grow in place
    this.ensureRegion(plan.memory.regionBytes);
    const b = new Binding(plan, this.env(plan, this.region.start), this.region.epoch);
    if (this.bindings.size >= MAX_BINDINGS) this.bindings.delete(this.bindings.keys().next().value!);
    this.bindings.set(key, b);
    return b;
  }

  /** Room for `bytes` of activations: grown in place when the region is the last allocation, else moved (older plans re-bind). */
  private ensureRegion(bytes: number): void {
    const r = this.region;
    if (bytes <= r.bytes && r.end > 0) return;
    if (r.end > 0 && this.arena.used === r.end) this.arena.reset(r.start);
    else if (r.end > 0) {
      r.abandoned += r.bytes;
      r.epoch++;
      this.bindings.clear();
      this.last = undefined;
    }
    r.start = this.arena.alloc(bytes);
    r.bytes = bytes;
    r.end = this.arena.used;
  }

  private sameShapes(b: Binding, feeds: Record<string, Tensor>): boolean {
    let count = 0;
    for (const _ in feeds) count++;
    if (count !== b.feeds.length) return false;
    for (const f of b.feeds) {
      const t = feeds[f.name];
      if (!t || t.dtype !== f.dtype) return false;
      const want = b.plan.inputShapes[f.name], got = t.shape;
      if (got.length !== want.length) return false;
      for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) return false;
    }
    return true;
  }

  private bindingFor(feeds: Record<string, Tensor>): Binding {
    const b = this.last;
    if (b && b.epoch === this.region.epoch && this.sameShapes(b, feeds)) return b;
    const shapes = checkFeeds(this.graph, feeds);
    const key = shapeKey(shapes);
    let found = this.bindings.get(key);
    if (!found || found.epoch !== this.region.epoch) found = this.bind(shapes, key);
    this.last = found;
    return found;
  }

  /** Runs the graph; returns fresh output tensors (the only allocation of a run on the fast paths). */
  run(feeds: Record<string, Tensor>): Record<string, Tensor> {
    if (this.disposed) fail('session: run() after dispose()');
    const b = this.bindingFor(feeds);
    const v = this.views;
    v.refresh();
    for (const f of b.feeds) {
      if (f.at < 0) continue;
      const data = feeds[f.name].data;
      if (f.dtype === 'float32') v.f32.set(data as Float32Array, f.at >> 2);
      else (v.typed(f.dtype, f.at, f.size) as Float32Array).set(data as Float32Array);
    }
    const steps = b.steps;
    for (let i = 0; i < steps.length; i++) steps[i].run();
    const out: Record<string, Tensor> = {};
    for (const o of b.fetches) out[o.name] = o.const ? o.const.clone() : new Tensor(o.dtype, o.shape, v.copyOut(o.dtype, o.at, o.size));
    return out;
  }

  /**
   * The plan's steps for these feeds, each callable on its own (per-layer timing, bench/quant.ts):
   * the feeds are copied in and the graph run once, so every step's inputs hold real values.
   */
  boundSteps(feeds: Record<string, Tensor>): { step: PlanStep; run: () => void }[] {
    this.run(feeds);
    const b = this.bindingFor(feeds);
    return b.steps.map((e, i) => ({ step: b.stepOf[i], run: () => e.run() }));
  }

  /** run() behind a promise (the same work; for callers written against async runtimes). */
  async runAsync(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    return this.run(feeds);
  }

  /** The plan of the last run (or the one made at creation). */
  get plan(): Plan {
    if (!this.last) fail('session: no plan yet; call run() once (the inputs have several symbolic dims)');
    return this.last.plan;
  }

  /** Arena bytes: weights (packed panels, sparse arrays, tables), the activation region, and in all. */
  get arenaBytes(): { weights: number; activations: number; total: number } {
    const total = this.arena.used - this.base;
    const activations = this.region.bytes;
    return { weights: total - activations - this.region.abandoned, activations, total };
  }

  /** The plan as text, with the arena figures. */
  describe(): string {
    const a = this.arenaBytes;
    const moved = this.region.abandoned ? `, ${formatBytes(this.region.abandoned)} left by an outgrown region` : '';
    const head = `session: ${this.threads} thread${this.threads > 1 ? 's' : ''}, kernels ${this.kernelsMode}, winograd ${this.options.winograd ?? 'auto'}; arena ${formatBytes(a.total)} ` +
      `(weights and tables ${formatBytes(a.weights)}, activation region ${formatBytes(a.activations)}${moved}); ${this.bindings.size} plan(s) cached`;
    return this.last ? `${head}\n${describePlan(this.last.plan)}` : head;
  }

  /** Drops the plans; closes the thread pool when the session owns it. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.bindings.clear();
    this.last = undefined;
    if (this.options.ownThreadPool && this.options.threadPool) await this.options.threadPool.close();
  }
}
