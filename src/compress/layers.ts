// The layers compression acts on: Conv / ConvTranspose / Gemm / MatMul nodes whose
// weight is a float initializer. Users name them by weight prefix ("fc1" for
// "fc1.weight"), weight name or node name.
import { fail } from '../ir/errors.js';
import type { Graph, Node } from '../ir/graph.js';

export type LayerKind = 'conv' | 'fc';

export interface Layer {
  /** Friendly name: the weight's name without ".weight" (PyTorch's module path). */
  name: string;
  node: Node;
  weight: string;
  bias?: string;
  kind: LayerKind;
}

const KIND: Record<string, LayerKind> = { Conv: 'conv', ConvTranspose: 'conv', Gemm: 'fc', MatMul: 'fc' };

export function compressibleLayers(graph: Graph): Layer[] {
  const layers: Layer[] = [];
  for (const node of graph.nodes) {
    const kind = KIND[node.op];
    const weight = node.inputs[1];
    const t = kind && weight ? graph.initializers.get(weight) : undefined;
    if (!kind || !t || t.dtype !== 'float32') continue;
    const bias = node.inputs[2] && graph.initializers.has(node.inputs[2]) ? node.inputs[2] : undefined;
    layers.push({ name: weight.replace(/\.weight$/, ''), node, weight, bias, kind });
  }
  return layers;
}

/** Finds a layer by friendly name, weight name or node name; unknown names are a clear error. */
export function findLayer(layers: Layer[], key: string, where: string): Layer {
  const hit = layers.find((l) => l.name === key || l.weight === key || l.node.name === key);
  if (!hit) {
    const known = layers.map((l) => l.name).join(', ');
    fail(`${where}: layer "${key}" does not exist; layers: ${known}`);
  }
  return hit;
}
