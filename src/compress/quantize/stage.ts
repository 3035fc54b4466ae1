// The recipe's quantize stage (after prune and share): the model so far, with the
// formats its weights have now (intake), is quantized (calibration on the training
// images, QAT when the recipe gives epochs); the stage's model becomes the QDQ
// one. Pruned layers keep their zeros (stored sparse on their grid), weight-shared
// layers their shared values; skipped layers stay float.
import { fail } from '../../ir/errors.js';
import { modelFromGraph } from '../../train/from_graph.js';
import type { Model } from '../../train/model.js';
import { modelToGraph } from '../../train/to_graph.js';
import type { FinetuneConfig, FinetuneData } from '../finetune.js';
import type { LayerIntake } from '../intake.js';
import type { Layer } from '../layers.js';
import type { Recipe } from '../recipe.js';
import type { TrainData } from '../../train/loop.js';
import { quantizeModel } from './quantize_model.js';

export interface QuantizeStageInput {
  model: Model;
  layers: Layer[];
  /** Names of the layers the recipe skips or leaves float. */
  skipped: string[];
  /** Weight bits of single layers over the section's bits. */
  layerBits: Record<string, number>;
  quantize: NonNullable<Recipe['quantize']>;
  data?: FinetuneData;
  calibration?: TrainData;
  train: FinetuneConfig;
  seed: number;
  /** What each layer's weight is now, by weight name (intake.ts). */
  current: Map<string, LayerIntake>;
}

/** Quantizes; returns the QDQ model and the stage's measured points. */
export function quantizeStageRun(s: QuantizeStageInput): { model: Model; details: Record<string, number> } {
  const q = s.quantize;
  const images = s.calibration ?? fail('recipe: the quantize stage calibrates on training images; give --dataset');
  if (q.epochs > 0 && !s.data) fail('recipe: quantize.epochs > 0 (quantization-aware training) needs fine-tuning data; give --dataset without --no-finetune, or set quantize.epochs to 0');
  const graph = modelToGraph(s.model);
  for (const [w, l] of s.current) if (l.format) graph.formats.set(w, l.format);
  const shared = new Set(s.layers.filter((l) => s.current.get(l.weight)?.format?.kind === 'codebook').map((l) => l.weight));
  const count = Math.min(q.samples, images.count);
  const o = { scheme: q.scheme, bits: q.bits, actBits: q.actBits, calibrate: q.calibrate, exclude: s.skipped, layerBits: s.layerBits };
  const qat = q.epochs > 0 && s.data ? { epochs: q.epochs, data: s.data, train: s.train, shared } : undefined;
  const run = quantizeModel(graph, o, { data: images, count, label: `training images (first ${count})` }, qat, 'recipe quantize');
  const details: Record<string, number> = run.qatAccuracy === undefined ? {} : { accuracy: run.qatAccuracy };
  return { model: modelFromGraph(run.graph, { seed: s.seed }), details };
}
