// The .nnz container (docs/format.md): magic "NNZ", major and minor version,
// sections (kind, varint length, payload, CRC-32), then a CRC-32 of the whole file.
// Sections: meta (JSON), graph (opaque bytes from the caller), one per tensor.
import { NnzipError } from '../ir/errors.js';
import { BitReader, BitWriter } from './bits.js';
import { crc32 } from './crc32.js';
import { decodeTensorPayload, DecodedTensor, elementLimit, encodeTensorPayload, EncodedTensorSpec, peekTensorName, type ElementBudget } from './tensor_codec.js';
import { TensorEncoding, TensorBody } from './tensor_encodings.js';

export const MAGIC = new Uint8Array([0x4e, 0x4e, 0x5a]); // "NNZ"
/** Readers refuse a newer major version; a newer minor version only adds section kinds, which are skipped. */
export const FORMAT_MAJOR = 2;
export const FORMAT_MINOR = 5;
const HEADER_BYTES = 5;
const CRC_BYTES = 4;

export const SECTION_KINDS = { meta: 1, graph: 2, tensor: 3 } as const;
type SectionKind = keyof typeof SECTION_KINDS;
const KIND_NAMES = new Map<number, SectionKind>(Object.entries(SECTION_KINDS).map(([k, v]) => [v, k as SectionKind]));

export interface NnzInput {
  /** The graph structure (e.g. ONNX bytes without weights); stored as is. */
  graph: Uint8Array;
  tensors: EncodedTensorSpec[];
  /** Any JSON-serialisable object (recipe, accuracy, versions). */
  meta?: Record<string, unknown>;
}

export interface NnzContents {
  graph: Uint8Array;
  tensors: Map<string, DecodedTensor>;
  meta?: Record<string, unknown>;
  version: { major: number; minor: number };
}

export interface SectionReport {
  kind: SectionKind;
  name?: string;
  encoding?: TensorEncoding;
  huffman?: TensorBody['huffman'];
  /** Bytes in the file, frame and CRC included. */
  bytes: number;
}

export function encodeNnz(input: NnzInput): Uint8Array {
  return encodeNnzWithReport(input).bytes;
}

/** Encodes and says what each section became and how many bytes it takes. */
export function encodeNnzWithReport(input: NnzInput): { bytes: Uint8Array; sections: SectionReport[] } {
  if (!(input.graph instanceof Uint8Array)) throw new NnzipError(`encodeNnz: graph must be a Uint8Array (use an empty one for none)`);
  const sections: RawSection[] = [];
  const reports: SectionReport[] = [];
  const add = (kind: SectionKind, payload: Uint8Array, extra: Omit<SectionReport, 'kind' | 'bytes'> = {}): void => {
    sections.push({ kind: SECTION_KINDS[kind], payload });
    reports.push({ kind, ...extra, bytes: sectionBytes(payload.length) });
  };
  if (input.meta !== undefined) add('meta', encodeMeta(input.meta));
  if (input.graph.length > 0) add('graph', input.graph);
  const seen = new Set<string>();
  for (const spec of input.tensors) {
    if (seen.has(spec.name)) throw new NnzipError(`encodeNnz: tensor "${spec.name}" is listed twice; names must be unique`);
    seen.add(spec.name);
    const { payload, encoding, huffman } = encodeTensorPayload(spec);
    add('tensor', payload, { name: spec.name, encoding, huffman });
  }
  return { bytes: assembleNnz(sections), sections: reports };
}

/** One section as framed in the file: its kind code and payload. */
export interface RawSection {
  kind: number;
  payload: Uint8Array;
}

/** Bytes a section with an L-byte payload takes: kind, varint L, payload, CRC. */
function sectionBytes(length: number): number {
  let varint = 1;
  for (let v = length; v >= 0x80; v = Math.floor(v / 0x80)) varint++;
  return 1 + varint + length + CRC_BYTES;
}

/** The file: magic, version, the sections framed with their CRCs, the whole-file CRC. */
export function assembleNnz(sections: readonly RawSection[], version = { major: FORMAT_MAJOR, minor: FORMAT_MINOR }): Uint8Array {
  const w = new BitWriter(1 << 16);
  w.writeBytes(MAGIC);
  w.writeBits(version.major, 8);
  w.writeBits(version.minor, 8);
  for (const s of sections) writeSection(w, s.kind, s.payload);
  const body = w.finish();
  const bytes = new Uint8Array(body.length + CRC_BYTES);
  bytes.set(body);
  new DataView(bytes.buffer).setUint32(body.length, crc32(body), true);
  return bytes;
}

function writeSection(w: BitWriter, kind: number, payload: Uint8Array): void {
  const head = new BitWriter(16);
  head.writeBits(kind, 8);
  head.writeVarint(payload.length);
  const headBytes = head.finish();
  w.writeBytes(headBytes);
  w.writeBytes(payload);
  w.writeBits(crc32(payload, crc32(headBytes)), 32);
}

interface FramedSection extends RawSection {
  /** 1-based position in the file, for error messages. */
  index: number;
  /** Bytes in the file, frame and CRC included. */
  bytes: number;
}

/** The version and the sections of a file whose CRCs all check (any kind, payloads as views). */
export function nnzSections(input: Uint8Array, source = 'nnz data'): { version: { major: number; minor: number }; sections: RawSection[] } {
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return { version: readHeader(bytes, source), sections: readSections(bytes, source) };
}

export interface DecodeOptions {
  /**
   * Most elements the file's tensors may hold together (default: elementLimit(file size),
   * docs/format.md §7). Raise it for a model that really is sparser than the default allows.
   */
  maxElements?: number;
}

/** Decodes a .nnz file; `source` names it in errors (e.g. the file path). */
export function decodeNnz(input: Uint8Array, source = 'nnz data', options: DecodeOptions = {}): NnzContents {
  // a plain view: Node's Buffer.slice() would alias instead of copying
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const version = readHeader(bytes, source);
  const sections = readSections(bytes, source);
  const limit = options.maxElements ?? elementLimit(bytes.length);
  const budget: ElementBudget = { limit, left: limit, fileBytes: bytes.length };
  const out: NnzContents = { graph: new Uint8Array(0), tensors: new Map(), version };
  const seen = new Set<SectionKind>();
  for (const s of sections) {
    const kind = KIND_NAMES.get(s.kind);
    if (kind === undefined) continue; // added by a newer minor version
    const where = `${source}: section ${s.index} (${kind})`;
    if (kind !== 'tensor' && seen.has(kind)) throw new NnzipError(`${where}: a second ${kind} section; the file is corrupt`);
    seen.add(kind);
    if (kind === 'meta') out.meta = parseMeta(s.payload, where);
    else if (kind === 'graph') out.graph = s.payload.slice();
    else {
      const t = decodeTensorPayload(s.payload, where, budget);
      if (out.tensors.has(t.name)) throw new NnzipError(`${where}: tensor "${t.name}" appears twice; the file is corrupt`);
      out.tensors.set(t.name, { ...t, bytes: s.bytes });
    }
  }
  return out;
}

function readHeader(bytes: Uint8Array, source: string): { major: number; minor: number } {
  if (bytes.length < HEADER_BYTES + CRC_BYTES) {
    throw new NnzipError(`${source}: truncated: ${bytes.length} bytes is shorter than the smallest .nnz file (${HEADER_BYTES + CRC_BYTES})`);
  }
  if (MAGIC.some((b, i) => bytes[i] !== b)) throw new NnzipError(`${source}: not an .nnz file (it does not start with "NNZ")`);
  const major = bytes[3];
  const minor = bytes[4];
  if (major > FORMAT_MAJOR) throw new NnzipError(`${source}: format version ${major} is newer than this nnzip reads (${FORMAT_MAJOR}); upgrade nnzip`);
  if (major < FORMAT_MAJOR) throw new NnzipError(`${source}: format version ${major} is not supported (this nnzip reads ${FORMAT_MAJOR}); re-encode the model`);
  return { major, minor };
}

/** Splits the sections and checks every CRC, naming the first damaged section. */
function readSections(bytes: Uint8Array, source: string): FramedSection[] {
  const end = bytes.length - CRC_BYTES;
  const sections: FramedSection[] = [];
  const r = new BitReader(bytes.subarray(0, end), source);
  r.readBytes(HEADER_BYTES);
  for (let index = 1; r.bitsLeft > 0; index++) {
    const start = r.bitPosition / 8;
    const where = `${source}: section ${index}`;
    let kind: number;
    let length: number;
    try {
      kind = r.readBits(8);
      length = r.readVarint();
    } catch {
      throw new NnzipError(`${where}: truncated section header; the file is cut short or corrupt`);
    }
    const kindName = KIND_NAMES.get(kind) ?? `kind ${kind}`;
    const left = end - r.bitPosition / 8 - CRC_BYTES;
    if (length > left) {
      throw new NnzipError(`${where} (${kindName}): truncated: it declares ${length} bytes but only ${Math.max(0, left)} remain; the file is cut short or corrupt`);
    }
    const payload = r.readBytes(length);
    const stored = r.readBits(32) >>> 0;
    const computed = crc32(bytes.subarray(start, r.bitPosition / 8 - CRC_BYTES));
    if (stored !== computed) {
      const name = kind === SECTION_KINDS.tensor ? peekTensorName(payload) : undefined;
      const label = name !== undefined ? `tensor "${name}"` : kindName;
      throw new NnzipError(`${where} (${label}): CRC-32 mismatch (stored ${hex(stored)}, computed ${hex(computed)}); the file is corrupt`);
    }
    sections.push({ index, kind, payload, bytes: r.bitPosition / 8 - start });
  }
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(end, true);
  const computed = crc32(bytes.subarray(0, end));
  if (stored !== computed) {
    throw new NnzipError(`${source}: whole-file CRC-32 mismatch after section ${sections.length} (stored ${hex(stored)}, computed ${hex(computed)}); the file is truncated or corrupt`);
  }
  return sections;
}

function encodeMeta(meta: Record<string, unknown>): Uint8Array {
  let json: string | undefined;
  try {
    json = meta && typeof meta === 'object' && !Array.isArray(meta) ? JSON.stringify(meta) : undefined;
  } catch {
    json = undefined;
  }
  if (json === undefined) throw new NnzipError(`encodeNnz: meta must be a JSON-serialisable object (no bigint, no cycles)`);
  return new TextEncoder().encode(json);
}

function parseMeta(payload: Uint8Array, where: string): Record<string, unknown> {
  try {
    const meta: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    if (meta && typeof meta === 'object' && !Array.isArray(meta)) return meta as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new NnzipError(`${where}: meta is not a JSON object; the file is corrupt`);
}

function hex(v: number): string {
  return '0x' + v.toString(16).padStart(8, '0');
}
