// The per-layer table and stage sizes of a compression run (Han's P, P+Q, P+Q+H),
// and the run as the JSON document `compress` writes and `report` reads.
import type { CompressResult } from '../compress/pipeline.js';
import type { Recipe } from '../compress/recipe.js';
import type { Graph } from '../ir/graph.js';
import { weightHistograms, type LayerHistogram } from './histograms.js';
import { formatTable, type Cell } from './table.js';

export interface LayerRow {
  layer: string;
  params: number;
  keptPct: number;
  /** How the weight is stored: dense, sparse, codebook, grid. */
  stored: string;
  bits: number;
  bytesBefore: number;
  bytesAfter: number;
}

export interface StageSize {
  stage: string;
  bytes: number;
  ratio: number;
  /** Test accuracy of the model at this stage (runs with data). */
  accuracy?: number;
}

/** A compression run as a JSON document: what `nnzip compress` writes next to the file, and `nnzip report` reads. */
export interface CompressRun {
  kind: 'compress';
  model: string;
  output: string;
  recipe: Recipe;
  originalBytes: number;
  fileBytes: number;
  stages: StageSize[];
  layers: LayerRow[];
  /** original, each stage by name, and the written file (decoded and run). */
  accuracy: Record<string, number | undefined>;
  stageDetails: Record<string, Record<string, number>>;
  /** Weight distributions per layer before and after each stage. */
  histograms: LayerHistogram[];
  /** Layers a stage changed with no data to measure the damage (each also warned about on stderr). */
  changedWithoutData: CompressResult['unmeasured'];
}

export function compressRun(original: Graph, r: CompressResult, o: { model: string; output: string; recipe: Recipe; fileAccuracy?: number }): CompressRun {
  return {
    kind: 'compress',
    model: o.model,
    output: o.output,
    recipe: o.recipe,
    originalBytes: r.originalBytes,
    fileBytes: r.file.bytes.length,
    stages: stageSizes(r, o.recipe.encode.huffman, o.fileAccuracy),
    layers: layerRows(original, r),
    accuracy: { original: r.originalAccuracy, ...Object.fromEntries(r.stages.map((s) => [s.name, s.accuracy])), file: o.fileAccuracy },
    stageDetails: Object.fromEntries(r.stages.map((s) => [s.name, s.details])),
    histograms: weightHistograms(original, r),
    changedWithoutData: r.unmeasured,
  };
}

export function layerRows(original: Graph, r: CompressResult): LayerRow[] {
  const bytes = new Map(r.file.sections.filter((s) => s.kind === 'tensor').map((s) => [s.name ?? '', s.bytes]));
  return r.layers.map((l) => {
    const names = [l.weight, ...(l.bias ? [l.bias] : [])];
    const found = r.final.find((f) => f.weight === l.weight)!;
    return {
      layer: l.name,
      params: names.reduce((s, n) => s + original.initializers.get(n)!.size, 0),
      // of the input's weights: removed filters count as pruned
      keptPct: (100 * found.density * found.params) / original.initializers.get(l.weight)!.size,
      stored: found.format?.kind ?? 'dense',
      bits: found.bits,
      bytesBefore: names.reduce((s, n) => s + original.initializers.get(n)!.size * 4, 0),
      bytesAfter: names.reduce((s, n) => s + (bytes.get(n) ?? 0), 0),
    };
  });
}

export function formatLayerTable(rows: LayerRow[], total: { before: number; after: number }): string {
  const ratio = (a: number, b: number) => (b ? `${(a / b).toFixed(1)}×` : '-');
  const body: Cell[][] = rows.map((r) => [r.layer, r.params, `${r.keptPct.toFixed(1)}%`, r.stored, r.bits, r.bytesBefore, r.bytesAfter, ratio(r.bytesBefore, r.bytesAfter)]);
  const params = rows.reduce((s, r) => s + r.params, 0);
  const footer: Cell[] = ['total (file)', params, '', '', '', total.before, total.after, ratio(total.before, total.after)];
  return formatTable(['layer', 'params', 'kept', 'stored', 'bits', 'bytes before', 'bytes after', 'ratio'], body, footer);
}

/**
 * Han's stage sizes: the original, each stage encoded without Huffman coding
 * (P, P+Q, ...), then the file as written (+H when the recipe Huffman-codes).
 */
export function stageSizes(r: CompressResult, huffman: boolean, fileAccuracy?: number): StageSize[] {
  const row = (stage: string, bytes: number, accuracy?: number): StageSize => ({ stage, bytes, ratio: r.originalBytes / bytes, accuracy });
  const rows = [row('original (float32 weights)', r.originalBytes, r.originalAccuracy)];
  let letters = '';
  for (const s of r.stages) {
    letters += (letters ? '+' : '') + s.letter;
    rows.push(row(`${letters}: ${rows.length > 1 ? '+ ' : ''}${s.label}`, s.file.length, s.accuracy));
  }
  if (huffman) rows.push(row(`${letters ? `${letters}+` : ''}H: + Huffman coding`, r.file.bytes.length, fileAccuracy));
  else rows.push(row('the file (no Huffman coding)', r.file.bytes.length, fileAccuracy));
  return rows;
}

export function formatStages(stages: StageSize[]): string {
  return formatTable(
    ['stage', 'bytes', 'ratio'],
    stages.map((s) => [s.stage, s.bytes, `${s.ratio.toFixed(1)}×`]),
  );
}
