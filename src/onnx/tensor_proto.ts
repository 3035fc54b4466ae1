// TensorProto ↔ Tensor: raw_data (little-endian), the typed data fields, and
// external data (bytes fetched through a reader, so this file stays browser-safe).
import { fail } from '../ir/errors.js';
import { DTYPE_CODE, dtypeOfCode } from '../ir/ops/dtype_codes.js';
import { UNSUPPORTED_CODE_NAMES } from '../ir/ops/dtype_codes.js';
import { DTYPE_BYTES, Tensor, sizeOf, type AnyData, type DType } from '../ir/tensor.js';
import { int64, type Int64, type SparseTensorMsg, type TensorMsg } from './onnx_proto.js';

/** Returns a file's bytes by its location relative to the model, or undefined when it is missing. */
export type ExternalReader = (location: string) => Uint8Array | undefined;

const VIEW: Record<DType, (b: ArrayBuffer) => AnyData> = {
  float32: (b) => new Float32Array(b),
  float64: (b) => new Float64Array(b),
  int8: (b) => new Int8Array(b),
  uint8: (b) => new Uint8Array(b),
  int16: (b) => new Int16Array(b),
  uint16: (b) => new Uint16Array(b),
  int32: (b) => new Int32Array(b),
  int64: (b) => new BigInt64Array(b),
  bool: (b) => new Uint8Array(b),
};

/** The typed field that holds each dtype when raw_data is not used (ONNX rules). */
function typedValues(msg: TensorMsg, dtype: DType): ArrayLike<number | Int64> {
  switch (dtype) {
    case 'float32': return msg.float_data ?? [];
    case 'float64': return msg.double_data ?? [];
    case 'int64': return msg.int64_data ?? [];
    default: return msg.int32_data ?? [];
  }
}

function fromBytes(where: string, dtype: DType, shape: number[], bytes: Uint8Array): Tensor {
  const n = sizeOf(shape);
  if (bytes.length !== n * DTYPE_BYTES[dtype]) {
    fail(`${where} has ${bytes.length} bytes of data, but ${dtype}[${shape.join(',')}] needs ${n * DTYPE_BYTES[dtype]}`);
  }
  // copy (new Uint8Array(view) copies; Buffer.slice would not): the source may be unaligned
  // for the typed-array view, and the tensor must not keep the whole file alive
  const data = VIEW[dtype](new Uint8Array(bytes).buffer);
  return new Tensor(dtype, shape, data as never);
}

function fromTyped(where: string, dtype: DType, shape: number[], values: ArrayLike<number | Int64>): Tensor {
  // check before allocating: a corrupt file may claim absurd dims
  if (values.length !== sizeOf(shape)) fail(`${where} has ${values.length} values, but shape [${shape.join(',')}] needs ${sizeOf(shape)}`);
  const t = new Tensor(dtype, shape);
  if (dtype === 'int64') {
    const d = t.data as BigInt64Array;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      d[i] = typeof v === 'number' ? BigInt(v) : BigInt(v.toString());
    }
  } else {
    const d = t.data as Exclude<AnyData, BigInt64Array>;
    for (let i = 0; i < values.length; i++) d[i] = values[i] as number;
  }
  return t;
}

/** Bytes of an external tensor: location/offset/length entries, read once per file. */
function externalBytes(where: string, msg: TensorMsg, read: ExternalReader | undefined): Uint8Array {
  const entries = new Map((msg.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) fail(`${where} is stored externally but names no location`);
  if (!read) fail(`${where} refers to external data file "${location}", but no reader was given (load the model with loadOnnxFile)`);
  const file = read(location);
  if (!file) fail(`${where} refers to external data file "${location}", which is missing next to the model`);
  const offset = Number(entries.get('offset') ?? 0);
  const length = entries.has('length') ? Number(entries.get('length')) : file.length - offset;
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > file.length) {
    fail(`${where}: external data file "${location}" has ${file.length} bytes, but the tensor needs bytes ${offset}..${offset + length}`);
  }
  return file.subarray(offset, offset + length);
}

/** The IR tensor of a TensorProto; `where` names it in errors (e.g. `tensor "w"`). */
export function tensorFromProto(msg: TensorMsg, where: string, read?: ExternalReader): Tensor {
  const code = msg.data_type ?? 0;
  const dtype = dtypeOfCode(code);
  if (!dtype) {
    fail(`${where} has data type ${UNSUPPORTED_CODE_NAMES[code] ?? code}, which nnzip does not support (float32, float64, int8/16/32/64, uint8/16, bool)`);
  }
  const shape = (msg.dims ?? []).map((d) => int64(d));
  if (shape.some((d) => d < 0)) fail(`${where} has a negative dimension [${shape.join(',')}]`);
  if (msg.data_location === 1) return fromBytes(where, dtype, shape, externalBytes(where, msg, read));
  if (msg.raw_data && msg.raw_data.length > 0) return fromBytes(where, dtype, shape, msg.raw_data);
  return fromTyped(where, dtype, shape, typedValues(msg, dtype));
}

/** A dense tensor from a SparseTensorProto (indices [NNZ] linear or [NNZ, rank] coordinates). */
export function sparseFromProto(msg: SparseTensorMsg, where: string, read?: ExternalReader): Tensor {
  if (!msg.values || !msg.indices) fail(`${where}: sparse tensor lacks values or indices`);
  const values = tensorFromProto(msg.values, where, read);
  const indices = tensorFromProto(msg.indices, `${where} (indices)`, read);
  const shape = (msg.dims ?? []).map((d) => int64(d));
  if (shape.some((d) => !(d >= 0)) || sizeOf(shape) > 2 ** 31) fail(`${where}: sparse tensor has invalid dims [${shape.join(',')}]`);
  const dense = new Tensor(values.dtype, shape);
  const nnz = values.size;
  const coords = indices.shape.length === 2 ? indices.shape[1] : 1;
  const idx = Array.from(indices.data as ArrayLike<number | bigint>, Number);
  for (let i = 0; i < nnz; i++) {
    let flat = idx[i * coords];
    for (let d = 1; d < coords; d++) flat = flat * shape[d] + idx[i * coords + d];
    if (!(flat >= 0 && flat < dense.size)) fail(`${where}: sparse index ${flat} is outside [${shape.join(',')}]`);
    (dense.data as unknown as unknown[])[flat] = (values.data as unknown as unknown[])[i];
  }
  return dense;
}

/** A TensorProto holding the tensor as little-endian raw_data. */
export function tensorToProto(name: string, t: Tensor): TensorMsg {
  const d = t.data;
  return {
    name,
    dims: [...t.shape],
    data_type: DTYPE_CODE[t.dtype],
    raw_data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
  };
}
