// Cast between dtypes with C semantics: float → int truncates toward zero (and wraps),
// anything → bool is "≠ 0", float64 → float32 rounds to nearest.
import type { Node } from '../graph.js';
import { Tensor, DType } from '../tensor.js';
import { NumArray, type RefKernel } from './operands.js';
import { nodeFail, input } from '../util.js';

/** ONNX TensorProto.DataType codes of the dtypes the IR has. */
export const ONNX_DTYPES: Record<number, DType> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 11: 'float64',
};

const DTYPE_NAMES = new Set(Object.values(ONNX_DTYPES));

/** The target dtype: the ONNX enum code, or an IR dtype name. */
function targetDtype(node: Node): DType {
  const to = node.attrs.to;
  if (typeof to === 'number' && ONNX_DTYPES[to]) return ONNX_DTYPES[to];
  if (typeof to === 'string' && DTYPE_NAMES.has(to as DType)) return to as DType;
  nodeFail(node, `to=${String(to)} is not a supported dtype (ONNX codes ${Object.keys(ONNX_DTYPES).join(', ')})`);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Number → int64 as x86 does it: truncate; NaN and overflow give INT64_MIN (positive overflow saturates here). */
function toBigInt(v: number): bigint {
  if (Number.isNaN(v)) return INT64_MIN;
  if (v >= 9.223372036854776e18) return INT64_MAX;
  if (v < -9.223372036854776e18) return INT64_MIN;
  return BigInt(Math.trunc(v));
}

const cast: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'input');
  const to = targetDtype(node);
  if (to === x.dtype) return [x];
  const y = new Tensor(to, x.shape);
  const n = x.size;
  if (to === 'bool') {
    const yd = y.data as Uint8Array;
    for (let i = 0; i < n; i++) yd[i] = x.data[i] != 0 ? 1 : 0;
  } else if (to === 'int64') {
    const yd = y.data as BigInt64Array;
    const xd = x.data as NumArray;
    for (let i = 0; i < n; i++) yd[i] = toBigInt(xd[i]);
  } else if (x.dtype === 'int64') {
    // Wrap through BigInt so large values keep their low bits in narrow types.
    const xd = x.data as BigInt64Array;
    const yd = y.data as NumArray;
    const float = to === 'float32' || to === 'float64';
    for (let i = 0; i < n; i++) yd[i] = float ? Number(xd[i]) : Number(BigInt.asIntN(32, xd[i]));
  } else {
    // Typed-array stores truncate toward zero and wrap, as C casts do on x86.
    (y.data as NumArray).set(x.data as NumArray);
  }
  return [y];
};

export const CAST_KERNELS: Record<string, RefKernel> = {
  Cast: cast,
};
