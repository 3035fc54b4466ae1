// The Deep Compression pipeline as one ordered list of stages driven by a recipe:
// prune (iterative, fine-tuned) → share weights (k-means, centroid fine-tune) →
// the compressed graph (formats say how each tensor is stored; .nnz encodes it).
import type { Graph } from '../ir/graph.js';
import { modelFromGraph } from '../train/from_graph.js';
import { modelToGraph } from '../train/to_graph.js';
import type { Model } from '../train/model.js';
import { accuracyOf, type FinetuneConfig, type FinetuneData } from './finetune.js';
import { compressibleLayers, type Layer } from './layers.js';
import { pruneIteratively, type PruneStage } from './prune/iterative.js';
import { checkRecipeLayers, settingsFor, type Recipe } from './recipe.js';
import { shareWeights } from './share/share.js';

export interface CompressOptions {
  recipe: Recipe;
  /** Fine-tuning data; absent = no fine-tuning (--no-finetune). */
  data?: FinetuneData;
  seed?: number;
  maxStepsPerEpoch?: number;
  onProgress?: FinetuneConfig['onProgress'];
  source?: string;
}

export interface CompressResult {
  /** After pruning (dense float values with zeros): Han's "P" stage. */
  pruned: Graph;
  /** The final graph with codebook formats: "P+Q". */
  compressed: Graph;
  layers: Layer[];
  accuracy: { original?: number; pruned?: number; clustered?: number; final?: number };
  pruneStages: PruneStage[];
}

function trainConfig(o: CompressOptions): FinetuneConfig {
  const t = o.recipe.train;
  return { ...t, seed: o.seed ?? 1, maxStepsPerEpoch: o.maxStepsPerEpoch, onProgress: o.onProgress };
}

function prune(model: Model, layers: Layer[], o: CompressOptions): PruneStage[] {
  const p = o.recipe.prune;
  if (!p) return [];
  const targets = layers
    .map((l) => ({ l, s: settingsFor(o.recipe, l) }))
    .filter(({ s }) => !s.skip)
    .map(({ l, s }) => ({ weight: l.weight, density: s.density }));
  return pruneIteratively(model, targets, {
    schedule: p.schedule,
    stages: p.stages,
    epochsPerStage: o.data ? p.epochsPerStage : 0,
    data: o.data,
    train: trainConfig(o),
  });
}

export function compressGraph(graph: Graph, o: CompressOptions): CompressResult {
  const layers = compressibleLayers(graph);
  checkRecipeLayers(o.recipe, layers, o.source ?? 'recipe');
  const model = modelFromGraph(graph, { seed: o.seed });
  const accuracy: CompressResult['accuracy'] = {};
  if (o.data) accuracy.original = accuracyOf(model, o.data);
  const pruneStages = prune(model, layers, o);
  if (o.data) accuracy.pruned = pruneStages.at(-1)?.accuracy ?? accuracyOf(model, o.data);
  const pruned = modelToGraph(model);
  for (const l of layers) if (pruned.initializers.get(l.weight)!.data.some((v) => v === 0)) pruned.formats.set(l.weight, { kind: 'sparse' });
  let compressed = pruned;
  const share = o.recipe.share;
  if (share) {
    const targets = layers
      .map((l) => ({ l, s: settingsFor(o.recipe, l) }))
      .filter(({ s }) => !s.skip && s.bits < 32)
      .map(({ l, s }) => ({ weight: l.weight, bits: s.bits }));
    const r = shareWeights(model, targets, { init: share.init, epochs: o.data ? share.epochs : 0, seed: o.seed ?? 1, data: o.data, train: trainConfig(o) });
    accuracy.clustered = r.accuracyClustered;
    compressed = modelToGraph(model);
    compressed.formats = new Map(pruned.formats);
    for (const [w, f] of r.formats) compressed.formats.set(w, f);
  }
  for (const l of layers) {
    const s = settingsFor(o.recipe, l);
    const f = compressed.formats.get(l.weight);
    if (f && s.indexBits) f.indexBits = s.indexBits;
  }
  if (o.data) accuracy.final = accuracyOf(model, o.data);
  return { pruned, compressed, layers, accuracy, pruneStages };
}
