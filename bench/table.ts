// The plain-text tables of every benchmark in bench/, and how their numbers are written.

/** A measured value (ms, µs, samples/s) with 3 significant digits: 0.0123, 1.23, 123, 1234. */
export function formatSig(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  if (v >= 100) return v.toFixed(0);
  return v.toPrecision(3);
}

/** A ratio a/b as "1.23x" ('-' when either side is missing). */
export function formatRatio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !(b > 0) || !Number.isFinite(a)) return '-';
  const r = a / b;
  return `${r >= 100 ? r.toFixed(0) : r.toPrecision(3)}x`;
}

export { formatTable } from '../src/report/table.js';
