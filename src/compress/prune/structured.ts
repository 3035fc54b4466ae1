// Structured pruning: which layers have filters (Conv output channels, Gemm/MatMul
// output neurons), and ranking those filters by the norm of their weights
// (Li et al. 2017, "Pruning Filters for Efficient ConvNets": smallest L1 first).
import { fail } from '../../ir/errors.js';
import { attrInt, type Graph, type Node } from '../../ir/graph.js';
import { isFloat, type Tensor } from '../../ir/tensor.js';
import { compressibleLayers, findLayer, type Layer } from '../layers.js';

export type Norm = 'l1' | 'l2';

/** A layer whose output channels can be removed physically. */
export interface FilterLayer {
  /** Friendly name (weight name without ".weight"), as in src/compress/layers.ts. */
  name: string;
  node: Node;
  weight: string;
  bias?: string;
  /** Weight axis that indexes output channels (filters / neurons), and input channels. */
  filterAxis: 0 | 1;
  inputAxis: 0 | 1;
  /** Number of filters (output channels). */
  channels: number;
}

/**
 * One score per slice of `weight` along `axis` (0 = output filters of a Conv or of a
 * Gemm weight [out, in]; 1 = input channels), summed in float64 for stability.
 */
export function rankChannels(weight: Tensor, axis: 0 | 1, norm: Norm): Float32Array {
  if (!isFloat(weight.dtype)) fail(`rankChannels: weight must be float, got ${weight.dtype}`);
  if (weight.shape.length < 2) fail(`rankChannels: weight [${weight.shape.join(',')}] must have at least 2 dimensions`);
  if (axis !== 0 && axis !== 1) fail(`rankChannels: axis must be 0 (filters) or 1 (input channels), got ${axis}`);
  if (norm !== 'l1' && norm !== 'l2') fail(`rankChannels: norm must be "l1" or "l2", got "${norm}"`);
  const [d0, d1] = weight.shape;
  const inner = weight.size / (d0 * d1 || 1);
  const acc = new Float64Array(weight.shape[axis]);
  const data = weight.data as Float32Array | Float64Array;
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      const base = (i0 * d1 + i1) * inner;
      let s = 0;
      for (let k = 0; k < inner; k++) {
        const v = data[base + k];
        s += norm === 'l1' ? Math.abs(v) : v * v;
      }
      acc[axis === 0 ? i0 : i1] += s;
    }
  }
  const out = new Float32Array(acc.length);
  for (let i = 0; i < acc.length; i++) out[i] = norm === 'l2' ? Math.sqrt(acc[i]) : acc[i];
  return out;
}

/** How many to keep: a fraction in (0, 1] (rounded, at least 1) or an exact count. */
export type KeepSpec = { ratio: number; count?: undefined } | { count: number; ratio?: undefined };

/** Number of channels a keep spec keeps out of n (validated). */
export function channelsKept(n: number, keep: KeepSpec, where = 'selectKeep'): number {
  if ((keep.ratio === undefined) === (keep.count === undefined)) fail(`${where}: give exactly one of ratio or count`);
  if (keep.ratio !== undefined) {
    const r = keep.ratio;
    if (typeof r !== 'number' || !Number.isFinite(r) || r <= 0 || r > 1) {
      fail(`${where}: keep ratio ${r} is outside (0, 1]; use e.g. 0.5 to keep half of the channels`);
    }
    return Math.min(n, Math.max(1, Math.round(r * n)));
  }
  const c = keep.count as number;
  if (!Number.isInteger(c) || c < 1 || c > n) fail(`${where}: keep count ${c} must be an integer in 1..${n}`);
  return c;
}

/**
 * The indices to keep, ascending: the highest scores win; equal scores keep the
 * lower index (so the result never depends on sort stability).
 */
export function selectKeep(scores: ArrayLike<number>, keep: KeepSpec): Int32Array {
  const n = scores.length;
  if (n === 0) fail('selectKeep: no scores (the layer has no channels)');
  for (let i = 0; i < n; i++) if (Number.isNaN(scores[i])) fail(`selectKeep: score ${i} is NaN; check the weights for NaN`);
  const count = channelsKept(n, keep);
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  return Int32Array.from(order.slice(0, count)).sort();
}

// Why a compressible layer's filters cannot be removed on their own.
function notFilterLayer(graph: Graph, layer: Layer): string | undefined {
  const n = layer.node;
  const w = graph.initializers.get(layer.weight) as Tensor;
  if (n.op === 'ConvTranspose') return 'ConvTranspose filters are not supported by thinning';
  if (n.op === 'Conv' && attrInt(n, 'group', 1) !== 1) {
    return `it is a grouped/depthwise Conv (group=${attrInt(n, 'group', 1)}): its filters follow its input channels; thin the layer that feeds it`;
  }
  if (n.op === 'Conv' && w.shape.length < 3) return `weight [${w.shape.join(',')}] is not a Conv kernel`;
  if (n.op === 'Gemm' && attrInt(n, 'transA', 0) !== 0) return 'Gemm with transA=1 is not supported';
  if (n.op !== 'Conv' && w.shape.length !== 2) return `weight [${w.shape.join(',')}] is not a matrix`;
  if (n.op !== 'MatMul' && n.inputs[2] && !layer.bias) return `its bias "${n.inputs[2]}" is computed, not a weight`;
  if (n.op === 'MatMul' && graph.initializers.has(n.inputs[0])) return 'its first input is constant';
  return undefined;
}

/** The weight axis of a layer's output channels: 0 for Conv [Cout, Cin, ...] and Gemm transB=1 [out, in] (PyTorch Linear); 1 for Gemm transB=0 and MatMul [in, out] (and ConvTranspose [Cin, Cout, ...]). */
export function filterAxisOf(node: Node): 0 | 1 {
  return node.op === 'Conv' || (node.op === 'Gemm' && attrInt(node, 'transB', 0) === 1) ? 0 : 1;
}

function toFilterLayer(graph: Graph, layer: Layer): FilterLayer {
  const n = layer.node;
  const w = graph.initializers.get(layer.weight) as Tensor;
  const filterAxis = filterAxisOf(n);
  const bias = n.op === 'MatMul' ? undefined : layer.bias;
  return { name: layer.name, node: n, weight: layer.weight, bias, filterAxis, inputAxis: filterAxis === 0 ? 1 : 0, channels: w.shape[filterAxis] };
}

/** Every layer whose filters can be ranked and removed (Conv group=1, Gemm, MatMul with constant weights). */
export function filterLayers(graph: Graph): FilterLayer[] {
  return compressibleLayers(graph)
    .filter((l) => notFilterLayer(graph, l) === undefined)
    .map((l) => toFilterLayer(graph, l));
}

/** Finds a filter layer by friendly name, weight name or node name; clear errors otherwise. */
export function findFilterLayer(graph: Graph, key: string, where: string): FilterLayer {
  const layer = findLayer(compressibleLayers(graph), key, where);
  const why = notFilterLayer(graph, layer);
  if (why) fail(`${where}: layer "${key}" (node "${layer.node.name}", ${layer.node.op}) has no removable filters: ${why}`);
  return toFilterLayer(graph, layer);
}
