// Sensitivity results as CSV and as an SVG chart (the analysis is src/compress/prune/sensitivity.ts).
import type { SensitivityResult } from '../compress/prune/sensitivity.js';
import { fmt, lineChart } from './chart.js';

const csvCell = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

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
export function sensitivityChart(result: SensitivityResult): string {
  const what = result.mode === 'filters' ? 'fraction of filters kept' : 'fraction of weights kept';
  return lineChart(
    result.layers.map((l) => ({ name: l.layer, points: result.densities.map((d, i) => [d, l.accuracy[i]] as [number, number]) })),
    { title: `Pruning sensitivity (${result.mode}), baseline ${fmt(result.baseline)}`, xLabel: what, yLabel: 'accuracy', xDomain: [0, 1] },
  );
}
