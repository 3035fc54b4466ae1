// ONNX TensorProto.DataType codes of the IR dtypes: Cast's `to` attribute uses them,
// and the ONNX reader/writer maps tensors with them.
import type { DType } from '../tensor.js';

export const DTYPE_CODE: Record<DType, number> = {
  float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, bool: 9, float64: 11,
};

const BY_CODE = new Map<number, DType>(Object.entries(DTYPE_CODE).map(([d, c]) => [c, d as DType]));

/** The IR dtype of an ONNX data type code, or undefined when nnzip has none. */
export function dtypeOfCode(code: number): DType | undefined {
  return BY_CODE.get(code);
}

/** Names of ONNX codes nnzip cannot hold, for error messages. */
export const UNSUPPORTED_CODE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 8: 'STRING', 10: 'FLOAT16', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128',
  16: 'BFLOAT16', 17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4',
};
