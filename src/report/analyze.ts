// Per-layer statistics (Distiller-style `analyze`): output shape, params, MACs,
// sparsity, what the weight already is (distinct values, exact format and its
// bits, compress/intake.ts), bits per weight and bytes, from the graph and its initializers.
import { intake, type LayerIntake } from '../compress/intake.js';
import type { Graph, Node } from '../ir/graph.js';
import { inferShapes } from '../ir/infer.js';
import { DTYPE_BYTES, isFloat, sizeOf, type Tensor } from '../ir/tensor.js';

export interface LayerStats {
  name: string;
  op: string;
  outputShape: number[];
  params: number;
  macs: number;
  zeros: number;
  /** The layer's weight as it already is (compressible layers only). */
  weight?: Pick<LayerIntake, 'distinct' | 'bits'> & { format: string };
  /** Stored bits per parameter (32 for dense float32; less once compressed). */
  bitsPerWeight: number;
  bytes: number;
}

export interface GraphStats {
  layers: LayerStats[];
  total: { params: number; macs: number; zeros: number; bytes: number };
}

/** Storage of one tensor as the caller knows it (e.g. from a .nnz section); default dense. */
export type StoredBytes = (name: string, t: Tensor) => number;

const denseBytes: StoredBytes = (_n, t) => t.size * DTYPE_BYTES[t.dtype];

/** Multiply-accumulates per batch-1 inference, for the ops that dominate compute. */
function macsOf(node: Node, out: number[], weight: Tensor | undefined, inShape: number[] | undefined): number {
  const outSize = sizeOf(out);
  switch (node.op) {
    case 'Conv':
      // each output element reads Cin/group × kh × kw weights
      return weight ? outSize * sizeOf(weight.shape.slice(1)) : 0;
    case 'ConvTranspose':
      return weight && inShape ? sizeOf(inShape) * sizeOf(weight.shape.slice(1)) : 0;
    case 'Gemm':
    case 'MatMul': {
      const k = inShape ? inShape[inShape.length - 1] : 0;
      return outSize * k;
    }
    default:
      return 0;
  }
}

/** A parameter is a float initializer read by the node (shape tensors and int indices are not). */
function paramsOf(graph: Graph, node: Node, seen: Set<string>): [string, Tensor][] {
  const out: [string, Tensor][] = [];
  for (const name of node.inputs) {
    const t = graph.initializers.get(name);
    if (!t || seen.has(name) || !(isFloat(t.dtype) || t.dtype === 'int8' || t.dtype === 'uint8')) continue;
    seen.add(name);
    out.push([name, t]);
  }
  return out;
}

export function analyzeGraph(graph: Graph, stored: StoredBytes = denseBytes): GraphStats {
  const types = inferShapes(graph);
  const found = new Map(intake(graph).map((l) => [l.weight, l]));
  const seen = new Set<string>();
  const layers: LayerStats[] = [];
  for (const node of graph.nodes) {
    const tensors = paramsOf(graph, node, seen);
    let params = 0;
    let zeros = 0;
    let bytes = 0;
    for (const [name, t] of tensors) {
      params += t.size;
      bytes += stored(name, t);
      for (let i = 0; i < t.size; i++) if (Number(t.data[i]) === 0) zeros++;
    }
    const outShape = types.get(node.outputs[0])?.shape ?? [];
    const weight = graph.initializers.get(node.inputs[1] ?? '');
    const inShape = types.get(node.inputs[0])?.shape;
    const w = found.get(node.inputs[1] ?? '');
    layers.push({
      name: node.name,
      op: node.op,
      outputShape: outShape,
      params,
      macs: macsOf(node, outShape, weight, inShape),
      zeros,
      weight: w && { distinct: w.distinct, bits: w.bits, format: formatName(w) },
      bitsPerWeight: params > 0 ? (bytes * 8) / params : 0,
      bytes,
    });
  }
  const total = layers.reduce(
    (t, l) => ({ params: t.params + l.params, macs: t.macs + l.macs, zeros: t.zeros + l.zeros, bytes: t.bytes + l.bytes }),
    { params: 0, macs: 0, zeros: 0, bytes: 0 },
  );
  return { layers, total };
}

/** "float", "sparse", "codebook", "grid", "grid/ch" (one scale per channel) or "pattern". */
function formatName(l: LayerIntake): string {
  const f = l.format;
  if (f?.kind === 'grid') return f.scale.length > 1 ? 'grid/ch' : 'grid';
  return f?.kind ?? 'float';
}
