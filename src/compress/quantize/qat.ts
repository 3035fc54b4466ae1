// Quantization-aware training of a QDQ graph: the float master weights train under
// the fake quantization of their grids (weights.ts, straight-through), the
// activations under their QuantizeLinear → DequantizeLinear pairs (train/ops/quant.ts,
// straight-through inside the range); activation parameters stay as calibrated. At
// the end the trained weights go onto their grids again and the biases onto the
// int32 grid. Zeros of the float weights (pruned) stay zero; weight-shared layers
// (codebooks) keep their values (they are not trained).
import type { Graph } from '../../ir/graph.js';
import { modelFromGraph } from '../../train/from_graph.js';
import { modelToGraph } from '../../train/to_graph.js';
import { accuracyOf, finetune, type FinetuneConfig, type FinetuneData } from '../finetune.js';
import { layerWeights, weightSpec, type PtqResult, type QuantizeOptions } from './ptq.js';
import { insertWeights } from './qdq.js';
import { fakeQuantize } from './weights.js';

export interface QatResult {
  graph: Graph;
  /** Test accuracy of the trained model (the trainer's forward pass). */
  accuracy: number;
}

export function quantizationAwareTraining(r: PtqResult, o: QuantizeOptions, data: FinetuneData, epochs: number, train: FinetuneConfig,
  shared: ReadonlySet<string> = new Set()): QatResult {
  const model = modelFromGraph(r.graph, { seed: train.seed });
  for (const l of r.layers) {
    const p = model.param(l.layer.weight);
    if (shared.has(l.layer.weight)) { p.trainable = false; continue; }
    const float = r.float.initializers.get(l.layer.weight)!.data as Float32Array;
    p.master.set(float); // train from the float weights, not from their rounded copy
    if (float.some((v) => v === 0)) model.setMask(l.layer.weight, Uint8Array.from(float, (v) => (v === 0 ? 0 : 1)));
    model.setWeightTransform(l.layer.weight, fakeQuantize(weightSpec(l, o)));
  }
  if (epochs > 0) finetune(model, data, epochs, train, 'qat');
  const accuracy = accuracyOf(model, data);
  const trained = modelToGraph(model, { weights: 'master' });
  const weights = new Map();
  for (const l of r.layers) {
    if (shared.has(l.layer.weight)) continue;
    for (const [k, v] of layerWeights(trained, l, o, r.tensors.get(l.input)!.scale)) weights.set(k, v);
  }
  return { graph: insertWeights(r.graph, weights), accuracy };
}
