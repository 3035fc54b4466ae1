// Weight matrices as constant C arrays in their compressed form, and the C loop
// that visits the stored weights of one row. Kernels are written against that
// loop (`col`, `w` per stored weight), so each storage kind is one table entry:
//   dense f32          every weight, row-major
//   sparse f32         relative index (Han): per row, b-bit gaps (zeros skipped) and
//                      the float values; a gap too long takes a filler of value 0
//   codebook           b-bit indices into the centroids, every weight
//   sparse codebook    relative index with the centroid index in the same field
//   grid               fixed point: b-bit integers q − zero, w = f32(q − zero) · scale
//                      (one scale, or one per row or column), as DequantizeLinear
//   sparse grid        relative index with the integer in the same field
//   signs              binary / ternary (ir/binary.ts): 1 bit (sign) or 2 bits (trit) per
//                      weight and two levels per row or column, w = +pos or −neg (or 0)
// Fields are whole C integers (8, 16, 32 bits: one load each) when that costs little
// more than packing them, else LSB-first bit streams (docs/format.md) read by
// nnz_field. The smallest kind the weight's format allows is chosen. A new format
// adds one entry to STORAGES and its kind to C_FORMATS; until then its weights are
// written decompressed, and the report says so. Pattern and Winograd weights run on
// their own conv kernels (kernels/conv_pattern.ts, conv_winograd.ts); a layer those
// cannot take (a stride of 2, Winograd off) reaches this table with the note.
import { channelLevels, trit, type ChannelLevels } from '../../../ir/binary.js';
import { fail } from '../../../ir/errors.js';
import type { CodebookFormat } from '../../../ir/tensor_format.js';
import { BitWriter, bitsFor } from '../../../format/bits.js';
import { relativeEntries } from '../../../format/relative_index.js';
import type { PlanWeight } from '../../plan_types.js';
import { arrayBytes, cInt, uintType, type CArray } from './writer.js';

/** A weight matrix rows × cols (row-major) as the kernel visits it. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
  /** The codebook behind `data` when it still matches it bit for bit. */
  codebook?: CodebookFormat;
  /** The graph stores it pruned (sparse or codebook with zeros). */
  sparse: boolean;
  /** The graph stores it compressed (it has a format): the storages below may apply. */
  formatted: boolean;
  /** The scales (and zero points) of its grid format, float32 scales only. */
  gridScales?: { scale: Float32Array; zero?: Int32Array };
  /** Its format's kind when no storage executes that format (then it is written decompressed). */
  decompressed?: string;
  /** Its binary / ternary format's kind: the signs storage may apply. */
  signs?: 'binary' | 'ternary';
}

/** Format kinds (ir/tensor_format.ts) the storages execute in their compressed form. */
const C_FORMATS: ReadonlySet<string> = new Set(['sparse', 'codebook', 'grid', 'binary', 'ternary']);

export interface CStorage {
  kind: string;
  /** One line for the report: bits per field, entries, fillers. */
  detail: string;
  arrays: CArray[];
  bytes: number;
  /** Prelude helpers (prelude.ts) the loop calls. */
  helpers: string[];
  /**
   * Statements visiting the stored weights of row `row` (a C expression): `col` (int) and
   * `w` (float) are set before `body`. `unroll`: a small body (a multiply-add) gets its
   * loop unrolled 4 times (NNZ_UNROLL4), which halves a sparse fc's time on x86.
   */
  loop(row: string, body: string[], unroll?: boolean): string[];
}

interface StorageKind {
  /** Whether the kind can hold this matrix. */
  applies(m: Matrix): boolean;
  make(m: Matrix, prefix: string): CStorage;
}

/** Bytes packed LSB-first, with the 3 bytes of padding nnz_field reads past the last field. */
function pack(fields: ArrayLike<number>, width: number): Uint8Array {
  const w = new BitWriter(Math.ceil((fields.length * width) / 8) + 4);
  for (let i = 0; i < fields.length; i++) w.writeBits(fields[i], width);
  const bytes = w.finish();
  const out = new Uint8Array(bytes.length + 3);
  out.set(bytes);
  return out;
}

/** Bits of a field stored as a whole C integer (one load each): 8, 16 or 32. */
const WHOLE = [8, 16, 32];

/** Fields of `width` bits as a C array and the expression reading field e: whole integers, or packed bits read by nnz_field. */
function fieldStream(name: string, fields: ArrayLike<number>, width: number, what: string): { array: CArray; read(e: string): string; helpers: string[] } {
  if (WHOLE.includes(width)) {
    return { array: { name, type: `uint${width}_t`, values: fields, what }, read: (e) => `(uint32_t)${name}[${e}]`, helpers: [] };
  }
  return { array: { name, type: 'uint8_t', values: pack(fields, width), what: `${what}, ${width}-bit fields packed LSB-first` }, read: (e) => `nnz_field(${name}, ${e}, ${width}u)`, helpers: ['field'] };
}

/** Fillers (entries of value 0 that only advance the position) may add at most this fraction to the work. */
const FILLER_SHARE = 0.01;

/** Whole-integer fields are taken when they cost at most this much more than packed ones. */
const ALIGNED_SLACK = 1.4;

/**
 * The field width for entries of `valueBits` plus a gap: among the gap widths whose
 * fillers add at most 1% to the work (a filler of a conv weight costs a whole pass
 * over the output), the packed width of the fewest bits, or a whole-integer width
 * (one load per entry instead of a shift and mask at a bit offset) when it costs at
 * most ALIGNED_SLACK times as many bits.
 */
function fieldWidth(m: Matrix, keep: (i: number) => boolean, valueBits: number, maxGap: number): { gap: number; width: number } {
  const all = gapCosts(m, keep, valueBits, maxGap);
  const fewest = Math.min(...all.map((c) => c.fillers));
  const ok = all.filter((c) => c.fillers <= Math.max(fewest, FILLER_SHARE * c.entries));
  const packed = ok.reduce((a, b) => (b.bits < a.bits ? b : a));
  const whole = ok.filter((c) => WHOLE.includes(c.gap + valueBits)).sort((a, b) => a.bits - b.bits)[0];
  const pick = whole && whole.bits <= ALIGNED_SLACK * packed.bits ? whole : packed;
  return { gap: pick.gap, width: pick.gap + valueBits };
}

/** A storage whose loop is wrapped in a block of its own (its declarations stay local). */
function finish(kind: string, detail: string, arrays: CArray[], helpers: string[], loop: (row: string, body: string[]) => string[]): CStorage {
  return {
    kind, detail, arrays, helpers, bytes: arrays.reduce((s, a) => s + arrayBytes(a), 0),
    loop: (row, body, unroll) => {
      const lines = loop(row, body);
      if (unroll) lines.splice(lines.findIndex((l) => l.startsWith('for (')), 0, 'NNZ_UNROLL4');
      return ['{', ...lines.map((l) => `  ${l}`), '}'];
    },
  };
}

/** Stored positions of one row and the gaps of its entries (fillers included) at gapBits. */
interface RowEntries {
  gaps: number[];
  /** Flat index of the weight of each entry, -1 for a filler. */
  source: number[];
  starts: number[];
}

function rowEntries(m: Matrix, keep: (i: number) => boolean, gapBits: number): RowEntries {
  const gaps: number[] = [], source: number[] = [], starts = [0];
  for (let r = 0; r < m.rows; r++) {
    const pos: number[] = [];
    for (let c = 0; c < m.cols; c++) if (keep(r * m.cols + c)) pos.push(c);
    const e = relativeEntries(pos, gapBits);
    for (let k = 0; k < e.gaps.length; k++) {
      gaps.push(e.gaps[k]);
      source.push(e.source[k] < 0 ? -1 : r * m.cols + pos[e.source[k]]);
    }
    starts.push(gaps.length);
  }
  return { gaps, source, starts };
}

interface GapCost { gap: number; bits: number; entries: number; fillers: number }

/** Entries, fillers and total bits at each gap width 1..maxGap when each entry also holds `valueBits`. */
function gapCosts(m: Matrix, keep: (i: number) => boolean, valueBits: number, maxGap: number): GapCost[] {
  const trueGaps: number[] = [];
  for (let r = 0; r < m.rows; r++) {
    let prev = -1;
    for (let c = 0; c < m.cols; c++) if (keep(r * m.cols + c)) { trueGaps.push(c - prev - 1); prev = c; }
  }
  const out: GapCost[] = [];
  for (let b = 1; b <= Math.min(16, maxGap); b++) {
    let fillers = 0;
    for (const g of trueGaps) fillers += Math.floor(g / 2 ** b);
    out.push({ gap: b, entries: trueGaps.length, fillers, bits: (trueGaps.length + fillers) * (b + valueBits) });
  }
  return out;
}

function startsArray(prefix: string, starts: number[]): CArray {
  return { name: `${prefix}_start`, type: uintType(starts[starts.length - 1]), values: starts, what: 'first entry of each row' };
}

const nonzero = (m: Matrix) => (i: number) => m.data[i] !== 0 || Object.is(m.data[i], -0);

/** Centroid table with a zero appended for fillers and pruned entries; the index width. */
function centroidTable(cb: CodebookFormat): { table: Float32Array; bits: number } {
  const table = new Float32Array(cb.centroids.length + 1);
  table.set(cb.centroids);
  return { table, bits: Math.max(1, bitsFor(cb.centroids.length)) };
}

/** A grid read in the matrix's layout: per element q − zero, and whose scale it takes (one, the row's or the column's). */
interface MatrixGrid { v: Int32Array; lo: number; bits: number; scale: Float32Array; by: 'tensor' | 'row' | 'col' }

/**
 * The matrix as integers times scales, when the grid format's float32 scales give every
 * value bit for bit (f32(q − zero) · scale, as DequantizeLinear): the layout (transposed,
 * spread) is found by trying the scales per tensor, per row and per column.
 */
function gridOf(m: Matrix): MatrixGrid | undefined {
  const s = m.gridScales?.scale;
  if (!s) return undefined;
  const ways = (s.length === 1 ? ['tensor'] : [...(s.length === m.rows ? ['row'] : []), ...(s.length === m.cols ? ['col'] : [])]) as MatrixGrid['by'][];
  for (const by of ways) {
    const v = new Int32Array(m.data.length);
    let lo = 0, hi = 0, exact = true;
    for (let i = 0; i < v.length && exact; i++) {
      const scale = s[by === 'tensor' ? 0 : by === 'row' ? Math.floor(i / m.cols) : i % m.cols];
      v[i] = Math.round(m.data[i] / scale);
      exact = Math.fround(Math.fround(v[i]) * scale) === m.data[i] && Math.abs(v[i]) < 2 ** 24;
      lo = Math.min(lo, v[i]);
      hi = Math.max(hi, v[i]);
    }
    if (exact) return { v, lo, bits: Math.max(1, bitsFor(hi - lo + 1)), scale: s, by };
  }
  return undefined;
}

/** The scale array and the C expression of the scale of the weight at (row, col). */
function gridScale(g: MatrixGrid, p: string, row: string): { array: CArray; expr: string } {
  const array: CArray = { name: `${p}_s`, type: 'float', values: g.scale, what: `scale per ${g.by}` };
  return { array, expr: `${p}_s[${g.by === 'tensor' ? '0' : g.by === 'row' ? row : 'col'}]` };
}

/** The two levels of each row (or, for a transposed weight, each column) of a binary / ternary matrix. */
function signsOf(m: Matrix): { l: ChannelLevels; by: 'row' | 'col' } | undefined {
  if (!m.signs) return undefined;
  for (const by of ['row', 'col'] as const) {
    const l = channelLevels(m.data, [m.rows, m.cols], by === 'row' ? 0 : 1, m.signs);
    if (typeof l !== 'string') return { l, by };
  }
  return undefined;
}

const STORAGES: Record<string, StorageKind> = {
  signs: {
    applies: (m) => signsOf(m) !== undefined,
    make(m, p) {
      const { l, by } = signsOf(m)!;
      const bits = l.kind === 'binary' ? 1 : 2;
      const digits = Uint8Array.from(m.data, (v) => (bits === 1 ? trit(v) - 1 : trit(v))); // binary: 0 = +, 1 = −; ternary: 0, 1 = +, 2 = −
      const f = fieldStream(`${p}_t`, digits, bits, bits === 1 ? 'sign of every weight (1 = negative)' : 'trit of every weight (0, 1 = +, 2 = -)');
      const arrays: CArray[] = [f.array, { name: `${p}_pos`, type: 'float', values: l.pos, what: `positive level per ${by}` }, { name: `${p}_neg`, type: 'float', values: l.neg, what: `negative level (magnitude) per ${by}` }];
      const c = by === 'row' ? '' : 'col';
      return finish(l.kind, `${bits === 1 ? 'sign bits' : '2-bit trits'}, two levels per ${by}`, arrays, f.helpers, (row, body) => [
        'int col;', `for (col = 0; col < ${m.cols}; col++) {`,
        `  const uint32_t digit = ${f.read(`(uint32_t)((${row}) * ${m.cols} + col)`)};`,
        `  const float w = digit == ${bits === 1 ? 0 : 1}u ? ${p}_pos[${c || row}] : ${bits === 1 ? `-${p}_neg[${c || row}]` : `digit == 2u ? -${p}_neg[${c || row}] : 0.0f`};`,
        ...body.map((x) => `  ${x}`), '}',
      ]);
    },
  },
  'dense f32': {
    applies: () => true,
    make(m, p) {
      const a: CArray = { name: `${p}_w`, type: 'float', values: m.data, what: `weights [${m.rows}][${m.cols}]` };
      return finish('dense f32', `${m.rows * m.cols} floats`, [a], [], (row, body) => [
        'int col;', `for (col = 0; col < ${m.cols}; col++) {`, `  const float w = ${p}_w[(${row}) * ${m.cols} + col];`, ...body.map((l) => `  ${l}`), '}',
      ]);
    },
  },
  'sparse f32': {
    applies: (m) => m.sparse,
    make(m, p) {
      const keep = nonzero(m);
      const { gap: g } = fieldWidth(m, keep, 0, 16);
      const e = rowEntries(m, keep, g);
      const values = Float32Array.from(e.source, (s) => (s < 0 ? 0 : m.data[s]));
      const gaps = fieldStream(`${p}_gap`, e.gaps, g, 'gaps (zeros skipped before each entry)');
      const arrays: CArray[] = [startsArray(p, e.starts), gaps.array, { name: `${p}_v`, type: 'float', values, what: 'value of each entry (0 for a filler)' }];
      const fillers = e.source.filter((s) => s < 0).length;
      return finish('sparse f32', `${e.gaps.length} entries (${fillers} fillers), ${g}-bit gaps`, arrays, gaps.helpers, (row, body) => [
        'uint32_t e;', 'int col = -1;', `for (e = ${p}_start[${row}]; e < ${p}_start[(${row}) + 1]; e++) {`,
        `  const float w = ${p}_v[e];`, `  col += (int)${gaps.read('e')} + 1;`, ...body.map((l) => `  ${l}`), '}',
      ]);
    },
  },
  codebook: {
    applies: (m) => m.codebook !== undefined,
    make(m, p) {
      const cb = m.codebook!;
      const { table, bits } = centroidTable(cb);
      const idx = fieldStream(`${p}_idx`, cb.indices, bits, 'centroid index of every weight');
      const arrays: CArray[] = [{ name: `${p}_cb`, type: 'float', values: table, what: `${cb.centroids.length} centroids (+ 0 for pruned weights)` }, idx.array];
      return finish('codebook', `${cb.centroids.length} centroids, ${bits}-bit indices`, arrays, idx.helpers, (row, body) => [
        'int col;', `for (col = 0; col < ${m.cols}; col++) {`,
        `  const float w = ${p}_cb[${idx.read(`(uint32_t)((${row}) * ${m.cols} + col)`)}];`, ...body.map((l) => `  ${l}`), '}',
      ]);
    },
  },
  'sparse codebook': {
    applies: (m) => m.codebook !== undefined && m.sparse,
    make(m, p) {
      const cb = m.codebook!;
      const { table, bits } = centroidTable(cb);
      const k = cb.centroids.length;
      const keep = (i: number) => cb.indices[i] < k && cb.centroids[cb.indices[i]] !== 0;
      const { gap: g, width } = fieldWidth(m, keep, bits, 24 - bits);
      const e = rowEntries(m, keep, g);
      const fields = e.gaps.map((gap, j) => gap | ((e.source[j] < 0 ? k : cb.indices[e.source[j]]) << g));
      const f = fieldStream(`${p}_e`, fields, width, `entries: ${g}-bit gap | ${bits}-bit centroid index << ${g}`);
      const arrays: CArray[] = [startsArray(p, e.starts), { name: `${p}_cb`, type: 'float', values: table, what: `${k} centroids (+ 0 for fillers)` }, f.array];
      const fillers = e.source.filter((s) => s < 0).length;
      return finish('sparse codebook', `${e.gaps.length} entries (${fillers} fillers), ${g}-bit gaps + ${bits}-bit indices`, arrays, f.helpers, (row, body) => [
        'uint32_t e;', 'int col = -1;', `for (e = ${p}_start[${row}]; e < ${p}_start[(${row}) + 1]; e++) {`,
        `  const uint32_t f = ${f.read('e')};`, `  const float w = ${p}_cb[f >> ${g}];`,
        `  col += (int)(f & ${cInt(2 ** g - 1)}u) + 1;`, ...body.map((l) => `  ${l}`), '}',
      ]);
    },
  },
  grid: {
    applies: (m) => gridOf(m) !== undefined,
    make(m, p) {
      const g = gridOf(m)!;
      const f = fieldStream(`${p}_q`, Uint32Array.from(g.v, (x) => x - g.lo), g.bits, `q - zero - (${g.lo}) of every weight`);
      return finish('grid', `${g.bits}-bit integers, scale per ${g.by}`, [f.array, gridScale(g, p, '').array], f.helpers, (row, body) => [
        'int col;', `for (col = 0; col < ${m.cols}; col++) {`,
        `  const float w = (float)((int32_t)${f.read(`(uint32_t)((${row}) * ${m.cols} + col)`)} + (${g.lo})) * ${gridScale(g, p, row).expr};`,
        ...body.map((l) => `  ${l}`), '}',
      ]);
    },
  },
  'sparse grid': {
    applies: (m) => m.sparse && gridOf(m) !== undefined,
    make(m, p) {
      const g = gridOf(m)!;
      const keep = nonzero(m);
      const { gap, width } = fieldWidth(m, keep, g.bits, 24 - g.bits);
      const e = rowEntries(m, keep, gap);
      const fields = e.gaps.map((x, j) => x | ((e.source[j] < 0 ? -g.lo : g.v[e.source[j]] - g.lo) << gap));
      const f = fieldStream(`${p}_e`, fields, width, `entries: ${gap}-bit gap | ${g.bits}-bit q - zero - (${g.lo}) << ${gap}`);
      const fillers = e.source.filter((x) => x < 0).length;
      return finish('sparse grid', `${e.gaps.length} entries (${fillers} fillers), ${gap}-bit gaps + ${g.bits}-bit integers, scale per ${g.by}`,
        [startsArray(p, e.starts), f.array, gridScale(g, p, '').array], f.helpers, (row, body) => [
          'uint32_t e;', 'int col = -1;', `for (e = ${p}_start[${row}]; e < ${p}_start[(${row}) + 1]; e++) {`,
          `  const uint32_t f = ${f.read('e')};`, `  col += (int)(f & ${cInt(2 ** gap - 1)}u) + 1;`,
          `  const float w = (float)((int32_t)(f >> ${gap}) + (${g.lo})) * ${gridScale(g, p, row).expr};`, ...body.map((l) => `  ${l}`), '}',
        ]);
    },
  },
};

/** Whether the codebook still describes `data` exactly (folded BatchNorm or alpha would change the values). */
function matchingCodebook(w: PlanWeight, data: Float32Array): CodebookFormat | undefined {
  const f = w.format;
  if (f?.kind !== 'codebook' || f.indices.length !== data.length) return undefined;
  const k = f.centroids.length;
  for (let i = 0; i < data.length; i++) {
    const j = f.indices[i], v = j === k ? 0 : f.centroids[j];
    if (!Object.is(v, data[i]) && !(v === 0 && data[i] === 0)) return undefined;
  }
  return f;
}

/** The weight [rows × cols] as the C kernel reads it (transposed first when `transpose`: cols × rows in the plan). */
export function matrixOf(w: PlanWeight, rows: number, cols: number, transpose = false): Matrix {
  let data = w.data, cb = matchingCodebook(w, w.data);
  if (data.length !== rows * cols) fail(`C backend: weight "${w.name}" has ${data.length} values for ${rows}×${cols}`);
  if (transpose) {
    const t = new Float32Array(data.length);
    for (let r = 0; r < cols; r++) for (let c = 0; c < rows; c++) t[c * cols + r] = data[r * rows + c];
    data = t;
    if (cb) {
      const idx = new (cb.indices.constructor as Uint16ArrayConstructor)(cb.indices.length);
      for (let r = 0; r < cols; r++) for (let c = 0; c < rows; c++) idx[c * cols + r] = cb.indices[r * rows + c];
      cb = { ...cb, indices: idx };
    }
  }
  const f = w.format;
  const sparse = f !== undefined && data.some((v) => v === 0);
  const grid = f?.kind === 'grid' && f.scale instanceof Float32Array ? { scale: f.scale, zero: f.zero } : undefined;
  const decompressed = f && (!C_FORMATS.has(f.kind) || (f.kind === 'grid' && !grid)) ? (f.kind === 'grid' ? 'grid with float64 scales' : f.kind) : undefined;
  const signs = f?.kind === 'binary' || f?.kind === 'ternary' ? f.kind : undefined;
  return { rows, cols, data, codebook: cb, sparse, formatted: f !== undefined, gridScales: grid, decompressed, signs };
}

/**
 * The same weights with column c moved to column at(c) of `cols` (the others empty),
 * e.g. a conv's (channel, ki, kj) columns as offsets into its input: the kernel then
 * adds a stored weight's column to a pointer instead of dividing it into coordinates.
 */
export function spreadColumns(m: Matrix, cols: number, at: (c: number) => number): Matrix {
  const data = new Float32Array(m.rows * cols);
  const cb = m.codebook;
  const k = cb?.centroids.length ?? 0;
  const indices = cb ? new (cb.indices.constructor as Uint16ArrayConstructor)(m.rows * cols).fill(k) : undefined;
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) {
      data[r * cols + at(c)] = m.data[r * m.cols + c];
      if (indices) indices[r * cols + at(c)] = cb!.indices[r * m.cols + c];
    }
  }
  return { ...m, cols, data, codebook: cb && indices ? { ...cb, indices } : undefined, sparse: true };
}

/** The storage of the fewest bytes among the kinds the matrix allows (the format decides which apply). */
export function storeMatrix(m: Matrix, prefix: string): CStorage {
  const kinds = m.formatted ? Object.values(STORAGES).filter((k) => k.applies(m)) : [STORAGES['dense f32']];
  let best: CStorage | undefined;
  for (const k of kinds) {
    const s = k.make(m, prefix);
    if (!best || s.bytes < best.bytes) best = s;
  }
  if (m.gridScales && !best!.kind.endsWith('grid')) best!.detail += '; its grid format does not give these values (folded into another op?), so it is written from its values';
  if (m.signs && best!.kind !== m.signs) best!.detail += `; its ${m.signs} format does not give these values (two levels per row or column), so it is written from its values`;
  if (m.decompressed) best!.detail += `; the model stores it as ${m.decompressed}, a format the C backend does not execute here (written from its values)`;
  return best!;
}
