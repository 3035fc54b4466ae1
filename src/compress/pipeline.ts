// A compression run: intake (what the input's weights already are), the recipe's
// stages in order (stages.ts), each acting on one trainable model, then the
// encoding. Returns what each stage left — its graph, its size as encoded (no
// Huffman), its test accuracy — the final file's bytes, and, without data, which
// layers the recipe changed unmeasured.
import { graphToNnz, type NnzEncoded } from '../format/nnz.js';
import type { Graph } from '../ir/graph.js';
import { DTYPE_BYTES } from '../ir/tensor.js';
import { modelFromGraph } from '../train/from_graph.js';
import type { TrainData } from '../train/loop.js';
import { modelToGraph } from '../train/to_graph.js';
import { accuracyOf, type FinetuneConfig, type FinetuneData } from './finetune.js';
import { compressibleLayers, type Layer } from './layers.js';
import type { PruneStage } from './prune/iterative.js';
import { checkRecipeLayers, settingsFor, type Recipe } from './recipe.js';
import { layerChanges, type LayerChange } from './changes.js';
import { intake, withFormats, type LayerIntake } from './intake.js';
import { STAGES, type StageContext } from './stages.js';

export interface CompressOptions {
  recipe: Recipe;
  /** Fine-tuning data; absent = no fine-tuning (--no-finetune). */
  data?: FinetuneData;
  /** Images to calibrate quantization on when there is no fine-tuning data (its training set is used otherwise). */
  calibration?: TrainData;
  seed?: number;
  maxStepsPerEpoch?: number;
  onProgress?: FinetuneConfig['onProgress'];
  source?: string;
  /** The distillation teacher (train.distill) when it is not the input graph (e.g. fine-tuning an already compressed model). */
  teacher?: Graph;
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
  /** The layers of the final graph. */
  layers: Layer[];
  pruneStages: PruneStage[];
  /** What each layer's weight already was in the input, and what it is in the file. */
  intake: LayerIntake[];
  final: LayerIntake[];
  /** Without data: the layers whose weights the recipe changed, unmeasured (empty with data). */
  unmeasured: LayerChange[];
  /** What the stages want the user to read (co-design choices, bounds). */
  notes: string[];
}

/** Bytes the initializers take uncompressed. */
export function denseBytes(g: Graph): number {
  let n = 0;
  for (const t of g.initializers.values()) n += t.size * DTYPE_BYTES[t.dtype];
  return n;
}

function trainConfig(o: CompressOptions, graph: Graph): FinetuneConfig {
  const t = o.recipe.train;
  // the distillation teacher: the input model as it came, in its own copy of the weights
  const teacher = t.distill && t.distill.alpha > 0 && o.data ? modelFromGraph(o.teacher ?? graph, { seed: o.seed }) : undefined;
  return { ...t, teacher, seed: o.seed ?? 1, maxStepsPerEpoch: o.maxStepsPerEpoch, onProgress: o.onProgress };
}

/** The graph with each layer in its exact format, and the recipe's relative-index bits. */
function formatted(graph: Graph, layers: Layer[], found: LayerIntake[], recipe: Recipe): Graph {
  const g = withFormats(graph, found);
  for (const l of layers) {
    const f = g.formats.get(l.weight);
    const bits = settingsFor(recipe, l).indexBits;
    if (f && bits && (f.kind === 'sparse' || f.kind === 'codebook' || f.kind === 'grid')) g.formats.set(l.weight, { ...f, indexBits: bits });
  }
  return g;
}

/**
 * Finds what the input's layers already are (intake.ts), runs the recipe's stages on
 * a trainable model (only built when a stage runs), and encodes the result. Layers
 * no stage changed are stored exactly as they came.
 */
export function compressGraph(graph: Graph, o: CompressOptions): CompressResult {
  const layers = compressibleLayers(graph);
  checkRecipeLayers(o.recipe, layers, o.source ?? 'recipe');
  const input = intake(graph, layers);
  const enabled = STAGES.filter((s) => s.enabled(o.recipe));
  const f16 = o.recipe.encode.f16;
  let current = input;
  let last = graph;
  let compressed = formatted(graph, layers, input, o.recipe);
  const stages: StageResult[] = [];
  let ctx: StageContext | undefined;
  if (enabled.length > 0) {
    const model = modelFromGraph(graph, { seed: o.seed });
    ctx = {
      model, layers, recipe: o.recipe, data: o.data, calibration: o.calibration ?? o.data?.train, seed: o.seed ?? 1, train: trainConfig(o, graph), current: byWeight(input), pruneStages: [],
      notes: [],
    };
  }
  const scored = o.data !== undefined && o.data.score !== false;
  const originalAccuracy = ctx && scored ? accuracyOf(ctx.model, o.data!) : undefined;
  for (const stage of enabled) {
    const details = stage.run(ctx!);
    const g = modelToGraph(ctx!.model);
    // what a stage recorded in ctx.current stands for weights it left as they were (a storage choice: winograd)
    current = intake(g, ctx!.layers, { graph: last, found: [...ctx!.current.values()] });
    last = g;
    ctx!.current = byWeight(current);
    compressed = formatted(g, ctx!.layers, current, o.recipe);
    const accuracy = scored ? details.accuracy ?? accuracyOf(ctx!.model, o.data!) : undefined;
    delete details.accuracy;
    const file = graphToNnz(compressed, { huffman: false, meta: o.meta, f16 }).bytes; // with the file's metadata, so the stage rows and the file compare like with like
    stages.push({ name: stage.name, letter: stage.letter, label: stage.label, graph: compressed, file, accuracy, details });
  }
  const file = graphToNnz(compressed, { huffman: o.recipe.encode.huffman ? undefined : false, meta: o.meta, f16 });
  const unmeasured = o.data ? [] : layerChanges(layers, { graph, intake: input }, { graph: compressed, intake: current });
  return {
    originalBytes: denseBytes(graph), originalAccuracy, stages, compressed, file, layers: ctx?.layers ?? layers,
    pruneStages: ctx?.pruneStages ?? [], intake: input, final: current, unmeasured, notes: ctx?.notes ?? [],
  };
}

const byWeight = (found: LayerIntake[]): Map<string, LayerIntake> => new Map(found.map((l) => [l.weight, l]));

/** The graph a stage left (the input graph when the recipe has no such stage). */
export function stageGraph(r: CompressResult, name: string): Graph | undefined {
  return r.stages.find((s) => s.name === name)?.graph;
}
