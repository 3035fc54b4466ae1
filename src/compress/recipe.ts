// Recipes: what to do to which layer, as data (YAML or JSON files, or built-ins).
// A recipe is validated whole before any work starts, so a typo fails in a second.
import { fail } from '../ir/errors.js';
import type { Layer, LayerKind } from './layers.js';
import { findLayer } from './layers.js';
import { BINARIZE_DEFAULTS, checkBinarize, checkMethod, type BinarizeSettings, type BinaryMethod } from './binary/settings.js';

export interface LayerSettings {
  /** Fraction of weights kept, in (0, 1]. */
  density?: number;
  /** Weight-sharing bits (codebook of 2^bits centroids), 1–16. */
  bits?: number;
  /** Bits per relative index of sparse storage, 1–16 (encoder picks the best when absent). */
  indexBits?: number;
  /** Binary / ternary method of this layer ('none' = float), over the binarize section's default. */
  binary?: BinaryMethod | 'none';
  /** Leave this layer dense and unshared. */
  skip?: boolean;
}

export interface Recipe {
  name: string;
  prune?: {
    /** Per kind defaults; `layers` overrides per layer. */
    density: Record<LayerKind, number>;
    /** oneshot: prune once then fine-tune; stages: N equal steps; agp: gradual cubic schedule. */
    schedule: 'oneshot' | 'stages' | 'agp';
    stages: number;
    epochsPerStage: number;
  };
  share?: {
    bits: Record<LayerKind, number>;
    init: 'linear' | 'density' | 'random';
    epochs: number;
  };
  /** Binary and ternary weights (and XNOR-Net's binary activations), after pruning (compress/binary). */
  binarize?: BinarizeSettings;
  /** shift: augmentation by random shifts of up to this many pixels (0 = off). */
  train: { lr: number; batch: number; momentum: number; weightDecay: number; shift?: number };
  /**
   * indexBits: relative-index bits per kind (the encoder picks the best when absent).
   * f16: store the float tensors left uncompressed (biases, skipped layers) as float16 —
   * lossy, so the accuracy reported is the decoded file's.
   */
  encode: { huffman: boolean; f16?: boolean; indexBits?: Partial<Record<LayerKind, number>> };
  layers: Record<string, LayerSettings>;
}

export const DEEP_COMPRESSION: Recipe = {
  name: 'deep-compression',
  prune: { density: { conv: 0.5, fc: 0.1 }, schedule: 'stages', stages: 4, epochsPerStage: 2 },
  share: { bits: { conv: 8, fc: 5 }, init: 'linear', epochs: 2 },
  train: { lr: 0.01, batch: 64, momentum: 0.9, weightDecay: 0 },
  encode: { huffman: true },
  layers: {},
};

export const BUILTIN_RECIPES: Record<string, Recipe> = { 'deep-compression': DEEP_COMPRESSION };

function checkRange(where: string, v: unknown, lo: number, hi: number, loOpen: boolean, integer: boolean): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && v <= hi && (!integer || Number.isInteger(v));
  if (!ok) fail(`${where} ${JSON.stringify(v)} must be ${integer ? 'an integer' : 'a number'} in ${loOpen ? '(' : '['}${lo}, ${hi}]`);
  return v as number;
}

const checkFraction = (where: string, v: unknown) => checkRange(where, v, 0, 1, true, false);
export const checkBits = (where: string, v: unknown) => checkRange(where, v, 1, 16, false, true);

/** Merges a user's recipe (parsed YAML/JSON) over a base, checking every value. */
export function parseRecipe(raw: unknown, source: string, base: Recipe = DEEP_COMPRESSION): Recipe {
  if (typeof raw !== 'object' || raw === null) fail(`${source}: a recipe must be a mapping (YAML or JSON object)`);
  const r = raw as Partial<Recipe>;
  const out: Recipe = structuredClone(base);
  out.name = typeof r.name === 'string' ? r.name : source;
  if (r.prune === null) delete out.prune;
  else if (r.prune) out.prune = { ...(out.prune ?? DEEP_COMPRESSION.prune!), ...r.prune, density: { ...(out.prune ?? DEEP_COMPRESSION.prune!).density, ...r.prune.density } };
  if (r.share === null) delete out.share;
  else if (r.share) out.share = { ...(out.share ?? DEEP_COMPRESSION.share!), ...r.share, bits: { ...(out.share ?? DEEP_COMPRESSION.share!).bits, ...r.share.bits } };
  if (r.binarize === null) delete out.binarize;
  else if (r.binarize) out.binarize = { ...(out.binarize ?? BINARIZE_DEFAULTS), ...r.binarize, method: { ...(out.binarize ?? BINARIZE_DEFAULTS).method, ...r.binarize.method } };
  if (r.train) out.train = { ...out.train, ...r.train };
  if (r.encode) out.encode = { ...out.encode, ...r.encode, indexBits: { ...out.encode.indexBits, ...r.encode.indexBits } };
  if (r.layers) out.layers = { ...out.layers, ...r.layers };
  checkRecipe(out, source);
  return out;
}

export function checkRecipe(r: Recipe, source: string): void {
  if (r.prune) {
    for (const k of ['conv', 'fc'] as const) checkFraction(`${source}: prune.density.${k}`, r.prune.density[k]);
    if (!['oneshot', 'stages', 'agp'].includes(r.prune.schedule)) fail(`${source}: prune.schedule "${r.prune.schedule}" must be oneshot, stages or agp`);
    checkRange(`${source}: prune.stages`, r.prune.stages, 1, 100, false, true);
    checkRange(`${source}: prune.epochsPerStage`, r.prune.epochsPerStage, 0, 1000, false, false);
  }
  if (r.share) {
    for (const k of ['conv', 'fc'] as const) checkBits(`${source}: share.bits.${k}`, r.share.bits[k]);
    if (!['linear', 'density', 'random'].includes(r.share.init)) fail(`${source}: share.init "${r.share.init}" must be linear, density or random`);
    checkRange(`${source}: share.epochs`, r.share.epochs, 0, 1000, false, false);
  }
  if (r.binarize) {
    checkBinarize(r.binarize, source);
    if (r.share) fail(`${source}: binarize and share both set the weights' values; drop one of them`);
  }
  checkRange(`${source}: train.lr`, r.train.lr, 0, 10, true, false);
  checkRange(`${source}: train.batch`, r.train.batch, 1, 65536, false, true);
  if (r.train.shift !== undefined) checkRange(`${source}: train.shift`, r.train.shift, 0, 8, false, true);
  if (r.encode.f16 !== undefined && typeof r.encode.f16 !== 'boolean') fail(`${source}: encode.f16 ${JSON.stringify(r.encode.f16)} must be true or false`);
  for (const [k, v] of Object.entries(r.encode.indexBits ?? {})) checkBits(`${source}: encode.indexBits.${k}`, v);
  for (const [name, s] of Object.entries(r.layers)) {
    if (s.density !== undefined) checkFraction(`${source}: layers.${name}.density`, s.density);
    if (s.bits !== undefined) checkBits(`${source}: layers.${name}.bits`, s.bits);
    if (s.indexBits !== undefined) checkBits(`${source}: layers.${name}.indexBits`, s.indexBits);
    if (s.binary !== undefined) checkMethod(`${source}: layers.${name}.binary`, s.binary, true);
  }
}

/** Every layer named in the recipe must exist in the model. */
export function checkRecipeLayers(r: Recipe, layers: Layer[], source: string): void {
  for (const name of Object.keys(r.layers)) findLayer(layers, name, source);
}

/** The settings that apply to one layer: its kind's defaults, then its overrides. */
export function settingsFor(r: Recipe, layer: Layer): Required<Omit<LayerSettings, 'indexBits' | 'binary'>> & Pick<LayerSettings, 'indexBits' | 'binary'> {
  const o = Object.entries(r.layers).find(([k]) => k === layer.name || k === layer.weight || k === layer.node.name)?.[1] ?? {};
  return {
    density: o.density ?? r.prune?.density[layer.kind] ?? 1,
    bits: o.bits ?? r.share?.bits[layer.kind] ?? 32,
    indexBits: o.indexBits ?? r.encode.indexBits?.[layer.kind],
    binary: o.binary,
    skip: o.skip ?? false,
  };
}
