// How a weight tensor is stored once compressed. The float tensor in
// graph.initializers always holds the decoded values (so any pass or runtime
// can read it); the format says how it is encoded and which kernel runs it.
import { fail } from './errors.js';
import { dequantizeValue, quantAxis } from './quant.js';
import { Tensor } from './tensor.js';

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

/** Absent from graph.formats = dense float. */
export type TensorFormat = SparseFormat | CodebookFormat | GridFormat;

/** Decodes a codebook tensor to float values (zeros where pruned). */
export function decodeCodebook(f: CodebookFormat): Float32Array {
  const k = f.centroids.length;
  const out = new Float32Array(f.indices.length);
  for (let i = 0; i < out.length; i++) {
    const j = f.indices[i];
    out[i] = j === k ? 0 : f.centroids[j];
  }
  return out;
}

/** Element i's scale index: floor(i / inner) mod count (ir/quant.ts's layout); throws when the scales do not fit the shape. */
export function gridLayout(f: Pick<GridFormat, 'scale' | 'zero' | 'axis'>, shape: readonly number[]): { inner: number; count: number } {
  const dims = f.scale.length === 1 ? [] : [f.scale.length];
  // the layout depends on the counts only, so a float32 copy of float64 scales will do
  const scale = f.scale instanceof Float32Array ? f.scale : Float32Array.from(f.scale);
  const q = quantAxis(shape, f.axis, new Tensor('float32', dims, scale), f.zero && new Tensor('int32', dims, f.zero));
  if (typeof q === 'string') fail(`grid format: ${q}`);
  return { inner: q.inner, count: q.count };
}

/** Decodes a grid tensor of `shape` to float values, exactly as DequantizeLinear does. */
export function decodeGrid(f: Pick<GridFormat, 'q' | 'scale' | 'zero' | 'axis'>, shape: readonly number[]): Float32Array {
  const { inner, count } = gridLayout(f, shape);
  const out = new Float32Array(f.q.length);
  for (let i = 0; i < out.length; i++) {
    const c = Math.floor(i / inner) % count;
    out[i] = dequantizeValue(f.q[i], f.scale[c], f.zero ? f.zero[c] : 0);
  }
  return out;
}
