// The per-layer table and stage sizes of a compression run (Han's P, P+Q, P+Q+H).
import type { CompressResult } from '../compress/pipeline.js';
import type { NnzEncoded } from '../format/nnz.js';
import type { Graph } from '../ir/graph.js';
import { DTYPE_BYTES } from '../ir/tensor.js';
import { formatTable, type Cell } from './table.js';

export interface LayerRow {
  layer: string;
  params: number;
  keptPct: number;
  bits: number;
  bytesBefore: number;
  bytesAfter: number;
}

export interface StageSize {
  stage: string;
  bytes: number;
  ratio: number;
}

export function denseBytes(g: Graph): number {
  let n = 0;
  for (const t of g.initializers.values()) n += t.size * DTYPE_BYTES[t.dtype];
  return n;
}

function sectionBytes(enc: NnzEncoded): Map<string, number> {
  return new Map(enc.sections.filter((s) => s.kind === 'tensor').map((s) => [s.name ?? '', s.bytes]));
}

export function layerRows(original: Graph, r: CompressResult, enc: NnzEncoded): LayerRow[] {
  const bytes = sectionBytes(enc);
  return r.layers.map((l) => {
    const names = [l.weight, ...(l.bias ? [l.bias] : [])];
    const w = r.compressed.initializers.get(l.weight)!;
    let nz = 0;
    for (let i = 0; i < w.size; i++) if (w.data[i] !== 0) nz++;
    const f = r.compressed.formats.get(l.weight);
    return {
      layer: l.name,
      params: names.reduce((s, n) => s + original.initializers.get(n)!.size, 0),
      keptPct: (100 * nz) / w.size,
      bits: f?.kind === 'codebook' ? f.bits : 32,
      bytesBefore: names.reduce((s, n) => s + original.initializers.get(n)!.size * 4, 0),
      bytesAfter: names.reduce((s, n) => s + (bytes.get(n) ?? 0), 0),
    };
  });
}

export function formatLayerTable(rows: LayerRow[], total: { before: number; after: number }): string {
  const ratio = (a: number, b: number) => (b ? `${(a / b).toFixed(1)}×` : '-');
  const body: Cell[][] = rows.map((r) => [r.layer, r.params, `${r.keptPct.toFixed(1)}%`, r.bits, r.bytesBefore, r.bytesAfter, ratio(r.bytesBefore, r.bytesAfter)]);
  const params = rows.reduce((s, r) => s + r.params, 0);
  const footer: Cell[] = ['total (file)', params, '', '', total.before, total.after, ratio(total.before, total.after)];
  return formatTable(['layer', 'params', 'kept', 'bits', 'bytes before', 'bytes after', 'ratio'], body, footer);
}

export function formatStages(stages: StageSize[]): string {
  return formatTable(
    ['stage', 'bytes', 'ratio'],
    stages.map((s) => [s.stage, s.bytes, `${s.ratio.toFixed(1)}×`]),
  );
}
