// Static value dims, for folding Shape nodes. A dim that depends on a symbolic
// input dim (such as the dynamic batch N) is unknown, so a Shape that reads it
// stays in the graph.
//
// How: shape inference runs once per binding of the symbols to different sizes;
// a dim that comes out the same under every binding does not depend on them. (A dim such as max(N, 3) could fool this for sizes 2, 3 and 17 alike;
// exported CNNs do not compute such dims.)
import type { Graph } from '../graph.js';
import { inferShapes } from '../infer.js';

const TRIAL_SIZES = [2, 3, 17];

/**
 * value name → its dims, each a number when it is known without running the graph
 * and undefined when it depends on a symbolic input dim (e.g. [undefined, 2, 3] for
 * an [N,2,3] value).
 */
export function staticDims(graph: Graph): Map<string, (number | undefined)[]> {
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
  const dims = new Map<string, (number | undefined)[]>();
  for (const [name, t] of runs[0]) {
    const others = runs.map((r) => r.get(name)?.shape);
    if (others.some((s) => !s || s.length !== t.shape.length)) continue;
    dims.set(name, t.shape.map((d, i) => (others.every((s) => s![i] === d) ? d : undefined)));
  }
  return dims;
}
