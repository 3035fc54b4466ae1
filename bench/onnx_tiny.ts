// A tiny ONNX writer for the benchmarks: one-node models (MatMul, Conv) with
// constant weights, hand-encoded as protobuf (onnx.proto3 field numbers), so the
// peers (onnxruntime-node, onnxruntime-web) get the same op as nnzip.

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_INTS = 7; // AttributeProto.AttributeType.INTS
const ATTR_INT = 2;

class Pb {
  readonly bytes: number[] = [];
  varint(v: number): this {
    let n = BigInt(v);
    if (n < 0n) n += 1n << 64n; // int64 two's complement
    do {
      let b = Number(n & 0x7fn);
      n >>= 7n;
      if (n) b |= 0x80;
      this.bytes.push(b);
    } while (n);
    return this;
  }
  int(field: number, v: number): this { return this.varint(field << 3).varint(v); }
  raw(field: number, data: ArrayLike<number>): this {
    this.varint((field << 3) | 2).varint(data.length);
    for (let i = 0; i < data.length; i++) this.bytes.push(data[i]);
    return this;
  }
  str(field: number, s: string): this { return this.raw(field, new TextEncoder().encode(s)); }
  msg(field: number, m: Pb): this { return this.raw(field, m.bytes); }
}

function valueInfo(name: string, dims: number[]): Pb {
  const shape = new Pb();
  for (const d of dims) shape.msg(1, new Pb().int(1, d)); // TensorShapeProto.dim.dim_value
  const tensorType = new Pb().int(1, FLOAT).msg(2, shape);
  return new Pb().str(1, name).msg(2, new Pb().msg(1, tensorType)); // ValueInfoProto{name, type{tensor_type}}
}

function initializer(name: string, dims: number[], data: Float32Array): Pb {
  const t = new Pb();
  for (const d of dims) t.int(1, d);
  return t.int(2, FLOAT).str(8, name).raw(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

export interface TinyNode {
  op: string;
  inputs: string[];
  attrs?: Record<string, number | number[]>;
}

/** A one-node model: input X (dims), constant weights, output Y (dims). */
export function tinyModel(node: TinyNode, x: number[], y: number[], weights: Record<string, { dims: number[]; data: Float32Array }>): Uint8Array {
  const n = new Pb();
  for (const i of node.inputs) n.str(1, i);
  n.str(2, 'Y').str(3, 'n0').str(4, node.op);
  for (const [k, v] of Object.entries(node.attrs ?? {})) {
    const a = new Pb().str(1, k);
    if (Array.isArray(v)) { for (const e of v) a.int(8, e); a.int(20, ATTR_INTS); } else a.int(3, v).int(20, ATTR_INT);
    n.msg(5, a);
  }
  const g = new Pb().msg(1, n).str(2, 'bench');
  for (const [name, w] of Object.entries(weights)) g.msg(5, initializer(name, w.dims, w.data));
  g.msg(11, valueInfo('X', x)).msg(12, valueInfo('Y', y));
  const model = new Pb().int(1, 8).msg(8, new Pb().str(1, '').int(2, 17)).str(2, 'nnzip-bench').msg(7, g);
  return new Uint8Array(model.bytes);
}
