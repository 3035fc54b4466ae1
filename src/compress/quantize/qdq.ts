// The QDQ form of a quantized model (the form onnxruntime's quantizer writes, and
// nnzip's IR for quantized models): weights on their grids (float values +
// GridFormat), and a QuantizeLinear → DequantizeLinear pair on every quantized
// activation, its consumers reading the dequantized value. A graph output keeps
// its name on the DequantizeLinear. A ReLU whose quantized output saturates at or
// above 0 is dropped: the quantization's clamp is the ReLU.
import { fail } from '../../ir/errors.js';
import type { Graph, Node } from '../../ir/graph.js';
import { QUANT_RANGES } from '../../ir/quant.js';
import { f32, fromNumbers, Tensor } from '../../ir/tensor.js';
import type { GridFormat } from '../../ir/tensor_format.js';

export type ActType = 'int8' | 'uint8' | 'int16' | 'int32';

/** How one activation tensor is quantized. */
export interface ActParams {
  scale: number;
  zero: number;
  dtype: ActType;
  /** A narrower saturation range than the type's (fixed point below 8 bits), as float bounds. */
  clip?: [number, number];
}

export interface QdqSpec {
  /** New values of weights (and biases) and the grids of the weights. */
  weights: Map<string, { values: Float32Array; grid?: GridFormat }>;
  tensors: Map<string, ActParams>;
}

/** Each quantized tensor's dequantized value (a ReLU dropped: its output maps to its input's). */
export type DequantizedNames = Map<string, string>;

/** A copy of the graph with new weight values and their grids (none: the weight is float). */
export function insertWeights(graph: Graph, weights: QdqSpec['weights']): Graph {
  const g = graph.clone();
  for (const [name, w] of weights) {
    const old = g.initializers.get(name);
    if (!old) fail(`quantize: initializer "${name}" is not in the graph`);
    g.initializers.set(name, new Tensor('float32', old.shape, w.values));
    if (w.grid) g.formats.set(name, w.grid);
    else g.formats.delete(name);
  }
  return g;
}

export function insertQdq(graph: Graph, spec: QdqSpec): { graph: Graph; dequantized: DequantizedNames } {
  const g = insertWeights(graph, spec.weights);
  const tensors = new Map(spec.tensors);
  const dropped = dropRedundantRelus(g, tensors);
  const outputs = new Set(g.outputs.map((o) => o.name));
  const dequantized: DequantizedNames = new Map();
  const nodes: Node[] = [];
  const quantize = (producer: Node | undefined, t: string): void => {
    const p = tensors.get(t);
    if (p) dequantized.set(t, addPair(g, nodes, producer, t, p, outputs.has(t)));
  };
  for (const v of g.inputs) quantize(undefined, v.name);
  for (const node of g.nodes) {
    const n: Node = { ...node, inputs: node.inputs.map((i) => dequantized.get(i) ?? i) };
    nodes.push(n);
    for (const o of [...n.outputs]) if (o) quantize(n, o);
  }
  g.nodes = nodes;
  for (const [relu, input] of dropped) if (dequantized.has(input)) dequantized.set(relu, dequantized.get(input)!);
  return { graph: g, dequantized };
}

/** A quantization whose lower saturation is ≥ 0 in float: a ReLU before it changes nothing. */
function clampsAtZero(p: ActParams): boolean {
  const lo = QUANT_RANGES[p.dtype]?.[0] ?? -Infinity;
  return (lo - p.zero) * p.scale >= 0;
}

/**
 * Removes ReLUs whose output is quantized at or above 0, or clipped (the clip takes
 * the ReLU's 0 as its lower bound); their input, read by nothing else, takes over.
 * Returns relu output → input.
 */
function dropRedundantRelus(g: Graph, tensors: Map<string, ActParams>): Map<string, string> {
  const consumers = g.consumers(), outputs = new Set(g.outputs.map((o) => o.name)), dropped = new Map<string, string>();
  g.nodes = g.nodes.filter((n) => {
    const [x, y] = [n.inputs[0], n.outputs[0]];
    const p = tensors.get(y);
    if (n.op !== 'Relu' || !p || !(p.clip || clampsAtZero(p)) || outputs.has(y) || outputs.has(x) || consumers.get(x)?.length !== 1 || tensors.has(x)) return true;
    tensors.set(x, p.clip ? { ...p, clip: [Math.max(0, p.clip[0]), p.clip[1]] } : p);
    tensors.delete(y);
    dropped.set(y, x);
    return false;
  });
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => dropped.get(i) ?? i);
  return dropped;
}

/**
 * t → [Clip] → QuantizeLinear → DequantizeLinear; returns the dequantized name. A graph
 * output t is renamed on its producer, so that the DequantizeLinear keeps the name t.
 */
function addPair(g: Graph, nodes: Node[], producer: Node | undefined, t: string, p: ActParams, isOutput: boolean): string {
  let src = t;
  if (isOutput && producer) {
    src = `${t}_float`;
    producer.outputs = producer.outputs.map((o) => (o === t ? src : o));
  }
  const scale = `${t}_scale`, zero = `${t}_zero_point`;
  g.initializers.set(scale, f32([], [p.scale]));
  g.initializers.set(zero, fromNumbers(p.dtype, [], [p.zero]));
  if (p.clip) {
    const [lo, hi] = [`${t}_clip_min`, `${t}_clip_max`];
    g.initializers.set(lo, f32([], [p.clip[0]]));
    g.initializers.set(hi, f32([], [p.clip[1]]));
    nodes.push({ name: `${t}_Clip`, op: 'Clip', inputs: [src, lo, hi], outputs: [`${t}_clipped`], attrs: {} });
    src = `${t}_clipped`;
  }
  const dq = isOutput && producer ? t : `${t}_dequantized`;
  nodes.push({ name: `${t}_QuantizeLinear`, op: 'QuantizeLinear', inputs: [src, scale, zero], outputs: [`${t}_quantized`], attrs: {} });
  nodes.push({ name: `${t}_DequantizeLinear`, op: 'DequantizeLinear', inputs: [`${t}_quantized`, scale, zero], outputs: [dq], attrs: {} });
  return dq;
}
