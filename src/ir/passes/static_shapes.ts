// Fully static value shapes, for folding Shape nodes. A value whose shape depends
// on a symbolic input dim (such as the dynamic batch N) is left out, so its Shape
// stays in the graph.
//
// How: shape inference runs once per binding of the symbols to different sizes;
// a value whose shape comes out the same under every binding does not depend on
// them. (A dim such as max(N, 3) could fool this for sizes 2, 3 and 17 alike;
// exported CNNs do not compute such dims.)
import type { Graph } from '../graph.js';
import { inferShapes } from '../infer.js';

const TRIAL_SIZES = [2, 3, 17];

/** value name → shape, for values whose every dim is known without running the graph. */
export function staticShapes(graph: Graph): Map<string, number[]> {
  const symbols = new Set<string>();
  for (const v of graph.inputs) for (const d of v.shape) if (typeof d === 'string') symbols.add(d);
  const trials = symbols.size === 0 ? [1] : TRIAL_SIZES;
  let runs: Map<string, { shape: number[] }>[];
  try {
    runs = trials.map((size) => inferShapes(graph, Object.fromEntries([...symbols].map((s) => [s, size]))));
  } catch {
    // Shape inference cannot type this graph (an op it does not know, say): fold nothing by shape.
    return new Map();
  }
  const shapes = new Map<string, number[]>();
  for (const [name, t] of runs[0]) {
    const key = t.shape.join(',');
    if (runs.every((r) => r.get(name)?.shape.join(',') === key)) shapes.set(name, t.shape);
  }
  return shapes;
}
