// The op table: every op the IR knows, its attributes (typed, for export and
// validation) and its shape inference. One entry per op; registering twice throws.
// ONNX-specific facts (opset ranges, importers) live in src/onnx/op_table.ts;
// reference kernels in src/ir/ref/.
import type { Node } from './graph.js';
import type { DType, Tensor } from './tensor.js';

/** The ONNX default-domain opsets whose forms the op table follows (a graph's `opset` is one of them). */
export const MIN_OPSET = 11;
export const MAX_OPSET = 18;

/** 'bool' is an ONNX INT attribute that must be 0 or 1 (transB, keepdims, ceil_mode...). */
export type AttrKind = 'int' | 'bool' | 'float' | 'ints' | 'floats' | 'string' | 'strings' | 'tensor';

/** What shape inference knows of a value: dtype, concrete shape, and its data when constant. */
export interface ValueType {
  dtype: DType;
  shape: number[];
  value?: Tensor;
}

export interface OpSchema {
  op: string;
  attrs: Record<string, AttrKind>;
  /** Allowed number of inputs (optional trailing inputs count) and outputs. */
  inputs: [min: number, max: number];
  outputs: [min: number, max: number];
  /** Type constraints, checked before infer: inputs that must be float32/float64, and inputs that share one dtype (ONNX's T). */
  types?: { float?: number[]; same?: number[] };
  /** Output types from input types; throws NnzipError on inconsistent shapes/attrs. */
  infer(node: Node, inputs: (ValueType | undefined)[]): ValueType[];
}

const TABLE = new Map<string, OpSchema>();

export function registerOp(schema: OpSchema): void {
  if (TABLE.has(schema.op)) throw new Error(`op ${schema.op} registered twice`);
  TABLE.set(schema.op, schema);
}

export function opSchema(op: string): OpSchema | undefined {
  return TABLE.get(op);
}

export function allOps(): string[] {
  return [...TABLE.keys()].sort();
}
