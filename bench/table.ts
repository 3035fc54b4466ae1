// A plain-text table for benchmark results (ms per op, GFLOP/s, ratio to a reference row).

export interface Row {
  name: string;
  threads: number;
  ms: number;
  gflops: number;
  /** Cores this process kept busy during the rows's rounds (measures spinning or idle threads). */
  cores?: number;
}

export function printTable(rows: Row[], reference: string): void {
  const ref = new Map(rows.filter((r) => r.name === reference).map((r) => [r.threads, r]));
  const head = ['peer', 'threads', 'ms/op', 'GFLOP/s', `${reference} is ×`, 'cores busy'];
  const body = rows.map((r) => {
    const same = ref.get(r.threads);
    return [r.name, String(r.threads), r.ms.toFixed(3), r.gflops.toFixed(1), same ? (same.gflops / r.gflops).toFixed(2) : '-',
      r.cores === undefined ? '-' : r.cores.toFixed(2)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}
