// The graph's structure (no weights) as plain JSON: what the .nnz graph section holds.
// Initializers are stored separately, tensor by tensor, by the container.
import { fail } from './errors.js';
import { Graph, type AttrValue, type Node, type ValueInfo } from './graph.js';
import { Tensor, toNumbers, fromNumbers, type DType } from './tensor.js';

interface TensorJson {
  dtype: DType;
  shape: number[];
  data: number[];
}

type AttrJson = number | string | number[] | string[] | { tensor: TensorJson };

export interface GraphJson {
  name: string;
  opset: number;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** [name, op, inputs, outputs, attrs] per node: compact, in order. */
  nodes: [string, string, string[], string[], Record<string, AttrJson>][];
  /** Initializer names in order (their tensors come from elsewhere). */
  initializers: string[];
}

function attrToJson(v: AttrValue): AttrJson {
  return v instanceof Tensor ? { tensor: { dtype: v.dtype, shape: v.shape, data: toNumbers(v) } } : v;
}

function attrFromJson(v: AttrJson): AttrValue {
  if (typeof v === 'object' && !Array.isArray(v)) return fromNumbers(v.tensor.dtype, v.tensor.shape, v.tensor.data);
  return v;
}

export function graphToJson(g: Graph): GraphJson {
  return {
    name: g.name,
    opset: g.opset,
    inputs: g.inputs,
    outputs: g.outputs,
    nodes: g.nodes.map((n) => [n.name, n.op, n.inputs, n.outputs, Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, attrToJson(v)]))]),
    initializers: [...g.initializers.keys()],
  };
}

/** Rebuilds the graph; `tensor(name)` supplies each initializer. */
export function graphFromJson(j: GraphJson, tensor: (name: string) => Tensor, source: string): Graph {
  if (!j || !Array.isArray(j.nodes) || !Array.isArray(j.inputs) || !Array.isArray(j.outputs)) fail(`${source}: the graph section is malformed`);
  const nodes: Node[] = j.nodes.map(([name, op, inputs, outputs, attrs]) => ({
    name,
    op,
    inputs,
    outputs,
    attrs: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, attrFromJson(v)])),
  }));
  const initializers = new Map(j.initializers.map((n) => [n, tensor(n)] as [string, Tensor]));
  return new Graph({ name: j.name, inputs: j.inputs, outputs: j.outputs, nodes, initializers, opset: j.opset });
}
