// Graph → ONNX ModelProto bytes at the graph's opset: nodes go through the op table's
// exporters (IR forms back to that opset's forms), attribute types come from the op
// schemas, initializers are written as raw_data, graph inputs/outputs keep symbolic dims.
import { channelLevels, levelsNote } from '../ir/binary.js';
import { fail } from '../ir/errors.js';
import type { AttrValue, Graph, Node, ValueInfo } from '../ir/graph.js';
import { inferShapes } from '../ir/infer.js';
import { MAX_OPSET, MIN_OPSET, opSchema, type AttrKind, type ValueType } from '../ir/ops.js';
import { DTYPE_CODE } from '../ir/ops/index.js';
import { nodeFail } from '../ir/util.js';
import { Tensor } from '../ir/tensor.js';
import { dropNewAttrs, onnxOp, type OpCtx } from './op_table.js';
import { ONNX_ATTR, encodeModel, type AttributeMsg, type NodeMsg, type ValueInfoMsg } from './onnx_proto.js';
import { tensorToProto } from './tensor_proto.js';
import { weightsAsQdq } from './qdq_weights.js';

export interface ExportOptions {
  /** producer_name written into the model (default "nnzip"). */
  producer?: string;
  /** Write weights on 8-bit grids as float values instead of integers behind DequantizeLinear (qdq_weights.ts). */
  floatWeights?: boolean;
}

const utf8 = new TextEncoder();

// AttrValue → AttributeProto fields, by the attribute's kind in the op schema.
const ATTR_WRITERS: Record<AttrKind, (v: AttrValue) => Omit<AttributeMsg, 'name'>> = {
  int: (v) => ({ type: ONNX_ATTR.INT, i: v as number }),
  bool: (v) => ({ type: ONNX_ATTR.INT, i: v as number }),
  float: (v) => ({ type: ONNX_ATTR.FLOAT, f: v as number }),
  ints: (v) => ({ type: ONNX_ATTR.INTS, ints: v as number[] }),
  floats: (v) => ({ type: ONNX_ATTR.FLOATS, floats: v as number[] }),
  string: (v) => ({ type: ONNX_ATTR.STRING, s: utf8.encode(v as string) }),
  strings: (v) => ({ type: ONNX_ATTR.STRINGS, strings: (v as string[]).map((s) => utf8.encode(s)) }),
  tensor: (v) => ({ type: ONNX_ATTR.TENSOR, t: tensorToProto('', v as Tensor) }),
};

/** The IR version that goes with an opset (what onnx's exporter writes for it). */
function irVersionFor(opset: number): number {
  return opset >= 15 ? 8 : opset >= 12 ? 7 : 6;
}

function valueInfoMsg(v: ValueInfo): ValueInfoMsg {
  const dim = v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name: v.name, type: { tensor_type: { elem_type: DTYPE_CODE[v.dtype], shape: { dim } } } };
}

/** Translator context over the graph being written; shapes are inferred only when asked. */
class Writer implements OpCtx {
  readonly added = new Map<string, Tensor>();
  private readonly names = new Set<string>();
  private types?: Map<string, ValueType>;

  constructor(private readonly graph: Graph) {
    for (const v of graph.inputs) this.names.add(v.name);
    for (const k of graph.initializers.keys()) this.names.add(k);
    for (const n of graph.nodes) [n.name, ...n.inputs, ...n.outputs].forEach((x) => this.names.add(x));
  }

  get opset(): number {
    return this.graph.opset;
  }

  type(name: string): ValueType | undefined {
    this.types ??= inferShapes(this.graph);
    return this.types.get(name);
  }

  value(name: string): Tensor | undefined {
    return this.graph.initializers.get(name) ?? this.added.get(name) ?? this.type(name)?.value;
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  constant(base: string, t: Tensor): string {
    const name = this.fresh(base);
    this.added.set(name, t);
    return name;
  }
}

function nodeMsg(node: Node, extraKinds: Record<string, AttrKind>): NodeMsg {
  const kinds = opSchema(node.op)?.attrs ?? {};
  const attribute: AttributeMsg[] = Object.entries(node.attrs).map(([name, v]) => {
    const kind = kinds[name] ?? extraKinds[name];
    if (!kind) nodeFail(node, `attribute "${name}" is not an attribute of ${node.op}; cannot write it`);
    return { name, ...ATTR_WRITERS[kind](v) };
  });
  return { name: node.name, op_type: node.op, domain: '', input: node.inputs, output: node.outputs, attribute };
}

/** A binary / ternary weight is exported as its float values; the tensor's doc_string says they are ±α (and 0). */
function signsNote(graph: Graph, name: string): string | undefined {
  const f = graph.formats.get(name), t = graph.initializers.get(name);
  if (!t || (f?.kind !== 'binary' && f?.kind !== 'ternary')) return undefined;
  const l = channelLevels(t.data as Float32Array, t.shape, f.axis, f.kind);
  return typeof l === 'string' ? undefined : levelsNote(l, f.axis);
}

/** Writes the graph as an ONNX model (opset = graph.opset). */
export function exportOnnx(model: Graph, opts: ExportOptions = {}): Uint8Array {
  const graph = opts.floatWeights ? model : weightsAsQdq(model);
  const opset = graph.opset;
  if (opset < MIN_OPSET || opset > MAX_OPSET) fail(`graph "${graph.name}": cannot export opset ${opset} (nnzip writes opsets ${MIN_OPSET}–${MAX_OPSET})`);
  const w = new Writer(graph);
  const nodes: NodeMsg[] = [];
  for (const node of graph.nodes) {
    const row = onnxOp(node.op, opset);
    if (!row) nodeFail(node, `op ${node.op} cannot be exported to ONNX opset ${opset}`);
    const plain = dropNewAttrs(node, row, opset);
    for (const n of row.exporter ? row.exporter(plain, w) : [plain]) nodes.push(nodeMsg(n, row.onnxAttrs ?? {}));
  }
  const initializer = [...graph.initializers, ...w.added].map(([name, t]) => ({ ...tensorToProto(name, t), doc_string: signsNote(graph, name) }));
  return encodeModel({
    ir_version: irVersionFor(opset),
    opset_import: [{ domain: '', version: opset }],
    producer_name: opts.producer ?? 'nnzip',
    graph: {
      name: graph.name,
      node: nodes,
      initializer,
      input: graph.inputs.map(valueInfoMsg),
      output: graph.outputs.map(valueInfoMsg),
    },
  });
}
