// How a weight tensor is stored once compressed. The float tensor in
// graph.initializers always holds the decoded values (so any pass or runtime
// can read it); the format says how it is encoded and which kernel runs it.
import type { WinogradTile } from './winograd.js';

/** Pruned: zeros are not stored (relative-index sparse). */
export interface SparseFormat {
  kind: 'sparse';
  /** Bits per relative index (gap); chosen by the encoder when absent. */
  indexBits?: number;
}

/**
 * Weight sharing: each weight is centroids[indices[i]]; an index equal to
 * centroids.length marks a pruned zero (the same convention as the .nnz codebook).
 */
export interface CodebookFormat {
  kind: 'codebook';
  bits: number;
  centroids: Float32Array;
  indices: Uint8Array | Uint16Array;
  indexBits?: number;
}

/**
 * Pattern pruning (PatDNN) of a [M, C, 3, 3] conv weight: every kept kernel (m, c)
 * has its nonzeros inside one of a few 3×3 patterns; removed kernels (connectivity
 * pruning) are all zero. ir/pattern.ts has the arithmetic.
 */
export interface PatternFormat {
  kind: 'pattern';
  /** The layer's patterns as 9-bit masks over the 3×3 window (bit ky·3 + kx), 1 to 56 of them. */
  masks: number[];
  /** Per kernel m·C + c: its pattern's index in masks, or REMOVED_KERNEL (255). */
  assign: Uint8Array;
}

/**
 * Fixed point / linear quantization (int8, int4, Qm.f ...): each weight is
 * f32(q − zero) · scale rounded to float32, as ONNX DequantizeLinear computes it,
 * with one scale for the tensor or one per index of `axis` (per output channel).
 * Zeros are q = zero. Scales are float32 as in ONNX, or float64 for tools that
 * quantize in double precision (then the product is rounded twice, as theirs was).
 */
export interface GridFormat {
  kind: 'grid';
  /** Bits per stored integer: enough for the range of q − zero (0 included). */
  bits: number;
  /** One integer per element. */
  q: Int32Array;
  /** One scale, or one per index of `axis`; each finite and > 0. */
  scale: Float32Array | Float64Array;
  /** Zero points, one per scale; absent = all 0. */
  zero?: Int32Array;
  /** The axis the scales run along (ignored with one scale). */
  axis: number;
  /** Bits per relative index when stored sparse. */
  indexBits?: number;
}

/**
 * A 3×3 conv filter [M, C, 3, 3] stored as its Winograd transform U = G g Gᵀ for
 * F(tile×tile, 3×3) (ir/winograd.ts transformFilters' layout: α² matrices [M × C]),
 * so a session runs that tile without transforming; the initializer holds g recovered from U.
 */
export interface WinogradFormat {
  kind: 'winograd';
  tile: WinogradTile;
  transformed: Float32Array;
}

/**
 * Binary (BWN, XNOR-Net) or ternary (TWN, TTQ) weights: every value of channel c
 * (along `axis`: 0 for conv and Gemm transB=1, 1 for a [K, N] MatMul weight) is
 * +pos[c] or −neg[c], or 0 when ternary. The levels are read from the values (ir/binary.ts).
 */
export interface SignsFormat {
  kind: 'binary' | 'ternary';
  axis: number;
}

/** Absent from graph.formats = dense float. */
export type TensorFormat = SparseFormat | CodebookFormat | GridFormat | PatternFormat | WinogradFormat | SignsFormat;
