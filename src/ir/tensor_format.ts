// How a weight tensor is stored once compressed. The float tensor in
// graph.initializers always holds the decoded values (so any pass or runtime
// can read it); the format says how it is encoded and which kernel runs it.

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

/** Absent from graph.formats = dense float. */
export type TensorFormat = SparseFormat | CodebookFormat;
