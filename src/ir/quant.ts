// The arithmetic of linear quantization, as ONNX QuantizeLinear / DequantizeLinear
// and onnxruntime define it, in one place for the reference kernels, the planner,
// the runtime and the quantization passes:
//   q = saturate(round_half_even(f32(x / scale)) + zero),  x' = f32(q − zero) · scale,
// per tensor (one scale) or per axis (a 1-D scale along `axis`).
import type { DType, Tensor } from './tensor.js';

/** Saturation range of each quantized dtype. */
export const QUANT_RANGES: Partial<Record<DType, [number, number]>> = {
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

/** One value quantized: float32 division as onnxruntime computes it, round half to even, add the zero point, saturate. */
export function quantizeValue(x: number, scale: number, zero: number, lo: number, hi: number): number {
  const q = roundHalfEven(Math.fround(x / scale)) + zero;
  return q < lo ? lo : q > hi ? hi : q;
}

/** One value dequantized: integer → float32 first (big int32 values round as onnxruntime does), then the product. */
export function dequantizeValue(q: number, scale: number, zero: number): number {
  return Math.fround(q - zero) * scale;
}

/** Scales and zero points of a tensor: flat element i uses index floor(i / inner) mod count. */
export interface QuantAxis {
  scale: Float32Array;
  zero: number[];
  /** Elements per scale step along the axis. */
  inner: number;
  /** Number of scales. */
  count: number;
}

/**
 * The scale layout of a tensor of `shape` quantized with `scale` (and `zero`), per
 * tensor or along `axis`; a string says what is wrong with them.
 */
export function quantAxis(shape: readonly number[], axis: number, scale: Tensor, zero: Tensor | undefined): QuantAxis | string {
  if (scale.dtype !== 'float32') return `scale must be float32, got ${scale.dtype}`;
  if (zero && zero.shape.join(',') !== scale.shape.join(',')) return `zero point shape [${zero.shape}] must equal the scale shape [${scale.shape}]`;
  const z = zero ? Array.from(zero.data as ArrayLike<number>, Number) : new Array<number>(scale.size).fill(0);
  const sd = scale.data as Float32Array;
  const size = shape.reduce((p, d) => p * d, 1);
  if (scale.size === 1 && scale.shape.length <= 1) return { scale: sd, zero: z, inner: size || 1, count: 1 };
  if (scale.shape.length !== 1) return `scale shape [${scale.shape}] must be a scalar or 1-D (per-axis)`;
  const a = axis < 0 ? axis + shape.length : axis;
  if (a < 0 || a >= shape.length) return `axis ${axis} is out of range for rank ${shape.length}`;
  if (shape[a] !== scale.size) return `per-axis scale has ${scale.size} values but input [${shape}] has ${shape[a]} along axis ${a}`;
  return { scale: sd, zero: z, inner: shape.slice(a + 1).reduce((p, d) => p * d, 1), count: scale.size };
}
