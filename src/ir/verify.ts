// Structural and type checks of a graph, run on import and between passes in tests:
// single definition of each value, topological order, known ops, declared attributes
// of the right kind, input/output counts, and shapes (via inferShapes).
import './ops/index.js';
import { fail } from './errors.js';
import type { AttrValue, Graph, Node } from './graph.js';
import { inferShapes } from './infer.js';
import { opSchema, type AttrKind, type OpSchema } from './ops.js';
import { nodeFail, shapeStr } from './util.js';
import { Tensor } from './tensor.js';

const isInt = (v: unknown): boolean => Number.isInteger(v);
const isNum = (v: unknown): boolean => typeof v === 'number' && !Number.isNaN(v);

const KIND_CHECK: Record<AttrKind, (v: AttrValue) => boolean> = {
  int: isInt,
  float: isNum,
  ints: (v) => Array.isArray(v) && v.every(isInt),
  floats: (v) => Array.isArray(v) && v.every(isNum),
  string: (v) => typeof v === 'string',
  strings: (v) => Array.isArray(v) && v.every((s) => typeof s === 'string'),
  tensor: (v) => v instanceof Tensor,
};

function checkAttrs(node: Node, schema: OpSchema): void {
  for (const [key, value] of Object.entries(node.attrs)) {
    const kind = schema.attrs[key];
    if (!kind) {
      const known = Object.keys(schema.attrs);
      nodeFail(node, `unknown attribute "${key}" (${node.op} has ${known.length ? known.join(', ') : 'no attributes'})`);
    }
    if (!KIND_CHECK[kind](value)) nodeFail(node, `attribute ${key} must be of kind ${kind}, got ${JSON.stringify(value)}`);
  }
}

function checkCounts(node: Node, schema: OpSchema): void {
  const [minIn, maxIn] = schema.inputs;
  const [minOut, maxOut] = schema.outputs;
  const range = (a: number, b: number): string => (a === b ? `${a}` : b === Infinity ? `at least ${a}` : `${a} to ${b}`);
  if (node.inputs.length < minIn || node.inputs.length > maxIn) {
    nodeFail(node, `has ${node.inputs.length} inputs, ${node.op} takes ${range(minIn, maxIn)}`);
  }
  if (node.outputs.length < minOut || node.outputs.length > maxOut) {
    nodeFail(node, `has ${node.outputs.length} outputs, ${node.op} yields ${range(minOut, maxOut)}`);
  }
  for (let i = 0; i < minIn; i++) if (!node.inputs[i]) nodeFail(node, `required input ${i} is empty`);
  if (!node.outputs[0]) nodeFail(node, 'the first output must be named');
}

/** Checks names: each value defined once, used only after its definition. */
function checkDataflow(graph: Graph): void {
  const definedBy = new Map<string, string>();
  const define = (name: string, by: string): void => {
    if (!name) fail(`graph "${graph.name}": ${by} defines a value with an empty name`);
    const prev = definedBy.get(name);
    if (prev) fail(`graph "${graph.name}": value "${name}" is defined twice (by ${prev} and by ${by})`);
    definedBy.set(name, by);
  };
  for (const v of graph.inputs) define(v.name, 'a graph input');
  for (const name of graph.initializers.keys()) define(name, 'an initializer');
  const nodeNames = new Set<string>();
  for (const node of graph.nodes) {
    if (!node.name) fail(`graph "${graph.name}": a ${node.op} node has no name`);
    if (nodeNames.has(node.name)) fail(`graph "${graph.name}": two nodes are named "${node.name}"`);
    nodeNames.add(node.name);
    for (const i of node.inputs) {
      if (i && !definedBy.has(i)) {
        const later = graph.nodes.some((n) => n.outputs.includes(i));
        nodeFail(node, later ? `input "${i}" is used before the node that produces it (nodes must be in topological order)` : `input "${i}" is not defined anywhere`);
      }
    }
    for (const o of node.outputs) if (o) define(o, `node "${node.name}"`);
  }
  for (const v of graph.outputs) {
    if (!definedBy.has(v.name)) fail(`graph "${graph.name}": output "${v.name}" is not produced by any node, input or initializer`);
  }
}

/** Declared graph outputs must agree with inference on dtype, rank and numeric dims. */
function checkOutputs(graph: Graph, types: Map<string, { dtype: string; shape: number[] }>): void {
  for (const v of graph.outputs) {
    const t = types.get(v.name)!;
    const rankOk = v.shape.length === t.shape.length;
    const dimsOk = rankOk && v.shape.every((d, i) => typeof d !== 'number' || d === t.shape[i]);
    if (t.dtype !== v.dtype || !dimsOk) {
      fail(`graph "${graph.name}": output "${v.name}" is declared ${v.dtype}[${v.shape.join(',')}] but computes ${t.dtype}${shapeStr(t.shape)}`);
    }
  }
}

/** Throws NnzipError naming the node (or the graph) at the first problem found. */
export function verify(graph: Graph): void {
  checkDataflow(graph);
  for (const node of graph.nodes) {
    const schema = opSchema(node.op);
    if (!schema) nodeFail(node, `unknown op ${node.op}`);
    checkCounts(node, schema);
    checkAttrs(node, schema);
  }
  checkOutputs(graph, inferShapes(graph));
}
