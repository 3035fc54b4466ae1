// QuantizeLinear / DequantizeLinear exactly as the ONNX spec (and onnxruntime) do it:
// y = saturate(round_half_even(x / scale) + zero_point), x = (q − zero_point) · scale,
// per tensor (scalar scale) or per axis (1-D scale along `axis`), in float32 arithmetic.
import { type Node, attrInt } from '../graph.js';
import { Tensor, DType } from '../tensor.js';
import { NumArray, type RefKernel } from './operands.js';
import { nodeFail, input, normAxis, shapeStr } from '../util.js';

/** Saturation range of each quantized dtype. */
const RANGES: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
};

/** Round to nearest, ties to even (the default IEEE mode, as std::nearbyint). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // ties go toward +∞
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Scale and zero point; flat element i uses index floor(i / inner) mod count. */
interface QParams {
  scale: Float32Array;
  zero: number[];
  inner: number; // elements per scale step along the axis
  count: number; // number of scales
}

function qparams(node: Node, x: Tensor, scale: Tensor, zero: Tensor | undefined): QParams {
  if (scale.dtype !== 'float32') nodeFail(node, `scale must be float32, got ${scale.dtype}`);
  if (attrInt(node, 'block_size', 0) !== 0) nodeFail(node, 'blocked quantization (block_size) is not supported');
  if (zero && (zero.shape.join(',') !== scale.shape.join(','))) {
    nodeFail(node, `zero point shape ${shapeStr(zero.shape)} must equal the scale shape ${shapeStr(scale.shape)}`);
  }
  const z = zero ? Array.from(zero.data as NumArray) : new Array<number>(scale.size).fill(0);
  const sd = scale.data as Float32Array;
  if (scale.size === 1 && scale.shape.length <= 1) return { scale: sd, zero: z, inner: x.size || 1, count: 1 };
  if (scale.shape.length !== 1) nodeFail(node, `scale shape ${shapeStr(scale.shape)} must be a scalar or 1-D (per-axis)`);
  const axis = normAxis(node, attrInt(node, 'axis', 1), x.shape.length);
  if (x.shape[axis] !== scale.size) {
    nodeFail(node, `per-axis scale has ${scale.size} values but input ${shapeStr(x.shape)} has ${x.shape[axis]} along axis ${axis}`);
  }
  const inner = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  return { scale: sd, zero: z, inner, count: scale.size };
}

const quantize: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'x');
  const scale = input(node, inputs, 1, 'y_scale');
  const zero = inputs[2];
  if (x.dtype !== 'float32') nodeFail(node, `x must be float32, got ${x.dtype}`);
  const to: DType = zero ? zero.dtype : 'uint8';
  const range = RANGES[to];
  if (!range) nodeFail(node, `zero point dtype ${to} is not supported (int8, uint8, int16, uint16)`);
  const q = qparams(node, x, scale, zero);
  const y = new Tensor(to, x.shape);
  const [xd, yd] = [x.data as Float32Array, y.data as NumArray];
  const [lo, hi] = range;
  for (let i = 0; i < xd.length; i++) {
    const k = Math.floor(i / q.inner) % q.count;
    // float32 division as onnxruntime computes it, then round and saturate.
    const v = roundHalfEven(Math.fround(xd[i] / q.scale[k])) + q.zero[k];
    yd[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return [y];
};

const dequantize: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'x');
  const scale = input(node, inputs, 1, 'x_scale');
  const zero = inputs[2];
  if (!RANGES[x.dtype] && x.dtype !== 'int32') nodeFail(node, `x must be int8, uint8, int16, uint16 or int32, got ${x.dtype}`);
  if (zero && zero.dtype !== x.dtype) nodeFail(node, `zero point is ${zero.dtype} but x is ${x.dtype}`);
  const q = qparams(node, x, scale, zero);
  if (x.dtype === 'int32' && q.zero.some((z) => z !== 0)) nodeFail(node, 'an int32 input needs a zero point of 0');
  const y = new Tensor('float32', x.shape);
  const [xd, yd] = [x.data as NumArray, y.data];
  for (let i = 0; i < xd.length; i++) {
    const k = Math.floor(i / q.inner) % q.count;
    // int → float32 first (rounds big int32 values as onnxruntime does), then a float32 product.
    yd[i] = Math.fround(xd[i] - q.zero[k]) * q.scale[k];
  }
  return [y];
};

export const QUANTIZE_KERNELS: Record<string, RefKernel> = {
  QuantizeLinear: quantize,
  DequantizeLinear: dequantize,
};
