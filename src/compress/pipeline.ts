// A compression run: the recipe's stages in order (stages.ts), each acting on one
// trainable model, then the encoding. Returns what each stage left — its graph,
// its size as encoded (relative-index sparse, codebooks, no Huffman), its test
// accuracy — and the final file's bytes, so callers print sizes without encoding again.
import { graphToNnz, type NnzEncoded } from '../format/nnz.js';
import type { Graph } from '../ir/graph.js';
import { detectPatterns } from '../ir/pattern.js';
import { DTYPE_BYTES } from '../ir/tensor.js';
import { modelFromGraph } from '../train/from_graph.js';
import { modelToGraph } from '../train/to_graph.js';
import { accuracyOf, type FinetuneConfig, type FinetuneData } from './finetune.js';
import { compressibleLayers, type Layer } from './layers.js';
import type { PruneStage } from './prune/iterative.js';
import { checkRecipeLayers, type Recipe } from './recipe.js';
import { STAGES, type StageContext } from './stages.js';

export interface CompressOptions {
  recipe: Recipe;
  /** Fine-tuning data; absent = no fine-tuning (--no-finetune). */
  data?: FinetuneData;
  seed?: number;
  maxStepsPerEpoch?: number;
  onProgress?: FinetuneConfig['onProgress'];
  source?: string;
  /** Metadata stored in the file (source, recipe name). */
  meta?: Record<string, unknown>;
}

export interface StageResult {
  /** The stage's key in the recipe ('prune', 'share'). */
  name: string;
  /** Han's letter for the cumulative stage: P, Q (H is the encoding). */
  letter: string;
  label: string;
  graph: Graph;
  /** The graph at this stage as a .nnz file, encoded without Huffman coding (Han's P, P+Q sizes). */
  file: Uint8Array;
  /** Test accuracy after the stage (with data). */
  accuracy?: number;
  /** Other measured points of the stage (accuracy right after clustering, ...). */
  details: Record<string, number>;
}

export interface CompressResult {
  /** Bytes of the weights as float32 (dtype sizes), before compression. */
  originalBytes: number;
  originalAccuracy?: number;
  stages: StageResult[];
  /** The final graph with its formats (the last stage's). */
  compressed: Graph;
  /** The file as the recipe's encoding writes it (Huffman, float16 biases): what is reported and written. */
  file: NnzEncoded;
  layers: Layer[];
  pruneStages: PruneStage[];
  /** What the stages want the user to read (co-design choices, bounds). */
  notes: string[];
}

/** Bytes the initializers take uncompressed. */
export function denseBytes(g: Graph): number {
  let n = 0;
  for (const t of g.initializers.values()) n += t.size * DTYPE_BYTES[t.dtype];
  return n;
}

function trainConfig(o: CompressOptions): FinetuneConfig {
  const t = o.recipe.train;
  return { ...t, seed: o.seed ?? 1, maxStepsPerEpoch: o.maxStepsPerEpoch, onProgress: o.onProgress };
}

export function compressGraph(graph: Graph, o: CompressOptions): CompressResult {
  const layers = compressibleLayers(graph);
  checkRecipeLayers(o.recipe, layers, o.source ?? 'recipe');
  const model = modelFromGraph(graph, { seed: o.seed });
  const ctx: StageContext = {
    model, layers, recipe: o.recipe, data: o.data, seed: o.seed ?? 1, train: trainConfig(o), formats: new Map(), pruneStages: [], notes: [],
  };
  const f16 = o.recipe.encode.f16;
  const originalAccuracy = o.data ? accuracyOf(model, o.data) : undefined;
  const stages: StageResult[] = [];
  let compressed = graph;
  for (const stage of STAGES.filter((s) => s.enabled(o.recipe))) {
    const details = stage.run(ctx);
    compressed = modelToGraph(model); // keeps the input's formats that still decode
    for (const [w, f] of ctx.formats) compressed.formats.set(w, f);
    const accuracy = o.data ? details.accuracy ?? accuracyOf(model, o.data) : undefined;
    delete details.accuracy;
    const file = graphToNnz(compressed, { huffman: false, f16 }).bytes;
    stages.push({ name: stage.name, letter: stage.letter, label: stage.label, graph: compressed, file, accuracy, details });
  }
  if (stages.length === 0) compressed = modelToGraph(model);
  markSparse(compressed, layers);
  const file = graphToNnz(compressed, { huffman: o.recipe.encode.huffman ? undefined : false, meta: o.meta, f16 });
  return { originalBytes: denseBytes(graph), originalAccuracy, stages, compressed, file, layers, pruneStages: ctx.pruneStages, notes: ctx.notes };
}

/**
 * Layers stored dense that hold zeros (pruned here or elsewhere) are stored as
 * patterns when their zeros follow patterns (a model pattern-pruned elsewhere),
 * else sparse: their zeros cost nothing.
 */
function markSparse(g: Graph, layers: Layer[]): void {
  for (const l of layers) {
    const t = g.initializers.get(l.weight)!;
    if (g.formats.has(l.weight) || !t.data.some((v) => v === 0)) continue;
    g.formats.set(l.weight, detectPatterns(t.data as Float32Array, t.shape) ?? { kind: 'sparse' });
  }
}

/** The graph a stage left (the input graph when the recipe has no such stage). */
export function stageGraph(r: CompressResult, name: string): Graph | undefined {
  return r.stages.find((s) => s.name === name)?.graph;
}
