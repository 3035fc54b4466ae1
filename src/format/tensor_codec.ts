// One tensor section's payload: name, dtype, shape, encoding code, then the body
// of the chosen encoding (tensor_encodings.ts). "auto" encodes every encoding that
// applies and keeps the smallest (ties → the earlier one in ENCODINGS).
import { NnzipError } from '../ir/errors.js';
import { DType, Tensor, sizeOf } from '../ir/tensor.js';
import { BitReader, BitWriter } from './bits.js';
import { Codebook, checkCodebook, codebookLimit, codebookValues, exactCodebook } from './codebook.js';
import { checkGrid, decodeGrid, exactGrid, type Grid } from './grid.js';
import { MAX_CODE_LENGTH } from './huffman.js';
import { checkGapBits } from './relative_index.js';
import { checkPatternFormat, detectPatterns } from '../ir/pattern.js';
import type { PatternFormat } from '../ir/tensor_format.js';
import { signsForm, type SignsForm } from './signs.js';
import { CODECS } from './codecs.js';
import { DecodeContext, EncodeContext, ENCODINGS, TensorBody, TensorEncoding, type WinogradForm } from './tensor_encodings.js';

/** Index = the dtype code stored in the file. */
export const DTYPE_CODES: readonly DType[] = ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'int64', 'bool'];
const MAX_ELEMENTS = 2 ** 31 - 1;
const MAX_RANK = 32;

/**
 * A file may decode to at most this many elements per byte of file, and 2^20 whatever its
 * size (docs/format.md §7). Most encodings spend at least a bit per element, but a sparse
 * tail, a constant or a one-symbol code spends none, so the cap is what bounds memory.
 * Deep Compression files hold 10–25 elements per byte; 1%-dense ones about 70.
 */
export const ELEMENTS_PER_BYTE = 128;
const MIN_ELEMENT_LIMIT = 2 ** 20;

export function elementLimit(fileBytes: number): number {
  return Math.max(MIN_ELEMENT_LIMIT, ELEMENTS_PER_BYTE * fileBytes);
}

/** Elements the rest of a file may still decode to. */
export interface ElementBudget {
  limit: number;
  left: number;
  fileBytes: number;
}

/** What a compress pass hands the encoder for one tensor. */
export interface EncodedTensorSpec {
  name: string;
  /** The exact values to store (decoding gives them back bit for bit, unless f16 is chosen lossily). */
  tensor: Tensor;
  /**
   * Weight sharing: centroids and one index per element (index = centroids.length
   * for a pruned zero). Must agree with tensor's values bit for bit.
   */
  codebook?: Codebook;
  /** Fixed point: integers and scales that give the tensor's values bit for bit (default: the exact grid of the values, if any). */
  grid?: Grid;
  /** Pattern pruning: the patterns the tensor's zeros follow (checked; found from the zeros when absent). */
  pattern?: PatternFormat;
  /** Binary / ternary weights: the channel axis of their levels (found along axis 0 when absent). */
  signsAxis?: number;
  /** Force an encoding; default 'auto' (the smallest; 'winograd' when `winograd` is given). */
  encoding?: TensorEncoding | 'auto';
  /** Store this Winograd transform of the filter (tensor: the filter it came from). */
  winograd?: WinogradForm;
  /** Allow lossy float16 storage (for biases); float16 is always allowed when exact. */
  f16?: boolean;
  /** Force the relative-index gap width (1..16); default: the best for the tensor. */
  gapBits?: number;
  /** Force Huffman coding of the symbol streams on or off; default: whichever is smaller. */
  huffman?: boolean;
  /** Longest Huffman code, 1..24 (default 16). */
  huffmanLimit?: number;
}

/** The spec of a weight-shared tensor: its values are rebuilt from the codebook. */
export function sharedTensorSpec(name: string, shape: readonly number[], codebook: Codebook, options: Omit<EncodedTensorSpec, 'name' | 'tensor' | 'codebook'> = {}): EncodedTensorSpec {
  checkCodebook(codebook, `tensor "${name}": codebook`);
  if (codebook.indices.length !== sizeOf(shape)) {
    throw new NnzipError(`tensor "${name}": codebook has ${codebook.indices.length} indices for shape [${shape.join(',')}]; give one index per element`);
  }
  return { ...options, name, tensor: new Tensor('float32', shape, codebookValues(codebook)), codebook };
}

export interface DecodedTensor extends TensorBody {
  name: string;
  encoding: TensorEncoding;
  /** Bytes of the whole section in the file (frame and CRC included). */
  bytes: number;
}

export interface EncodedPayload {
  payload: Uint8Array;
  encoding: TensorEncoding;
  huffman: TensorBody['huffman'];
  /** map-ctx: whether it stored the codebook or the grid (a tensor may have both). */
  stored?: 'codebook' | 'grid';
}

export function encodeTensorPayload(spec: EncodedTensorSpec): EncodedPayload {
  const where = `tensor "${spec.name}"`;
  const ctx = encodeContext(spec, where);
  const forced = spec.encoding !== undefined && spec.encoding !== 'auto';
  const names: TensorEncoding[] = forced ? [spec.encoding as TensorEncoding] : spec.winograd ? ['winograd'] : [...ENCODINGS];
  let best: { w: BitWriter; encoding: TensorEncoding; huffman: TensorBody['huffman']; stored?: 'codebook' | 'grid' } | undefined;
  for (const encoding of names) {
    const codec = CODECS[encoding];
    if (!codec.holds(spec.tensor.dtype) || !codec.applies(ctx, forced)) {
      const without = encoding.includes('codebook') ? ' without a codebook' : encoding.includes('grid') ? ' whose values are not on a grid'
        : encoding === 'binary' || encoding === 'ternary' ? ` (its values are not ${encoding} along axis ${spec.signsAxis ?? 0})` : '';
      if (forced) throw new NnzipError(`${where}: encoding "${encoding}" does not apply to this ${spec.tensor.dtype} tensor${without}; use another encoding or 'auto'`);
      continue;
    }
    const w = new BitWriter(1024);
    writeHeader(w, spec, encoding);
    const { stored, ...huffman } = codec.write(w, ctx);
    if (!best || w.bitLength < best.w.bitLength) best = { w, encoding, huffman, stored };
  }
  return { payload: best!.w.finish(), encoding: best!.encoding, huffman: best!.huffman, stored: best!.stored };
}

function encodeContext(spec: EncodedTensorSpec, where: string): EncodeContext {
  checkSpec(spec, where);
  let cached: { cb?: Codebook } | undefined;
  let patterns: { f?: PatternFormat } | undefined;
  let cachedGrid: { g?: Grid } | undefined;
  const signs = new Map<string, SignsForm | undefined>();
  return {
    where,
    tensor: spec.tensor,
    f16: spec.f16 ?? false,
    gapBits: spec.gapBits,
    winograd: spec.winograd,
    streams: { huffman: spec.huffman ?? 'auto', limit: spec.huffmanLimit },
    codebook() {
      if (spec.tensor.dtype !== 'float32') return undefined;
      cached ??= { cb: spec.codebook ?? exactCodebook(spec.tensor.data as Float32Array, codebookLimit(spec.tensor.size)) };
      return cached.cb;
    },
    pattern() {
      if (spec.tensor.dtype !== 'float32') return undefined;
      patterns ??= { f: spec.pattern ?? detectPatterns(spec.tensor.data as Float32Array, spec.tensor.shape) };
      return patterns.f;
    },
    grid() {
      if (spec.tensor.dtype !== 'float32') return undefined;
      cachedGrid ??= { g: spec.grid ?? exactGrid(spec.tensor.data as Float32Array, spec.tensor.shape) };
      return cachedGrid.g;
    },
    signs(kind) {
      if (spec.tensor.dtype !== 'float32') return undefined;
      if (!signs.has(kind)) signs.set(kind, signsForm(spec.tensor.data as Float32Array, spec.tensor.shape, spec.signsAxis ?? 0, kind));
      return signs.get(kind);
    },
  };
}

function checkSpec(spec: EncodedTensorSpec, where: string): void {
  if (typeof spec.name !== 'string' || spec.name === '') throw new NnzipError(`tensor spec: every tensor needs a non-empty name`);
  if (!(spec.tensor instanceof Tensor)) throw new NnzipError(`${where}: spec.tensor must be a Tensor`);
  if (spec.encoding !== undefined && spec.encoding !== 'auto' && !ENCODINGS.includes(spec.encoding)) {
    throw new NnzipError(`${where}: unknown encoding "${spec.encoding}"; use one of ${ENCODINGS.join(', ')} or 'auto'`);
  }
  if (spec.gapBits !== undefined) checkGapBits(spec.gapBits, where);
  if (spec.signsAxis !== undefined && !(Number.isInteger(spec.signsAxis) && spec.signsAxis >= 0 && spec.signsAxis < Math.max(1, spec.tensor.shape.length))) {
    throw new NnzipError(`${where}: signsAxis=${spec.signsAxis} is not an axis of shape [${spec.tensor.shape.join(',')}]`);
  }
  const limit = spec.huffmanLimit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_CODE_LENGTH)) {
    throw new NnzipError(`${where}: option huffmanLimit=${limit} is outside 1..${MAX_CODE_LENGTH}`);
  }
  if (spec.tensor.size > MAX_ELEMENTS) throw new NnzipError(`${where}: ${spec.tensor.size} elements exceed the format's ${MAX_ELEMENTS}`);
  if (spec.codebook) checkSpecCodebook(spec.codebook, spec.tensor, where);
  if (spec.pattern) {
    if (spec.tensor.dtype !== 'float32') throw new NnzipError(`${where}: patterns need a float32 tensor, not ${spec.tensor.dtype}`);
    checkPatternFormat(spec.tensor.data as Float32Array, spec.tensor.shape, spec.pattern, where);
  }
  if (spec.grid) checkSpecGrid(spec.grid, spec.tensor, where);
}

function checkSpecGrid(g: Grid, tensor: Tensor, where: string): void {
  if (tensor.dtype !== 'float32') throw new NnzipError(`${where}: a grid needs a float32 tensor, not ${tensor.dtype}`);
  checkGrid(g, tensor.shape, where);
  const decoded = decodeGrid(g, tensor.shape);
  const data = tensor.data as Float32Array;
  const a = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const b = new Uint32Array(decoded.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) throw new NnzipError(`${where}: element ${i} is ${data[i]} but its grid integer ${g.q[i]} gives ${decoded[i]}; the tensor and its grid disagree`);
  }
}

function checkSpecCodebook(cb: Codebook, tensor: Tensor, where: string): void {
  if (tensor.dtype !== 'float32') throw new NnzipError(`${where}: a codebook needs a float32 tensor, not ${tensor.dtype}`);
  if (cb.indices.length !== tensor.size) {
    throw new NnzipError(`${where}: codebook has ${cb.indices.length} indices for ${tensor.size} elements; give one index per element`);
  }
  checkCodebook(cb, `${where}: codebook`);
  const data = tensor.data as Float32Array;
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const cbits = new Uint32Array(cb.centroids.buffer, cb.centroids.byteOffset, cb.centroids.length);
  const k = cb.centroids.length;
  for (let i = 0; i < bits.length; i++) {
    const j = cb.indices[i];
    if (bits[i] !== (j === k ? 0 : cbits[j])) {
      throw new NnzipError(`${where}: element ${i} is ${data[i]} but codebook index ${j} gives ${j === k ? 0 : cb.centroids[j]}; the tensor and its codebook disagree`);
    }
  }
}

/** The fields before a tensor's body (docs/format.md §4) as stored: the name's bytes and the codes. */
export interface TensorHeader {
  name: Uint8Array;
  dtypeCode: number;
  encodingCode: number;
  dims: number[];
}

/** The largest encoding code the header's 4-bit field holds; the value 15 says a varint e follows and the code is 15 + e. */
const EXTENDED_CODE = 15;

// varint name length, UTF-8 name, 1 byte (dtype code | encoding code << 4) [, varint e for an extended code], varint rank, varint dims
export function writeTensorHeader(w: BitWriter, h: TensorHeader): void {
  w.writeVarint(h.name.length);
  w.writeBytes(h.name);
  w.writeBits(h.dtypeCode, 4);
  w.writeBits(Math.min(h.encodingCode, EXTENDED_CODE), 4);
  if (h.encodingCode >= EXTENDED_CODE) w.writeVarint(h.encodingCode - EXTENDED_CODE);
  w.writeVarint(h.dims.length);
  for (const d of h.dims) w.writeVarint(d);
}

function writeHeader(w: BitWriter, spec: EncodedTensorSpec, encoding: TensorEncoding): void {
  const name = new TextEncoder().encode(spec.name);
  writeTensorHeader(w, { name, dtypeCode: DTYPE_CODES.indexOf(spec.tensor.dtype), encodingCode: ENCODINGS.indexOf(encoding), dims: spec.tensor.shape });
}

/** Reads the name only (for error messages about a damaged section); undefined if unreadable. */
export function peekTensorName(payload: Uint8Array): string | undefined {
  try {
    const r = new BitReader(payload);
    const len = r.readVarint();
    return new TextDecoder('utf-8', { fatal: true }).decode(r.readBytes(len));
  } catch {
    return undefined;
  }
}

/**
 * Reads a payload's header. `body` is left at the first bit of the body and names the
 * tensor in its errors; `bodyOffset` is where the body starts in the payload.
 */
export function readTensorHeader(payload: Uint8Array, where: string): { header: TensorHeader; name: string; body: BitReader; bodyOffset: number } {
  const r = new BitReader(payload, where);
  const nameBytes = r.readBytes(r.readVarint());
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(nameBytes);
  } catch {
    throw new NnzipError(`${where}: tensor name is not valid UTF-8; the file is corrupt`);
  }
  const start = r.bitPosition / 8;
  const body = new BitReader(payload.subarray(start), `${where} (tensor "${name}")`);
  const dtypeCode = body.readBits(4);
  let encodingCode = body.readBits(4);
  if (encodingCode === EXTENDED_CODE) encodingCode += body.readVarint();
  const rank = body.readVarint();
  if (rank > MAX_RANK) throw new NnzipError(`${body.where}: rank ${rank} is over ${MAX_RANK}; the file is corrupt`);
  const dims = Array.from({ length: rank }, () => body.readVarint());
  return { header: { name: nameBytes, dtypeCode, encodingCode, dims }, name, body, bodyOffset: start + body.bitPosition / 8 };
}

/** Checks the shape before anything is allocated: every dimension, the count, and the file's budget. */
function checkShape(shape: number[], at: string, budget?: ElementBudget): number {
  if (shape.some((d) => d > MAX_ELEMENTS)) throw new NnzipError(`${at}: shape [${shape.join(',')}] has a dimension over ${MAX_ELEMENTS}; the file is corrupt`);
  const n = sizeOf(shape);
  if (n > MAX_ELEMENTS) throw new NnzipError(`${at}: shape [${shape.join(',')}] is too large; the file is corrupt`);
  if (budget) {
    if (n > budget.left) {
      const why = budget.limit === elementLimit(budget.fileBytes)
        ? `the most a ${budget.fileBytes}-byte file may hold (${ELEMENTS_PER_BYTE} per byte, docs/format.md §7); the file is corrupt (a model this sparse needs decode option maxElements)`
        : 'the maxElements given';
      throw new NnzipError(`${at}: shape [${shape.join(',')}] takes the file's tensors past ${budget.limit} elements, ${why}`);
    }
    budget.left -= n;
  }
  return n;
}

export function decodeTensorPayload(payload: Uint8Array, where: string, budget?: ElementBudget): Omit<DecodedTensor, 'bytes'> {
  const { header, name, body: r } = readTensorHeader(payload, where);
  const at = r.where;
  const dtype = DTYPE_CODES[header.dtypeCode];
  const encoding = ENCODINGS[header.encodingCode];
  if (!dtype || !encoding) throw new NnzipError(`${at}: unknown dtype or encoding code; the file is corrupt or from a newer nnzip`);
  const shape = header.dims;
  const n = checkShape(shape, at, budget);
  const ctx: DecodeContext = { where: at, dtype, shape, n };
  const codec = CODECS[encoding];
  if (!codec.holds(dtype)) throw new NnzipError(`${at}: encoding "${encoding}" cannot hold a ${dtype} tensor; the file is corrupt`);
  const body = codec.read(r, ctx);
  if (r.bitsLeft >= 8) throw new NnzipError(`${at}: ${Math.floor(r.bitsLeft / 8)} unexpected bytes after the tensor data; the file is corrupt`);
  return { name, encoding, ...body };
}
