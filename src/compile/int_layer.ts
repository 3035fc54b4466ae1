// The constants of an integer conv / fc step, from the quantization parameters of
// its input, weights, bias and output: int8 weights (w − w_zero), the int32 bias
// with the input zero point folded in (Σ(x − zx)·w = Σx·w − zx·Σw), and the
// fixed-point requantization (ir/quant.ts) with the fused clamp as integer bounds.
// The int32 accumulators are proven not to overflow (with the output's own bound
// after requantization); a layer where they could is left to the float kernels
// with the reason. Shared by the QLinear lowerings and the QDQ fusion.
import { intRange, quantizeValue, QUANT_RANGES, requantMultipliers } from '../ir/quant.js';
import type { QEpilogue, QInType } from '../kernels/wasm/qgemm.js';
import type { IntLayer } from './plan_types.js';

/** An integer operand's type and its per-tensor parameters. */
export interface QOperand {
  dtype: QInType;
  scale: number;
  zero: number;
}

export interface IntLayerSpec {
  input: QOperand;
  /** Weight integers q (rows = output channels, K each), their zero points and scales (one, or one per row). */
  weight: { q: ArrayLike<number>; zero: ArrayLike<number>; scale: ArrayLike<number> };
  channels: number;
  K: number;
  /** Float bias (rounded to the accumulator's scale) or int32 bias (already on it). */
  bias?: { float: ArrayLike<number> } | { int: ArrayLike<number> };
  /** The output type and parameters, and a fused float clamp; absent = int32 accumulators out. */
  output?: { dtype: 'int8' | 'uint8' | 'int16'; scale: number; zero: number; clamp?: readonly [number, number] };
}

const LIMIT = 2 ** 31 - 1;

/** The step's constants, or why the integer kernels cannot run the layer. */
export function intLayer(s: IntLayerSpec): IntLayer | string {
  const { channels: C, K, input: x } = s;
  const perRow = (a: ArrayLike<number>, c: number) => a[a.length === 1 ? 0 : c];
  const weight = new Int8Array(C * K);
  const sums = new Float64Array(C), absSums = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const z = perRow(s.weight.zero, c);
    for (let k = 0; k < K; k++) {
      const v = s.weight.q[c * K + k] - z;
      if (v < -128 || v > 127) return `weight ${v} (channel ${c}) is outside int8 after its zero point; the integer kernels take 8-bit weights`;
      weight[c * K + k] = v;
      sums[c] += v;
      absSums[c] += Math.abs(v);
    }
  }
  const [xlo, xhi] = QUANT_RANGES[x.dtype]!;
  const dxMax = Math.max(x.zero - xlo, xhi - x.zero);
  const zx = x.zero - (x.dtype === 'uint8' ? 128 : 0); // the kernels read uint8 as x − 128
  const accScale = Float64Array.from({ length: C }, (_, c) => x.scale * perRow(s.weight.scale, c));
  const bias = new Int32Array(C);
  let bound = 0;
  for (let c = 0; c < C; c++) {
    const b = !s.bias ? 0 : 'int' in s.bias ? s.bias.int[c] : Math.round(s.bias.float[c] / Math.fround(accScale[c]));
    if (!Number.isFinite(b)) return `bias of channel ${c} is not finite`;
    bound = Math.max(bound, dxMax * absSums[c] + Math.abs(b));
    bias[c] = b - zx * sums[c]; // wraps mod 2^32 like the accumulators: only the final sum must fit
  }
  if (bound > LIMIT) return `int32 accumulators could overflow (bound ${bound.toExponential(2)} ≥ 2^31)`;
  const layer: IntLayer = { input: x.dtype, inZero: x.zero, weight, bias, bound };
  if (!s.output) return layer;
  const y = s.output;
  const ratios = Array.from(accScale, (a) => a / y.scale);
  if (ratios.some((r) => !(r > 0) || !Number.isFinite(r))) return 'the scales give no finite positive requantization ratio';
  if (bound * Math.max(...ratios) + Math.abs(y.zero) > LIMIT) return 'the requantized accumulators could pass int32';
  const [lo0, hi0] = y.dtype === 'int16' ? intRange(16, true) : y.dtype === 'int8' ? intRange(8, true) : intRange(8, false);
  const qlo = y.clamp && y.clamp[0] > -Infinity ? quantizeValue(y.clamp[0], y.scale, y.zero, lo0, hi0) : lo0;
  const qhi = y.clamp && y.clamp[1] < Infinity ? quantizeValue(y.clamp[1], y.scale, y.zero, lo0, hi0) : hi0;
  const { mult, shift } = requantMultipliers(ratios);
  const epilogue: QEpilogue = { mult, shift, zero: y.zero, lo: qlo, hi: Math.max(qlo, qhi), out: y.dtype };
  return { ...layer, epilogue };
}

/** "int8 → int8, 50 channels, acc bound 2^21.3" */
export function describeIntLayer(l: IntLayer): string {
  const out = l.epilogue ? l.epilogue.out : 'int32';
  return `${l.input} → ${out}, int32 sums ≤ 2^${Math.log2(Math.max(1, l.bound)).toFixed(1)}`;
}
