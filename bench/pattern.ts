// The pattern kernel, layer by layer (PatDNN's Fig. 12–13 questions): on each
// pattern layer of VGG-S, nnzip's pattern kernel against its own dense WASM conv
// (im2col + GEMM) and its own CSR sparse conv on the same weights (same density),
// at 1 and 2 threads, batch 1 and 64; and the ablation CSR → +FKR → +FKW → +LRE →
// +tuning. Every number of a table row comes from one interleaved run (harness.ts).
//   CSR      im2col + CSR spmm (the sparse conv nnzip runs for pruned layers)
//   +FKR     direct conv on the padded input, filters in FKR order, kernels grouped by
//            pattern, one offset per weight (pattern-oblivious code)
//   +FKW     one channel index per kernel, the pattern's taps in straight-line code (row tiles)
//   +LRE     each input vector loaded once per tile, used by every tap and row reading it
//   +tuning  the auto-tuner's layout (row tiles, kernel-major planes, or planes with two filters' kernels of
//            one channel per pass: pairs), tile, group, LRE, loop order and unrolling,
//            tuned for the row's class (compile/pattern_cache.ts tuneClass: batch 1 on 1 thread, batch 1
//            on 2 threads = one thread's share of the image, batch 64 = many images); the ablation's
//            configurations are among its candidates (compile/pattern_tune.ts ablationVariants)
//   dense    the planner's best dense kernel (im2col + GEMM or Winograd, whichever it estimates faster)
//   im2col   im2col + GEMM only (Winograd off): the dense kernel of the issue's bar
// Each thread count is timed in its own rounds (its sessions made, measured, disposed, before the
// next count's): a 2-thread session's workers would otherwise share the cores with the 1-thread
// rounds. Within one thread count every way of running the layer is interleaved, as the ratios need.
// --cpu: 1-thread figures are the process's CPU time per run (the fastest of the rounds) instead of wall
// time (on a shared machine a descheduled run costs wall time but no CPU time); rows of more threads
// are the fastest wall time of the rounds (their CPU time is every thread's work, spinning included).
// Each run is the layer's plan steps (Session.boundSteps: as the layer runs inside a model, its input
// already in the arena); --io times session.run() instead (the feeds copied in and the output copied
// out: the same cost for every way, which narrows the ratios).
// --strided: instead of VGG-S, stride-2 convs of ResNet's downsampling shapes (pattern_model.ts stridedModel;
// the kernel's phase planes), without the ablation (its row tiles take stride 1).
// Run: node dist/bench/pattern.js [--model FILE.nnz | --strided] [--threads 1,2] [--batches 1,64] [--layers a,b] [--no-ablation] [--cpu] [--io]
import { fileURLToPath } from 'node:url';
import { patternParams } from '../src/compile/pattern_choice.js';
import { ablationVariants, tunePatternConv } from '../src/compile/pattern_tune.js';
import type { PatternOptions } from '../src/compile/plan_types.js';
import { NnzipError } from '../src/ir/errors.js';
import { nodeWindow2d } from '../src/ir/window.js';
import { Rng } from '../src/ir/random.js';
import { f32 } from '../src/ir/tensor.js';
import { WasmArena } from '../src/kernels/wasm/arena.js';
import { patternGeometry, type PatternConvParams } from '../src/kernels/wasm/pattern.js';
import { patternVariantKey, type PatternVariant } from '../src/kernels/wasm/pattern_spec.js';
import { NodeThreadPool } from '../src/kernels/wasm/thread_pool_node.js';
import type { Session } from '../src/runtime/session.js';
import { createNodeSession } from '../src/runtime/session_node.js';
import { contender, measure, type Contender, type Timing } from './harness.js';
import { foreignLoadLine, watchForeignLoad } from './harness_node.js';
import { simdPeakPerThread, simdPeakProbe } from './simd_peak.js';
import { formatRatio, formatSig, formatTable } from './table.js';
import { patternLayers, patternVggs, stridedModel, type PatternLayer } from './pattern_model.js';

interface Options { model?: string; strided: boolean; threads: number[]; batches: number[]; layers?: string[]; ablation: boolean; cpu: boolean; io: boolean }

/** One way to run a layer: the session options. */
interface Way { name: string; kernels?: 'dense'; winograd?: 'off'; patterns?: PatternOptions }

/** The layer's pattern kernel parameters (its window from the node). */
function layerParams(layer: PatternLayer, M: number): PatternConvParams {
  const [C, H, W] = layer.input;
  return patternParams({ C, M, H, W, win: nodeWindow2d(layer.node, [H, W], [3, 3]).win });
}

function ways(layer: PatternLayer, tuned: PatternVariant): Way[] {
  const fixed = (v: PatternVariant): PatternOptions => ({ use: 'always', variant: () => v });
  const geo = patternGeometry(layerParams(layer, 0));
  const base: Way[] = [{ name: 'dense', kernels: 'dense' }, { name: 'im2col', kernels: 'dense', winograd: 'off' }, { name: 'CSR', patterns: { use: 'never' } }];
  if (geo.S !== 1) return [...base, { name: '+tuning', patterns: fixed(tuned) }]; // the ablation's row tiles take stride 1
  const [fkr, fkw, lre] = ablationVariants(geo);
  return [
    ...base,
    { name: '+FKR', patterns: fixed(fkr) },
    { name: '+FKW', patterns: fixed(fkw) },
    { name: '+LRE', patterns: fixed(lre) },
    { name: '+tuning', patterns: fixed(tuned) },
  ];
}

/**
 * The tuner's variant for the layer at this batch and thread count (its class), and the tuning's wall time.
 * One image on more threads is tuned on a pool of that many threads, as a session with `patterns.tune` does.
 */
async function tuned(layer: PatternLayer, g: ReturnType<typeof patternVggs>['graph'], batch: number, threads: number): Promise<{ variant: PatternVariant; ms: number }> {
  const [, wName, bName] = layer.node.inputs;
  const w = g.initializers.get(wName)!, f = g.formats.get(wName);
  if (f?.kind !== 'pattern') throw new NnzipError(`bench/pattern: ${wName} is not stored as patterns`);
  const pool = batch === 1 && threads > 1 ? new NodeThreadPool(new WasmArena({ shared: true, maximumBytes: 1 << 30 }), threads) : undefined;
  try {
    const t0 = performance.now();
    const r = tunePatternConv(layerParams(layer, w.shape[0]), w.data as Float32Array, f,
      { bias: bName ? (g.initializers.get(bName)!.data as Float32Array) : undefined, batch, threads, pool });
    return { variant: r.variant, ms: performance.now() - t0 };
  } finally {
    await pool?.close();
  }
}

/**
 * Each way at `threads` threads, timed in interleaved rounds of their own; the sessions (and their
 * worker threads) are disposed before returning.
 */
async function timeWays(layer: PatternLayer, batch: number, threads: number, list: Way[], cpu: boolean, io: boolean): Promise<Map<string, Timing>> {
  const graph = layer.graph(batch);
  const r = new Rng(batch);
  const n = batch * layer.input.reduce((a, b) => a * b, 1);
  const feeds = { x: f32([batch, ...layer.input], r.floats(n, 0, 1)) };
  const sessions: Session[] = [], contenders: Contender[] = [];
  const probe = simdPeakProbe();
  // the machine's multiply-add peak in the same rounds (its clock and neighbours change during a run)
  contenders.push(contender(PEAK, () => probe.run()));
  for (const way of list) {
    const s = await createNodeSession(graph, { threads, batch, kernels: way.kernels, winograd: way.winograd, patterns: way.patterns });
    sessions.push(s);
    const steps = io ? [] : s.boundSteps(feeds).map((b) => b.run);
    contenders.push(contender(way.name, io ? () => s.run(feeds) : () => { for (const run of steps) run(); }, { threads }));
  }
  try {
    // more threads with --cpu: many short samples, so that some run while no other process holds a core; a
    // batch's samples hold several runs (2 ms held one or two batch-64 runs, each sample's first paying for the
    // switch from the other ways: caches they filled, a worker gone to sleep; VGG-S features.7 1.32 ms vs 1.00 at 20 ms)
    const short = cpu && threads > 1 ? { rounds: 41, minSampleMs: batch > 1 ? 20 : 2 } : { rounds: cpu ? 15 : 7 };
    const timed = new Map((await measure(contenders, { ...short, pauseMs: 20 })).map((t) => [t.name, t]));
    const p = timed.get(PEAK)!;
    peakMacNs.set(threads, probe.macs / (Math.min(...p.cpu) * 1e6));
    return timed;
  } finally {
    for (const s of sessions) await s.dispose();
  }
}

const PEAK = 'simd peak';
/** f32x4 multiply-adds per ns of CPU time of the peak probe, last timed at each thread count. */
const peakMacNs = new Map<number, number>();

/** Weights the layer keeps (its nonzeros). */
function keptWeights(layer: PatternLayer): number {
  return (layer.graph(1).initializers.get(layer.node.inputs[1])!.data as Float32Array).reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
}

/** A table's figure: with --cpu the 1-thread CPU time or the fastest wall time of more threads, else the median. */
function figure(x: Timing | undefined, threads: number, cpu: boolean): number | undefined {
  return !x ? undefined : !cpu ? x.ms : threads === 1 ? Math.min(...x.cpu) : Math.min(...x.samples);
}

export async function benchPatternLayers(o: Options): Promise<string> {
  const model = o.strided ? stridedModel() : patternVggs(o.model);
  const layers = patternLayers(model.graph).filter((l) => !o.layers || o.layers.includes(l.name));
  const speed: string[][] = [], ablation: string[][] = [];
  const tunings: string[] = [];
  for (const layer of layers) {
    for (const batch of o.batches) {
      process.stderr.write(`bench/pattern: ${layer.name}, batch ${batch}\n`);
      const byThreads = new Map<number, Map<string, Timing>>();
      for (const t of o.threads) {
        const tune = await tuned(layer, model.graph, batch, t);
        tunings.push(`${layer.name} batch ${batch} ${t} thread${t > 1 ? 's' : ''}: ${patternVariantKey(tune.variant)} (${tune.ms < 1 ? 'cached' : `tuned in ${Math.round(tune.ms)} ms`})`);
        const list = ways(layer, tune.variant);
        const chosen = o.ablation ? list : list.filter((w) => ['dense', 'im2col', 'CSR', '+tuning'].includes(w.name));
        byThreads.set(t, await timeWays(layer, batch, t, chosen, o.cpu, o.io));
      }
      const shape = `${layer.input[0]}→${layer.graph(1).initializers.get(layer.node.inputs[1])!.shape[0]} ${layer.input[1]}×${layer.input[2]}`;
      // f32x4 multiply-adds of the kept weights per run (every kernel here does at least these, one per output), per ns at the peak
      const out = patternGeometry(layerParams(layer, 0)), macNs = (keptWeights(layer) * out.OH * out.OW * batch) / 4 / peakMacNs.get(1)!;
      const ofPeak = (t: number, ms: number | undefined) => (t === 1 && o.cpu && ms ? `${Math.round((100 * macNs) / (ms * 1e6))}%` : '-');
      for (const t of o.threads) {
        const at = (w: string) => figure(byThreads.get(t)?.get(w), t, o.cpu);
        const wall = (n: number) => { const x = byThreads.get(n)?.get('+tuning'); return x && (o.cpu ? Math.min(...x.samples) : x.ms); };
        speed.push([layer.name, shape, String(batch), String(t), formatSig(at('dense')), formatSig(at('im2col')), formatSig(at('CSR')), formatSig(at('+tuning')),
          formatRatio(at('dense'), at('+tuning')), formatRatio(at('im2col'), at('+tuning')), formatRatio(at('CSR'), at('+tuning')), t === 1 ? '-' : formatRatio(wall(1), wall(t)),
          ofPeak(t, at('+tuning')), ofPeak(t, at('CSR'))]);
        if (o.ablation && byThreads.get(t)?.has('+FKR')) {
          ablation.push([layer.name, String(batch), String(t), ...['CSR', '+FKR', '+FKW', '+LRE', '+tuning'].map((w) => `${formatSig(at(w))} (${formatRatio(at('CSR'), at(w))})`)]);
        }
      }
    }
  }
  const what = o.cpu
    ? 'ms per run, interleaved rounds per thread count: 1 thread the process\'s CPU time, fastest of 15 rounds; more threads the fastest wall time of 41 rounds of 2 ms samples (vs 1 thread: both wall)'
    : 'ms per run (median of 7 interleaved rounds per thread count)';
  const run = o.io ? 'session.run() with the input copied in and the output out' : 'the layer\'s plan steps (no input/output copies)';
  const out = [`pattern layers of ${model.source}: ${what}; a run = ${run} (batch 64 = the whole batch)`,
    formatTable(['layer', 'shape', 'batch', 'threads', 'dense', 'im2col', 'CSR', 'pattern', 'vs dense', 'vs im2col', 'vs CSR', 'vs 1 thread', 'pattern of peak', 'CSR of peak'], speed),
    `of peak: the kept weights' f32x4 multiply-adds per ns of CPU time, over those of bench/simd_peak.ts (12 independent mul + add chains from L1) timed in the same rounds (last: ${formatSig(peakMacNs.get(1))} per ns)`];
  const most = Math.max(...o.threads);
  if (most > 1) {
    // a multi-thread row can only gain what the other cores give: on a VM they may be slower than the first
    const { alone, together } = await simdPeakPerThread(most);
    out.push(`the same peak on each thread of a ${most}-thread pool, alone (after the rows): ${alone.map((p, t) => `${t === 0 ? 'caller' : `worker ${t}`} ${formatSig(p)}`).join(', ')} per ns` +
      ` (the slowest at ${Math.round((100 * Math.min(...alone)) / alone[0])}% of the caller's); on all ${most} at once ${formatSig(together)} per ns in all (${(together / alone[0]).toFixed(2)}× the caller alone)`);
  }
  if (o.ablation && ablation.length) out.push('', `ablation, ms as above (speed-up over CSR):`, formatTable(['layer', 'batch', 'threads', 'CSR', '+FKR', '+FKW', '+LRE', '+tuning'], ablation));
  out.push('', 'tuned variants (per tuning class; a class tuned once is cached for the other rows of it):', ...tunings);
  return out.join('\n');
}

function parse(argv: string[]): Options {
  const o: Options = { strided: false, threads: [1, 2], batches: [1, 64], ablation: true, cpu: false, io: false };
  const list = (v: string | undefined, flag: string) => {
    if (!v || v.startsWith('--')) throw new NnzipError(`bench/pattern: ${flag} needs a value`);
    return v.split(',').filter(Boolean);
  };
  const ints = (v: string | undefined, flag: string) => list(v, flag).map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1) throw new NnzipError(`bench/pattern: ${flag} ${v}: give positive integers`);
    return n;
  });
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    if (f === '--model') o.model = list(argv[++i], f)[0];
    else if (f === '--threads') o.threads = ints(argv[++i], f);
    else if (f === '--batches') o.batches = ints(argv[++i], f);
    else if (f === '--layers') o.layers = list(argv[++i], f);
    else if (f === '--no-ablation') o.ablation = false;
    else if (f === '--strided') o.strided = true;
    else if (f === '--cpu') o.cpu = true;
    else if (f === '--io') o.io = true;
    else throw new NnzipError(`bench/pattern: unknown option ${f}; see the header of bench/pattern.ts`);
  }
  if (o.model && o.strided) throw new NnzipError('bench/pattern: --model and --strided are two models; give one');
  return o;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const foreign = watchForeignLoad();
  Promise.resolve().then(() => benchPatternLayers(parse(process.argv.slice(2)))).then((table) => {
    console.log(table);
    const line = foreignLoadLine(foreign());
    if (line) console.log(`\n${line}`);
    process.exit(0);
  }, (e) => {
    process.stderr.write(e instanceof NnzipError ? `nnzip: error: ${e.message}\n` : `${(e as Error).stack ?? e}\n`);
    process.exit(e instanceof NnzipError ? e.exitCode : 1);
  });
}
