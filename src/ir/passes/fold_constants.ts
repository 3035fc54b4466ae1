// foldConstants: evaluates every node whose inputs are all constant (initializers
// that are not graph inputs, or absent optionals) with the reference kernels and
// replaces it by initializers. This removes PyTorch's Shape→Gather→Unsqueeze→
// Concat→Reshape chains, Cast chains and DequantizeLinear of constant weights.
// A Shape whose dims are static is folded too (Shape(start=1) of an [N,C,H,W]
// value, say); one that reads a symbolic dim (the dynamic batch N) stays.
// A folded DequantizeLinear of 8- or 16-bit integers keeps what the weight is: its
// grid (integers, scales, zero points) goes to graph.formats, so the integer
// kernels and the .nnz encoder use it as it was.
import { attrInt, type Graph, type Node } from '../graph.js';
import { QUANT_RANGES } from '../quant.js';
import { Tensor, i64 } from '../tensor.js';
import type { NumArray } from '../ref/operands.js';
import type { GridFormat } from '../tensor_format.js';
import { getRefKernel } from '../ref/index.js';
import { staticDims } from './static_shapes.js';

export interface FoldConstantsOptions {
  /** Ops never folded (e.g. keep DequantizeLinear to preserve int8 weights). */
  skipOps?: readonly string[];
}

/** The Shape op's output (start/end as in opset 15) if every dim it reads is known. */
function shapeSlice(node: Node, dims: (number | undefined)[]): Tensor | undefined {
  const rank = dims.length;
  const clamp = (v: number) => Math.min(rank, Math.max(0, v < 0 ? v + rank : v));
  const start = clamp(typeof node.attrs.start === 'number' ? node.attrs.start : 0);
  const end = clamp(typeof node.attrs.end === 'number' ? node.attrs.end : rank);
  const picked = dims.slice(start, Math.max(start, end));
  if (picked.some((d) => d === undefined)) return undefined;
  return i64([picked.length], picked as number[]);
}

/** The grid of a DequantizeLinear of constant 8- or 16-bit integers (its inputs already checked by the kernel). */
function gridOf(node: Node, [x, scale, zero]: (Tensor | undefined)[]): GridFormat | undefined {
  if (!x || !scale || !QUANT_RANGES[x.dtype] || x.dtype === 'int32') return undefined; // an int32 bias is no weight grid
  const axis = scale.size > 1 ? attrAxis(node, x.shape.length) : 0;
  const z = zero && Int32Array.from(zero.data as NumArray);
  return {
    kind: 'grid', bits: x.dtype.endsWith('8') ? 8 : 16, q: Int32Array.from(x.data as NumArray),
    scale: Float32Array.from(scale.data as Float32Array), zero: z && z.some((v) => v !== 0) ? z : undefined, axis,
  };
}

const attrAxis = (node: Node, rank: number): number => {
  const a = attrInt(node, 'axis', 1);
  return a < 0 ? a + rank : a;
};

export function foldConstants(graph: Graph, opts: FoldConstantsOptions = {}): Graph {
  const g = graph.clone();
  const skip = new Set(opts.skipOps ?? []);
  const inputs = new Set(g.inputs.map((v) => v.name));
  const outputs = new Set(g.outputs.map((v) => v.name));
  const isConst = (name: string) => name === '' || (g.initializers.has(name) && !inputs.has(name));
  const dims = staticDims(g);
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
      const grid = node.op === 'DequantizeLinear' ? gridOf(node, ins) : undefined;
      if (grid) g.formats.set(node.outputs[0], grid);
      continue;
    }
    const known = node.op === 'Shape' && foldable ? dims.get(node.inputs[0]) : undefined;
    const value = known && shapeSlice(node, known);
    if (value) {
      g.initializers.set(node.outputs[0], value);
      continue;
    }
    kept.push(node);
  }
  g.nodes = kept;
  return g;
}
