// The pattern kernel's auto-tuner: for one layer (shape and pattern histogram),
// time the generated kernel's variants on the layer's own weights and keep the
// fastest. The search space is PatternVariant's (kernels/wasm/pattern_spec.ts):
// the kernel-major plane layout 1–8 vectors at a time, kernels 1, 2 or 4 at a time;
// row tiles (rows × vectors), then LRE, loop order and unrolling around the best
// two tiles. Results are cached per process by layer key (shape + pattern
// histogram), can be exported as JSON and imported again (a .nnz file's meta
// carries them), and the planner uses them for every matching layer.
import type { PatternFormat } from '../ir/tensor_format.js';
import { WasmArena } from '../kernels/wasm/arena.js';
import { defaultPatternVariant, patternGeometry, rowsPatternVariant, WasmPatternConv, type PatternConvParams } from '../kernels/wasm/pattern.js';
import { planeFits } from '../kernels/wasm/pattern_plane_codegen.js';
import { patternVariantKey, type FusedPool, type PatternGeometry, type PatternVariant } from '../kernels/wasm/pattern_spec.js';
import type { Graph } from '../ir/graph.js';
import { cached, cacheTuning, patternTuneKey, type TuneResult } from './pattern_cache.js';
import { planGraph } from './plan.js';
import type { ConvStep } from './plan_types.js';
import { Rng } from '../ir/random.js';



/** Tile shapes worth trying for an output of OH rows and OW columns: 2 to 12 accumulators. */
function tiles(g: PatternGeometry): [number, number][] {
  const vtot = Math.ceil(g.OW / 4), out: [number, number][] = [];
  for (const rows of [1, 2, 3, 4, 6]) {
    for (const vecs of [1, 2, 3, 4, 6, 8]) {
      if (rows > g.OH || vecs > vtot || rows * vecs > 12 || rows * vecs < Math.min(2, g.OH * vtot)) continue;
      out.push([rows, vecs]);
    }
  }
  return out;
}

/**
 * This thread's clock for the tuner: CPU time where the process can tell (Node: a
 * candidate descheduled by another process costs wall time but no CPU time, so a
 * shared machine does not pick the variant that happened to run alone), else wall time.
 */
function tunerClock(): () => number {
  const cpu = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process?.cpuUsage;
  if (typeof cpu !== 'function') return () => performance.now();
  return () => { const c = cpu(); return (c.user + c.system) / 1000; };
}

/**
 * ns per image of each candidate, timed side by side (as bench/harness.ts does): each
 * warmed and given enough calls per sample to last ~0.5 ms, then `rounds` rounds timing
 * every candidate once in a rotating order; a candidate's time is its fastest round
 * (other processes slow some rounds down, never speed one up). Times are CPU time in
 * Node (tunerClock; the tuner runs on the calling thread only).
 */
function sideBySide(convs: WasmPatternConv[], x: number, y: number, rounds: number): number[] {
  const scratch = convs.map((c) => c.arena.alloc(c.padBytes + c.accBytes));
  const now = tunerClock();
  const timeOnce = (i: number, reps: number) => {
    const t0 = now();
    for (let k = 0; k < reps; k++) convs[i].run(1, x, y, scratch[i]);
    return now() - t0;
  };
  const reps = convs.map((_, i) => {
    timeOnce(i, 1); // compile and warm
    let n = 1;
    while (timeOnce(i, n) < 0.5 && n < 1 << 14) n *= 2;
    return n;
  });
  const best = convs.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < convs.length; k++) {
      const i = (k + r) % convs.length;
      best[i] = Math.min(best[i], (timeOnce(i, reps[i]) * 1e6) / reps[i]);
    }
  }
  return best;
}

/**
 * Tunes one layer (cached by its key) on its own weights and a random input: first the
 * default, the plane layout (1–8 vectors, kernels 1, 2 or 4 at a time) and every row tile;
 * then LRE, loop order and unrolling around the three fastest, beside the first round's best.
 */
export function tunePatternConv(p: PatternConvParams, w: Float32Array, f: PatternFormat,
  o: { samples?: number; bias?: Float32Array; maxPool?: FusedPool } = {}): TuneResult {
  const geo = patternGeometry(p);
  const key = patternTuneKey(geo, p.M, f);
  const hit = cached(key);
  if (hit && hit.tried > 0) return hit;
  const arena = new WasmArena({ maximumBytes: 1 << 30 });
  const inSize = p.C * (o.maxPool ? o.maxPool.H0 * o.maxPool.W0 : p.H * p.W);
  const x = arena.allocF32(inSize), y = arena.allocF32(p.M * geo.OH * geo.OW);
  arena.f32(x, inSize).set(new Rng(1).floats(inSize, 0, 1));
  const rounds = o.samples ?? 5;
  let tried = 0;
  const stage = (variants: PatternVariant[]) => {
    const unique = [...new Map(variants.map((v) => [patternVariantKey(v), v])).values()];
    const mark = arena.used;
    const convs = unique.map((variant) => new WasmPatternConv(arena, p, w, f, { bias: o.bias, clamp: [0, Infinity], variant, maxPool: o.maxPool }));
    const ns = sideBySide(convs, x, y, rounds);
    arena.reset(mark);
    tried += unique.length;
    return unique.map((v, i) => ({ v, ns: ns[i] })).sort((a, b) => a.ns - b.ns);
  };
  const base = defaultPatternVariant(geo), rows = rowsPatternVariant(geo);
  const first = stage([
    base,
    ...(planeFits(geo) ? [1, 2, 4, 8].flatMap((vecs) => [1, 2, 4].map((unroll) => ({ ...base, layout: 'plane' as const, rows: 1, vecs, lre: false, unroll: unroll as 1 | 2 | 4 }))) : []),
    ...tiles(geo).map(([r, vecs]) => ({ ...rows, rows: r, vecs })),
  ]);
  const defaultNs = first.find((c) => patternVariantKey(c.v) === patternVariantKey(base))!.ns;
  const around = first.slice(0, 3).filter((c) => c.v.layout === 'rows').flatMap(({ v }) =>
    [true, false].flatMap((lre) => (['filter', 'tile'] as const).flatMap((order) => [1, 2].map((unroll) => ({ ...v, lre, order, unroll: unroll as 1 | 2 })))));
  const second = around.length ? stage([first[0].v, ...around])[0] : first[0];
  const best = second.ns < first[0].ns ? second : first[0];
  const result: TuneResult = { variant: best.v, ns: best.ns, defaultNs, tried };
  cacheTuning(key, result);
  return result;
}

/** Tunes every conv of a graph that the planner runs on the pattern kernel (for these input shapes); returns them by node. */
export function tunePatterns(g: Graph, inputShapes: Record<string, number[]>, o: { samples?: number } = {}): Map<string, TuneResult> {
  const out = new Map<string, TuneResult>();
  for (const s of planGraph(g, { inputShapes }).steps) {
    if (s.kind !== 'conv' || s.impl !== 'pattern') continue;
    const c = s as ConvStep, w = c.win;
    out.set(c.name, tunePatternConv({ C: c.C, M: c.M, H: c.H, W: c.W, pads: [w.padT, w.padL, w.padB, w.padR] }, c.weight.data, c.pattern!.format,
      { samples: o.samples, bias: c.bias, maxPool: c.pattern!.maxPool }));
  }
  return out;
}
