// What the mutators put into fields: boundary numbers, odd strings, and edits of plain
// JSON trees (the .nnz graph and meta sections). An edit is four naturals chosen by
// fast-check; they are read modulo what is there, so every edit applies and shrinks.
export interface Edit {
  /** Which field (modulo the number of fields). */
  site: number;
  /** What to do to it (modulo the operations that apply). */
  op: number;
  a: number;
  b: number;
}

const INTS = [0, 1, -1, 2, 3, 7, 8, 16, 31, 32, 33, 255, 256, 65535, 65536, 2 ** 24, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1)];
const FLOATS = [0, -0, 1, -1, 0.5, NaN, Infinity, -Infinity, 1e-45, 3.4e38, 1e300, -1e300];

/** A boundary integer, or the old value nudged. */
export function interestingInt(old: number, pick: number): number {
  const k = pick % (INTS.length + 4);
  if (k < INTS.length) return INTS[k];
  const v = Number.isFinite(old) ? old : 0;
  return [v + 1, v - 1, v * 2, -v][k - INTS.length];
}

/** A non-negative boundary integer (for varints). */
export function interestingUint(old: number, pick: number): number {
  return Math.min(Number.MAX_SAFE_INTEGER, Math.abs(interestingInt(old, pick)));
}

export function interestingFloat(old: number, pick: number): number {
  const k = pick % (FLOATS.length + 2);
  return k < FLOATS.length ? FLOATS[k] : k === FLOATS.length ? old * 2 : -old;
}

/** An odd string, or one of the strings already in the file (names colliding is the interesting case). */
export function interestingString(pool: readonly string[], pick: number): string {
  const odd = ['', ' ', 'x', '\u0000', 'é', '\ud800', '../x', 'a'.repeat(5000), '__proto__', 'constructor', '0'];
  const k = pick % (odd.length + pool.length);
  return k < odd.length ? odd[k] : pool[k - odd.length];
}

export function interestingBytes(old: Uint8Array, op: number, a: number, b: number): Uint8Array {
  switch (op % 5) {
    case 0:
      return new Uint8Array(0);
    case 1:
      return old.slice(0, old.length ? a % old.length : 0);
    case 2: {
      const out = old.slice();
      if (out.length) out[a % out.length] ^= 1 << (b % 8);
      return out;
    }
    case 3: {
      const out = new Uint8Array(old.length + 1 + (a % 64));
      out.set(old);
      out.fill(b % 256, old.length);
      return out;
    }
    default:
      return Uint8Array.from({ length: 1 + (a % 16) }, (_, i) => (b * (i + 1) * 2654435761) >>> 24);
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface JsonSite {
  parent: Json[] | { [k: string]: Json };
  key: number | string;
}

function jsonSites(v: Json, out: JsonSite[], strings: string[]): void {
  if (typeof v === 'string') strings.push(v);
  if (v === null || typeof v !== 'object') return;
  const keys: (number | string)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  for (const key of keys) {
    out.push({ parent: v, key });
    jsonSites((v as Record<string | number, Json>)[key], out, strings);
  }
}

/** Applies one edit to a JSON tree in place (the root itself is never replaced). */
export function editJson(root: Json, e: Edit): void {
  const sites: JsonSite[] = [];
  const strings: string[] = [];
  jsonSites(root, sites, strings);
  if (!sites.length) return;
  const { parent, key } = sites[e.site % sites.length];
  const obj = parent as Record<string | number, Json>;
  const old = obj[key];
  const other = (sites[e.a % sites.length].parent as Record<string | number, Json>)[sites[e.a % sites.length].key];
  const set = (v: Json): void => {
    obj[key] = v;
  };
  switch (e.op % 12) {
    case 0:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete obj[key];
      return;
    case 1:
      return set(typeof old === 'number' ? interestingInt(old, e.a) : interestingInt(0, e.a));
    case 2:
      return set(typeof old === 'number' ? interestingFloat(old, e.a) : 1.5);
    case 3:
      return set(interestingString(strings, e.a));
    case 4:
      return set([null, true, false, [], {}, [[[]]], '', 0][e.a % 8]);
    case 5:
      return set(structuredClone(other));
    case 6:
      if (Array.isArray(old)) old.splice(e.a % (old.length + 1), 0, structuredClone(old[e.b % Math.max(1, old.length)] ?? null));
      return;
    case 7:
      if (Array.isArray(old)) old.length = old.length ? e.a % old.length : 0;
      return;
    case 8:
      if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(old));
      return;
    case 9:
      if (old && typeof old === 'object' && !Array.isArray(old)) old[interestingString(strings, e.b)] = structuredClone(other);
      return;
    case 10:
      return set(Array.isArray(old) ? Object.fromEntries(old.map((v, i) => [String(i), v])) : [old]);
    default:
      return set(typeof old === 'string' ? Number(old) || old.length : String(old));
  }
}
