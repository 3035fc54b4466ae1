// Runs one op both through the reference runtime and through onnxruntime-node
// (graph exported with exportOnnx, ort graph optimisations off), and compares.
import * as ort from 'onnxruntime-node';
import { Graph, type AttrValue, type ValueInfo } from '../../../src/ir/graph.js';
import { Tensor, type DType, type TensorData } from '../../../src/ir/tensor.js';
import { exportOnnx } from '../../../src/onnx/export.js';
import { runReference } from '../../../src/runtime/reference.js';
import { assertClose, assertExact } from './helpers.js';

export interface OrtCase {
  name: string;
  op: string;
  /** Inputs in order; undefined = optional input left out. */
  inputs: (Tensor | undefined)[];
  /** Indices of inputs stored as initializers (shapes, axes, weights) instead of fed. */
  consts?: number[];
  attrs?: Record<string, AttrValue>;
  outputs?: number;
  opset?: number;
  rtol?: number;
}

/** A one-node graph; output dtypes/shapes come from a reference run (dims left symbolic for export). */
export function singleNodeGraph(c: OrtCase): Graph {
  const consts = new Set(c.consts ?? []);
  const names = c.inputs.map((t, i) => (t ? `x${i}` : ''));
  const inputs: ValueInfo[] = [];
  const initializers = new Map<string, Tensor>();
  c.inputs.forEach((t, i) => {
    if (!t) return;
    if (consts.has(i)) initializers.set(names[i], t);
    else inputs.push({ name: names[i], dtype: t.dtype, shape: [...t.shape] });
  });
  const outNames = Array.from({ length: c.outputs ?? 1 }, (_, i) => `y${i}`);
  const node = { name: `${c.op}_0`, op: c.op, inputs: names, outputs: outNames, attrs: c.attrs ?? {} };
  const g = new Graph({ name: c.name.replace(/[^A-Za-z0-9_]/g, '_'), inputs, outputs: [], nodes: [node], initializers, opset: c.opset ?? 17 });
  const probe = runReference(g, feedsOf(g, c), { outputs: outNames });
  g.outputs = outNames.map((n) => ({ name: n, dtype: probe[n].dtype, shape: probe[n].shape.map((_, d) => `${n}_d${d}`) }));
  return g;
}

function feedsOf(g: Graph, c: OrtCase): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const v of g.inputs) feeds[v.name] = c.inputs[Number(v.name.slice(1))]!;
  return feeds;
}

export async function ortRun(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
  const input: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) input[k] = new ort.Tensor(t.dtype as ort.Tensor.Type, t.data as ort.Tensor.DataType, t.shape);
  const out = await session.run(input);
  await session.release();
  const result: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(out)) {
    const dtype = t.type as DType;
    const data = dtype === 'bool' ? Uint8Array.from(t.data as ArrayLike<number>, (v) => (v ? 1 : 0)) : (t.data as TensorData[DType]);
    result[k] = new Tensor(dtype, t.dims as number[], data);
  }
  return result;
}

/** Reference vs onnxruntime on one case: floats within rtol, everything else exact. */
export async function compareWithOrt(c: OrtCase): Promise<void> {
  const g = singleNodeGraph(c);
  const feeds = feedsOf(g, c);
  const ours = runReference(g, feeds);
  const theirs = await ortRun(exportOnnx(g), feeds);
  for (const v of g.outputs) {
    const [a, b] = [ours[v.name], theirs[v.name]];
    const label = `${c.name} (${c.op}) output ${v.name}`;
    if (a.dtype !== b.dtype) throw new Error(`${label}: dtype ${a.dtype} vs onnxruntime ${b.dtype}`);
    if (a.dtype === 'float32' || a.dtype === 'float64') assertClose(a, b, c.rtol ?? 1e-5, label);
    else assertExact(a, b.dtype, b.shape, Array.from(b.data as ArrayLike<number | bigint>), label);
  }
}
