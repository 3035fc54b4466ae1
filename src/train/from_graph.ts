// Builds a trainable Model from an IR graph (imported ONNX or a built-in
// architecture). Float initializers feeding weight slots (Conv W/B, Gemm B/C,
// MatMul, Add, BatchNorm scale/bias) become Params with the same names and
// layouts as in the graph (Gemm with transB=1 keeps PyTorch's [out, in]);
// BatchNorm mean/var become buffers; other initializers stay constants.
import type { Graph } from '../ir/graph.js';
import { fail } from '../ir/errors.js';
import { Param } from './autograd.js';
import { Model, type ModelOptions } from './model.js';
import { trainableOps, trainOp } from './ops/index.js';

function ioOf(graph: Graph): { input: string; output: string; sampleShape: number[] } {
  const inputs = graph.inputs.filter((v) => !graph.initializers.has(v.name));
  if (inputs.length !== 1) fail(`graph "${graph.name}": the trainer needs exactly one data input, found ${inputs.length} (${inputs.map((v) => v.name).join(', ')})`);
  const inp = inputs[0];
  if (inp.dtype !== 'float32') fail(`graph input "${inp.name}" is ${inp.dtype}; the trainer needs float32`);
  if (inp.shape.length < 2) fail(`graph input "${inp.name}" has shape [${inp.shape}]; expected a batch dim first, e.g. [N, 1, 28, 28]`);
  const rest = inp.shape.slice(1);
  if (rest.some((d) => typeof d !== 'number')) fail(`graph input "${inp.name}" has symbolic dims [${inp.shape}]; only the batch dim (first) may be symbolic`);
  if (graph.outputs.length === 0) fail(`graph "${graph.name}" has no outputs`);
  return { input: inp.name, output: graph.outputs[0].name, sampleShape: rest as number[] };
}

export function modelFromGraph(graph: Graph, opts: ModelOptions = {}): Model {
  const io = ioOf(graph);
  const params = new Map<string, Param>();
  const buffers = new Map<string, Float32Array>();
  for (const node of graph.nodes) {
    const entry = trainOp(node.op);
    if (!entry) fail(`node "${node.name}" (${node.op}): op ${node.op} cannot be trained; trainable ops: ${trainableOps().join(', ')}`);
    node.inputs.forEach((name, slot) => {
      const t = name ? graph.initializers.get(name) : undefined;
      if (!t) return;
      const isParam = entry.paramSlots.includes(slot);
      const isBuffer = entry.bufferSlots?.includes(slot) ?? false;
      if (!isParam && !isBuffer) return;
      if (t.dtype !== 'float32') {
        fail(`node "${node.name}" (${node.op}): initializer "${name}" is ${t.dtype}; the trainer needs float32 weights (dequantize the graph first)`);
      }
      const data = Float32Array.from(t.data as Float32Array);
      if (isParam && !params.has(name)) params.set(name, new Param(name, t.shape, data));
      if (isBuffer && !buffers.has(name)) buffers.set(name, data);
    });
  }
  for (const name of params.keys()) {
    if (buffers.has(name)) fail(`initializer "${name}" is used both as a weight and as BatchNorm running statistics; give them separate tensors`);
  }
  const model = new Model(graph, params, buffers, io, opts);
  model.tape(1, false); // builds once: shape errors surface here, naming the node
  return model;
}
