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
 * A 3×3 conv filter [M, C, 3, 3] stored as its Winograd transform U = G g Gᵀ for
 * F(tile×tile, 3×3) (ir/winograd.ts transformFilters' layout: α² matrices [M × C]),
 * so a session runs that tile without transforming; the initializer holds g recovered from U.
 */
export interface WinogradFormat {
  kind: 'winograd';
  tile: WinogradTile;
  transformed: Float32Array;
}

/** Absent from graph.formats = dense float. */
export type TensorFormat = SparseFormat | CodebookFormat | WinogradFormat;
