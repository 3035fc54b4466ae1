// Concrete types of every value for one set of input shapes. Ops with a schema use
// its shape inference; ops with only a reference kernel (ReduceSum, ...) are probed
// by running the kernel once on zeros. A node whose inputs are all constant is
// evaluated here, whatever its size (weights behind a DequantizeLinear become
// plain float weights the fast kernels can take).
import { fail } from '../ir/errors.js';
import type { Graph, Node } from '../ir/graph.js';
import { inferNode } from '../ir/infer.js';
import { opSchema, type ValueType } from '../ir/ops.js';
import { Tensor } from '../ir/tensor.js';
import { getRefKernel } from '../ir/ref/index.js';
import { nodeFail } from '../ir/util.js';

/** Types of the graph inputs (fed, or their initializer default) and initializers. */
function sourceTypes(graph: Graph, inputShapes: Record<string, number[]>): Map<string, ValueType> {
  const types = new Map<string, ValueType>();
  for (const [name, t] of graph.initializers) types.set(name, { dtype: t.dtype, shape: [...t.shape], value: t });
  for (const v of graph.inputs) {
    const shape = inputShapes[v.name];
    if (shape) types.set(v.name, { dtype: v.dtype, shape: [...shape] });
    else if (!graph.initializers.has(v.name)) fail(`input "${v.name}": no shape given to plan for`);
  }
  return types;
}

function inputsOf(node: Node, types: ReadonlyMap<string, ValueType>): (ValueType | undefined)[] {
  return node.inputs.map((name) => {
    if (!name) return undefined;
    const t = types.get(name);
    if (!t) nodeFail(node, `input "${name}" is not produced by an earlier node, an initializer or a graph input`);
    return t;
  });
}

function runKernel(node: Node, inputs: (Tensor | undefined)[]): ValueType[] {
  const kernel = getRefKernel(node.op);
  if (!kernel) nodeFail(node, `op ${node.op} has neither a schema nor a reference kernel`);
  return kernel(node, inputs).map((t) => ({ dtype: t.dtype, shape: [...t.shape], value: t }));
}

/** Output types of one node; `value` is set when the output is known at plan time. */
export function nodeTypes(node: Node, types: ReadonlyMap<string, ValueType>): ValueType[] {
  const ins = inputsOf(node, types);
  const allConst = ins.every((t) => t === undefined || t.value !== undefined);
  if (allConst && getRefKernel(node.op)) return runKernel(node, ins.map((t) => t?.value));
  if (opSchema(node.op)) return inferNode(node, types);
  // No schema: run the kernel on zeros of the right types, keep only the types.
  const probe = ins.map((t) => t && (t.value ?? new Tensor(t.dtype, t.shape)));
  return runKernel(node, probe).map((t) => ({ dtype: t.dtype, shape: t.shape }));
}

/** The type of every value (inputs, initializers, node outputs) for the given input shapes. */
export function bindShapes(graph: Graph, inputShapes: Record<string, number[]>): Map<string, ValueType> {
  const types = sourceTypes(graph, inputShapes);
  for (const node of graph.nodes) {
    const outs = nodeTypes(node, types);
    node.outputs.forEach((name, i) => {
      if (!name) return;
      if (!outs[i]) nodeFail(node, `has ${node.outputs.length} outputs, but the op yields ${outs.length}`);
      types.set(name, outs[i]);
    });
  }
  return types;
}
