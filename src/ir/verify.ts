// Structural and type checks of a graph, run on import and between passes in tests:
// single definition of each value, topological order, then (via inferShapes) known
// ops, declared attributes of the right kind, input/output counts, types and shapes.
import './ops/index.js';
import { fail } from './errors.js';
import type { Graph } from './graph.js';
import { inferShapes } from './infer.js';
import { nodeFail, shapeStr } from './util.js';

/** Checks names: each value defined once, used only after its definition. */
function checkDataflow(graph: Graph): void {
  const definedBy = new Map<string, string>();
  const define = (name: string, by: string): void => {
    if (!name) fail(`graph "${graph.name}": ${by} defines a value with an empty name`);
    const prev = definedBy.get(name);
    if (prev) fail(`graph "${graph.name}": value "${name}" is defined twice (by ${prev} and by ${by})`);
    definedBy.set(name, by);
  };
  for (const v of graph.inputs) define(v.name, 'a graph input');
  for (const name of graph.initializers.keys()) define(name, 'an initializer');
  const nodeNames = new Set<string>();
  for (const node of graph.nodes) {
    if (!node.name) fail(`graph "${graph.name}": a ${node.op} node has no name`);
    if (nodeNames.has(node.name)) fail(`graph "${graph.name}": two nodes are named "${node.name}"`);
    nodeNames.add(node.name);
    for (const i of node.inputs) {
      if (i && !definedBy.has(i)) {
        const later = graph.nodes.some((n) => n.outputs.includes(i));
        nodeFail(node, later ? `input "${i}" is used before the node that produces it (nodes must be in topological order)` : `input "${i}" is not defined anywhere`);
      }
    }
    for (const o of node.outputs) if (o) define(o, `node "${node.name}"`);
  }
  for (const v of graph.outputs) {
    if (!definedBy.has(v.name)) fail(`graph "${graph.name}": output "${v.name}" is not produced by any node, input or initializer`);
  }
}

/** Declared graph outputs must agree with inference on dtype, rank and numeric dims. */
function checkOutputs(graph: Graph, types: Map<string, { dtype: string; shape: number[] }>): void {
  for (const v of graph.outputs) {
    const t = types.get(v.name)!;
    const rankOk = v.shape.length === t.shape.length;
    const dimsOk = rankOk && v.shape.every((d, i) => typeof d !== 'number' || d === t.shape[i]);
    if (t.dtype !== v.dtype || !dimsOk) {
      fail(`graph "${graph.name}": output "${v.name}" is declared ${v.dtype}[${v.shape.join(',')}] but computes ${t.dtype}${shapeStr(t.shape)}`);
    }
  }
}

/** Throws NnzipError naming the node (or the graph) at the first problem found. */
export function verify(graph: Graph): void {
  checkDataflow(graph);
  // inference checks each node against its op's schema (counts, attributes, types) before its shapes
  checkOutputs(graph, inferShapes(graph));
}
