// The ONNX ops nnzip reads and writes: ONE table of rows [op, since, until] with the
// importer (ONNX node → IR nodes) and exporter (IR node → ONNX nodes) for that range.
// Most rows copy attributes; the rest normalise to one IR form:
//   - Squeeze, Unsqueeze, ReduceMean: `axes` is an attribute (ONNX moved it to an input
//     at opset 13, resp. 18); the input must be constant.
//   - Split: sizes in the `split` attribute (ONNX moved it to an input at 13); without
//     it, equal parts. Opset 18's num_outputs with an uneven axis becomes explicit sizes.
//   - Clip: min/max are inputs (old attribute form converted).
//   - Softmax below opset 13 (coerce to 2-D at `axis`) becomes opset-13 Softmax when
//     the axis is the last one, else Flatten → Softmax → Reshape(Shape(x)).
//   - Constant nodes become initializers (done by the importer before this table).
// Attributes that appeared within 11–18 (Reshape allowzero, Shape start/end, ...) are
// dropped on export to older opsets when they hold their default, else refused.
import type { Node } from '../ir/graph.js';
import { MAX_OPSET, MIN_OPSET, type AttrKind, type ValueType } from '../ir/ops.js';
import { chunkSizes } from '../ir/ops/index.js';
import { nodeFail } from '../ir/util.js';
import { fromNumbers, i64, sizeOf, toNumbers, type Tensor } from '../ir/tensor.js';

/** What translators may ask about the graph being imported or exported. */
export interface OpCtx {
  opset: number;
  type(name: string): ValueType | undefined;
  /** Constant value of a value (initializer, or folded by shape inference). */
  value(name: string): Tensor | undefined;
  /** A value/node name not used in the graph yet. */
  fresh(base: string): string;
  /** Adds an initializer and returns its (fresh) name. */
  constant(base: string, t: Tensor): string;
}

export type Translate = (node: Node, ctx: OpCtx) => Node[];

export interface OnnxOp {
  op: string;
  since: number;
  until: number;
  importer?: Translate;
  exporter?: Translate;
  /** Attributes that exist only from an opset on, with their default: [since, default]. */
  attrSince?: Record<string, [number, number]>;
  /** Kinds of ONNX attributes the IR schema does not have (written by exporters). */
  onnxAttrs?: Record<string, AttrKind>;
}

const without = (attrs: Node['attrs'], ...keys: string[]): Node['attrs'] =>
  Object.fromEntries(Object.entries(attrs).filter(([k]) => !keys.includes(k)));

/** Drops trailing empty optional inputs. */
const trim = (inputs: string[]): string[] => {
  const out = [...inputs];
  while (out.length && !out[out.length - 1]) out.pop();
  return out;
};

/** ONNX input `index` (constant) → IR attribute `attr`. */
function inputToAttr(index: number, attr: string): Translate {
  return (node, ctx) => {
    const name = node.inputs[index];
    if (!name) return [{ ...node, inputs: trim(node.inputs.slice(0, index)) }];
    const v = ctx.value(name);
    if (!v) nodeFail(node, `${attr} input "${name}" must be a constant (nnzip needs static ${attr})`);
    return [{ ...node, inputs: trim(node.inputs.slice(0, index)), attrs: { ...node.attrs, [attr]: toNumbers(v) } }];
  };
}

/** IR attribute `attr` → ONNX int64 input `index` (an added initializer). */
function attrToInput(index: number, attr: string): Translate {
  return (node, ctx) => {
    const v = node.attrs[attr];
    if (v === undefined) return [node];
    const ints = v as number[];
    const inputs = [...node.inputs];
    while (inputs.length < index) inputs.push('');
    inputs[index] = ctx.constant(`${node.name}_${attr}`, i64([ints.length], ints));
    return [{ ...node, inputs, attrs: without(node.attrs, attr) }];
  };
}

/** An empty axes input means "all size-1 axes", as no axes at all. */
const importSqueeze13: Translate = (node, ctx) => {
  const [n] = inputToAttr(1, 'axes')(node, ctx);
  return [(n.attrs.axes as number[] | undefined)?.length === 0 ? { ...n, attrs: without(n.attrs, 'axes') } : n];
};

/** num_outputs (opset 18) is the output count; an uneven split gets explicit sizes. */
const importSplit18: Translate = (node, ctx) => {
  const n = node.attrs.num_outputs;
  if (n !== undefined && n !== node.outputs.length) nodeFail(node, `num_outputs=${n} but the node has ${node.outputs.length} outputs`);
  const [plain] = inputToAttr(1, 'split')({ ...node, attrs: without(node.attrs, 'num_outputs') }, ctx);
  const x = ctx.type(node.inputs[0]);
  if (plain.attrs.split !== undefined || !x) return [plain];
  const axis = (plain.attrs.axis as number | undefined) ?? 0;
  const dim = x.shape[axis < 0 ? axis + x.shape.length : axis];
  return dim % node.outputs.length === 0 ? [plain] : [{ ...plain, attrs: { ...plain.attrs, split: chunkSizes(dim, node.outputs.length) } }];
};

const exportSplit18: Translate = (node, ctx) => {
  if (node.attrs.split !== undefined) return attrToInput(1, 'split')(node, ctx);
  return [{ ...node, attrs: { ...node.attrs, num_outputs: node.outputs.length } }];
};

const exportReduceMean17: Translate = (node) => {
  if (node.attrs.noop_with_empty_axes === 1 && !(node.attrs.axes as number[] | undefined)?.length) {
    nodeFail(node, 'noop_with_empty_axes=1 needs opset ≥ 18');
  }
  return [{ ...node, attrs: without(node.attrs, 'noop_with_empty_axes') }];
};

/** Clip min/max attributes (old form) → scalar inputs of the input's dtype. */
const clipAttrsToInputs: Translate = (node, ctx) => {
  if (node.attrs.min === undefined && node.attrs.max === undefined) return [node];
  const dtype = ctx.type(node.inputs[0])?.dtype ?? 'float32';
  const inputs = [node.inputs[0], node.inputs[1] ?? '', node.inputs[2] ?? ''];
  (['min', 'max'] as const).forEach((key, i) => {
    const v = node.attrs[key];
    if (typeof v === 'number') inputs[i + 1] = ctx.constant(`${node.name}_${key}`, fromNumbers(dtype, [], [v]));
  });
  return [{ ...node, inputs: trim(inputs), attrs: without(node.attrs, 'min', 'max') }];
};

/** Opset < 13 Softmax flattens to 2-D at `axis` (default 1); same as opset 13 only on the last axis. */
const importSoftmax12: Translate = (node, ctx): Node[] => {
  const x = ctx.type(node.inputs[0]);
  if (!x) nodeFail(node, 'input shape unknown');
  const rank = x.shape.length;
  const axis = (node.attrs.axis as number | undefined) ?? 1;
  const a = axis < 0 ? axis + rank : axis;
  if (a === rank - 1) return [{ ...node, attrs: { axis: -1 } }];
  const [flat, soft, shape] = [ctx.fresh(`${node.name}_2d`), ctx.fresh(`${node.name}_softmax`), ctx.fresh(`${node.name}_shape`)];
  return [
    { name: ctx.fresh(`${node.name}_flatten`), op: 'Flatten', inputs: [node.inputs[0]], outputs: [flat], attrs: { axis } },
    { name: ctx.fresh(`${node.name}_2d_softmax`), op: 'Softmax', inputs: [flat], outputs: [soft], attrs: { axis: -1 } },
    { name: ctx.fresh(`${node.name}_shape_of`), op: 'Shape', inputs: [node.inputs[0]], outputs: [shape], attrs: {} },
    { name: node.name, op: 'Reshape', inputs: [soft, shape], outputs: node.outputs, attrs: {} },
  ];
};

const exportSoftmax12: Translate = (node, ctx) => {
  const x = ctx.type(node.inputs[0]);
  const axis = (node.attrs.axis as number | undefined) ?? -1;
  if (axis === -1 || (x && axis === x.shape.length - 1)) return [{ ...node, attrs: { axis: -1 } }];
  nodeFail(node, `Softmax over axis ${axis} (not the last) cannot be written at opset ${ctx.opset}; export with opset ≥ 13`);
};

/** Inference-mode Dropout ignores its ratio: keep whichever form the opset has. */
const exportDropout11: Translate = (node) => [{ ...node, inputs: node.inputs.slice(0, 1) }];
const exportDropout12: Translate = (node) => [{ ...node, attrs: without(node.attrs, 'ratio') }];

/** Up to opset 18 QuantizeLinear writes int8 / uint8 and DequantizeLinear reads those and int32 (nnzip's int16 / int32 activations have no ONNX form). */
const exportQuant: Translate = (node, ctx) => {
  const q = node.op === 'QuantizeLinear';
  const t = q ? (node.inputs[2] ? ctx.type(node.inputs[2])?.dtype : 'uint8') : ctx.type(node.inputs[0])?.dtype;
  const allowed = q ? ['int8', 'uint8'] : ['int8', 'uint8', 'int32'];
  if (t && !allowed.includes(t)) nodeFail(node, `${t} ${q ? 'quantization' : 'dequantization'} has no ONNX form at opset ${ctx.opset} (${allowed.join(', ')} only); keep the model as .nnz, or quantize those activations to 8 bits`);
  return [node];
};

/** Per-axis (de)quantization needs opset 13; per-tensor drops the axis attribute. */
const exportQuant12: Translate = (node, ctx) => {
  const scale = ctx.type(node.inputs[1]);
  if (scale && sizeOf(scale.shape) > 1) nodeFail(node, `per-axis quantization needs opset ≥ 13 (exporting opset ${ctx.opset})`);
  return exportQuant({ ...node, attrs: without(node.attrs, 'axis') }, ctx);
};

const ALL = (op: string, extra: Partial<OnnxOp> = {}): OnnxOp => ({ op, since: MIN_OPSET, until: MAX_OPSET, ...extra });

export const ONNX_OPS: readonly OnnxOp[] = [
  ALL('Conv'), ALL('ConvTranspose'), ALL('Gemm'), ALL('MatMul'),
  ALL('Add'), ALL('Sub'), ALL('Mul'), ALL('Div'),
  ALL('Relu'), ALL('LeakyRelu'), ALL('Sigmoid'), ALL('Tanh'), ALL('Sign'), ALL('Abs'), ALL('Identity'),
  ALL('Clip', { importer: clipAttrsToInputs, exporter: clipAttrsToInputs }),
  ALL('MaxPool'), ALL('AveragePool'), ALL('GlobalAveragePool'), ALL('GlobalMaxPool'),
  { op: 'ReduceMean', since: 11, until: 17, exporter: exportReduceMean17 },
  { op: 'ReduceMean', since: 18, until: 18, importer: inputToAttr(1, 'axes'), exporter: attrToInput(1, 'axes') },
  ALL('Flatten'), ALL('Transpose'), ALL('Concat'), ALL('Gather'), ALL('Slice'), ALL('Cast'), ALL('Constant'),
  ALL('Reshape', { attrSince: { allowzero: [14, 0] } }),
  ALL('Shape', { attrSince: { start: [15, 0] } }),
  { op: 'Split', since: 11, until: 12 },
  { op: 'Split', since: 13, until: 17, importer: inputToAttr(1, 'split'), exporter: attrToInput(1, 'split') },
  { op: 'Split', since: 18, until: 18, importer: importSplit18, exporter: exportSplit18, onnxAttrs: { num_outputs: 'int' } },
  { op: 'Squeeze', since: 11, until: 12 },
  { op: 'Squeeze', since: 13, until: 18, importer: importSqueeze13, exporter: attrToInput(1, 'axes') },
  { op: 'Unsqueeze', since: 11, until: 12 },
  { op: 'Unsqueeze', since: 13, until: 18, importer: inputToAttr(1, 'axes'), exporter: attrToInput(1, 'axes') },
  { op: 'Softmax', since: 11, until: 12, importer: importSoftmax12, exporter: exportSoftmax12 },
  { op: 'Softmax', since: 13, until: 18 },
  ALL('BatchNormalization', { attrSince: { training_mode: [14, 0] } }),
  { op: 'Dropout', since: 11, until: 11, exporter: exportDropout11 },
  { op: 'Dropout', since: 12, until: 18, exporter: exportDropout12 },
  { op: 'QuantizeLinear', since: 11, until: 12, exporter: exportQuant12 },
  { op: 'QuantizeLinear', since: 13, until: 18, exporter: exportQuant },
  { op: 'DequantizeLinear', since: 11, until: 12, exporter: exportQuant12 },
  { op: 'DequantizeLinear', since: 13, until: 18, exporter: exportQuant },
  ALL('QLinearConv'), ALL('QLinearMatMul'), ALL('ConvInteger'), ALL('MatMulInteger'),
];

// Shape's `end` has no fixed default (it is the rank), so it is checked apart from attrSince.
const SHAPE_END_SINCE = 15;

/** The row for an op at an opset, or undefined. A duplicate range is a table bug and throws. */
export function onnxOp(op: string, opset: number): OnnxOp | undefined {
  const rows = ONNX_OPS.filter((r) => r.op === op && r.since <= opset && opset <= r.until);
  if (rows.length > 1) throw new Error(`op table: ${op} has overlapping rows at opset ${opset}`);
  return rows[0];
}

/** Sorted names of all supported ONNX ops (for error messages). */
export function supportedOnnxOps(): string[] {
  return [...new Set(ONNX_OPS.map((r) => r.op))].sort();
}

/** Checks attributes newer than the target opset: default values are dropped, others refused. */
export function dropNewAttrs(node: Node, row: OnnxOp, opset: number): Node {
  let attrs = node.attrs;
  for (const [key, [since, dflt]] of Object.entries(row.attrSince ?? {})) {
    if (opset >= since || attrs[key] === undefined) continue;
    if (attrs[key] !== dflt) nodeFail(node, `${key}=${String(attrs[key])} needs opset ≥ ${since} (exporting opset ${opset})`);
    attrs = without(attrs, key);
  }
  if (node.op === 'Shape' && opset < SHAPE_END_SINCE && attrs.end !== undefined) {
    nodeFail(node, `end=${String(attrs.end)} needs opset ≥ ${SHAPE_END_SINCE} (exporting opset ${opset})`);
  }
  return attrs === node.attrs ? node : { ...node, attrs };
}
