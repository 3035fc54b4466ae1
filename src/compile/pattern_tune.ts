// The pattern kernel's auto-tuner: for one layer (shape and pattern histogram) and
// one tuning class (one image, one image over K threads, many images), time the
// generated kernel's variants on the layer's own weights as that class runs them and
// keep the fastest. The search space is PatternVariant's (kernels/wasm/pattern_spec.ts):
// the pairs layout in groups of 8–128 filters, 2 or 4 vectors at a time; the kernel-major
// plane layout 1–8 vectors at a time, kernels 1, 2 or 4 at a time;
// row tiles (rows × vectors); the ablation's configurations (CSR offsets, FKW without
// and with LRE); then LRE, loop order and unrolling around the best three tiles; then
// the fastest few of both stages again, side by side with twice the rounds. Results
// are cached per process by layer key and class, can be exported as JSON and imported
// again, and the planner uses them for every matching layer.
import type { PatternFormat } from '../ir/tensor_format.js';
import { WasmArena } from '../kernels/wasm/arena.js';
import { defaultPatternVariant, PAIRS_GROUP, pairsGroup, patternGeometry, rowsPatternVariant, partsOwnPlanes, WasmPatternConv, type ImagePart, type PatternConvParams } from '../kernels/wasm/pattern.js';
import { planeFits } from '../kernels/wasm/pattern_plane_codegen.js';
import { patternVariantKey, type FusedPool, type PatternGeometry, type PatternVariant } from '../kernels/wasm/pattern_spec.js';
import { patternParts } from './conv_layout.js';
import { patternParams } from './pattern_choice.js';
import { cached, cacheTuning, patternTuneKey, tuneClass, type TuneResult } from './pattern_cache.js';
import type { ConvStep, Plan } from './plan_types.js';
import type { ThreadPool } from '../kernels/wasm/thread_pool.js';
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
 * The tuner's clock: CPU time where the process can tell (Node: a candidate descheduled by
 * another process costs wall time but no CPU time, so a shared machine does not pick the
 * variant that happened to run alone), else wall time. Runs on a pool's threads take wall
 * time: the process's CPU time counts every thread, spinning included.
 */
function tunerClock(onPool: boolean): () => number {
  const cpu = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process?.cpuUsage;
  if (onPool || typeof cpu !== 'function') return () => performance.now();
  return () => { const c = cpu(); return (c.user + c.system) / 1000; };
}

/**
 * How a class runs one image's worth of a conv: `images` images in one call (distinct
 * inputs and outputs: many images stream through the caches); one image on the threads of
 * the pool the conv was made with (its parts taken dynamically, as a session runs them); or,
 * without a pool, one thread's share of the parts threads share one image in, the largest
 * ones (plane, pairs: each part with its pad; row tiles: after the pad of the whole image,
 * which the caller does before the threads start).
 */
interface Timed { call: () => void; images: number }

function timedCall(conv: WasmPatternConv, x: number, y: number, scratch: number, images: number, threads: number, onPool: boolean): Timed {
  if (threads === 1 || onPool) return { call: () => conv.run(images, x, y, scratch), images };
  const own = partsOwnPlanes(conv.variant), parts = conv.imageParts(), e = conv.exports, C = conv.geo.C, OH = conv.geo.OH;
  const size = (p: ImagePart) => (conv.fkw.offset[p.r1] - conv.fkw.offset[p.r0]) * (p.y1 - p.y0);
  const share = [...parts].sort((a, b) => size(b) - size(a)).slice(0, Math.max(1, Math.round(parts.length / threads)));
  const calls = share.map(({ r0, r1, y0, y1 }) => ({
    pad: own ? [y0, y1] : undefined,
    args: conv.convCall(scratch, y, scratch + conv.padBytes, r0, r1, y0, y1).args as Parameters<typeof e.conv>,
  }));
  return {
    call: () => {
      if (!own) e.pad(x, scratch, 0, C, 0, OH);
      for (const c of calls) {
        if (c.pad) e.pad(x, scratch, 0, C, c.pad[0], c.pad[1]);
        e.conv(...c.args);
      }
    },
    images: 1,
  };
}

/**
 * ns per image of each candidate, timed side by side (as bench/harness.ts does): each
 * warmed and given enough calls per sample to last ~0.5 ms, then `rounds` rounds timing
 * every candidate once in a rotating order; a candidate's time is its fastest round
 * (other processes slow some rounds down, never speed one up). Times are CPU time in
 * Node when the candidates run on the calling thread only, else wall time (tunerClock).
 */
function sideBySide(timed: Timed[], rounds: number, onPool: boolean, steady = false): number[] {
  const now = tunerClock(onPool);
  const timeOnce = (i: number, reps: number) => {
    const t0 = now(), f = timed[i].call;
    for (let k = 0; k < reps; k++) f();
    return now() - t0;
  };
  const reps = timed.map((_, i) => {
    timeOnce(i, 1); // compile and warm
    let n = 1;
    while (timeOnce(i, n) < 0.5 && n < 1 << 14) n *= 2;
    if (steady) warmUntilSteady(() => timeOnce(i, n));
    return n;
  });
  const best = timed.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < timed.length; k++) {
      const i = (k + r) % timed.length;
      best[i] = Math.min(best[i], (timeOnce(i, reps[i]) * 1e6) / (reps[i] * timed[i].images));
    }
  }
  return best;
}

/**
 * Runs `block` (~0.5 ms of calls) until it has not got 3% faster for STEADY_MS, at most
 * STEADY_MAX_MS. V8 runs a fresh module on baseline code (Liftoff) until each of its
 * functions has run enough, then compiles that function in the background: VGG-S's 14×14
 * layer took ~400 calls to reach its speed in Node 22 (pairs layout, ~50 pass functions
 * tiering up one by one: 231 → 24 µs a call), the plane layout 65 µs for ~300 calls, then
 * 29 (its one large function's compile). Timed before that, the tuner ranks compile
 * latency, not code: it picked the plane layout, 1.2–1.3× slower than the default at speed.
 */
function warmUntilSteady(block: () => number): void {
  const t0 = performance.now();
  let best = Infinity, since = t0;
  while (performance.now() - since < STEADY_MS && performance.now() - t0 < STEADY_MAX_MS) {
    const t = block();
    if (t < 0.97 * best) since = performance.now();
    best = Math.min(best, t);
  }
}

const STEADY_MS = 40, STEADY_MAX_MS = 400;

/**
 * The default variant stays unless another is faster by more than this share of its time: a layer
 * timed alone, hot in the caches, ranks close variants differently from the model's run (VGG-S, batch
 * 1: with 3%, picks 0–8% faster alone made the whole model 13% slower than the default in one run).
 */
const KEEP_DEFAULT = 0.1;

/** Images per timed call of the many-images class: enough that inputs and outputs leave the caches. */
const MANY_IMAGES = 8;

/**
 * The first stage's candidates: the default, the pairs layout (groups of 8–128 filters: small
 * groups leave threads more to share, large ones pair more kernels), the plane layout (1–8
 * vectors, kernels 1, 2 or 4 at a time), every row tile, and the ablation's configurations (bench/pattern.ts:
 * +FKR = CSR offsets, +FKW = FKW without LRE, +LRE), so that the tuned kernel is never one
 * of them beaten.
 */
export function firstStageCandidates(geo: PatternGeometry): PatternVariant[] {
  const base = defaultPatternVariant(geo), rows = rowsPatternVariant(geo);
  return [
    base,
    ...(planeFits(geo) ? [...[8, 16, 32, 64, 128].map((group) => ({ ...PAIRS, rows: pairsGroup(geo, group) })), { ...PAIRS, rows: pairsGroup(geo, PAIRS_GROUP), vecs: 2 }].filter((v) => v.rows >= 2) : []),
    ...(planeFits(geo) ? [1, 2, 4, 8].flatMap((vecs) => [1, 2, 4].map((unroll) => ({ ...base, layout: 'plane' as const, rows: 1, vecs, lre: false, unroll: unroll as 1 | 2 | 4 }))) : []),
    // row tiles read a stride-1 window only
    ...(geo.S === 1 ? [...tiles(geo).map(([r, vecs]) => ({ ...rows, rows: r, vecs })), ...ablationVariants(geo)] : []),
  ];
}

/** The pairs layout's candidates start from this (groups of PAIRS_GROUP, 4 vectors at a time). */
const PAIRS: PatternVariant = { storage: 'fkw', layout: 'pairs', rows: PAIRS_GROUP, vecs: 4, lre: false, order: 'filter', unroll: 1 };

/** The ablation's steps after CSR (bench/pattern.ts): +FKR, +FKW, +LRE, on the default row tile. */
export function ablationVariants(geo: { OH: number; OW: number }): PatternVariant[] {
  const rows = rowsPatternVariant(geo);
  return [{ ...rows, storage: 'csr', lre: false }, { ...rows, lre: false }, rows];
}

/**
 * Tunes one layer for one class (cached by its key and class) on its own weights and a
 * random input: `batch` > 1 times MANY_IMAGES distinct images per call, batch 1 on
 * `threads` > 1 the image on `pool`'s threads when one is given (in its arena, freed after),
 * else one thread's share of the image (timedCall; a share timed alone misses what the
 * threads do to each other: hand-offs, the second core's speed and caches). See firstStageCandidates,
 * then LRE, loop order and unrolling around the three fastest row tiles, then the
 * fastest four of both stages and the default again with twice the rounds: the fastest,
 * unless the default is within KEEP_DEFAULT of it.
 */
export function tunePatternConv(p: PatternConvParams, w: Float32Array, f: PatternFormat,
  o: { samples?: number; bias?: Float32Array; maxPool?: FusedPool; batch?: number; threads?: number; pool?: ThreadPool } = {}): TuneResult {
  const geo = patternGeometry(p);
  const key = patternTuneKey(geo, p.M, f), cls = tuneClass(o.batch ?? 1, o.threads ?? 1);
  const hit = cached(key, cls);
  if (hit && hit.tried > 0) return hit;
  const images = (o.batch ?? 1) > 1 ? Math.min(o.batch!, MANY_IMAGES) : 1, threads = images > 1 ? 1 : (o.threads ?? 1);
  const pool = threads > 1 && o.pool && o.pool.size >= threads ? o.pool : undefined;
  const arena = pool?.arena ?? new WasmArena({ maximumBytes: 1 << 30 });
  const start = arena.used;
  try {
    const inSize = p.C * (o.maxPool ? o.maxPool.H0 * o.maxPool.W0 : p.H * p.W);
    const x = arena.allocF32(images * inSize), y = arena.allocF32(images * p.M * geo.OH * geo.OW);
    arena.f32(x, images * inSize).set(new Rng(1).floats(images * inSize, 0, 1));
    const rounds = o.samples ?? 5;
    let tried = 0;
    const stage = (variants: PatternVariant[], r: number, steady = false) => {
      const unique = [...new Map(variants.map((v) => [patternVariantKey(v), v])).values()];
      const mark = arena.used;
      const timed = unique.map((variant) => {
        const conv = new WasmPatternConv(arena, p, w, f, { bias: o.bias, clamp: [0, Infinity], variant, maxPool: o.maxPool, parts: patternParts(threads, partsOwnPlanes(variant)), pool });
        return timedCall(conv, x, y, arena.alloc(pool ? conv.scratchBytes : conv.padBytes + conv.accBytes), images, threads, !!pool);
      });
      const ns = sideBySide(timed, r, !!pool, steady);
      arena.reset(mark);
      tried += unique.length;
      return unique.map((v, i) => ({ v, ns: ns[i] })).sort((a, b) => a.ns - b.ns);
    };
    const base = defaultPatternVariant(geo);
    const first = stage(firstStageCandidates(geo), rounds);
    const around = first.slice(0, 3).filter((c) => c.v.layout === 'rows').flatMap(({ v }) =>
      [true, false].flatMap((lre) => (['filter', 'tile'] as const).flatMap((order) => [1, 2].map((unroll) => ({ ...v, lre, order, unroll: unroll as 1 | 2 })))));
    const second = around.length ? stage([first[0].v, ...around], rounds) : [];
    // the close finishers again, each at its steady speed, side by side with more rounds (and the default, for defaultNs)
    const finalists = [...first.slice(0, 4), ...second.slice(0, 4)].sort((a, b) => a.ns - b.ns).map((c) => c.v);
    const final = stage([...finalists.slice(0, 4), base], 2 * rounds, true);
    const dflt = final.find((c) => patternVariantKey(c.v) === patternVariantKey(base))!, defaultNs = dflt.ns;
    // the default unless the winner is clearly faster: near-equal variants swap places from run to run on a shared machine
    const best = final[0].ns < (1 - KEEP_DEFAULT) * defaultNs ? final[0] : dflt;
    const result: TuneResult = { variant: best.v, ns: best.ns, defaultNs, tried, cls };
    cacheTuning(key, result);
    return result;
  } finally {
    if (pool) arena.reset(start); // the session's arena: its plans allocate after this
  }
}

/**
 * Tunes every conv a plan runs on the pattern kernel, for its class (the step's batch on the plan's
 * threads; cached ones are not timed again). Returns whether a tuned variant differs from the one the
 * plan holds: the estimates, the kernel choices and the scratch that follow from it then need planning again.
 */
export function tunePlan(plan: Pick<Plan, 'steps' | 'threads'>, o: { samples?: number; pool?: ThreadPool } = {}): boolean {
  let changed = false;
  for (const s of plan.steps) {
    if (s.kind !== 'conv' || s.impl !== 'pattern') continue;
    const c = s as ConvStep, planned = c.pattern!;
    const r = tunePatternConv(patternParams(c), c.weight.data, planned.format,
      { samples: o.samples, bias: c.bias, maxPool: planned.maxPool, batch: c.N, threads: plan.threads, pool: o.pool });
    if (patternVariantKey(r.variant) !== patternVariantKey(planned.variant)) changed = true;
  }
  return changed;
}
