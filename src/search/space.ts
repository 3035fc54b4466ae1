// The search space: per layer, the choices the stage table offers (compress/stages.ts) —
// the fraction of filters kept, the pattern set and connectivity of a 3×3 conv, the
// density (prune), the values (float, shared to k bits, binary, ternary), the weight
// bits under quantization (or left float) — and, for the whole model, the quantization
// scheme (int8, fixed point) and Winograd storage. A candidate is a point of that
// space; it becomes a Recipe (compress/recipe.ts), so what the search finds is what
// `nnzip compress --recipe` runs.
import { createHash } from 'node:crypto';
import type { Graph } from '../ir/graph.js';
import { compressibleLayers, type Layer } from '../compress/layers.js';
import { filterLayers } from '../compress/prune/structured.js';
import { couplingGroups } from '../compress/prune/thin.js';
import { qualifies } from '../compress/pattern/pattern_prune.js';
import type { QuantScheme } from '../compress/quantize/ptq.js';
import { BINARIZE_DEFAULTS } from '../compress/binary/settings.js';
import { STAGES } from '../compress/stages.js';
import { CODESIGN_CANDIDATES, DEEP_COMPRESSION, parseRecipe, PATTERN, QUANTIZE_DEFAULTS, recipeDocument, type LayerSettings, type Recipe } from '../compress/recipe.js';
import type { WinogradTile } from '../ir/winograd.js';

/** What a layer's weights become: float, shared to k bits, binary (BWN) or ternary (TWN). */
export type Values = 'f32' | `q${number}` | 'bwn' | 'twn';

/** Pattern pruning of a 3×3 conv: none, or `K/rate` (K patterns, connectivity rate). */
export type PatternChoice = 'none' | `${number}/${number}`;

export interface LayerChoice {
  density: number;
  values: Values;
  /** Fraction of filters kept (1 on layers that cannot be thinned). */
  filters: number;
  pattern: PatternChoice;
  /** Weight bits when the candidate quantizes; FLOAT_BITS = this layer left float. */
  quant: number;
}

/** A layer's `quant` when it is left out of quantization (as `settingsFor` reads 32 bits: not shared). */
export const FLOAT_BITS = 32;

export interface Candidate {
  layers: LayerChoice[];
  winograd: 0 | WinogradTile;
  /** The quantization scheme of the model; absent = float (so a candidate's hash does not change with the option). */
  quantize?: QuantScheme;
}

/** The per-layer choices, in the order of LayerChoice. */
export const GENES = ['density', 'values', 'filters', 'pattern', 'quant'] as const;
export type Gene = (typeof GENES)[number];

/** One layer's options, most to least accurate (index 0 = unchanged). */
export interface LayerSpace {
  name: string;
  kind: Layer['kind'];
  weights: number;
  density: number[];
  values: Values[];
  filters: number[];
  pattern: PatternChoice[];
  quant: number[];
}

export interface Space {
  layers: LayerSpace[];
  winograd: (0 | WinogradTile)[];
  quantize: (QuantScheme | undefined)[];
}

/** Fine-tuning of each stage a candidate runs: short, the proxy for the full run. */
export interface Proxy {
  epochs: number;
  /** Cap on steps per epoch (compress --max-steps); absent = whole epochs. */
  maxSteps?: number;
  lr: number;
  batch: number;
}

export const DENSITIES = [1, 0.5, 0.3, 0.2, 0.1, 0.05];
export const SHARE_BITS = [8, 6, 5, 4, 3, 2];
/**
 * share.maxStep of candidates: lr × the largest cluster's weights. LeNet-5's dense fc1 kept
 * its accuracy at 0.001 × 12.5k; VGG-S's fc1 at density 0.3 and 2 bits (37.7k) collapsed at
 * 0.001, and at 0.000265 (10) beside a pruned, unshared features.17, not at 0.00001: a tenth
 * of that, since a collapse costs the candidate and a slow centroid fine-tune little.
 */
export const SHARE_MAX_STEP = 1;
export const FILTER_KEEP = [1, 0.75, 0.5];
/** Weight bits of a quantized layer: float first (unchanged), then fewer bits. */
export const QUANT_BITS = [FLOAT_BITS, 8, 6, 4];
/** The co-design candidates of the pattern stage (K × rate), least pruned first. */
export const PATTERN_CHOICES: PatternChoice[] = CODESIGN_CANDIDATES.connectivity
  .flatMap((rate) => [...CODESIGN_CANDIDATES.patterns].sort((a, b) => b - a).map((k): PatternChoice => `${k}/${rate}`));

/** The methods a search may mix: the stage table's compression entries, not its dense fine-tuning (`--methods` restricts the space to some of them). */
export const METHODS: readonly string[] = STAGES.map((s) => s.name).filter((n) => n !== 'finetune');
export type Method = string;

/** The space of a graph: every compressible layer, filters where the layer can be thinned, patterns and Winograd on 3×3 convs. */
export function searchSpace(graph: Graph, methods: readonly Method[] = METHODS): Space {
  const on = new Set(methods);
  const layers = compressibleLayers(graph);
  const thinnable = new Set(filterLayers(graph).map((l) => l.name));
  for (const g of couplingGroups(graph)) if (g.blocked) for (const n of g.layers) thinnable.delete(n);
  const shape = (l: Layer) => graph.initializers.get(l.weight)!.shape;
  const conv3 = layers.some((l) => l.kind === 'conv' && shape(l).length === 4 && shape(l)[2] === 3 && shape(l)[3] === 3);
  return {
    layers: layers.map((l) => ({
      name: l.name,
      kind: l.kind,
      weights: graph.initializers.get(l.weight)!.size,
      density: on.has('prune') ? DENSITIES : [1],
      values: ['f32', ...(on.has('share') ? SHARE_BITS.map((b) => `q${b}` as Values) : []), ...(on.has('binarize') ? ['twn', 'bwn'] as Values[] : [])],
      filters: on.has('filters') && thinnable.has(l.name) ? FILTER_KEEP : [1],
      pattern: on.has('pattern') && qualifies(l, shape(l)) ? ['none', ...PATTERN_CHOICES.filter((c) => connectable(c, shape(l)[1]))] : ['none'],
      quant: on.has('quantize') ? QUANT_BITS : [FLOAT_BITS],
    })),
    winograd: on.has('winograd') && conv3 ? [0, 2, 4] : [0],
    quantize: on.has('quantize') ? [undefined, 'int8', 'fixed'] : [undefined],
  };
}

/** A rate keeps at least one kernel per filter (the pattern stage's rule) even when the layer before keeps the fewest filters; rate 1 keeps every kernel. */
const connectable = (c: PatternChoice, inputs: number) => Number(c.split('/')[1]) <= Math.max(1, inputs * FILTER_KEEP.at(-1)!);

const shared = (v: Values) => v.startsWith('q');
const binary = (v: Values) => v === 'bwn' || v === 'twn';

/**
 * A recipe runs either weight sharing or binarization (recipe.ts refuses both), so a
 * candidate with both keeps the more common one and leaves the other layers float;
 * quantization does not go with binarization either, and gives way to it. A layer
 * with patterns is not pruned, shared or binarized further (that would undo them).
 * Per-layer bits mean something only when the model is quantized, and a quantized
 * model quantizes at least one layer (all at 8 bits when none was chosen).
 */
export function repair(c: Candidate): Candidate {
  let layers = c.layers.map((l) => (l.pattern === 'none' ? l : { ...l, density: 1, values: 'f32' as Values }));
  const nShared = layers.filter((l) => shared(l.values)).length;
  const nBinary = layers.filter((l) => binary(l.values)).length;
  let quantize = nBinary > 0 ? undefined : c.quantize;
  if (nShared > 0 && nBinary > 0) {
    const drop = nBinary > nShared ? shared : binary;
    layers = layers.map((l) => (drop(l.values) ? { ...l, values: 'f32' } : l));
    if (drop === binary) quantize = c.quantize;
  }
  if (!quantize) layers = layers.map((l) => (l.quant === FLOAT_BITS ? l : { ...l, quant: FLOAT_BITS }));
  else if (layers.every((l) => l.quant === FLOAT_BITS)) layers = layers.map((l) => ({ ...l, quant: 8 }));
  return { layers, winograd: c.winograd, ...(quantize ? { quantize } : {}) };
}

/** Whether `repair` leaves a candidate as it is (every choice in it can stand together). */
export const isRepaired = (c: Candidate): boolean => JSON.stringify(repair(c)) === JSON.stringify(c);

/** The most compressed point of the space with the given values on every layer (patterns where they apply, when asked). */
export function smallest(space: Space, values: Values, patterns = false): Candidate {
  return repair({
    layers: space.layers.map((l) => ({
      density: l.density.at(-1)!, values: l.values.includes(values) ? values : l.values.at(-1)!, filters: l.filters.at(-1)!,
      pattern: patterns ? l.pattern.at(-1)! : 'none', quant: l.quant.at(-1)!,
    })),
    winograd: 0,
    ...(space.quantize.at(-1) ? { quantize: space.quantize.at(-1) } : {}),
  });
}

/** The stable key of a candidate: the same choices, the same hash (results are keyed by it). */
export function candidateHash(c: Candidate): string {
  return createHash('sha256').update(JSON.stringify(c)).digest('hex').slice(0, 16);
}

/** The recipe a candidate stands for (the proxy's fine-tuning); checked as a user's recipe is. */
export function candidateRecipe(space: Space, c: Candidate, proxy: Proxy, name = `search-${candidateHash(c)}`): Recipe {
  const layers: Record<string, LayerSettings> = {};
  const r: Recipe = {
    name,
    train: { ...DEEP_COMPRESSION.train, lr: proxy.lr, batch: proxy.batch },
    encode: { huffman: true },
    layers,
  };
  c.layers.forEach((ch, i) => {
    const s: LayerSettings = {};
    if (ch.density < 1) s.density = ch.density;
    if (shared(ch.values)) s.bits = Number(ch.values.slice(1));
    if (binary(ch.values)) s.binary = ch.values as 'bwn' | 'twn';
    if (ch.filters < 1) s.filters = ch.filters;
    if (ch.pattern !== 'none') [s.patterns, s.connectivity] = ch.pattern.split('/').map(Number);
    if (c.quantize && ch.quant !== QUANTIZE_DEFAULTS.bits) s.quantize = ch.quant === FLOAT_BITS ? 'float' : ch.quant;
    if (Object.keys(s).length > 0) layers[space.layers[i].name] = s;
  });
  const used = Object.values(layers);
  if (used.some((s) => s.filters !== undefined)) r.filters = { keep: {}, norm: 'l1', epochs: proxy.epochs };
  const patterned = used.find((s) => s.patterns !== undefined);
  // only the layers named get patterns (minChannels at its largest); no ADMM in a proxy: projection, then retraining
  if (patterned) r.pattern = { ...PATTERN.pattern!, patterns: patterned.patterns!, connectivity: 1, scope: 'layer', minChannels: 1e6, admm: undefined, epochs: proxy.epochs };
  if (used.some((s) => s.density !== undefined)) r.prune = { density: {}, schedule: 'oneshot', stages: 1, epochsPerStage: proxy.epochs };
  // large clusters (a dense layer's, or a pruned wide layer's at few bits) diverge at the proxy's lr: capped by their size
  if (used.some((s) => s.bits !== undefined)) r.share = { bits: {}, init: 'linear', epochs: proxy.epochs, maxStep: SHARE_MAX_STEP };
  if (used.some((s) => s.binary !== undefined)) {
    r.binarize = { ...BINARIZE_DEFAULTS, method: { conv: 'none', fc: 'none' }, first: true, last: true, epochs: proxy.epochs };
  }
  if (c.winograd) r.winograd = { tile: c.winograd };
  if (c.quantize) r.quantize = { ...QUANTIZE_DEFAULTS, scheme: c.quantize, epochs: proxy.epochs };
  return parseRecipe(recipeDocument(r), name); // checked, and as a user's YAML of it reads back
}
