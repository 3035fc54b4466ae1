// Shape inference over a whole graph: symbolic input dims are resolved from `dims`
// (every symbol defaults to 1), initializers carry their value, and each node's
// schema computes its outputs (folding small constants, so Reshape shapes built
// from Shape/Gather/Concat chains resolve).
//
// Values derived from symbolic dims (e.g. Shape of the input) hold the numbers
// for the given `dims`; a pass that folds them must not assume they hold for others.
import './ops/index.js';
import { fail } from './errors.js';
import type { Graph, Node, ValueInfo } from './graph.js';
import { opSchema, type ValueType } from './ops.js';
import { nodeFail } from './util.js';

/** Concrete shape of a graph input: numbers kept, symbols looked up in `dims` (default 1). */
export function resolveShape(v: ValueInfo, dims: Record<string, number> = {}): number[] {
  return v.shape.map((d) => {
    if (typeof d === 'number') return d;
    const n = dims[d] ?? 1;
    if (!Number.isInteger(n) || n < 0) fail(`dims: ${d}=${n} must be a non-negative integer`);
    return n;
  });
}

/** Types of the graph inputs and initializers (the values that exist before any node runs). */
export function sourceTypes(graph: Graph, dims: Record<string, number> = {}): Map<string, ValueType> {
  const types = new Map<string, ValueType>();
  for (const v of graph.inputs) types.set(v.name, { dtype: v.dtype, shape: resolveShape(v, dims) });
  for (const [name, t] of graph.initializers) types.set(name, { dtype: t.dtype, shape: [...t.shape], value: t });
  return types;
}

/** Output types of one node from the types known so far (throws NnzipError naming the node). */
export function inferNode(node: Node, types: ReadonlyMap<string, ValueType>): ValueType[] {
  const schema = opSchema(node.op);
  if (!schema) nodeFail(node, `unknown op ${node.op}`);
  const ins = node.inputs.map((name) => {
    if (!name) return undefined;
    const t = types.get(name);
    if (!t) nodeFail(node, `input "${name}" is not produced by an earlier node, an initializer or a graph input`);
    return t;
  });
  const outs = schema.infer(node, ins);
  if (outs.length < node.outputs.length) {
    nodeFail(node, `has ${node.outputs.length} outputs, but the op yields ${outs.length}`);
  }
  return outs;
}

/** The type of every value in the graph (inputs, initializers, node outputs). */
export function inferShapes(graph: Graph, dims: Record<string, number> = {}): Map<string, ValueType> {
  const types = sourceTypes(graph, dims);
  for (const node of graph.nodes) {
    const outs = inferNode(node, types);
    node.outputs.forEach((name, i) => {
      if (name) types.set(name, outs[i]);
    });
  }
  return types;
}
