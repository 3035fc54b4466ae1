// XNOR-Net's binary activations as a graph rewrite: each chosen layer reads
// Sign(x) instead of x, in the block order BN → binarize → binary conv (→ pool).
//  - A ReLU feeding the layer (through max pools and reshapes, with no other
//    reader) is removed: the sign of a ReLU output is never −1.
//  - Without a BatchNormalization on the way (through ReLU, max pools and
//    reshapes), one is inserted before the Sign, starting as the identity (mean 0,
//    variance 1), so the graph computes the same until it is trained; fine-tuning
//    then learns each channel's threshold.
//  - Max pooling commutes with Sign, so pools stay where they are.
//  - scaling 'position' multiplies the layer's output by XNOR-Net's K: the mean
//    of |x| over each output position's window (Abs, then a frozen box-filter Conv
//    for a conv, a frozen MatMul by 1/K for a fully connected layer); 'channel'
//    leaves the per-output-channel α of the weights as the only scale.
import type { Graph, Node } from '../../ir/graph.js';
import { inferShapes } from '../../ir/infer.js';
import { nodeFail } from '../../ir/util.js';
import { Tensor } from '../../ir/tensor.js';
import type { Layer } from '../layers.js';

export type XnorScaling = 'channel' | 'position';

export interface XnorGraphOptions {
  scaling: XnorScaling;
  /** Insert a BatchNormalization before the Sign when the input has none (default true). */
  batchNorm?: boolean;
}

/** Ops through which the walk back from a layer's input continues: sign commutes with them (or they move values). */
const THROUGH = new Set(['MaxPool', 'Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout']);

export interface XnorGraph {
  graph: Graph;
  /** Initializers that must stay fixed while training (the K box filters). */
  frozen: string[];
}

class Namer {
  private readonly used = new Set<string>();
  constructor(g: Graph) {
    for (const n of g.nodes) [n.name, ...n.inputs, ...n.outputs].forEach((x) => this.used.add(x));
    for (const k of g.initializers.keys()) this.used.add(k);
    for (const v of g.inputs) this.used.add(v.name);
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}

/** Rewrites a copy of `graph` so that every layer in `layers` reads binary activations. */
export function binaryActivations(graph: Graph, layers: readonly Layer[], o: XnorGraphOptions): XnorGraph {
  const g = graph.clone();
  const names = new Namer(g);
  const frozen: string[] = [];
  for (const layer of layers) {
    const n = g.nodes.find((x) => x.name === layer.node.name);
    if (!n) throw new Error(`xnor: layer node "${layer.node.name}" vanished`);
    const hasBn = dropRelu(g, n);
    const types = inferShapes(g);
    const at = () => g.nodes.indexOf(n);
    let x = n.inputs[0];
    const shape = types.get(x)?.shape ?? nodeFail(n, `input "${x}" has no known shape`);
    if (o.batchNorm !== false && !hasBn) {
      if (shape.length < 2) nodeFail(n, `input "${x}" of shape [${shape}] has no channel axis for the BatchNormalization before Sign`);
      const bn = identityBatchNorm(g, names, layer.name, x, shape[1]);
      g.nodes.splice(at(), 0, bn);
      x = bn.outputs[0];
    }
    const sign: Node = { name: names.fresh(`${n.name}_sign`), op: 'Sign', inputs: [x], outputs: [names.fresh(`${x}_sign`)], attrs: {} };
    g.nodes.splice(at(), 0, sign);
    n.inputs[0] = sign.outputs[0];
    if (o.scaling === 'position') frozen.push(...positionScale(g, names, n, layer, x, shape));
  }
  return { graph: g, frozen };
}

/**
 * Removes a ReLU that feeds n (through THROUGH ops, each read by one node only);
 * returns whether a BatchNormalization precedes n on that path.
 */
function dropRelu(g: Graph, n: Node): boolean {
  const producers = g.producers(), consumers = g.consumers();
  const single = (v: string) => (consumers.get(v)?.length ?? 0) === 1 && !g.outputs.some((o) => o.name === v);
  let cur = producers.get(n.inputs[0]);
  while (cur && THROUGH.has(cur.op) && single(cur.outputs[0])) cur = producers.get(cur.inputs[0]);
  if (cur?.op === 'Relu' && single(cur.outputs[0])) {
    const relu = cur;
    const reader = consumers.get(relu.outputs[0])![0];
    reader.inputs = reader.inputs.map((v) => (v === relu.outputs[0] ? relu.inputs[0] : v));
    g.nodes.splice(g.nodes.indexOf(relu), 1);
    cur = producers.get(relu.inputs[0]);
    while (cur && THROUGH.has(cur.op)) cur = producers.get(cur.inputs[0]);
  }
  return cur?.op === 'BatchNormalization';
}

/** BatchNormalization(x) over C channels that starts as the identity (γ 1, β 0, mean 0, variance 1 − ε). */
function identityBatchNorm(g: Graph, names: Namer, layer: string, x: string, C: number): Node {
  const eps = 1e-5;
  const init = (part: string, v: number) => {
    const name = names.fresh(`${layer}.act_bn.${part}`);
    g.initializers.set(name, new Tensor('float32', [C], new Float32Array(C).fill(v)));
    return name;
  };
  const inputs = [x, init('weight', 1), init('bias', 0), init('running_mean', 0), init('running_var', 1 - eps)];
  return { name: names.fresh(`${layer}_act_bn`), op: 'BatchNormalization', inputs, outputs: [names.fresh(`${x}_bn`)], attrs: { epsilon: eps, momentum: 0.9 } };
}

/** Multiplies n's output by K = mean |x| over each output position's window; returns the frozen weights. */
function positionScale(g: Graph, names: Namer, n: Node, layer: Layer, x: string, shape: number[]): string[] {
  const abs: Node = { name: names.fresh(`${n.name}_abs`), op: 'Abs', inputs: [x], outputs: [names.fresh(`${x}_abs`)], attrs: {} };
  const wName = names.fresh(`${layer.name}.k_filter`);
  let kNode: Node;
  if (layer.kind === 'conv') {
    const w = g.initializers.get(layer.weight)!;
    const [, , ...k] = w.shape;
    const C = shape[1], size = C * k.reduce((a, b) => a * b, 1);
    g.initializers.set(wName, new Tensor('float32', [1, C, ...k], new Float32Array(size).fill(1 / size)));
    const { group: _g, ...attrs } = n.attrs;
    kNode = { name: names.fresh(`${n.name}_k`), op: 'Conv', inputs: [abs.outputs[0], wName], outputs: [names.fresh(`${n.name}_k`)], attrs };
  } else {
    const K = shape[shape.length - 1];
    g.initializers.set(wName, new Tensor('float32', [K, 1], new Float32Array(K).fill(1 / K)));
    kNode = { name: names.fresh(`${n.name}_k`), op: 'MatMul', inputs: [abs.outputs[0], wName], outputs: [names.fresh(`${n.name}_k`)], attrs: {} };
  }
  const y = n.outputs[0], raw = names.fresh(`${y}_unscaled`);
  n.outputs[0] = raw;
  const mul: Node = { name: names.fresh(`${n.name}_scale`), op: 'Mul', inputs: [raw, kNode.outputs[0]], outputs: [y], attrs: {} };
  const i = g.nodes.indexOf(n);
  g.nodes.splice(i + 1, 0, mul);
  g.nodes.splice(i, 0, abs, kNode);
  return [wName];
}
