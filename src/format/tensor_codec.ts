// One tensor section's payload: name, dtype, shape, encoding code, then the body
// of the chosen encoding (tensor_encodings.ts). "auto" encodes every encoding that
// applies and keeps the smallest (ties → the earlier one in ENCODINGS).
import { NnzipError } from '../ir/errors.js';
import { DType, Tensor, sizeOf } from '../ir/tensor.js';
import { BitReader, BitWriter } from './bits.js';
import { Codebook, checkCodebook, codebookValues, exactCodebook } from './codebook.js';
import { MAX_CODE_LENGTH } from './huffman.js';
import { checkGapBits } from './relative_index.js';
import { checkPatternFormat, detectPatterns } from '../ir/pattern.js';
import type { PatternFormat } from '../ir/tensor_format.js';
import { CODECS, DecodeContext, EncodeContext, ENCODINGS, TensorBody, TensorEncoding } from './tensor_encodings.js';

/** Index = the dtype code stored in the file. */
export const DTYPE_CODES: readonly DType[] = ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'int64', 'bool'];
const MAX_ELEMENTS = 2 ** 31 - 1;
const MAX_RANK = 32;

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
  /** Pattern pruning: the patterns the tensor's zeros follow (checked; found from the zeros when absent). */
  pattern?: PatternFormat;
  /** Force an encoding; default 'auto' (the smallest). */
  encoding?: TensorEncoding | 'auto';
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
}

export function encodeTensorPayload(spec: EncodedTensorSpec): EncodedPayload {
  const where = `tensor "${spec.name}"`;
  const ctx = encodeContext(spec, where);
  const forced = spec.encoding !== undefined && spec.encoding !== 'auto';
  const names: TensorEncoding[] = forced ? [spec.encoding as TensorEncoding] : [...ENCODINGS];
  let best: { w: BitWriter; encoding: TensorEncoding; huffman: TensorBody['huffman'] } | undefined;
  for (const encoding of names) {
    const codec = CODECS[encoding];
    if (!codec.holds(spec.tensor.dtype) || !codec.applies(ctx, forced)) {
      if (forced) throw new NnzipError(`${where}: encoding "${encoding}" does not apply to this ${spec.tensor.dtype} tensor${encoding.includes('codebook') ? ' without a codebook' : ''}; use another encoding or 'auto'`);
      continue;
    }
    const w = new BitWriter(1024);
    writeHeader(w, spec, encoding);
    const huffman = codec.write(w, ctx);
    if (!best || w.bitLength < best.w.bitLength) best = { w, encoding, huffman };
  }
  return { payload: best!.w.finish(), encoding: best!.encoding, huffman: best!.huffman };
}

function encodeContext(spec: EncodedTensorSpec, where: string): EncodeContext {
  checkSpec(spec, where);
  let cached: { cb?: Codebook } | undefined;
  let patterns: { f?: PatternFormat } | undefined;
  return {
    where,
    tensor: spec.tensor,
    f16: spec.f16 ?? false,
    gapBits: spec.gapBits,
    streams: { huffman: spec.huffman ?? 'auto', limit: spec.huffmanLimit },
    codebook() {
      if (spec.tensor.dtype !== 'float32') return undefined;
      cached ??= { cb: spec.codebook ?? exactCodebook(spec.tensor.data as Float32Array) };
      return cached.cb;
    },
    pattern() {
      if (spec.tensor.dtype !== 'float32') return undefined;
      patterns ??= { f: spec.pattern ?? detectPatterns(spec.tensor.data as Float32Array, spec.tensor.shape) };
      return patterns.f;
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

// header: varint name length, UTF-8 name, 1 byte (dtype code | encoding code << 4), varint rank, varint dims
function writeHeader(w: BitWriter, spec: EncodedTensorSpec, encoding: TensorEncoding): void {
  const name = new TextEncoder().encode(spec.name);
  w.writeVarint(name.length);
  w.writeBytes(name);
  w.writeBits(DTYPE_CODES.indexOf(spec.tensor.dtype), 4);
  w.writeBits(ENCODINGS.indexOf(encoding), 4);
  w.writeVarint(spec.tensor.shape.length);
  for (const d of spec.tensor.shape) w.writeVarint(d);
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

export function decodeTensorPayload(payload: Uint8Array, where: string): Omit<DecodedTensor, 'bytes'> {
  const r = new BitReader(payload, where);
  const nameBytes = r.readBytes(r.readVarint());
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(nameBytes);
  } catch {
    throw new NnzipError(`${where}: tensor name is not valid UTF-8; the file is corrupt`);
  }
  const at = `${where} (tensor "${name}")`;
  const r2 = new BitReader(payload.subarray(r.bitPosition / 8), at);
  const dtype = DTYPE_CODES[r2.readBits(4)];
  const encoding = ENCODINGS[r2.readBits(4)];
  if (!dtype || !encoding) throw new NnzipError(`${at}: unknown dtype or encoding code; the file is corrupt or from a newer nnzip`);
  const rank = r2.readVarint();
  if (rank > MAX_RANK) throw new NnzipError(`${at}: rank ${rank} is over ${MAX_RANK}; the file is corrupt`);
  const shape = Array.from({ length: rank }, () => r2.readVarint());
  const n = sizeOf(shape);
  if (n > MAX_ELEMENTS) throw new NnzipError(`${at}: shape [${shape.join(',')}] is too large; the file is corrupt`);
  const ctx: DecodeContext = { where: at, dtype, shape, n };
  const codec = CODECS[encoding];
  if (!codec.holds(dtype)) throw new NnzipError(`${at}: encoding "${encoding}" cannot hold a ${dtype} tensor; the file is corrupt`);
  const body = codec.read(r2, ctx);
  if (r2.bitsLeft >= 8) throw new NnzipError(`${at}: ${Math.floor(r2.bitsLeft / 8)} unexpected bytes after the tensor data; the file is corrupt`);
  return { name, encoding, ...body };
}
