// Weights onto an integer grid, one definition for post-training quantization,
// quantization-aware training (as the trainer's straight-through weight
// transform) and dynamic fixed point:
//   int    symmetric linear, scale = max|w| / (2^(bits−1) − 1) per output channel
//          (or per tensor), integers in ±(2^(bits−1) − 1), zero point 0 — what
//          onnxruntime's quantizer does for int8 weights;
//   fixed  dynamic fixed point (the seed's §5.1.3): one power-of-two scale 2^−fl per
//          layer, two's-complement bits-bit integers, fl by the max-range rule or by
//          the smallest squared error among max-range and up to three more fraction bits.
// The arithmetic is ir/quant.ts's (round half to even, saturate, f32(q)·scale).
import type { Node } from '../../ir/graph.js';
import { attrInt } from '../../ir/graph.js';
import { dequantizeValue, fractionBits, intRange, quantizeValue } from '../../ir/quant.js';
import type { GridFormat } from '../../ir/tensor_format.js';
import { fail } from '../../ir/errors.js';
import type { WeightTransform } from '../../train/autograd.js';

export type FixedSearch = 'max-range' | 'min-error';

export interface WeightQuant {
  scheme: 'int' | 'fixed';
  /** Integer bits, 2–16 (fixed point simulates up to 32: then the values are rounded, with no grid kept). */
  bits: number;
  /** int: one scale per output channel (else one per tensor). */
  perChannel?: boolean;
  /** The output-channel axis of the weight (Conv, Gemm with transB: 0; MatMul, Gemm without: 1). */
  axis: number;
  /** fixed: how the fraction length is chosen (default min-error). */
  search?: FixedSearch;
}

/** Largest integer width a grid keeps (the .nnz grid encodings hold 16-bit integers). */
export const MAX_GRID_BITS = 16;

export function checkWeightBits(bits: number, scheme: WeightQuant['scheme'], where: string): void {
  const max = scheme === 'fixed' ? 32 : MAX_GRID_BITS;
  if (!Number.isInteger(bits) || bits < 2 || bits > max) {
    fail(`${where}: bits=${bits} must be an integer in 2..${MAX_GRID_BITS}${scheme === 'fixed' ? ' (or up to 32 to simulate wide fixed point)' : ''}`);
  }
}

/** The output-channel axis of a layer's weight. */
export function outputAxis(node: Node): number {
  if (node.op === 'MatMul') return 1;
  if (node.op === 'Gemm') return attrInt(node, 'transB', 0) ? 0 : 1;
  return 0;
}

/** The scale index of each element (the layout of ir/quant.ts: floor(i / inner) mod count). */
function channels(shape: readonly number[], axis: number, perChannel: boolean): { count: number; of: (i: number) => number } {
  if (!perChannel || shape.length === 0) return { count: 1, of: () => 0 };
  const count = shape[axis], inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  return { count, of: (i) => Math.floor(i / inner) % count };
}

/** The squared error of w on the grid of step 2^−fl with integers in [lo, hi]. */
function gridError(w: Float32Array, fl: number, lo: number, hi: number): number {
  const s = 2 ** -fl;
  let e = 0;
  for (let i = 0; i < w.length; i++) {
    const d = w[i] - dequantizeValue(quantizeValue(w[i], s, 0, lo, hi), s, 0);
    e += d * d;
  }
  return e;
}

/** Dynamic fixed point's fraction length of values whose largest magnitude is absMax; min-error tries up to three more bits. */
export function chooseFraction(absMax: number, bits: number, search: FixedSearch, error: (fl: number) => number): number {
  const fl0 = fractionBits(absMax, bits);
  if (search === 'max-range') return fl0;
  let best = fl0, bestErr = error(fl0);
  for (let fl = fl0 + 1; fl <= fl0 + 3; fl++) {
    const e = error(fl);
    if (e < bestErr) { best = fl; bestErr = e; }
  }
  return best;
}

/** The weight on its grid: the decoded float values, and the grid (undefined above 16 bits). */
export function quantizeWeight(w: Float32Array, shape: readonly number[], spec: WeightQuant): { values: Float32Array; grid?: GridFormat } {
  const fixed = spec.scheme === 'fixed';
  const [lo, hi] = intRange(spec.bits, true, !fixed);
  const ch = channels(shape, spec.axis, !fixed && (spec.perChannel ?? true));
  const scale = new Float32Array(ch.count).fill(1);
  if (fixed) {
    let m = 0;
    for (let i = 0; i < w.length; i++) m = Math.max(m, Math.abs(w[i]));
    scale[0] = 2 ** -chooseFraction(m, spec.bits, spec.search ?? 'min-error', (fl) => gridError(w, fl, lo, hi));
  } else {
    const m = new Float64Array(ch.count);
    for (let i = 0; i < w.length; i++) m[ch.of(i)] = Math.max(m[ch.of(i)], Math.abs(w[i]));
    for (let c = 0; c < ch.count; c++) if (m[c] > 0) scale[c] = Math.fround(m[c] / hi);
  }
  const q = new Int32Array(w.length), values = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const s = scale[ch.of(i)];
    q[i] = quantizeValue(w[i], s, 0, lo, hi);
    values[i] = dequantizeValue(q[i], s, 0);
  }
  if (spec.bits > MAX_GRID_BITS) return { values };
  return { values, grid: { kind: 'grid', bits: spec.bits, q, scale, axis: ch.count > 1 ? spec.axis : 0 } };
}

/** Quantization-aware training: the forward pass sees the weight on its grid, recomputed from the float master every step. */
export function fakeQuantize(spec: WeightQuant): WeightTransform {
  checkWeightBits(spec.bits, spec.scheme, 'fakeQuantize');
  return {
    name: `fake-quantize(${spec.scheme} ${spec.bits})`,
    forward(w, out, shape) {
      out.set(quantizeWeight(w, shape, spec).values);
    },
  };
}
