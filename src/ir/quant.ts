// The arithmetic of linear quantization, as ONNX QuantizeLinear / DequantizeLinear
// and onnxruntime define it, in one place for the reference kernels, the planner,
// the runtime and the quantization passes:
//   q = saturate(round_half_even(f32(x / scale)) + zero),  x' = f32(q − zero) · scale,
// per tensor (one scale) or per axis (a 1-D scale along `axis`).
import type { DType, Tensor } from './tensor.js';

/**
 * Saturation range of each quantized dtype. int32 is nnzip's wide fixed point
 * (32-bit simulation): DequantizeLinear reads int32 in ONNX, but QuantizeLinear
 * cannot write it there, so the ONNX exporter refuses it.
 */
export const QUANT_RANGES: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-(2 ** 31), 2 ** 31 - 1],
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

// ---- choosing parameters ----------------------------------------------------------

/** The integer range of a signed or unsigned `bits`-bit type (symmetric drops the most negative level, as onnxruntime's int8 weights). */
export function intRange(bits: number, signed: boolean, symmetric = false): [number, number] {
  if (!signed) return [0, 2 ** bits - 1];
  const hi = 2 ** (bits - 1) - 1;
  return [symmetric ? -hi : -hi - 1, hi];
}

/**
 * Scale and zero point that map [min, max] (widened to hold 0, so that 0 is exact)
 * onto the integers [qmin, qmax], as onnxruntime's quantizer computes them;
 * symmetric: the range is ±max|·| and the zero point the middle of [qmin, qmax].
 * A range of one value (a constant 0) gets scale 1.
 */
export function rangeParams(min: number, max: number, qmin: number, qmax: number, symmetric: boolean): { scale: number; zero: number } {
  let lo = Math.min(min, 0), hi = Math.max(max, 0);
  if (symmetric) {
    const m = Math.max(-lo, hi);
    lo = -m;
    hi = m;
  }
  const scale = Math.fround(Math.fround(hi - lo) / (qmax - qmin)); // float32 arithmetic, as onnxruntime's quantizer
  if (!(scale > 0) || !Number.isFinite(scale)) return { scale: 1, zero: symmetric ? Math.round((qmin + qmax) / 2) : qmin };
  const zero = symmetric ? Math.round((qmin + qmax) / 2) : roundHalfEven(qmin - lo / scale);
  return { scale, zero: Math.min(qmax, Math.max(qmin, zero)) };
}

/**
 * Dynamic fixed point (Ristretto's "dynamic fixed point", the seed's §5.1.3): the
 * fraction length of a signed `bits`-bit number whose largest magnitude is `absMax`,
 * so that absMax ≤ (2^(bits−1) − 1)·2^−fl (max-range rule); scale = 2^−fl. May be
 * negative (a step above 1) or above `bits` (values below 1/2).
 */
export function fractionBits(absMax: number, bits: number): number {
  const qmax = 2 ** (bits - 1) - 1;
  if (!(absMax > 0) || !Number.isFinite(absMax)) return bits - 1;
  let fl = Math.floor(Math.log2(qmax / absMax));
  while (absMax > qmax * 2 ** -fl) fl--; // log2 rounding at the edges
  while (absMax <= qmax * 2 ** -(fl + 1)) fl++;
  return fl;
}

// ---- requantization: an integer accumulator to an integer output ----------------------

/** Right shifts a requantization may use: the product acc·multiplier stays within 63 bits. */
export const MAX_REQUANT_SHIFT = 62;

/**
 * Real multipliers r_c (accumulator scale / output scale, one per channel) as
 * integers mult_c < 2^31 and one right shift s for all: r_c ≈ mult_c·2^−s. One
 * shift lets a SIMD lane shift four channels at once; the largest r_c keeps 31
 * bits, the others as many as their ratio to it allows (r_c / r_max ≥ 2^−7 keeps 24).
 */
export function requantMultipliers(scales: ArrayLike<number>): { mult: Int32Array; shift: number } {
  let rmax = 0;
  for (let i = 0; i < scales.length; i++) {
    const r = scales[i];
    if (!(r > 0) || !Number.isFinite(r)) throw new Error(`requantization scale ${r} must be finite and > 0`);
    rmax = Math.max(rmax, r);
  }
  let shift = 31 - (Math.floor(Math.log2(rmax)) + 1);
  while (shift > 0 && Math.round(rmax * 2 ** shift) >= 2 ** 31) shift--;
  while (Math.round(rmax * 2 ** (shift + 1)) < 2 ** 31 && shift < MAX_REQUANT_SHIFT) shift++;
  if (shift < 1) throw new Error(`requantization scale ${rmax} is too large (at most 2^30)`);
  shift = Math.min(shift, MAX_REQUANT_SHIFT);
  const mult = Int32Array.from({ length: scales.length }, (_, i) => Math.round(scales[i] * 2 ** shift));
  return { mult, shift };
}

/**
 * round(acc·mult / 2^shift), ties toward +∞ — (acc·mult + 2^(shift−1)) >> shift in
 * 64-bit integers, as the WASM kernels compute it — exactly in doubles: the
 * product is split at 16 bits so that no partial sum passes 2^53. Results beyond
 * ±2^53 are not exact (they saturate any integer type anyway).
 */
export function requantizeValue(acc: number, mult: number, shift: number): number {
  const mh = Math.floor(mult / 65536), ml = mult - mh * 65536;
  let hi = acc * mh, lo = acc * ml;
  if (shift >= 17) hi += 2 ** (shift - 17);
  else lo += 2 ** (shift - 1);
  const q1 = Math.floor(lo / 65536);
  if (shift >= 16) return Math.floor((hi + q1) / 2 ** (shift - 16));
  return hi * 2 ** (16 - shift) + Math.floor(lo / 2 ** shift);
}

/**
 * Integer addition of two quantized tensors into a third (QDQ Add, QLinearAdd):
 * y = clamp(((a − za)·ma + (b − zb)·mb + 2^(shift−1)) >> shift + zy), with
 * ma ≈ (sa / sy)·2^shift and mb ≈ (sb / sy)·2^shift below 2^21 and shift ≤ 30: with
 * 8-bit offsets (|·| ≤ 255) the sum is below 2·255·2^21 + 2^29 < 2^31, so int32 lanes
 * never wrap. Ratios of 2^19 and more (an output step 500 000 times finer) have no such shift.
 */
export function addMultipliers(ra: number, rb: number): { ma: number; mb: number; shift: number } {
  const r = Math.max(ra, rb);
  if (!(ra > 0 && rb > 0 && r < 2 ** 19)) throw new Error(`add rescale ${ra}, ${rb} must be > 0 and < 2^19`);
  let shift = Math.min(30, 20 - Math.floor(Math.log2(r)));
  while (Math.round(r * 2 ** shift) >= 2 ** 21) shift--;
  return { ma: Math.round(ra * 2 ** shift), mb: Math.round(rb * 2 ** shift), shift };
}

/** One element of the integer addition (addMultipliers' arithmetic). */
export function addValue(da: number, db: number, m: { ma: number; mb: number; shift: number }, zy: number, lo: number, hi: number): number {
  const y = Math.floor((da * m.ma + db * m.mb + 2 ** (m.shift - 1)) / 2 ** m.shift) + zy;
  return y < lo ? lo : y > hi ? hi : y;
}
