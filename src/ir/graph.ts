// The graph IR: ONNX-like nodes over named values, weights as initializers.
import type { TensorFormat } from './tensor_format.js';
import { Tensor, DType } from './tensor.js';

export type AttrValue = number | string | number[] | string[] | Tensor;

export interface Node {
  name: string;
  op: string;
  inputs: string[]; // '' = optional input left out (as in ONNX)
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

/** A dimension is a number, or a symbol (e.g. 'N' for a dynamic batch). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export class Graph {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: Node[];
  initializers: Map<string, Tensor>;
  /** The ONNX default-domain opset the graph was written for. */
  opset: number;
  /** Storage format of compressed initializers (absent = dense float). */
  formats: Map<string, TensorFormat>;

  constructor(init: {
    name?: string;
    inputs: ValueInfo[];
    outputs: ValueInfo[];
    nodes: Node[];
    initializers?: Map<string, Tensor>;
    opset?: number;
    formats?: Map<string, TensorFormat>;
  }) {
    this.name = init.name ?? 'graph';
    this.inputs = init.inputs;
    this.outputs = init.outputs;
    this.nodes = init.nodes;
    this.initializers = init.initializers ?? new Map();
    this.opset = init.opset ?? 17;
    this.formats = init.formats ?? new Map();
  }

  /** A shallow copy that a pass may change (nodes and maps copied, tensors shared). */
  clone(): Graph {
    return new Graph({
      name: this.name,
      inputs: this.inputs.map((v) => ({ ...v, shape: [...v.shape] })),
      outputs: this.outputs.map((v) => ({ ...v, shape: [...v.shape] })),
      nodes: this.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } })),
      initializers: new Map(this.initializers),
      opset: this.opset,
      formats: new Map(this.formats),
    });
  }

  /** The node that produces each value. */
  producers(): Map<string, Node> {
    const m = new Map<string, Node>();
    for (const n of this.nodes) for (const o of n.outputs) if (o) m.set(o, n);
    return m;
  }

  /** The nodes that read each value. */
  consumers(): Map<string, Node[]> {
    const m = new Map<string, Node[]>();
    for (const n of this.nodes) {
      for (const i of n.inputs) {
        if (!i) continue;
        const list = m.get(i);
        if (list) list.push(n);
        else m.set(i, [n]);
      }
    }
    return m;
  }
}

export function attrInt(node: Node, key: string, dflt: number): number {
  const v = node.attrs[key];
  return typeof v === 'number' ? v : dflt;
}

export function attrFloat(node: Node, key: string, dflt: number): number {
  return attrInt(node, key, dflt);
}

/** An ints attribute, or `dflt` (undefined when none is given) when the node does not set it. */
export function attrInts(node: Node, key: string): number[] | undefined;
export function attrInts(node: Node, key: string, dflt: number[]): number[];
export function attrInts(node: Node, key: string, dflt?: number[]): number[] | undefined {
  const v = node.attrs[key];
  return Array.isArray(v) ? (v as number[]) : dflt;
}

export function attrString(node: Node, key: string, dflt: string): string {
  const v = node.attrs[key];
  return typeof v === 'string' ? v : dflt;
}
