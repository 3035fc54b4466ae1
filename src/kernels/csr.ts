// The compressed layout the sparse kernels read: CSR over the rows of a weight
// matrix W [rows × cols] (a Linear/Gemm weight [out × in], or a conv weight
// [Cout × Cin/group·kh·kw]). Row pointers are int32, column indices uint16 when
// cols ≤ 65536 (half the index traffic) else int32, and each stored weight is
// either an f32 value or, for weight sharing (Deep Compression), a uint8 code
// into a table of at most 256 f32 centroids.
//
// The CSC form used by the batch-1 scatter kernel is the CSR of Wᵀ
// (`transposeCsr`): "rows" are then inputs, "column indices" output rows.
import type { CodebookFormat } from '../ir/tensor_format.js';
import { fail } from '../ir/errors.js';

/** Stored weights: plain f32 values, or uint8 codes into a centroid table. */
export type CsrValues =
  | { kind: 'f32'; values: Float32Array }
  | { kind: 'codebook'; codes: Uint8Array; centroids: Float32Array };

export interface CsrMatrix {
  rows: number;
  cols: number;
  /** rows + 1 entries; row r holds entries rowPtr[r] .. rowPtr[r+1]-1. */
  rowPtr: Int32Array;
  /** One column index per entry, ascending within a row. */
  colIdx: Uint16Array | Int32Array;
  data: CsrValues;
}

/** Codes are one byte: a shared-weight table has at most this many centroids. */
export const MAX_CENTROIDS = 256;

export function nnzOf(m: CsrMatrix): number {
  return m.rowPtr[m.rows];
}

/** The column index array type for a given column count. */
export function indexArrayFor(cols: number, n: number): Uint16Array | Int32Array {
  return cols <= 65536 ? new Uint16Array(n) : new Int32Array(n);
}

function checkShape(where: string, rows: number, cols: number, size: number): void {
  for (const [k, v] of [['rows', rows], ['cols', cols]] as const) {
    if (!Number.isInteger(v) || v < 0) fail(`${where}: ${k}=${v} must be a non-negative integer`);
  }
  if (size !== rows * cols) fail(`${where}: got ${size} values for a ${rows}×${cols} matrix (needs ${rows * cols}); check the weight shape`);
}

/** Row pointers and column indices of the entries `keep(flat index)` selects, row by row. */
function pattern(rows: number, cols: number, keep: (i: number) => boolean): { rowPtr: Int32Array; colIdx: Uint16Array | Int32Array; flat: Int32Array } {
  const rowPtr = new Int32Array(rows + 1);
  let nnz = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) if (keep(r * cols + c)) nnz++;
    rowPtr[r + 1] = nnz;
  }
  const colIdx = indexArrayFor(cols, nnz);
  const flat = new Int32Array(nnz);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (!keep(r * cols + c)) continue;
      colIdx[k] = c;
      flat[k++] = r * cols + c;
    }
  }
  return { rowPtr, colIdx, flat };
}

/** CSR of a dense row-major weight: every entry that is not ±0 is stored (NaN included). */
export function csrFromDense(w: Float32Array, rows: number, cols: number, where = 'sparse weight'): CsrMatrix {
  checkShape(where, rows, cols, w.length);
  const { rowPtr, colIdx, flat } = pattern(rows, cols, (i) => w[i] !== 0);
  const values = new Float32Array(flat.length);
  for (let k = 0; k < flat.length; k++) values[k] = w[flat[k]];
  return { rows, cols, rowPtr, colIdx, data: { kind: 'f32', values } };
}

/**
 * CSR with shared weights from one codebook index per element (src/format/codebook.ts
 * convention: an index equal to centroids.length is a pruned zero). Entries that are
 * pruned, or whose centroid is exactly 0, are not stored: they add nothing.
 */
export function csrFromCodebook(centroids: Float32Array, indices: ArrayLike<number>, rows: number, cols: number,
  where = 'codebook weight'): CsrMatrix {
  checkShape(where, rows, cols, indices.length);
  if (centroids.length > MAX_CENTROIDS) {
    fail(`${where}: ${centroids.length} centroids, but the sparse codebook kernel takes at most ${MAX_CENTROIDS} (uint8 codes); share with ≤ 8 bits or use csrFromDense on the decoded weights`);
  }
  for (let i = 0; i < indices.length; i++) {
    const x = indices[i];
    if (!Number.isInteger(x) || x < 0 || x > centroids.length) {
      fail(`${where}: index ${x} at element ${i} is outside 0..${centroids.length} (${centroids.length} = pruned); the codebook does not match its indices`);
    }
  }
  const { rowPtr, colIdx, flat } = pattern(rows, cols, (i) => indices[i] < centroids.length && centroids[indices[i]] !== 0);
  const codes = new Uint8Array(flat.length);
  for (let k = 0; k < flat.length; k++) codes[k] = indices[flat[k]];
  return { rows, cols, rowPtr, colIdx, data: { kind: 'codebook', codes, centroids: centroids.slice() } };
}

/** CSR from the IR's codebook format (src/ir/tensor_format.ts): one index per element, k = pruned. */
export function csrFromCodebookFormat(f: CodebookFormat, rows: number, cols: number, where = 'codebook weight'): CsrMatrix {
  return csrFromCodebook(f.centroids, f.indices, rows, cols, where);
}

/** The stored weight of entry k as a float. */
export function entryValue(m: CsrMatrix, k: number): number {
  return m.data.kind === 'f32' ? m.data.values[k] : m.data.centroids[m.data.codes[k]];
}

/** The dense row-major matrix (zeros where nothing is stored). */
export function csrToDense(m: CsrMatrix): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    for (let k = m.rowPtr[r]; k < m.rowPtr[r + 1]; k++) out[r * m.cols + m.colIdx[k]] += entryValue(m, k);
  }
  return out;
}

/** The same matrix with every code replaced by its centroid (f32 values, same pattern). */
export function decodeCsr(m: CsrMatrix): CsrMatrix {
  if (m.data.kind === 'f32') return m;
  const values = new Float32Array(m.colIdx.length);
  for (let k = 0; k < values.length; k++) values[k] = entryValue(m, k);
  return { ...m, data: { kind: 'f32', values } };
}

/** CSR of Wᵀ (= CSC of W): entries of each column in ascending row order. */
export function transposeCsr(m: CsrMatrix): CsrMatrix {
  const nnz = nnzOf(m);
  const rowPtr = new Int32Array(m.cols + 1);
  for (let k = 0; k < nnz; k++) rowPtr[m.colIdx[k] + 1]++;
  for (let c = 0; c < m.cols; c++) rowPtr[c + 1] += rowPtr[c];
  const next = rowPtr.slice(0, m.cols);
  const colIdx = indexArrayFor(m.rows, nnz);
  const src = new Int32Array(nnz);
  for (let r = 0; r < m.rows; r++) {
    for (let k = m.rowPtr[r]; k < m.rowPtr[r + 1]; k++) {
      const at = next[m.colIdx[k]]++;
      colIdx[at] = r;
      src[at] = k;
    }
  }
  const data: CsrValues = m.data.kind === 'f32'
    ? { kind: 'f32', values: Float32Array.from(src, (k) => (m.data as { values: Float32Array }).values[k]) }
    : { kind: 'codebook', codes: Uint8Array.from(src, (k) => (m.data as { codes: Uint8Array }).codes[k]), centroids: m.data.centroids };
  return { rows: m.cols, cols: m.rows, rowPtr, colIdx, data };
}

/** Throws a clear error when the arrays do not form a valid CSR matrix (checked before upload: kernels trust it). */
export function checkCsr(m: CsrMatrix, where = 'sparse weight'): void {
  if (!Number.isInteger(m.rows) || m.rows < 0 || !Number.isInteger(m.cols) || m.cols < 0) {
    fail(`${where}: shape ${m.rows}×${m.cols} is not a matrix shape`);
  }
  if (m.rowPtr.length !== m.rows + 1) fail(`${where}: rowPtr has ${m.rowPtr.length} entries, needs rows + 1 = ${m.rows + 1}`);
  if (m.rowPtr[0] !== 0) fail(`${where}: rowPtr[0] = ${m.rowPtr[0]}, must be 0`);
  for (let r = 0; r < m.rows; r++) {
    if (m.rowPtr[r + 1] < m.rowPtr[r]) fail(`${where}: rowPtr decreases at row ${r} (${m.rowPtr[r]} → ${m.rowPtr[r + 1]})`);
  }
  const nnz = nnzOf(m);
  if (m.colIdx.length !== nnz) fail(`${where}: ${m.colIdx.length} column indices for ${nnz} entries`);
  if (m.colIdx instanceof Uint16Array && m.cols > 65536) fail(`${where}: uint16 column indices cannot address ${m.cols} columns; use Int32Array`);
  for (let k = 0; k < nnz; k++) {
    if (!(m.colIdx[k] >= 0 && m.colIdx[k] < m.cols)) fail(`${where}: column index ${m.colIdx[k]} of entry ${k} is outside 0..${m.cols - 1}`);
  }
  const d = m.data;
  if (d.kind === 'f32') {
    if (d.values.length !== nnz) fail(`${where}: ${d.values.length} values for ${nnz} entries`);
    return;
  }
  if (d.codes.length !== nnz) fail(`${where}: ${d.codes.length} codes for ${nnz} entries`);
  if (d.centroids.length === 0 || d.centroids.length > MAX_CENTROIDS) {
    fail(`${where}: ${d.centroids.length} centroids; the codebook kernel needs 1..${MAX_CENTROIDS}`);
  }
  for (let k = 0; k < nnz; k++) {
    if (d.codes[k] >= d.centroids.length) fail(`${where}: code ${d.codes[k]} of entry ${k} is past the ${d.centroids.length} centroids`);
  }
}
