// Lowering of an IR Graph to a Plan for one set of input shapes: concrete types,
// a kernel per node (with the reason), fusion, concat inputs written in place,
// and buffer offsets from lifetimes. Weights stay the graph's arrays (or derived
// copies); packing them into the arena is the runtime's job. The same plan,
// made for target 'c', drives the C backend (compile/backends/c).
import { fail } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import { DEFAULT_GEMM_VARIANT } from '../kernels/wasm/gemm.js';
import { WINOGRAD_TILES } from '../ir/winograd.js';
import { placeConcatInputs } from './concat_inplace.js';
import { cConvKernel, cQConvPlanes } from './conv_layout.js';
import { SPLIT_FLOPS } from './cost.js';
import { fuse, type FuseInput } from './fuse.js';
import { lowerNodes } from './lower.js';
import type { LowerCtx } from './lower_ctx.js';
import { C_REGION, planMemory, WASM_REGION } from './memory.js';
import type { KernelsMode, PatternOptions, Plan, PlanTarget, WinogradMode } from './plan_types.js';
import { checkOptimize, fitPatternScratch, type COptimize } from './ram_fit.js';
import { bindShapes } from './shapes.js';

export interface PlanOptions {
  /** Concrete shape of every fed graph input (inputs left out use their initializer). */
  inputShapes: Record<string, number[]>;
  /** 'dense' ignores compressed formats (to measure what the sparse kernels gain). Default 'auto'. */
  kernels?: KernelsMode;
  /** Winograd for 3×3 stride-1 convs: 'auto' (cost model, default), 'off', 'on', or a tile 2 | 4 | 6. */
  winograd?: WinogradMode;
  /** Threads a step may split its work over (default 1). */
  threads?: number;
  /** GEMM register tile (packed panels are padded to it); default the GEMM's tuned tile. */
  tile?: { mr: number; nr: number };
  /** Smallest step (in flops) worth splitting over threads (default 2^22, see cost.ts). */
  splitFlops?: number;
  /** The pattern kernel: when it runs, its tuned variants, FKR on or off (default: by cost, default variant, FKR). */
  patterns?: PatternOptions;
  /** What the plan is for (plan_types.ts); default 'wasm'. */
  target?: PlanTarget;
  /** Target 'c': 'ram' (default) sizes the pattern convs' padded copies so none raises the arena's peak, 'time' copies whole planes (ram_fit.ts). */
  optimize?: COptimize;
}

function checkOptions(graph: Graph, o: PlanOptions): void {
  const kernels = o.kernels ?? 'auto';
  if (kernels !== 'auto' && kernels !== 'dense') fail(`plan: kernels='${String(kernels)}'; use 'auto' or 'dense'`);
  const threads = o.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) fail(`plan: threads=${threads}; give an integer >= 1`);
  checkWinograd('plan', o.winograd);
  if (o.splitFlops !== undefined && !(o.splitFlops >= 0)) fail(`plan: splitFlops=${o.splitFlops}; give a number >= 0`);
  const target = o.target ?? 'wasm';
  if (target !== 'wasm' && target !== 'c') fail(`plan: target='${String(target)}'; use 'wasm' or 'c'`);
  if (target === 'c' && threads !== 1) fail(`plan: target 'c' runs on one thread; threads=${threads}`);
  checkOptimize('plan', o.optimize);
  const use = o.patterns?.use;
  if (use !== undefined && !['auto', 'always', 'never'].includes(use)) fail(`plan: patterns.use='${String(use)}'; use 'auto', 'always' or 'never'`);
  const names = new Set(graph.inputs.map((v) => v.name));
  for (const name of Object.keys(o.inputShapes)) if (!names.has(name)) fail(`plan: "${name}" is not an input of graph "${graph.name}"`);
}

const WINOGRAD_MODES: readonly unknown[] = ['auto', 'off', 'on', ...WINOGRAD_TILES];

/** Checks a Winograd option (`where`: the API or flag that took it). */
export function checkWinograd(where: string, w: unknown): void {
  if (w !== undefined && !WINOGRAD_MODES.includes(w)) {
    fail(`${where}: winograd=${JSON.stringify(w)}; use 'auto', 'off', 'on' or a tile ${WINOGRAD_TILES.join(', ')} (F(m,3))`);
  }
}

export function planGraph(graph: Graph, opts: PlanOptions): Plan {
  checkOptions(graph, opts);
  const target = opts.target ?? 'wasm';
  const kernels = opts.kernels ?? 'auto';
  const winograd: WinogradMode = opts.winograd ?? 'auto';
  const threads = opts.threads ?? 1;
  const types = bindShapes(graph, opts.inputShapes);
  const producers = new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const ctx: LowerCtx = {
    graph, types, target, kernels, winograd, threads, splitFlops: opts.splitFlops ?? SPLIT_FLOPS, tile: opts.tile ?? DEFAULT_GEMM_VARIANT, producers,
    patterns: opts.patterns ?? {},
  };
  const lowered = lowerNodes(ctx);
  const graphInputs = graph.inputs.filter((v) => opts.inputShapes[v.name]).map((v) => v.name);
  const outputs = graph.outputs.map((v) => v.name);
  for (const o of outputs) if (!types.has(o)) fail(`output "${o}" of graph "${graph.name}" is not produced by any node`);
  const consts = new Map<string, Tensor>();
  for (const [name, t] of types) if (t.value && !graphInputs.includes(name)) consts.set(name, t.value);
  // The C kernels work directly on their operands: no patches, packed panels or padded planes.
  if (target === 'c') for (const s of lowered.steps) Object.assign(s, s.kind === 'conv' ? cConvKernel(s) : { scratch: s.kind === 'qconv' ? cQConvPlanes(s).bytes : 0 });
  const f: FuseInput = { steps: lowered.steps, aliases: lowered.aliases, inputs: [...graphInputs], outputs, consts, types, target, boundary: [], winograd };
  const steps = fuse(f);
  const inputs = f.inputs;
  const external = new Set([...consts.keys(), ...inputs]);
  const views = placeConcatInputs({ steps, aliases: lowered.aliases, outputs, external });
  const memoryOf = () => planMemory({
    steps, aliases: lowered.aliases, views, types, inputs, outputs,
    layout: target === 'c' ? C_REGION : WASM_REGION,
  });
  if (target === 'c' && (opts.optimize ?? 'ram') === 'ram') fitPatternScratch(steps, () => memoryOf().memory);
  const { values, memory } = memoryOf();
  const fallbacks = steps.flatMap((s) => (s.kind === 'reference' ? [{ node: s.name, op: s.op, why: s.why }] : []));
  const shapes: Record<string, number[]> = {};
  for (const name of graphInputs) shapes[name] = [...opts.inputShapes[name]];
  return {
    graph: graph.name, target, inputShapes: shapes, threads, kernels, winograd, steps, values, inputs, outputs, memory, fallbacks, boundary: f.boundary,
  };
}
