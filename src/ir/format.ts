// How a weight tensor is stored once compressed. The float tensor in
// graph.initializers always holds the decoded values (so any pass or runtime
// can read it); the format says how it is encoded and which kernel runs it.

/** Dense float32: the default, no entry in graph.formats. */
export interface DenseFormat {
  kind: 'dense';
}

/** Pruned: zeros are not stored (relative-index sparse). */
export interface SparseFormat {
  kind: 'sparse';
  /** Bits per relative index (gap); chosen by the encoder when absent. */
  indexBits?: number;
}

/** Weight sharing: each stored weight is centroids[index]. */
export interface CodebookFormat {
  kind: 'codebook';
  bits: number;
  centroids: Float32Array;
  /** One index per stored weight: per nonzero when `sparse`, else per element. */
  indices: Uint16Array;
  /** Pruned zeros are not stored (and have no index). */
  sparse: boolean;
  indexBits?: number;
}

export type TensorFormat = DenseFormat | SparseFormat | CodebookFormat;

/** Decodes a codebook tensor to float values (zeros where pruned). */
export function decodeCodebook(f: CodebookFormat, mask: ArrayLike<number> | undefined, size: number): Float32Array {
  const out = new Float32Array(size);
  if (!f.sparse) {
    for (let i = 0; i < size; i++) out[i] = f.centroids[f.indices[i]];
    return out;
  }
  if (!mask) throw new Error('a sparse codebook tensor needs its nonzero mask');
  let k = 0;
  for (let i = 0; i < size; i++) if (mask[i] !== 0) out[i] = f.centroids[f.indices[k++]];
  return out;
}
