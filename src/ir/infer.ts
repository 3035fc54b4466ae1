// Shape inference over a whole graph: symbolic input dims are resolved from `dims`
// (every symbol defaults to 1), initializers carry their value, and each node's
// schema computes its outputs (folding small constants, so Reshape shapes built
// from Shape/Gather/Concat chains resolve).
//
// Values derived from symbolic dims (e.g. Shape of the input) hold the numbers
// for the given `dims`; a pass that folds them must not assume they hold for others.
import './ops/index.js';
import { fail } from './errors.js';
import type { AttrValue, Graph, Node, ValueInfo } from './graph.js';
import { opSchema, type AttrKind, type OpSchema, type ValueType } from './ops.js';
import { nodeFail } from './util.js';
import { isFloat, Tensor } from './tensor.js';

/** Concrete shape of a graph input: numbers kept, symbols looked up in `dims` (default 1). */
export function resolveShape(v: ValueInfo, dims: Record<string, number> = {}): number[] {
  return v.shape.map((d) => {
    if (typeof d === 'number') return d;
    const n = dims[d] ?? 1;
    if (!Number.isInteger(n) || n < 0) fail(`dims: ${d}=${n} must be a non-negative integer`);
    return n;
  });
}

/** Types of the graph inputs and initializers (the values that exist before any node runs). */
export function sourceTypes(graph: Graph, dims: Record<string, number> = {}): Map<string, ValueType> {
  const types = new Map<string, ValueType>();
  for (const v of graph.inputs) types.set(v.name, { dtype: v.dtype, shape: resolveShape(v, dims) });
  for (const [name, t] of graph.initializers) types.set(name, { dtype: t.dtype, shape: [...t.shape], value: t });
  return types;
}

/** Input and output counts against the schema (before inference reads the inputs). */
function checkArity(node: Node, schema: OpSchema): void {
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

const isInt = (v: unknown): boolean => Number.isInteger(v);
const isNum = (v: unknown): boolean => typeof v === 'number' && !Number.isNaN(v);

const KIND_CHECK: Record<AttrKind, (v: AttrValue) => boolean> = {
  int: isInt,
  bool: (v) => v === 0 || v === 1,
  float: isNum,
  ints: (v) => Array.isArray(v) && v.every(isInt),
  floats: (v) => Array.isArray(v) && v.every(isNum),
  string: (v) => typeof v === 'string',
  strings: (v) => Array.isArray(v) && v.every((s) => typeof s === 'string'),
  tensor: (v) => v instanceof Tensor,
};

/** Attributes the op declares, each of its declared kind. */
function checkAttrs(node: Node, schema: OpSchema): void {
  for (const [key, value] of Object.entries(node.attrs)) {
    // own keys only: an attribute named "constructor" must not find Object.prototype's
    const kind = Object.hasOwn(schema.attrs, key) ? schema.attrs[key] : undefined;
    if (!kind) {
      const known = Object.keys(schema.attrs);
      nodeFail(node, `unknown attribute "${key}" (${node.op} has ${known.length ? known.join(', ') : 'no attributes'})`);
    }
    if (!KIND_CHECK[kind](value)) {
      nodeFail(node, `attribute ${key} must be ${kind === 'bool' ? '0 or 1' : `of kind ${kind}`}, got ${JSON.stringify(value)}`);
    }
  }
}

/** The schema's type constraints: float inputs, and inputs that must share one dtype. */
function checkTypes(node: Node, schema: OpSchema, ins: (ValueType | undefined)[]): void {
  for (const i of schema.types?.float ?? []) {
    const t = ins[i];
    if (t && !isFloat(t.dtype)) nodeFail(node, `input ${i} ("${node.inputs[i]}") is ${t.dtype}; ${node.op} takes float32 or float64`);
  }
  const same = (schema.types?.same ?? []).filter((i) => ins[i]);
  for (const i of same.slice(1)) {
    const [a, b] = [ins[same[0]]!, ins[i]!];
    if (a.dtype !== b.dtype) nodeFail(node, `input ${i} ("${node.inputs[i]}") is ${b.dtype} but input ${same[0]} is ${a.dtype}; they must have one type (insert a Cast)`);
  }
}

/** Output types of one node from the types known so far (throws NnzipError naming the node). */
export function inferNode(node: Node, types: ReadonlyMap<string, ValueType>): ValueType[] {
  const schema = opSchema(node.op);
  if (!schema) nodeFail(node, `unknown op ${node.op}`);
  const ins = node.inputs.map((name) => {
    if (!name) return undefined;
    const t = types.get(name);
    if (!t) nodeFail(node, `input "${name}" is not produced by an earlier node, an initializer or a graph input`);
    return t;
  });
  checkArity(node, schema);
  checkAttrs(node, schema);
  checkTypes(node, schema, ins);
  const outs = schema.infer(node, ins);
  if (outs.length < node.outputs.length) {
    nodeFail(node, `has ${node.outputs.length} outputs, but the op yields ${outs.length}`);
  }
  return outs;
}

/** The type of every value in the graph (inputs, initializers, node outputs). */
export function inferShapes(graph: Graph, dims: Record<string, number> = {}): Map<string, ValueType> {
  const types = sourceTypes(graph, dims);
  for (const node of graph.nodes) {
    const outs = inferNode(node, types);
    node.outputs.forEach((name, i) => {
      if (name) types.set(name, outs[i]);
    });
  }
  return types;
}
