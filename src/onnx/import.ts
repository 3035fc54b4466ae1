// ONNX ModelProto bytes → Graph (browser-safe: external data comes through a reader).
// Steps: decode with protobufjs, check the opset, read initializers, translate nodes
// through the op table (inferring shapes as we go, since some importers need ranks),
// verify, then simplify (constant folding, BN folding, Identity/Dropout removal).
import { NnzipError, fail } from '../ir/errors.js';
import type { AttrValue, Dim, Graph as GraphT, Node, ValueInfo } from '../ir/graph.js';
import { Graph } from '../ir/graph.js';
import { inferNode, sourceTypes } from '../ir/infer.js';
import { constantValue, dtypeOfCode } from '../ir/ops/index.js';
import { nodeFail } from '../ir/util.js';
import { simplify } from '../ir/passes/simplify.js';
import type { Tensor } from '../ir/tensor.js';
import { verify } from '../ir/verify.js';
import { MAX_OPSET, MIN_OPSET, type ValueType } from '../ir/ops.js';
import { onnxOp, supportedOnnxOps, type OpCtx } from './op_table.js';
import { ONNX_ATTR, decodeModel, int64, type AttributeMsg, type GraphMsg, type ModelMsg, type NodeMsg, type ValueInfoMsg } from './onnx_proto.js';
import { sparseFromProto, tensorFromProto, type ExternalReader } from './tensor_proto.js';

export interface ImportOptions {
  /** Names the model in error messages (default "model.onnx"). */
  source?: string;
  /** Bytes of an external-data file by its location relative to the model; undefined = missing. */
  readExternal?: ExternalReader;
}

const utf8 = new TextDecoder();
// protobufjs leaves an absent bytes field as an empty array, not a Uint8Array
const text = (b: unknown): string => (b instanceof Uint8Array ? utf8.decode(b) : '');

const QUANTIZED_OPS = ['QuantizeLinear', 'DequantizeLinear', 'QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger'];

function decode(bytes: Uint8Array): ModelMsg {
  let model: ModelMsg;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    fail(`not a valid ONNX model: protobuf decoding failed (${(e as Error).message}); the file may be truncated or not ONNX`);
  }
  if (!model.graph || (!model.graph.node?.length && !model.graph.output?.length)) {
    fail('not an ONNX model: it holds no graph (is this the right file?)');
  }
  return model;
}

/** The default-domain opset, checked against the supported range. */
function opsetOf(model: ModelMsg): number {
  const entry = (model.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!entry) fail('the model imports no default-domain opset; re-export with opset_version=17');
  const opset = int64(entry.version);
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    fail(`opset ${opset} is not supported (nnzip reads opsets ${MIN_OPSET}–${MAX_OPSET}); re-export with opset_version=17`);
  }
  return opset;
}

// AttributeProto → IR attribute value, by the proto's declared type.
const ATTR_READERS: Record<number, (a: AttributeMsg, where: string) => AttrValue> = {
  [ONNX_ATTR.FLOAT]: (a) => a.f ?? 0,
  [ONNX_ATTR.INT]: (a) => int64(a.i),
  [ONNX_ATTR.STRING]: (a) => text(a.s),
  [ONNX_ATTR.FLOATS]: (a) => [...(a.floats ?? [])],
  [ONNX_ATTR.INTS]: (a) => (a.ints ?? []).map((v) => int64(v)),
  [ONNX_ATTR.STRINGS]: (a) => (a.strings ?? []).map(text),
  [ONNX_ATTR.TENSOR]: (a, where) => tensorFromProto(a.t ?? {}, where),
};

function attrsOf(msg: NodeMsg, node: Node): Record<string, AttrValue> {
  const attrs: Record<string, AttrValue> = {};
  for (const a of msg.attribute ?? []) {
    const name = a.name ?? '';
    const read = ATTR_READERS[a.type ?? 0];
    if (!read) nodeFail(node, `attribute ${name} has type ${a.type ?? 'UNDEFINED'} (graphs and sparse tensors are not supported)`);
    // defined, not assigned: an attribute named "__proto__" stays an attribute (and is refused as unknown)
    Object.defineProperty(attrs, name, { value: read(a, `attribute ${name} of node "${node.name}"`), enumerable: true, writable: true, configurable: true });
  }
  return attrs;
}

function valueInfo(msg: ValueInfoMsg, what: string): ValueInfo {
  const name = msg.name ?? '';
  const tt = msg.type?.tensor_type;
  if (!tt) fail(`${what} "${name}" is not a tensor (sequences, maps and optionals are not supported)`);
  const dtype = dtypeOfCode(tt.elem_type ?? 0);
  if (!dtype) fail(`${what} "${name}" has element type ${tt.elem_type ?? 0}, which nnzip does not support`);
  // a dim with neither value nor name is unknown (some exporters write -1 for it): a symbol of its own
  const shape: Dim[] = (tt.shape?.dim ?? []).map((d, i) => {
    if (d.dim_param) return d.dim_param;
    const v = d.dim_value !== undefined && d.dim_value !== null ? int64(d.dim_value) : -1;
    if (v < -1 || v > 2 ** 31 - 1) fail(`${what} "${name}": dimension ${i} is ${v}; give a size ≥ 0, or a dim_param for an unknown one`);
    return v >= 0 ? v : `${name}_d${i}`;
  });
  return { name, dtype, shape };
}

/** Collects nodes and initializers while translating, keeping inferred types up to date. */
class Builder implements OpCtx {
  readonly nodes: Node[] = [];
  readonly types: Map<string, ValueType>;
  // every name in use (values and node names), and the node names taken so far
  private readonly names = new Set<string>();
  private readonly nodeNames = new Set<string>();

  constructor(readonly opset: number, readonly initializers: Map<string, Tensor>, readonly inputs: ValueInfo[]) {
    this.types = sourceTypes(new Graph({ inputs, outputs: [], nodes: [], initializers }));
    for (const n of this.types.keys()) this.names.add(n);
  }

  reserve(names: Iterable<string>): void {
    for (const n of names) if (n) this.names.add(n);
  }

  type(name: string): ValueType | undefined {
    return this.types.get(name);
  }

  value(name: string): Tensor | undefined {
    return this.initializers.get(name) ?? this.types.get(name)?.value;
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  constant(base: string, t: Tensor): string {
    const name = this.fresh(base);
    this.setConstant(name, t);
    return name;
  }

  setConstant(name: string, t: Tensor): void {
    this.initializers.set(name, t);
    this.types.set(name, { dtype: t.dtype, shape: [...t.shape], value: t });
  }

  /** The ONNX node's own name when free, else a fresh one. */
  nodeName(given: string, fallback: string): string {
    const name = given && !this.nodeNames.has(given) ? given : this.fresh(given || fallback);
    this.nodeNames.add(name);
    return name;
  }

  add(node: Node): void {
    const outs = inferNode(node, this.types);
    node.outputs.forEach((o, i) => o && this.types.set(o, outs[i]));
    this.nodes.push(node);
  }
}

function translateNode(msg: NodeMsg, index: number, b: Builder): void {
  const op = msg.op_type ?? '';
  const name = b.nodeName(msg.name ?? '', `${op}_${index}`);
  const inputs = [...(msg.input ?? [])];
  while (inputs.length && !inputs[inputs.length - 1]) inputs.pop(); // trailing '' = optional inputs left out
  const outputs = [...(msg.output ?? [])];
  while (outputs.length > 1 && !outputs[outputs.length - 1]) outputs.pop();
  const node: Node = { name, op, inputs, outputs, attrs: {} };
  const quantized = /^(QLinear|QGemm|QAttention|DynamicQuantize|QuantizeLinear|DequantizeLinear)|Integer$/.test(op);
  const runs = quantized ? `; the quantized ops nnzip runs: ${QUANTIZED_OPS.join(', ')} (and QDQ around Conv, Gemm, MatMul, pools, Add, Concat)` : '';
  if (msg.domain && msg.domain !== 'ai.onnx') nodeFail(node, `op ${op} from domain "${msg.domain}" is not supported (nnzip reads the default ONNX domain)${runs}`);
  const row = onnxOp(op, b.opset);
  if (!row) nodeFail(node, quantized ? `quantized op ${op} is not supported${runs}` : `op ${op} is not supported; supported ops: ${supportedOnnxOps().join(', ')}`);
  node.attrs = attrsOf(msg, node);
  if (op === 'Constant') {
    b.setConstant(node.outputs[0], constantValue(node));
    return;
  }
  for (const n of row.importer ? row.importer(node, b) : [node]) b.add(n);
}

function readInitializers(g: GraphMsg, read: ExternalReader | undefined): Map<string, Tensor> {
  const inits = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) inits.set(t.name ?? '', tensorFromProto(t, `tensor "${t.name ?? ''}"`, read));
  for (const s of g.sparse_initializer ?? []) {
    const name = s.values?.name ?? '';
    inits.set(name, sparseFromProto(s, `sparse tensor "${name}"`, read));
  }
  return inits;
}

/** Graph outputs; a missing dtype/shape is taken from inference (symbols where the batch is dynamic). */
function outputsOf(g: GraphMsg, b: Builder, dynamic: boolean): ValueInfo[] {
  if (!g.output?.length) fail('the graph declares no outputs; export the model with its outputs');
  return g.output.map((o) => {
    const name = o.name ?? '';
    const t = b.type(name);
    if (!t) fail(`graph output "${name}" is not produced by any node, input or initializer`);
    if (!o.type?.tensor_type?.elem_type) return { name, dtype: t.dtype, shape: dynamic ? t.shape.map((_, i) => `${name}_d${i}`) : [...t.shape] };
    const v = valueInfo(o, 'output');
    if (!o.type.tensor_type.shape) v.shape = dynamic ? t.shape.map((_, i) => `${name}_d${i}`) : [...t.shape];
    return v;
  });
}

function buildGraph(model: ModelMsg, opset: number, read: ExternalReader | undefined): GraphT {
  const g = model.graph!;
  const initializers = readInitializers(g, read);
  // older exporters list initializers among the inputs too; those are constants here
  const inputs = (g.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map((v) => valueInfo(v, 'input'));
  const b = new Builder(opset, initializers, inputs);
  for (const n of g.node ?? []) b.reserve([n.name ?? '', ...(n.input ?? []), ...(n.output ?? [])]);
  (g.node ?? []).forEach((n, i) => translateNode(n, i, b));
  const dynamic = inputs.some((v) => v.shape.some((d) => typeof d === 'string'));
  const outputs = outputsOf(g, b, dynamic);
  // initializers no node reads (e.g. axes moved into attributes) are dropped
  const used = new Set([...b.nodes.flatMap((n) => n.inputs), ...outputs.map((o) => o.name)]);
  for (const name of [...initializers.keys()]) if (!used.has(name)) initializers.delete(name);
  return new Graph({ name: g.name || 'graph', inputs, outputs, nodes: b.nodes, initializers, opset });
}

/** Reads an ONNX model; throws NnzipError prefixed with `source` on bad input. */
export function importOnnx(bytes: Uint8Array, opts: ImportOptions = {}): GraphT {
  const source = opts.source ?? 'model.onnx';
  try {
    const model = decode(bytes);
    const graph = buildGraph(model, opsetOf(model), opts.readExternal);
    verify(graph);
    return simplify(graph);
  } catch (e) {
    if (e instanceof NnzipError && !e.message.startsWith(`${source}: `)) throw new NnzipError(`${source}: ${e.message}`, e.exitCode);
    throw e;
  }
}
