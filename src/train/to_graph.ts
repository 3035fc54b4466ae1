// Writes a model's trained weights back into an IR graph: the same structure as
// the graph the model came from, with new initializer tensors for every
// parameter and BatchNorm buffer (other initializers are shared unchanged).
// Parameters the graph does not hold (TTQ's scales) are left out. Storage formats
// stay valid: a codebook format takes the centroids of the parameter's
// WeightSharing hook; a codebook, binary or ternary format is dropped (the tensor
// becomes dense) when the trained values no longer decode from it.
import { codebookValues } from '../format/codebook.js';
import { channelLevels } from '../ir/binary.js';
import type { CodebookFormat } from '../ir/tensor_format.js';
import type { Graph } from '../ir/graph.js';
import { Tensor } from '../ir/tensor.js';
import { WeightSharing } from './hooks.js';
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
    if (!g.initializers.has(name)) continue;
    const values = (opts.weights === 'master' ? p.master : p.data).slice();
    g.initializers.set(name, new Tensor('float32', p.shape, values));
    const f = g.formats.get(name);
    if ((f?.kind === 'binary' || f?.kind === 'ternary') && typeof channelLevels(values, p.shape, f.axis, f.kind) === 'string') g.formats.delete(name);
    if (f?.kind === 'winograd') g.formats.delete(name); // a stored transform of weights that may have changed
    if (f?.kind !== 'codebook') continue;
    const fresh = p.gradTransform instanceof WeightSharing ? { ...f, centroids: p.gradTransform.centroids.slice() } : f;
    if (decodes(fresh, values)) g.formats.set(name, fresh);
    else g.formats.delete(name);
  }
  for (const [name, b] of model.buffers) {
    const old = model.graph.initializers.get(name)!;
    g.initializers.set(name, new Tensor('float32', old.shape, b.slice()));
  }
  return g;
}

/** True when the codebook format reproduces `values` exactly. */
function decodes(f: CodebookFormat, values: Float32Array): boolean {
  if (f.indices.length !== values.length) return false;
  const decoded = codebookValues(f);
  for (let i = 0; i < values.length; i++) if (decoded[i] !== values[i]) return false;
  return true;
}
