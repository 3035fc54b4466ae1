// The search space: per layer, the choices the stage table offers (compress/stages.ts) —
// density (prune), the values (float, shared to k bits, binary, ternary), the
// fraction of filters kept — and, for the whole model, Winograd storage. A candidate
// is a point of that space; it becomes a Recipe (compress/recipe.ts), so what the
// search finds is what `nnzip compress --recipe` runs.
import { createHash } from 'node:crypto';
import type { Graph } from '../ir/graph.js';
import { compressibleLayers, type Layer } from '../compress/layers.js';
import { filterLayers } from '../compress/prune/structured.js';
import { couplingGroups } from '../compress/prune/thin.js';
import { BINARIZE_DEFAULTS } from '../compress/binary/settings.js';
import { DEEP_COMPRESSION, parseRecipe, QUANTIZE_DEFAULTS, recipeDocument, type LayerSettings, type Recipe } from '../compress/recipe.js';
import type { WinogradTile } from '../ir/winograd.js';

/** What a layer's weights become: float, shared to k bits, binary (BWN) or ternary (TWN). */
export type Values = 'f32' | `q${number}` | 'bwn' | 'twn';

export interface LayerChoice {
  density: number;
  values: Values;
  /** Fraction of filters kept (1 on layers that cannot be thinned). */
  filters: number;
}

/** Quantization of the whole model after pruning and sharing (int8 grid at 8 or 4 bits, dynamic fixed point 8 bits). */
export type Quantize = 'int8' | 'int4' | 'fixed8';

export interface Candidate {
  layers: LayerChoice[];
  winograd: 0 | WinogradTile;
  /** Absent = float (so a candidate's hash does not change with the option). */
  quantize?: Quantize;
}

/** One layer's options, most to least accurate (index 0 = unchanged). */
export interface LayerSpace {
  name: string;
  kind: Layer['kind'];
  weights: number;
  density: number[];
  values: Values[];
  filters: number[];
}

export interface Space {
  layers: LayerSpace[];
  winograd: (0 | WinogradTile)[];
  quantize: (Quantize | undefined)[];
}

/** Fine-tuning of each stage a candidate runs: short, the proxy for the full run. */
export interface Proxy {
  epochs: number;
  /** Cap on steps per epoch (compress --max-steps). */
  maxSteps: number;
  lr: number;
  batch: number;
}

export const DENSITIES = [1, 0.5, 0.3, 0.2, 0.1, 0.05];
export const SHARE_BITS = [8, 6, 5, 4, 3, 2];
export const FILTER_KEEP = [1, 0.75, 0.5];

/** The methods a search may mix (stage table entries); `--methods` restricts the space to some of them. */
export const METHODS = ['prune', 'share', 'quantize', 'binary', 'filters', 'winograd'] as const;
export type Method = (typeof METHODS)[number];

/** The space of a graph: every compressible layer, filters where the layer can be thinned, Winograd when a 3×3 conv exists. */
export function searchSpace(graph: Graph, methods: readonly Method[] = METHODS): Space {
  const on = new Set(methods);
  const layers = compressibleLayers(graph);
  const thinnable = new Set(filterLayers(graph).map((l) => l.name));
  for (const g of couplingGroups(graph)) if (g.blocked) for (const n of g.layers) thinnable.delete(n);
  const conv3 = layers.some((l) => {
    const s = graph.initializers.get(l.weight)!.shape;
    return l.kind === 'conv' && s.length === 4 && s[2] === 3 && s[3] === 3;
  });
  return {
    layers: layers.map((l) => ({
      name: l.name,
      kind: l.kind,
      weights: graph.initializers.get(l.weight)!.size,
      density: on.has('prune') ? DENSITIES : [1],
      values: ['f32', ...(on.has('share') ? SHARE_BITS.map((b) => `q${b}` as Values) : []), ...(on.has('binary') ? ['twn', 'bwn'] as Values[] : [])],
      filters: on.has('filters') && thinnable.has(l.name) ? FILTER_KEEP : [1],
    })),
    winograd: on.has('winograd') && conv3 ? [0, 2, 4] : [0],
    quantize: on.has('quantize') ? [undefined, 'int8', 'fixed8', 'int4'] : [undefined],
  };
}

const shared = (v: Values) => v.startsWith('q');
const binary = (v: Values) => v === 'bwn' || v === 'twn';

/**
 * A recipe runs either weight sharing or binarization (recipe.ts refuses both), so a
 * candidate with both keeps the more common one and leaves the other layers float;
 * quantization does not go with binarization either, and gives way to it.
 */
export function repair(c: Candidate): Candidate {
  const nShared = c.layers.filter((l) => shared(l.values)).length;
  const nBinary = c.layers.filter((l) => binary(l.values)).length;
  if (nBinary > 0 && c.quantize) c = withoutQuantize(c);
  if (nShared === 0 || nBinary === 0) return c;
  const drop = nBinary > nShared ? shared : binary;
  return { ...c, layers: c.layers.map((l) => (drop(l.values) ? { ...l, values: 'f32' } : l)) };
}

function withoutQuantize(c: Candidate): Candidate {
  const { quantize: _, ...rest } = c;
  return rest;
}

/** The most compressed point of the space with the given values on every layer. */
export function smallest(space: Space, values: Values): Candidate {
  return {
    layers: space.layers.map((l) => ({ density: l.density.at(-1)!, values: l.values.includes(values) ? values : l.values.at(-1)!, filters: l.filters.at(-1)! })),
    winograd: 0,
  };
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
    if (Object.keys(s).length > 0) layers[space.layers[i].name] = s;
  });
  const used = Object.values(layers);
  if (used.some((s) => s.filters !== undefined)) r.filters = { keep: {}, norm: 'l1', epochs: proxy.epochs };
  if (used.some((s) => s.density !== undefined)) r.prune = { density: {}, schedule: 'oneshot', stages: 1, epochsPerStage: proxy.epochs };
  if (used.some((s) => s.bits !== undefined)) r.share = { bits: {}, init: 'linear', epochs: proxy.epochs };
  if (used.some((s) => s.binary !== undefined)) {
    r.binarize = { ...BINARIZE_DEFAULTS, method: { conv: 'none', fc: 'none' }, first: true, last: true, epochs: proxy.epochs };
  }
  if (c.winograd) r.winograd = { tile: c.winograd };
  if (c.quantize) {
    r.quantize = { ...QUANTIZE_DEFAULTS, scheme: c.quantize === 'fixed8' ? 'fixed' : 'int8', bits: c.quantize === 'int4' ? 4 : 8, epochs: proxy.epochs };
  }
  return parseRecipe(recipeDocument(r), name); // checked, and as a user's YAML of it reads back

}

/** How compressed a layer choice is, 0 (unchanged) upwards: the order mutations move along. */
export function aggressiveness(space: LayerSpace, ch: LayerChoice): number {
  return space.density.indexOf(ch.density) + space.values.indexOf(ch.values) + space.filters.indexOf(ch.filters);
}
