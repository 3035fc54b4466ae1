// Sensitivity results as CSV and as an SVG chart (the analysis is src/compress/prune/sensitivity.ts).
import type { SensitivityResult } from '../compress/prune/sensitivity.js';
import { renderSvg, sensitivitySpec } from './charts.js';

const csvCell = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** Short decimal text (no float noise like 0.30000000000000004). */
const fmt = (v: number): string => String(Number(v.toPrecision(6)));

/** One row per (layer, density): layer,op,weights,coupled,density,accuracy. */
export function sensitivityToCsv(result: SensitivityResult): string {
  const rows = ['layer,op,weights,coupled,density,accuracy'];
  for (const l of result.layers) {
    result.densities.forEach((d, i) => {
      rows.push([csvCell(l.layer), l.op, String(l.weights), csvCell(l.coupled.join(' ')), fmt(d), fmt(l.accuracy[i])].join(','));
    });
  }
  return rows.join('\n') + '\n';
}

/** An SVG chart: one line per layer, x = density, y = accuracy. */
export function sensitivityChart(result: SensitivityResult): Promise<string> {
  return renderSvg(sensitivitySpec(result));
}
