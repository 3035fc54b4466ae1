// Structure-aware .nnz mutation: split the file into its sections (format/container.ts),
// decode what each holds (tensor header and body, the graph's JSON, the meta JSON),
// edit one field, encode again and frame the sections with fresh CRCs, so the edit
// reaches the decoders behind the CRC checks. A few edits leave a CRC stale or cut
// the file on purpose.
import { Deflate, deflateSync, inflateSync } from 'fflate';
import { assembleNnz, nnzSections, SECTION_KINDS, type RawSection } from '../../src/format/container.js';
import { BitWriter } from '../../src/format/bits.js';
import { decodeTensorPayload, encodeTensorPayload, readTensorHeader, writeTensorHeader, type TensorHeader } from '../../src/format/tensor_codec.js';
import { ENCODINGS, type TensorEncoding } from '../../src/format/tensor_encodings.js';
import { dequantizeValue } from '../../src/ir/quant.js';
import { Tensor } from '../../src/ir/tensor.js';
import { editJson, interestingBytes, interestingUint, type Edit } from './values.js';

type Json = Parameters<typeof editJson>[0];

type Section =
  | { kind: 'tensor'; header: TensorHeader; body: Uint8Array; payload: Uint8Array }
  | { kind: 'json'; code: number; json: Json }
  | { kind: 'raw'; code: number; payload: Uint8Array };

export interface NnzModel {
  version: { major: number; minor: number };
  sections: Section[];
}

const utf8 = new TextEncoder();

/** Splits a valid file into editable sections (the graph JSON inflated). */
export function parseNnz(bytes: Uint8Array): NnzModel {
  const { version, sections } = nnzSections(bytes, 'seed');
  return { version, sections: sections.map(parseSection) };
}

function parseSection(s: RawSection): Section {
  if (s.kind === SECTION_KINDS.tensor) {
    const { header, bodyOffset } = readTensorHeader(s.payload, 'seed');
    return { kind: 'tensor', header, body: s.payload.slice(bodyOffset), payload: s.payload.slice() };
  }
  const text = new TextDecoder().decode(s.kind === SECTION_KINDS.graph ? inflateSync(s.payload) : s.payload);
  return { kind: 'json', code: s.kind, json: JSON.parse(text) };
}

function payloadOf(s: Section): RawSection {
  if (s.kind === 'tensor') {
    const w = new BitWriter(s.body.length + 64);
    writeTensorHeader(w, s.header);
    w.writeBytes(s.body);
    return { kind: SECTION_KINDS.tensor, payload: w.finish() };
  }
  if (s.kind === 'raw') return { kind: s.code, payload: s.payload };
  const text = utf8.encode(JSON.stringify(s.json));
  return { kind: s.code, payload: s.code === SECTION_KINDS.graph ? deflateSync(text) : text };
}

export function serializeNnz(m: NnzModel): Uint8Array {
  return assembleNnz(m.sections.map(payloadOf), m.version);
}

const REENCODE: (TensorEncoding | 'auto')[] = ['auto', ...ENCODINGS];

/**
 * Moves float values onto a grid with `levels` steps each side of zero (one scale, or
 * one per row when `perRow`), as DequantizeLinear computes them: the grid encodings
 * apply only to such values, so a forced grid encoding of trained weights needs this.
 * Values that are not finite stay (the grid encodings then refuse the tensor).
 */
export function snapToGrid(t: Tensor, levels: number, perRow: boolean): void {
  const d = t.data as Float32Array;
  const rows = perRow && t.shape.length >= 2 && t.shape[0] > 1 ? t.shape[0] : 1;
  const inner = d.length / rows;
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let i = r * inner; i < (r + 1) * inner; i++) if (Number.isFinite(d[i])) max = Math.max(max, Math.abs(d[i]));
    const scale = Math.fround(max / levels) || 1;
    for (let i = r * inner; i < (r + 1) * inner; i++) if (Number.isFinite(d[i])) d[i] = dequantizeValue(Math.round(d[i] / scale), scale, 0);
  }
}

/** Decode the tensor, change its values or shape, encode it again with forced options. */
function reencode(s: Extract<Section, { kind: 'tensor' }>, e: Edit): void {
  let t;
  try {
    t = decodeTensorPayload(s.payload, 'seed').tensor;
  } catch {
    return; // an earlier edit broke it; nothing to re-encode
  }
  let tensor: Tensor = t.clone();
  const n = tensor.size;
  switch (e.a % 5) {
    case 0:
      tensor = tensor.reshape([n]);
      break;
    case 1:
      tensor = tensor.reshape([...tensor.shape, 1]);
      break;
    case 2:
      tensor = tensor.reshape([...tensor.shape].reverse());
      break;
    case 3:
      if (n && tensor.dtype === 'float32') (tensor.data as Float32Array)[e.b % n] = [NaN, Infinity, -0, 0, 3e38][e.b % 5];
      break;
    default:
      if (n && tensor.dtype === 'float32') (tensor.data as Float32Array).fill(0, 0, e.b % (n + 1));
  }
  const encoding = REENCODE[e.b % REENCODE.length];
  if (encoding.includes('grid') && tensor.dtype === 'float32') snapToGrid(tensor, [1, 7, 127, 2047][(e.op >>> 2) % 4], ((e.b >>> 8) & 1) === 1);
  const spec = { name: new TextDecoder().decode(s.header.name), tensor, encoding, huffman: [undefined, true, false][e.op % 3], gapBits: e.a % 4 ? undefined : 1 + (e.b % 16), f16: e.b % 7 === 0 };
  try {
    s.payload = encodeTensorPayload(spec).payload;
  } catch {
    return; // the encoder refuses (e.g. an encoding that does not apply): keep the section
  }
  const parsed = readTensorHeader(s.payload, 'seed');
  s.header = parsed.header;
  s.body = s.payload.slice(parsed.bodyOffset);
}

function editTensor(s: Extract<Section, { kind: 'tensor' }>, e: Edit, names: Uint8Array[]): void {
  const h = s.header;
  switch (e.op % 9) {
    case 0:
      if (h.dims.length) h.dims[e.a % h.dims.length] = interestingUint(h.dims[e.a % h.dims.length], e.b);
      break;
    case 1:
      if (e.a % 2) h.dims.push(interestingUint(1, e.b));
      else h.dims.pop();
      break;
    case 2:
      h.dtypeCode = e.b % 16;
      break;
    case 3:
      h.encodingCode = e.b % 16;
      break;
    case 4:
      h.name = [new Uint8Array(0), Uint8Array.of(0xff, 0xfe), utf8.encode('x'.repeat(300)), names[e.b % names.length]][e.a % 4];
      break;
    case 5:
      if (s.body.length) {
        s.body = s.body.slice();
        s.body[(e.a >>> 3) % s.body.length] ^= 1 << (e.a % 8);
      }
      break;
    case 6: {
      // a varint with a boundary value written over the body at some byte (counts sit there)
      const w = new BitWriter(16);
      w.writeVarint(interestingUint(0, e.b));
      const v = w.finish();
      const at = s.body.length ? e.a % s.body.length : 0;
      const out = new Uint8Array(Math.max(s.body.length, at + v.length));
      out.set(s.body);
      out.set(v, at);
      s.body = out;
      break;
    }
    case 7:
      s.body = interestingBytes(s.body, e.a, e.b, e.a + e.b);
      break;
    default:
      return reencode(s, e);
  }
  const w = new BitWriter(s.body.length + 64);
  writeTensorHeader(w, h);
  w.writeBytes(s.body);
  s.payload = w.finish();
}

const bombs = new Map<number, Uint8Array>();

/** `mib` MiB of whitespace then `{}`, deflated (about 1000:1): made once per size, 1 MiB at a time. */
function deflateBomb(mib: number): Uint8Array {
  let bomb = bombs.get(mib);
  if (!bomb) {
    const parts: Uint8Array[] = [];
    const d = new Deflate({ level: 9 }, (chunk) => parts.push(chunk));
    const spaces = new Uint8Array(1 << 20).fill(0x20);
    for (let i = 0; i < mib; i++) d.push(spaces);
    d.push(utf8.encode('{}'), true);
    bomb = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (bomb!.set(p, at), at + p.length), 0);
    bombs.set(mib, bomb);
  }
  return bomb;
}

function editSection(m: NnzModel, e: Edit): void {
  const list = m.sections;
  const i = list.length ? e.site % list.length : 0;
  const s = list[i];
  const names = list.flatMap((x) => (x.kind === 'tensor' ? [x.header.name] : []));
  switch (e.op % 16) {
    case 0:
      list.splice(i, 1);
      return;
    case 1:
      if (s) list.splice(i, 0, structuredClone(s));
      return;
    case 2:
      if (i + 1 < list.length) [list[i], list[i + 1]] = [list[i + 1], list[i]];
      return;
    case 3:
      if (s) list[i] = { kind: 'raw', code: e.b % 8, payload: payloadOf(s).payload };
      return;
    case 4:
      m.version = { major: e.a % 4 === 0 ? e.b % 256 : m.version.major, minor: e.b % 256 };
      return;
    case 5: {
      const g = list.find((x) => x.kind === 'json' && x.code === SECTION_KINDS.graph);
      const bomb: Section = { kind: 'raw', code: SECTION_KINDS.graph, payload: deflateBomb([2, 16, 64][e.b % 3]) };
      if (g) list[list.indexOf(g)] = bomb;
      else list.push(bomb);
      return;
    }
    default:
      if (!s) return;
      if (s.kind === 'tensor') return editTensor(s, { ...e, op: e.op >>> 4 }, names);
      if (s.kind === 'json') return editJson(s.json, { ...e, site: e.a, op: e.op >>> 4, a: e.b, b: e.a ^ e.b });
      s.payload = interestingBytes(s.payload, e.op >>> 4, e.a, e.b);
  }
}

/**
 * The edits applied to the seed, framed with fresh CRCs; then `damage` (if given)
 * flips one byte or cuts the file without fixing the CRCs.
 */
export function mutateNnz(seed: NnzModel, edits: readonly Edit[], damage?: { at: number; cut: boolean }): Uint8Array {
  const m = structuredClone(seed);
  for (const e of edits) editSection(m, e);
  const bytes = serializeNnz(m);
  if (!damage) return bytes;
  const at = damage.at % bytes.length;
  if (damage.cut) return bytes.slice(0, at);
  bytes[at] ^= 0x5a;
  return bytes;
}
