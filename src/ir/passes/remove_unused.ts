// Dead-code removal: nodes whose outputs reach no graph output, and initializers no node reads.
import type { Graph } from '../graph.js';

/** Drops nodes none of whose outputs is (transitively) needed by a graph output. */
export function eliminateDeadNodes(graph: Graph): Graph {
  const g = graph.clone();
  const live = new Set(g.outputs.map((v) => v.name));
  const kept = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!n.outputs.some((o) => o && live.has(o))) continue;
    for (const name of n.inputs) if (name) live.add(name);
    kept.push(n);
  }
  g.nodes = kept.reverse();
  return g;
}

/** Drops initializers (and their storage formats) that no node reads and that are neither graph inputs nor outputs. */
export function removeUnusedInitializers(graph: Graph): Graph {
  const g = graph.clone();
  const used = new Set<string>([...g.inputs.map((v) => v.name), ...g.outputs.map((v) => v.name)]);
  for (const n of g.nodes) for (const name of n.inputs) if (name) used.add(name);
  for (const name of [...g.initializers.keys()]) {
    if (used.has(name)) continue;
    g.initializers.delete(name);
    g.formats?.delete(name); // a storage format describes an initializer; it goes with it
  }
  return g;
}
