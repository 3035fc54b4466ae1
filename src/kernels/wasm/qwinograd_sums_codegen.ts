// Integer linear combinations for the Winograd transforms (qwinograd_codegen.ts,
// qwinograd_output_codegen.ts) on i16x8 or i32x4 lanes: shifts for powers of two, splatted
// constants for the rest, and the sums and differences Winograd matrices share computed once.
import { FuncBuilder, Local } from './emitter.js';
import { V128 } from './opcodes.js';

export type Lanes = 'i16x8' | 'i32x4';

/** Splatted constants, made once per function. */
export function constants(f: FuncBuilder): (c: number) => Local {
  const made = new Map<number, Local>();
  return (c) => {
    let l = made.get(c);
    if (!l) {
      l = f.local(V128);
      made.set(c, l);
    }
    return l;
  };
}

const isPow2 = (c: number): boolean => (c & (c - 1)) === 0;

/** Splats of the coefficients that are not powers of two (those are shifts), at the function's start. */
export function splatAll(f: FuncBuilder, lanes: Lanes, coefs: number[], at: (c: number) => Local): void {
  for (const c of new Set(coefs.map(Math.abs).filter((c) => !isPow2(c)))) f.i32(c).op(`${lanes}.splat`).set(at(c));
}

/** A linear combination: (term, integer coefficient) pairs, coefficients non-zero. */
type Terms = [Local, number][];

/**
 * dst = Σ c·term (at least one term); powers of two as shifts (i32x4.mul is slow on x64), a
 * power of two common to all coefficients applied once at the end, a positive term first.
 */
function emitSum(f: FuncBuilder, lanes: Lanes, terms: Terms, at: (c: number) => Local, dst: Local): void {
  let common = 0;
  while (terms.every(([, c]) => c % 2 ** (common + 1) === 0)) common++;
  const list = [...terms].sort((a, b) => Number(b[1] > 0) - Number(a[1] > 0)).map(([t, c]): [Local, number] => [t, c / 2 ** common]);
  list.forEach(([t, c], k) => {
    f.get(t);
    const a = Math.abs(c);
    if (a > 1 && isPow2(a)) f.i32(Math.log2(a)).op(`${lanes}.shl`);
    else if (a > 1) f.get(at(a)).op(`${lanes}.mul`);
    if (k === 0 && c < 0) f.op(`${lanes}.neg`);
    else if (k > 0) f.op(c < 0 ? `${lanes}.sub` : `${lanes}.add`);
  });
  if (common) f.i32(common).op(`${lanes}.shl`);
  f.set(dst);
}

const sameAbs = (a: number[], b: number[]): boolean => a.every((v, k) => Math.abs(v) === Math.abs(b[k]));

/**
 * out_i = Σ_k L[i][k]·terms[k] for every row of L, sharing work the way Winograd matrices
 * allow (points ±p): two columns whose coefficients agree up to sign in every row are
 * combined once as their sum and difference; two rows that agree up to sign in every column
 * are S + D and S − D (S: the columns of equal sign, D: the others). All ring operations, so
 * the results are the same integers (mod 2^16 / 2^32) as the plain sums.
 */
function applyRows(f: FuncBuilder, lanes: Lanes, L: number[][], terms: Local[], at: (c: number) => Local): Local[] {
  // columns → (term, coefficient) per row, pairs of columns merged into their sum / difference
  const rows: Terms[] = L.map(() => []);
  const done = new Set<number>();
  for (let k = 0; k < terms.length; k++) {
    if (done.has(k)) continue;
    const col = L.map((r) => r[k]);
    const k2 = terms.findIndex((_, j) => j > k && !done.has(j) && col.some((v) => v !== 0) && sameAbs(col, L.map((r) => r[j])));
    if (k2 < 0) {
      L.forEach((r, i) => { if (r[k]) rows[i].push([terms[k], r[k]]); });
      continue;
    }
    done.add(k2);
    const made: Partial<Record<'sum' | 'diff', Local>> = {};
    const pairTerm = (which: 'sum' | 'diff'): Local => {
      if (!made[which]) {
        made[which] = f.local(V128);
        f.get(terms[k]).get(terms[k2]).op(`${lanes}.${which === 'sum' ? 'add' : 'sub'}`).set(made[which]!);
      }
      return made[which]!;
    };
    L.forEach((r, i) => { if (r[k]) rows[i].push([pairTerm(r[k] === r[k2] ? 'sum' : 'diff'), r[k]]); });
  }
  // rows: pairs that agree up to sign → S ± D
  const out: Local[] = L.map(() => f.local(V128));
  const coefOf = (row: Terms, t: Local): number => row.find(([u]) => u === t)?.[1] ?? 0;
  const paired = new Set<number>();
  rows.forEach((row, i) => {
    if (paired.has(i)) return;
    const j = rows.findIndex((other, j2) => j2 > i && !paired.has(j2) && other.length === row.length && row.every(([t, c]) => Math.abs(coefOf(other, t)) === Math.abs(c)));
    const S = row.filter(([t, c]) => j >= 0 && coefOf(rows[j], t) === c), D = row.filter(([t, c]) => j >= 0 && coefOf(rows[j], t) === -c);
    if (j < 0 || S.length === 0 || D.length === 0) { emitSum(f, lanes, row, at, out[i]); return; }
    paired.add(j);
    const sv = f.local(V128), dv = f.local(V128);
    emitSum(f, lanes, S, at, sv);
    emitSum(f, lanes, D, at, dv);
    f.get(sv).get(dv).op(`${lanes}.add`).set(out[i]);
    f.get(sv).get(dv).op(`${lanes}.sub`).set(out[j]);
  });
  return out;
}

/** out[i][j] = Σ_a Σ_b L[i][a] x[a][b] L[j][b] (L: rows × α), through rows of L·x. */
export function sandwich(f: FuncBuilder, lanes: Lanes, L: number[][], x: Local[][], at: (c: number) => Local): Local[][] {
  const cols = x[0].map((_, b) => applyRows(f, lanes, L, x.map((r) => r[b]), at)); // cols[b][i] = (L·x)[i][b]
  return L.map((_, i) => applyRows(f, lanes, L, cols.map((c) => c[i]), at));
}
