// nnzip IR Graph → a TF.js function (there is no ONNX importer for TF.js). Weights
// become tf tensors once, here; each run is one tf.tidy over the prepared steps.
// What a TF.js user would write by hand: NHWC activations, fused bias + ReLU in
// Conv/Gemm (tf.fused.*), the input transposed NCHW → NHWC inside the timed call.
import * as tf from '@tensorflow/tfjs';
import { NnzipError } from '../../../src/ir/errors.js';
import type { Graph, Node } from '../../../src/ir/graph.js';
import { Tensor, f32, i64 } from '../../../src/ir/tensor.js';
import type { Feeds } from '../peer.js';
import type { ConvertContext, FusedActivation, Step } from './converter.js';
import { nchwToNhwc, nhwcToNchw, type Layout } from './layout.js';
import { TF_OPS } from './ops.js';

export interface TfModel {
  run(feeds: Feeds): Feeds;
  dispose(): void;
}

interface Planned {
  inputs: string[];
  outputs: string[];
  step: Step;
}

/** Ops whose output activation tf.fused.* can absorb. */
const FUSES = new Set(['Conv', 'Gemm', 'MatMul']);

function constantOfNode(node: Node): Tensor | undefined {
  const a = node.attrs;
  if (a.value instanceof Tensor) return a.value;
  if (typeof a.value_float === 'number') return f32([], [a.value_float]);
  if (Array.isArray(a.value_floats)) return f32([a.value_floats.length], a.value_floats as number[]);
  if (typeof a.value_int === 'number') return i64([], [a.value_int]);
  if (Array.isArray(a.value_ints)) return i64([a.value_ints.length], a.value_ints as number[]);
  return undefined;
}

/** The activation a lone Relu / Clip(0, 6) consumer adds to `node`'s output, if any. */
function fusedConsumer(node: Node, consumers: Map<string, Node[]>, outputs: Set<string>, constants: Map<string, Tensor>): [FusedActivation, Node] | undefined {
  if (!FUSES.has(node.op) || outputs.has(node.outputs[0])) return undefined;
  const next = consumers.get(node.outputs[0]);
  if (next?.length !== 1) return undefined;
  const c = next[0];
  if (c.op === 'Relu') return ['relu', c];
  if (c.op !== 'Clip') return undefined;
  const bound = (i: number, key: string) => {
    const t = c.inputs[i] ? constants.get(c.inputs[i]) : undefined;
    return t ? Number(t.data[0]) : (c.attrs[key] as number | undefined);
  };
  return bound(1, 'min') === 0 && bound(2, 'max') === 6 ? ['relu6', c] : undefined;
}

function contextFor(node: Node, graph: Graph, constants: Map<string, Tensor>, layouts: Map<string, Layout>, kept: tf.Tensor[], activation: FusedActivation): ConvertContext {
  const where = `tfjs-wasm peer: node "${node.name}" (${node.op})`;
  const fail = (message: string): never => {
    throw new NnzipError(`${where}: ${message}`);
  };
  return {
    node,
    opset: graph.opset,
    activation,
    constant: (i) => (node.inputs[i] ? constants.get(node.inputs[i]) : undefined),
    needConstant(i, what) {
      const t = node.inputs[i] ? constants.get(node.inputs[i]) : undefined;
      return t ?? fail(`${what} (input ${i}${node.inputs[i] ? ` "${node.inputs[i]}"` : ''}) must be a constant (an initializer); the TF.js converter cannot take it at run time`);
    },
    layout: (i) => layouts.get(node.inputs[i]) ?? 'plain',
    keep<T extends tf.Tensor>(t: T): T {
      kept.push(t);
      return t;
    },
    fail,
  };
}

/** Converts the graph; throws NnzipError naming the node for anything TF.js cannot run. */
export function convertToTf(graph: Graph): TfModel {
  const constants = new Map<string, Tensor>();
  for (const [name, t] of graph.initializers) constants.set(name, t);
  for (const input of graph.inputs) constants.delete(input.name); // an input overrides its default
  const layouts = new Map<string, Layout>();
  for (const input of graph.inputs) {
    if (input.dtype !== 'float32') throw new NnzipError(`tfjs-wasm peer: input "${input.name}" is ${input.dtype}; the TF.js peer feeds float32 only`);
    layouts.set(input.name, input.shape.length === 4 ? 'nhwc' : 'plain');
  }
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const consumers = graph.consumers();
  const kept: tf.Tensor[] = [];
  const plan: Planned[] = [];
  const absorbed = new Set<Node>();
  try {
    for (const node of graph.nodes) {
      if (absorbed.has(node)) continue;
      if (node.op === 'Constant') {
        const value = constantOfNode(node);
        if (!value) throw new NnzipError(`tfjs-wasm peer: node "${node.name}" (Constant): it has no value the converter reads (value, value_float(s), value_int(s))`);
        constants.set(node.outputs[0], value);
        continue;
      }
      const convert = TF_OPS[node.op];
      if (!convert) {
        throw new NnzipError(`tfjs-wasm peer: node "${node.name}" (${node.op}): op not supported by the TF.js converter; benchmark this model without the tfjs-wasm peer`);
      }
      const fused = fusedConsumer(node, consumers, outputs, constants);
      if (fused) absorbed.add(fused[1]);
      const step = convert(contextFor(node, graph, constants, layouts, kept, fused ? fused[0] : 'linear'));
      const outs = fused ? fused[1].outputs.slice(0, 1) : node.outputs;
      outs.forEach((o, i) => layouts.set(o, step.layouts[i] ?? 'plain'));
      plan.push({ inputs: node.inputs, outputs: outs, step });
    }
  } catch (e) {
    for (const t of kept) t.dispose();
    throw e;
  }
  return makeModel(graph, plan, layouts, kept);
}

function enter(graph: Graph, feeds: Feeds): Map<string, tf.Tensor> {
  const env = new Map<string, tf.Tensor>();
  for (const input of graph.inputs) {
    const t = feeds[input.name];
    if (!t) throw new NnzipError(`tfjs-wasm peer: no feed for input "${input.name}"`);
    if (t.dtype !== 'float32' || t.shape.length !== input.shape.length) {
      throw new NnzipError(`tfjs-wasm peer: input "${input.name}" wants float32 of rank ${input.shape.length}, got ${t.dtype} [${t.shape.join(',')}]`);
    }
    const x = tf.tensor(t.data as Float32Array, t.shape, 'float32');
    env.set(input.name, t.shape.length === 4 ? nchwToNhwc(x) : x);
  }
  return env;
}

function makeModel(graph: Graph, plan: Planned[], layouts: Map<string, Layout>, kept: tf.Tensor[]): TfModel {
  return {
    run(feeds) {
      const results = tf.tidy(() => {
        const env = enter(graph, feeds);
        for (const p of plan) {
          const ys = p.step.run(p.inputs.map((n) => (n ? env.get(n) : undefined)));
          p.outputs.forEach((o, i) => env.set(o, ys[i]));
        }
        return graph.outputs.map((o) => {
          const y = env.get(o.name);
          if (!y) throw new NnzipError(`tfjs-wasm peer: graph output "${o.name}" is not computed by any node`, 1);
          return layouts.get(o.name) === 'nhwc' ? nhwcToNchw(y) : y;
        });
      });
      const out: Feeds = {};
      graph.outputs.forEach((o, i) => {
        out[o.name] = f32(results[i].shape, results[i].dataSync() as Float32Array);
        results[i].dispose();
      });
      return out;
    },
    dispose() {
      for (const t of kept) t.dispose();
      kept.length = 0;
    },
  };
}
