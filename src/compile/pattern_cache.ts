// Tuned pattern-kernel variants by layer key (shape + pattern histogram): filled
// by the tuner (pattern_tune.ts) or imported (a .nnz file's meta), read by the
// planner for every matching layer. Per process, like the compiled modules.
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
    const ok = typeof x === 'object' && x !== null && (x.storage === 'fkw' || x.storage === 'csr') && (x.layout === 'rows' || x.layout === 'plane') &&
      Number.isInteger(x.rows) && x.rows >= 1 && x.rows <= 8 &&
      Number.isInteger(x.vecs) && x.vecs >= 1 && x.vecs <= 16 && typeof x.lre === 'boolean' && (x.order === 'filter' || x.order === 'tile') &&
      (x.unroll === 1 || x.unroll === 2 || (x.unroll === 4 && x.layout === 'plane'));
    if (!ok) fail(`${where}: pattern tuning entry "${k}" is not a kernel variant`);
    CACHE.set(k, { variant: x, ns: NaN, defaultNs: NaN, tried: 0 });
  }
}

/** The cached result of a key (imported entries have no timings: tried 0). */
export function cached(key: string): TuneResult | undefined {
  return CACHE.get(key);
}

export function cacheTuning(key: string, r: TuneResult): void {
  CACHE.set(key, r);
}

/** Forgets every tuned layer (tests). */
export function clearTuning(): void {
  CACHE.clear();
}
