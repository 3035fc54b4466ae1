// The graph's structure (no weights) as plain JSON: what the .nnz graph section holds.
// Initializers are stored separately, tensor by tensor, by the container. Reading
// checks every field's type and range before building anything (the JSON comes from
// a file), so a malformed section is one error line, never a TypeError.
import { fail } from './errors.js';
import { Graph, type AttrValue, type Dim, type Node, type ValueInfo } from './graph.js';
import { MAX_OPSET, MIN_OPSET } from './ops.js';
import { DTYPE_BYTES, Tensor, toNumbers, fromNumbers, sizeOf, type DType } from './tensor.js';

interface TensorJson {
  dtype: DType;
  shape: number[];
  data: number[];
}

type AttrJson = number | string | number[] | string[] | { tensor: TensorJson };

export interface GraphJson {
  name: string;
  opset: number;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** [name, op, inputs, outputs, attrs] per node: compact, in order. */
  nodes: [string, string, string[], string[], Record<string, AttrJson>][];
  /** Initializer names in order (their tensors come from elsewhere). */
  initializers: string[];
}

/** The largest dimension or element count a stored graph may declare (as the tensor sections, docs/format.md). */
const MAX_DIM = 2 ** 31 - 1;

function attrToJson(v: AttrValue): AttrJson {
  return v instanceof Tensor ? { tensor: { dtype: v.dtype, shape: v.shape, data: toNumbers(v) } } : v;
}

export function graphToJson(g: Graph): GraphJson {
  return {
    name: g.name,
    opset: g.opset,
    inputs: g.inputs,
    outputs: g.outputs,
    nodes: g.nodes.map((n) => [n.name, n.op, n.inputs, n.outputs, Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, attrToJson(v)]))]),
    initializers: [...g.initializers.keys()],
  };
}

/** Field checks of one graph section; `bad` names the field and gives up. */
class Reader {
  constructor(private readonly source: string) {}

  bad(what: string): never {
    fail(`${this.source}: the graph section is malformed (${what}); the file is corrupt`);
  }

  object(v: unknown, what: string): Record<string, unknown> {
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : this.bad(`${what} is not an object`);
  }

  array(v: unknown, what: string, length?: number): unknown[] {
    if (!Array.isArray(v) || (length !== undefined && v.length !== length)) this.bad(`${what} is not ${length === undefined ? 'a list' : `a list of ${length}`}`);
    return v;
  }

  string(v: unknown, what: string, nonEmpty = false): string {
    return typeof v === 'string' && (!nonEmpty || v !== '') ? v : this.bad(`${what} is not a ${nonEmpty ? 'non-empty ' : ''}string`);
  }

  strings(v: unknown, what: string): string[] {
    return this.array(v, what).map((s, i) => this.string(s, `${what}[${i}]`));
  }

  dtype(v: unknown, what: string): DType {
    return typeof v === 'string' && Object.hasOwn(DTYPE_BYTES, v) ? (v as DType) : this.bad(`${what} ${JSON.stringify(v)} is not a data type`);
  }

  dim(v: unknown, what: string): number {
    return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_DIM ? (v as number) : this.bad(`${what} ${JSON.stringify(v)} is not a dimension`);
  }

  valueInfo(v: unknown, what: string): ValueInfo {
    const o = this.object(v, what);
    const shape: Dim[] = this.array(o.shape, `${what}.shape`).map((d, i) => (typeof d === 'string' && d !== '' ? d : this.dim(d, `${what}.shape[${i}]`)));
    return { name: this.string(o.name, `${what}.name`, true), dtype: this.dtype(o.dtype, `${what}.dtype`), shape };
  }

  tensor(v: unknown, what: string): Tensor {
    const o = this.object(v, what);
    const shape = this.array(o.shape, `${what}.shape`).map((d, i) => this.dim(d, `${what}.shape[${i}]`));
    const data = this.array(o.data, `${what}.data`);
    // the data is in the file, so its length bounds the allocation
    if (data.length !== sizeOf(shape)) this.bad(`${what} has ${data.length} values for shape [${shape.join(',')}]`);
    if (!data.every((x) => typeof x === 'number' && Number.isFinite(x))) this.bad(`${what}.data holds a value that is not a finite number`);
    return fromNumbers(this.dtype(o.dtype, `${what}.dtype`), shape, data as number[]);
  }

  attr(v: unknown, what: string): AttrValue {
    if (typeof v === 'number') return Number.isFinite(v) ? v : this.bad(`${what} is not a finite number`);
    if (typeof v === 'string') return v;
    if (Array.isArray(v)) {
      if (v.every((x) => typeof x === 'number' && Number.isFinite(x))) return v as number[];
      if (v.every((x) => typeof x === 'string')) return v as string[];
      return this.bad(`${what} mixes kinds of values`);
    }
    const o = this.object(v, what);
    if (Object.keys(o).length !== 1 || !('tensor' in o)) this.bad(`${what} is neither a number, a string, a list nor a tensor`);
    return this.tensor(o.tensor, `${what}.tensor`);
  }

  node(v: unknown, what: string): Node {
    const [name, op, inputs, outputs, attrs] = this.array(v, what, 5);
    const node = { name: this.string(name, `${what} name`, true), op: this.string(op, `${what} op`, true) };
    const at = `node "${node.name}"`;
    const a = this.object(attrs, `${at} attributes`);
    return {
      ...node,
      inputs: this.strings(inputs, `${at} inputs`),
      outputs: this.strings(outputs, `${at} outputs`),
      attrs: Object.fromEntries(Object.entries(a).map(([k, x]) => [k, this.attr(x, `${at} attribute ${k}`)])),
    };
  }
}

/** Rebuilds the graph from a parsed graph section; `tensor(name)` supplies each initializer. */
export function graphFromJson(j: unknown, tensor: (name: string) => Tensor, source: string): Graph {
  const r = new Reader(source);
  const o = r.object(j, 'the graph');
  const opset = o.opset;
  if (!Number.isInteger(opset) || (opset as number) < MIN_OPSET || (opset as number) > MAX_OPSET) {
    r.bad(`opset ${JSON.stringify(opset)} is not one of ${MIN_OPSET}–${MAX_OPSET}`);
  }
  const inputs = r.array(o.inputs, 'inputs').map((v, i) => r.valueInfo(v, `inputs[${i}]`));
  const outputs = r.array(o.outputs, 'outputs').map((v, i) => r.valueInfo(v, `outputs[${i}]`));
  if (outputs.length === 0) r.bad('the graph has no outputs');
  const nodes = r.array(o.nodes, 'nodes').map((v, i) => r.node(v, `nodes[${i}]`));
  const names = r.strings(o.initializers, 'initializers');
  const initializers = new Map<string, Tensor>();
  for (const name of names) {
    if (initializers.has(name)) r.bad(`initializer "${name}" is listed twice`);
    initializers.set(name, tensor(name));
  }
  return new Graph({ name: r.string(o.name, 'name'), inputs, outputs, nodes, initializers, opset: opset as number });
}
