// C text: literals that round-trip exactly, constant arrays, identifiers. Every
// number nnzip writes into C reads back bit for bit (float32 literals in their
// shortest round-trip form), so the emitted model computes with the same weights.
import { fail } from '../../../ir/errors.js';
import type { DType } from '../../../ir/tensor.js';

/** The C element type of each dtype the C backend reads or writes. */
export const C_TYPES: Partial<Record<DType, string>> = {
  float32: 'float', int8: 'int8_t', uint8: 'uint8_t', int16: 'int16_t', uint16: 'uint16_t', int32: 'int32_t', int64: 'int64_t', bool: 'uint8_t',
};

export function cType(dtype: DType, where: string): string {
  return C_TYPES[dtype] ?? fail(`${where}: values of type ${dtype} have no C type in the C backend`);
}

/** A float32 literal in the shortest decimal form that reads back as the same float32 (`0.25f`, `-3e-05f`). */
export function cFloat(v: number): string {
  if (Number.isNaN(v)) return 'NAN';
  if (v === Infinity) return 'HUGE_VALF';
  if (v === -Infinity) return '(-HUGE_VALF)';
  if (v === 0) return Object.is(v, -0) ? '-0.0f' : '0.0f';
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) return `${cleanNumber(s)}f`;
  }
  return `${cleanNumber(f.toPrecision(9))}f`;
}

/** Shortest spelling of a JS number string as a C floating literal (always with a '.' or an exponent). */
function cleanNumber(s: string): string {
  let [m, e] = s.toLowerCase().split('e');
  if (m.includes('.')) m = m.replace(/0+$/, '').replace(/\.$/, '.0');
  else m = `${m}.0`;
  if (e === undefined) return m;
  const exp = Number(e);
  return `${m.replace(/\.0$/, '')}e${exp}`;
}

/** An integer literal that is valid for its C type (INT32_MIN and wider values spelled safely). */
export function cInt(v: number): string {
  if (!Number.isInteger(v)) throw new Error(`cInt: ${v} is not an integer`);
  if (v === -2147483648) return '(-2147483647 - 1)';
  if (v > 2147483647) return `${v}u`;
  return v < 0 ? `(${v})` : String(v);
}

/** Literals of `values` joined into lines of at most ~100 characters. */
function wrap(items: string[], indent = '  '): string[] {
  const lines: string[] = [];
  let line = '';
  for (const it of items) {
    if (line.length + it.length + 2 > 100) {
      lines.push(`${indent}${line}`);
      line = '';
    }
    line += line ? ` ${it},` : `${it},`;
  }
  if (line) lines.push(`${indent}${line}`);
  return lines;
}

/** A constant array of the C model: its declaration and the bytes it holds. */
export interface CArray {
  name: string;
  type: string;
  values: ArrayLike<number>;
  /** What it holds, for the comment above it. */
  what: string;
}

const ELEM_BYTES: Record<string, number> = { float: 4, int8_t: 1, uint8_t: 1, int16_t: 2, uint16_t: 2, int32_t: 4, uint32_t: 4 };

export function arrayBytes(a: CArray): number {
  return a.values.length * (ELEM_BYTES[a.type] ?? fail(`C backend: no size for element type ${a.type}`));
}

export function declareArray(a: CArray): string[] {
  const lit = a.type === 'float' ? cFloat : (v: number) => String(v);
  const items = Array.from(a.values, (v) => lit(v));
  const n = Math.max(1, items.length);
  if (items.length === 0) items.push(a.type === 'float' ? '0.0f' : '0');
  return [`/* ${a.what} */`, `static const ${a.type} ${a.name}[${n}] = {`, ...wrap(items), '};'];
}

/** A C identifier from a graph name (letters, digits, '_'; never starting with a digit). */
export function cIdent(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_').replace(/^_+|_+$/g, '');
  return /^[A-Za-z]/.test(s) ? s : `v${s}`;
}

/** Text for a C comment: no comment terminators, one line. */
export function cComment(text: string): string {
  return text.replace(/\*\//g, '* /').replace(/\s+/g, ' ');
}

/** The smallest unsigned C type that holds values up to `max`. */
export function uintType(max: number): string {
  return max <= 0xff ? 'uint8_t' : max <= 0xffff ? 'uint16_t' : 'uint32_t';
}
