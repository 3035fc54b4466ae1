// The pattern kernel's auto-tuner: for one layer (shape and pattern histogram),
// time the generated kernel's variants on the layer's own weights and keep the
// fastest. The search space is PatternVariant's (kernels/wasm/pattern_spec.ts):
// the kernel-major plane layout 1–8 vectors at a time, single or paired kernels;
// row tiles (rows × vectors), then LRE, loop order and unrolling around the best
// two tiles. Results are cached per process by layer key (shape + pattern
// histogram), can be exported as JSON and imported again (a .nnz file's meta
// carries them), and the planner uses them for every matching layer.
import { fail } from '../ir/errors.js';
import { patternCounts } from '../ir/pattern.js';
import type { PatternFormat } from '../ir/tensor_format.js';
import { WasmArena } from '../kernels/wasm/arena.js';
import { defaultPatternVariant, patternGeometry, rowsPatternVariant, WasmPatternConv, type PatternConvParams } from '../kernels/wasm/pattern.js';
import { planeFits } from '../kernels/wasm/pattern_plane_codegen.js';
import { patternVariantKey, type PatternGeometry, type PatternVariant } from '../kernels/wasm/pattern_spec.js';
import { Rng } from '../ir/random.js';

export interface TuneResult {
  variant: PatternVariant;
  /** Median-free measure: the fastest ns per image seen for the chosen variant. */
  ns: number;
  /** The default variant's ns (what tuning gained). */
  defaultNs: number;
  tried: number;
}

const CACHE = new Map<string, TuneResult>();

/** The tuner's key of a layer: its geometry, filters, patterns and how many kernels use each. */
export function patternTuneKey(g: PatternGeometry, M: number, f: PatternFormat): string {
  const hist = patternCounts(f).perPattern;
  return `${g.C}x${g.H}x${g.W}>${M}:pad${g.padT},${g.padL},${g.PH},${g.PW}:${f.masks.join(',')}:${hist.join(',')}`;
}

/** The tuned variant of a layer key, if the tuner has seen it. */
export function tunedVariant(key: string): PatternVariant | undefined {
  return CACHE.get(key)?.variant;
}

export function exportTuning(): Record<string, PatternVariant> {
  return Object.fromEntries([...CACHE].map(([k, r]) => [k, r.variant]));
}

/** Loads tuned variants (from exportTuning, e.g. a file's meta); a malformed entry is an error naming it. */
export function importTuning(record: unknown, where: string): void {
  if (typeof record !== 'object' || record === null) fail(`${where}: pattern tuning must be an object of layer key → variant`);
  for (const [k, v] of Object.entries(record)) {
    const x = v as PatternVariant;
    const ok = (x.storage === 'fkw' || x.storage === 'csr') && Number.isInteger(x.rows) && x.rows >= 1 && x.rows <= 8 &&
      Number.isInteger(x.vecs) && x.vecs >= 1 && x.vecs <= 16 && typeof x.lre === 'boolean' && (x.order === 'filter' || x.order === 'tile') &&
      (x.unroll === 1 || x.unroll === 2);
    if (!ok) fail(`${where}: pattern tuning entry "${k}" is not a kernel variant`);
    CACHE.set(k, { variant: x, ns: NaN, defaultNs: NaN, tried: 0 });
  }
}

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

/** ns per image of one variant: the fastest of `samples` timings, each long enough to beat the timer. */
function timeVariant(make: () => WasmPatternConv, x: number, y: number, samples: number): number {
  const conv = make();
  const xpad = conv.arena.alloc(conv.padBytes + conv.accBytes);
  conv.run(1, x, y, xpad); // compile and warm
  let reps = 1, best = Infinity;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) conv.run(1, x, y, xpad);
    const ms = performance.now() - t0;
    if (ms >= 1 || reps >= 1 << 14) { best = (ms * 1e6) / reps; break; }
    reps *= 2;
  }
  for (let s = 1; s < samples; s++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) conv.run(1, x, y, xpad);
    best = Math.min(best, ((performance.now() - t0) * 1e6) / reps);
  }
  return best;
}

/** Tunes one layer (cached by its key); the weights are the layer's own, the input random. */
export function tunePatternConv(p: PatternConvParams, w: Float32Array, f: PatternFormat, o: { samples?: number; bias?: Float32Array } = {}): TuneResult {
  const geo = patternGeometry(p);
  const key = patternTuneKey(geo, p.M, f);
  const hit = CACHE.get(key);
  if (hit && hit.tried > 0) return hit;
  const arena = new WasmArena({ maximumBytes: 1 << 30 });
  const r = new Rng(1);
  const x = arena.allocF32(p.C * p.H * p.W), y = arena.allocF32(p.M * geo.OH * geo.OW);
  arena.f32(x, p.C * p.H * p.W).set(r.floats(p.C * p.H * p.W, 0, 1));
  const samples = o.samples ?? 5;
  const seen = new Map<string, number>();
  const time = (v: PatternVariant) => {
    const k = patternVariantKey(v);
    if (!seen.has(k)) {
      const mark = arena.used;
      seen.set(k, timeVariant(() => new WasmPatternConv(arena, p, w, f, { bias: o.bias, clamp: [0, Infinity], variant: v }), x, y, samples));
      arena.reset(mark);
    }
    return seen.get(k)!;
  };
  const base = defaultPatternVariant(geo);
  const defaultNs = time(base);
  let best = { v: base, ns: defaultNs };
  const consider = (v: PatternVariant) => {
    const ns = time(v);
    if (ns < best.ns) best = { v, ns };
    return ns;
  };
  if (planeFits(geo)) {
    for (const vecs of [1, 2, 4, 8]) for (const unroll of [1, 2] as const) consider({ ...base, layout: 'plane', rows: 1, vecs, lre: false, unroll });
  }
  const rows = rowsPatternVariant(geo);
  const byTile = tiles(geo).map(([r, vecs]) => ({ ...rows, rows: r, vecs })).map((v) => ({ v, ns: consider(v) })).sort((a, b) => a.ns - b.ns);
  for (const { v } of byTile.slice(0, 2)) {
    for (const lre of [true, false]) for (const order of ['filter', 'tile'] as const) for (const unroll of [1, 2] as const) consider({ ...v, lre, order, unroll });
  }
  const result: TuneResult = { variant: best.v, ns: best.ns, defaultNs, tried: seen.size };
  CACHE.set(key, result);
  return result;
}

/** Forgets every tuned layer (tests). */
export function clearTuning(): void {
  CACHE.clear();
}
