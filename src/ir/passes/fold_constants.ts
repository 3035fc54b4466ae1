// foldConstants: evaluates every node whose inputs are all constant (initializers
// that are not graph inputs, or absent optionals) with the reference kernels and
// replaces it by initializers. This removes PyTorch's Shape→Gather→Unsqueeze→
// Concat→Reshape chains, Cast chains and DequantizeLinear of constant weights.
// A Shape of a value whose shape is fully static is folded too; a symbolic dim
// (e.g. the dynamic batch N) keeps it in the graph.
import type { Graph, Node } from '../graph.js';
import { Tensor, i64 } from '../tensor.js';
import { getRefKernel } from '../../kernels/ref/index.js';
import { staticShapes } from './static_shapes.js';

export interface FoldConstantsOptions {
  /** Ops never folded (e.g. keep DequantizeLinear to preserve int8 weights). */
  skipOps?: readonly string[];
}

/** The Shape op's output for a known shape (start/end as in opset 15). */
function shapeSlice(node: Node, shape: number[]): Tensor {
  const rank = shape.length;
  const clamp = (v: number) => Math.min(rank, Math.max(0, v < 0 ? v + rank : v));
  const start = clamp(typeof node.attrs.start === 'number' ? node.attrs.start : 0);
  const end = clamp(typeof node.attrs.end === 'number' ? node.attrs.end : rank);
  const dims = shape.slice(start, Math.max(start, end));
  return i64([dims.length], dims);
}

export function foldConstants(graph: Graph, opts: FoldConstantsOptions = {}): Graph {
  const g = graph.clone();
  const skip = new Set(opts.skipOps ?? []);
  const inputs = new Set(g.inputs.map((v) => v.name));
  const outputs = new Set(g.outputs.map((v) => v.name));
  const isConst = (name: string) => name === '' || (g.initializers.has(name) && !inputs.has(name));
  const shapes = staticShapes(g);
  const kept: Node[] = [];
  for (const node of g.nodes) {
    const kernel = getRefKernel(node.op);
    // A folded graph output would leave the output without a producing node; keep those.
    const foldable = kernel && !skip.has(node.op) && !node.outputs.some((o) => outputs.has(o));
    if (foldable && node.inputs.every(isConst)) {
      const ins = node.inputs.map((name) => (name ? g.initializers.get(name) : undefined));
      const outs = kernel(node, ins);
      node.outputs.forEach((name, k) => {
        if (!name) return;
        // Never let two initializers share one buffer: a later pass may edit one in place.
        const shared = ins.some((t) => t && t.data === outs[k].data);
        g.initializers.set(name, shared ? outs[k].clone() : outs[k]);
      });
      continue;
    }
    const known = node.op === 'Shape' && foldable ? shapes.get(node.inputs[0]) : undefined;
    if (known) {
      g.initializers.set(node.outputs[0], shapeSlice(node, known));
      continue;
    }
    kept.push(node);
  }
  g.nodes = kept;
  return g;
}
