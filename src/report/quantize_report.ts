// The per-layer table of a quantization run (worst layer first) and its JSON rows.
import type { LayerError } from '../compress/quantize/error_report.js';
import type { QuantizeRun } from '../compress/quantize/quantize_model.js';
import type { GridFormat } from '../ir/tensor_format.js';
import { formatTable, type Cell } from './table.js';

export interface QuantLayerRow extends LayerError {
  /** "int8 per channel (50 scales)", "fixed 4-bit, step 2^-6", "float (excluded)" */
  weights: string;
}

function weightText(f: GridFormat | undefined): string {
  if (!f) return 'float';
  const pow2 = f.scale.length === 1 && Number.isInteger(Math.log2(f.scale[0]));
  if (pow2) return `fixed ${f.bits}-bit, step 2^${Math.log2(f.scale[0])}`;
  return `int${f.bits} ${f.scale.length > 1 ? `per channel (${f.scale.length} scales)` : 'per tensor'}`;
}

export function quantLayerRows(r: QuantizeRun): QuantLayerRow[] {
  return r.errors.map((e) => {
    const l = r.ptq.layers.find((x) => x.layer.name === e.layer)!;
    const f = r.graph.formats.get(l.layer.weight);
    return { ...e, weights: weightText(f?.kind === 'grid' ? f : undefined) };
  });
}

export function formatQuantTable(rows: QuantLayerRow[], excluded: string[]): string {
  const body: Cell[][] = rows.map((r) => [r.layer, r.weights, `${r.dtype} × ${r.scale.toPrecision(4)}`, Number.isFinite(r.sqnr) ? r.sqnr.toFixed(1) : 'exact', r.cosine.toFixed(5)]);
  for (const x of excluded) body.push([x, 'float (excluded)', 'float', '-', '-']);
  return formatTable(['layer (worst first)', 'weights', 'output activation', 'SQNR dB', 'cosine'], body);
}
