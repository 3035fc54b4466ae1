// A quantization run as the CLI and the recipe stage make it: post-training
// quantization on the calibration images, optionally quantization-aware
// training, then the per-layer error report of the final graph.
import type { Graph } from '../../ir/graph.js';
import type { FinetuneConfig, FinetuneData } from '../finetune.js';
import type { CalibrationSet } from './calibrate.js';
import { layerErrors, type LayerError } from './error_report.js';
import { quantizeGraph, type PtqResult, type QuantizeOptions } from './ptq.js';
import { quantizationAwareTraining } from './qat.js';

export interface QatSettings {
  epochs: number;
  data: FinetuneData;
  train: FinetuneConfig;
  /** Weights that keep their shared values (not trained). */
  shared?: ReadonlySet<string>;
}

export interface QuantizeRun {
  ptq: PtqResult;
  /** The final QDQ graph (after QAT when asked). */
  graph: Graph;
  /** Worst layer first. */
  errors: LayerError[];
  /** Test accuracy of the trained model in the trainer (QAT only). */
  qatAccuracy?: number;
}

export function quantizeModel(graph: Graph, o: QuantizeOptions, calibration: CalibrationSet, qat?: QatSettings, where = 'quantize'): QuantizeRun {
  const ptq = quantizeGraph(graph, o, calibration, where);
  let final = ptq.graph, qatAccuracy: number | undefined;
  if (qat) {
    const q = quantizationAwareTraining(ptq, o, qat.data, qat.epochs, qat.train, qat.shared);
    final = q.graph;
    qatAccuracy = q.accuracy;
  }
  const errors = layerErrors({ ...ptq, graph: final }, calibration);
  return { ptq, graph: final, errors, qatAccuracy };
}
