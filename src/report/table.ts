// Plain-text tables for the terminal and the benchmarks (right-aligned numbers, left-aligned text).

export type Cell = string | number;

export function formatTable(header: string[], rows: Cell[][], footer?: Cell[]): string {
  const all = footer ? [...rows, footer] : rows;
  const text = all.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
  const widths = header.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => isNumeric(r[i] ?? '-')));
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const out = [line(header), rule, ...text.slice(0, rows.length).map(line)];
  if (footer) out.push(rule, line(text[text.length - 1]));
  return out.join('\n');
}

/** A number, or text that reads as one ("1,234", "2.5x", "98.5%", "-"): right-aligned. */
function isNumeric(c: Cell): boolean {
  return typeof c === 'number' || /^(-|[0-9.,]+[x*!%]*)$/.test(c);
}

export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v.toFixed(2);
}
