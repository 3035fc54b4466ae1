// Writes a model's trained weights back into an IR graph: the same structure as
// the graph the model came from, with new initializer tensors for every
// parameter and BatchNorm buffer (other initializers are shared unchanged).
import type { Graph } from '../ir/graph.js';
import { Tensor } from '../ir/tensor.js';
import type { Model } from './model.js';

export interface ToGraphOptions {
  /**
   * 'effective' (default) writes what the forward pass uses (after a weight
   * transform such as binarize); 'master' writes the float shadow weights.
   */
  weights?: 'effective' | 'master';
}

export function modelToGraph(model: Model, opts: ToGraphOptions = {}): Graph {
  model.refreshWeights();
  const g = model.graph.clone();
  for (const [name, p] of model.params) {
    const src = opts.weights === 'master' ? p.master : p.data;
    g.initializers.set(name, new Tensor('float32', p.shape, src.slice()));
  }
  for (const [name, b] of model.buffers) {
    const old = model.graph.initializers.get(name)!;
    g.initializers.set(name, new Tensor('float32', old.shape, b.slice()));
  }
  return g;
}
