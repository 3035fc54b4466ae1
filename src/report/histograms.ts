// Weight distributions of a compression run, per layer, as in Han et al.'s
// figures: the original weights, the weights left after pruning, and after
// weight sharing with the centroids of the codebook. Counted from the graphs the
// pipeline returns (CompressResult.stages[i].graph), on common bins per layer.
import type { CompressResult } from '../compress/pipeline.js';
import type { Graph } from '../ir/graph.js';

/** One distribution: non-zero weights per bin (pruned zeros are counted apart: they would dwarf the rest). */
export interface WeightSeries {
  /** 'original', or the pipeline stage's name ('prune', 'share'). */
  stage: string;
  /** What the stage did, for the legend ('original', 'pruned, relative index', 'weight sharing'). */
  label: string;
  counts: number[];
  zeros: number;
  /** The codebook's values when the stage stores the layer as a codebook. */
  centroids?: number[];
}

export interface LayerHistogram {
  layer: string;
  weights: number;
  /** Bin i covers [lo + i·w, lo + (i+1)·w) with w = (hi − lo) / bins; the last bin includes hi. */
  lo: number;
  hi: number;
  bins: number;
  series: WeightSeries[];
}

const BINS = 60;

function range(values: readonly Float32Array[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    for (let i = 0; i < v.length; i++) {
      if (v[i] === 0) continue;
      if (v[i] < lo) lo = v[i];
      if (v[i] > hi) hi = v[i];
    }
  }
  if (!(hi >= lo)) return [-1, 1]; // all zero
  if (hi === lo) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

function count(values: Float32Array, lo: number, hi: number, bins: number): { counts: number[]; zeros: number } {
  const counts = new Array<number>(bins).fill(0);
  let zeros = 0;
  const scale = bins / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === 0) { zeros++; continue; }
    counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) * scale)))]++;
  }
  return { counts, zeros };
}

/** The distributions of every compressed layer's weight: before, and after each stage of the run. */
export function weightHistograms(original: Graph, r: CompressResult, bins = BINS): LayerHistogram[] {
  return r.layers.map((l) => {
    const graphs: { stage: string; label: string; graph: Graph }[] = [
      { stage: 'original', label: 'original', graph: original },
      ...r.stages.map((s) => ({ stage: s.name, label: s.label, graph: s.graph })),
    ];
    const values = graphs.map((g) => g.graph.initializers.get(l.weight)!.data as Float32Array);
    const [lo, hi] = range(values);
    const series = graphs.map((g, k): WeightSeries => {
      const f = g.graph.formats.get(l.weight);
      const centroids = f?.kind === 'codebook' ? Array.from(f.centroids) : undefined;
      return { stage: g.stage, label: g.label, ...count(values[k], lo, hi, bins), ...(centroids ? { centroids } : {}) };
    });
    return { layer: l.name, weights: values[0].length, lo, hi, bins, series };
  });
}
