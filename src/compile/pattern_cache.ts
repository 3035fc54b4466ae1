// Tuned pattern-kernel variants by layer key (shape + pattern histogram) and
// tuning class (one image on one thread, one image whose rows K threads share, or
// many images): filled by the tuner (pattern_tune.ts) or imported (JSON from
// exportTuning), read by the planner for every matching layer. Per process, like
// the compiled modules.
import { fail } from '../ir/errors.js';
import { patternCounts } from '../ir/pattern.js';
import type { PatternFormat } from '../ir/tensor_format.js';
import type { PatternGeometry, PatternVariant } from '../kernels/wasm/pattern_spec.js';

export interface TuneResult {
  variant: PatternVariant;
  /** The fastest ns per image timed for the chosen variant. */
  ns: number;
  /** The default variant's ns (what tuning gained). */
  defaultNs: number;
  tried: number;
  /** The tuning class it was timed for (tuneClass). */
  cls: string;
}

/** The version of exportTuning's record (1: a flat record of layer key → variant, all timed on one image and one thread). */
export const TUNING_VERSION = 2;

const CACHE = new Map<string, TuneResult>();

/** The tuner's key of a layer: its geometry, filters, patterns and how many kernels use each. */
export function patternTuneKey(g: PatternGeometry, M: number, f: PatternFormat): string {
  const hist = patternCounts(f).perPattern;
  // the stride only when it is not 1: tuning records saved before stride 2 keep their keys
  return `${g.C}x${g.H}x${g.W}>${M}:pad${g.padT},${g.padL},${g.PH},${g.PW}:${g.S === 1 ? '' : `s${g.S}:`}${f.masks.join(',')}:${hist.join(',')}`;
}

/**
 * The tuning class of a run: 'b1' (one image, one thread), 'b1tK' (one image K threads
 * share: each runs a range of output rows, or of FKW rows for row tiles) or 'bN' (many images: each
 * thread runs whole images, so the per-image kernel is the same on any thread count,
 * but inputs and outputs stream through the caches instead of staying in them).
 */
export function tuneClass(batch: number, threads = 1): string {
  if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(threads) || threads < 1) fail(`pattern tuning: batch ${batch}, threads ${threads}; give positive integers`);
  return batch > 1 ? 'bN' : threads > 1 ? `b1t${threads}` : 'b1';
}

const CLASS = /^(b1|b1t\d+|bN)$/;

/**
 * The tuned variant of a layer key for a class: the class's own, else (a class never
 * tuned) the one-image one-thread variant, else any class's; undefined when the tuner
 * has not seen the layer.
 */
export function tunedVariant(key: string, cls = 'b1'): PatternVariant | undefined {
  const own = CACHE.get(`${key}@${cls}`) ?? CACHE.get(`${key}@b1`);
  if (own) return own.variant;
  for (const [k, r] of CACHE) if (k.slice(0, k.lastIndexOf('@')) === key) return r.variant;
  return undefined;
}

/** Every tuned variant, as JSON-ready data importTuning reads back (a model's side file, a cache on disk). */
export function exportTuning(): { version: number; variants: Record<string, PatternVariant> } {
  return { version: TUNING_VERSION, variants: Object.fromEntries([...CACHE].map(([k, r]) => [k, r.variant])) };
}

function isVariant(x: PatternVariant): boolean {
  return typeof x === 'object' && x !== null && (x.storage === 'fkw' || x.storage === 'csr') && (x.layout === 'rows' || x.layout === 'plane' || x.layout === 'pairs') &&
    Number.isInteger(x.rows) && x.rows >= 1 && x.rows <= (x.layout === 'pairs' ? 4096 : 8) &&
    Number.isInteger(x.vecs) && x.vecs >= 1 && x.vecs <= 16 && typeof x.lre === 'boolean' && (x.order === 'filter' || x.order === 'tile') &&
    (x.unroll === 1 || (x.unroll === 2 && x.layout !== 'pairs') || (x.unroll === 4 && x.layout === 'plane')) && !(x.layout !== 'rows' && x.storage !== 'fkw');
}

/**
 * Loads tuned variants from exportTuning's record (version 2: keys "layer key@class"), or
 * a version-1 record (layer key → variant, timed on one image: class 'b1'); a malformed
 * entry or an unknown version is an error naming it.
 */
export function importTuning(record: unknown, where: string): void {
  if (typeof record !== 'object' || record === null) fail(`${where}: pattern tuning must be an object (exportTuning's record)`);
  const r = record as { version?: unknown; variants?: unknown };
  let entries: [string, string, PatternVariant][]; // as written, cache key, variant
  if (r.version === undefined) {
    entries = Object.entries(record as Record<string, PatternVariant>).map(([k, v]) => [k, `${k}@b1`, v]);
  } else if (r.version === TUNING_VERSION && typeof r.variants === 'object' && r.variants !== null) {
    entries = Object.entries(r.variants as Record<string, PatternVariant>).map(([k, v]) => [k, k, v]);
    for (const [k] of entries) if (!k.includes('@') || !CLASS.test(k.slice(k.lastIndexOf('@') + 1))) fail(`${where}: pattern tuning key "${k}" has no tuning class (…@b1, @b1tK or @bN)`);
  } else {
    fail(`${where}: pattern tuning version ${JSON.stringify(r.version)} is not one this nnzip reads (${TUNING_VERSION}, or 1 without a version)`);
  }
  for (const [k, , v] of entries) if (!isVariant(v)) fail(`${where}: pattern tuning entry "${k}" is not a kernel variant`);
  for (const [, k, v] of entries) CACHE.set(k, { variant: v, ns: NaN, defaultNs: NaN, tried: 0, cls: k.slice(k.lastIndexOf('@') + 1) });
}

/** The cached result of a key and class (imported entries have no timings: tried 0). */
export function cached(key: string, cls = 'b1'): TuneResult | undefined {
  return CACHE.get(`${key}@${cls}`);
}

export function cacheTuning(key: string, r: TuneResult): void {
  CACHE.set(`${key}@${r.cls}`, r);
}

/** Forgets every tuned layer (tests). */
export function clearTuning(): void {
  CACHE.clear();
}
