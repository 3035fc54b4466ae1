// The report's charts as Vega-Lite specifications, rendered to SVG by Vega's
// headless renderer. Vega and Vega-Lite are optional dependencies loaded on the
// first render only: the library and its browser bundle never load them.
import { fail } from '../ir/errors.js';
import { importOptional } from '../ir/optional.js';
import type { SensitivityResult } from '../compress/prune/sensitivity.js';
import type { LayerRow, StageSize } from './compress_report.js';
import type { LayerHistogram } from './histograms.js';

/** A Vega-Lite specification (checked by Vega-Lite when rendered). */
export type ChartSpec = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 520;
const CONFIG = { font: 'system-ui, sans-serif', view: { stroke: '#ddd' }, title: { anchor: 'start', fontSize: 14 } };

function spec(title: string, body: ChartSpec): ChartSpec {
  return { $schema: SCHEMA, title, config: CONFIG, ...body };
}

/** Accuracy vs density, one line per layer, with the unpruned accuracy as a dashed rule. */
export function sensitivitySpec(r: SensitivityResult): ChartSpec {
  const what = r.mode === 'filters' ? 'fraction of filters kept' : 'fraction of weights kept';
  const values = r.layers.flatMap((l) => r.densities.map((d, i) => ({ layer: l.layer, density: d, accuracy: l.accuracy[i] })));
  return spec(`Pruning sensitivity (${r.mode}), baseline ${r.baseline}`, {
    width: WIDTH, height: 300,
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'density', type: 'quantitative', title: what, scale: { domain: [0, 1] } },
          y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { zero: false } },
          color: { field: 'layer', type: 'nominal', sort: r.layers.map((l) => l.layer), title: 'layer' },
        },
      },
      { data: { values: [{ baseline: r.baseline }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { y: { field: 'baseline', type: 'quantitative' } } },
    ],
  });
}

/** One layer's weights before and after each stage (zeros left out), the codebook's centroids as red rules. */
export function histogramSpec(h: LayerHistogram): ChartSpec {
  const w = (h.hi - h.lo) / h.bins;
  const row = (s: LayerHistogram['series'][number]): string =>
    `${s.label}: ${(h.weights - s.zeros).toLocaleString('en-US')} non-zero${s.centroids ? `, ${s.centroids.length} centroids` : ''}`;
  const values = h.series.flatMap((s) => [
    ...s.counts.map((count, i) => ({ row: row(s), kind: 'bin', x0: h.lo + i * w, x1: h.lo + (i + 1) * w, count })),
    ...(s.centroids ?? []).map((c) => ({ row: row(s), kind: 'centroid', centroid: c })),
  ]);
  return spec(`${h.layer}: ${h.weights.toLocaleString('en-US')} weights`, {
    data: { values },
    facet: { row: { field: 'row', type: 'nominal', sort: h.series.map(row), title: null, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' } } },
    spacing: 14,
    spec: {
      width: WIDTH, height: 70,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'bin'" }],
          mark: { type: 'bar', color: '#4e79a7' },
          encoding: {
            x: { field: 'x0', type: 'quantitative', title: 'weight value', scale: { domain: [h.lo, h.hi] } },
            x2: { field: 'x1' },
            y: { field: 'count', type: 'quantitative', title: 'weights' },
            y2: { datum: 0 },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'centroid'" }],
          mark: { type: 'rule', color: '#e15759', strokeWidth: 1 },
          encoding: { x: { field: 'centroid', type: 'quantitative' } },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  });
}

/** Stored bits per weight of each layer (values, indices and codebook together), against 32 for float32. */
export function bitsSpec(layers: LayerRow[]): ChartSpec {
  const values = layers.map((l) => ({ layer: l.layer, bits: Number(((l.bytesAfter * 8) / l.params).toFixed(2)) }));
  return spec('Stored bits per weight, per layer', {
    width: WIDTH, height: 240,
    data: { values },
    layer: [
      {
        mark: { type: 'bar', color: '#4e79a7' },
        encoding: {
          x: { field: 'layer', type: 'nominal', sort: null, title: 'layer', axis: { labelAngle: 0 } },
          y: { field: 'bits', type: 'quantitative', title: 'bits per weight (file)' },
        },
      },
      { mark: { type: 'text', dy: -6 }, encoding: { x: { field: 'layer', type: 'nominal', sort: null }, y: { field: 'bits', type: 'quantitative' }, text: { field: 'bits' } } },
    ],
  });
}

/** The short name of a stage row: 'P+Q' of 'P+Q: + weight sharing'. */
export function stageShort(s: StageSize): string {
  return s.stage.split(/[:(]/)[0].trim();
}

/** Accuracy against file size, one point per stage (sizes on a log axis): the trade-off of the run. */
export function tradeoffSpec(stages: StageSize[]): ChartSpec {
  const values = stages.filter((s) => s.accuracy !== undefined).map((s) => ({ stage: stageShort(s), bytes: s.bytes, accuracy: s.accuracy }));
  if (values.length === 0) fail('report: no stage has an accuracy (the run had no dataset); nothing to plot against size');
  const enc = {
    x: { field: 'bytes', type: 'quantitative', scale: { type: 'log' }, title: 'bytes (log scale)' },
    y: { field: 'accuracy', type: 'quantitative', scale: { zero: false }, title: 'test accuracy' },
  };
  return spec('Accuracy vs size, stage by stage', {
    width: WIDTH, height: 260,
    data: { values },
    layer: [
      { mark: { type: 'line', point: { size: 60 }, color: '#4e79a7' }, encoding: { ...enc, order: { field: 'bytes', sort: 'descending' } } },
      { mark: { type: 'text', dx: 8, dy: -8, align: 'left' }, encoding: { ...enc, text: { field: 'stage' } } },
    ],
  });
}

/** One timing of a benchmark: the setting (model, batch, threads), the runtime, milliseconds per run. */
export interface SpeedPoint {
  setting: string;
  peer: string;
  ms: number;
}

/** Milliseconds per run of each runtime, one panel per setting (each with its own scale: the settings differ by orders). */
export function speedSpec(points: SpeedPoint[], title: string): ChartSpec {
  const peers = [...new Set(points.map((p) => p.peer))];
  const enc = {
    y: { field: 'peer', type: 'nominal', sort: peers, title: null },
    x: { field: 'ms', type: 'quantitative', title: 'ms per run (lower is faster)' },
  };
  return spec(title, {
    data: { values: points },
    facet: { row: { field: 'setting', type: 'nominal', sort: [...new Set(points.map((p) => p.setting))], title: null, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' } } },
    spacing: 12,
    spec: {
      width: WIDTH, height: { step: 18 },
      layer: [
        { mark: { type: 'bar' }, encoding: { ...enc, color: { field: 'peer', type: 'nominal', sort: peers, legend: null } } },
        { mark: { type: 'text', align: 'left', dx: 4 }, encoding: { ...enc, text: { field: 'ms', type: 'quantitative', format: '.3~r' } } },
      ],
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  });
}

/** One point of a search's front: proxy (short fine-tune) or final (fine-tuned fully), its loss against its own baseline. */
export interface FrontChartPoint {
  hash: string;
  run: 'proxy' | 'final';
  bytes: number;
  ms: number;
  /** Accuracy lost, percentage points (against the held-out baseline for the proxy, the test set's for final runs). */
  lossPp: number;
  meets: boolean;
}

/** Loss against size and against latency, proxy and final points, the loss bound (and the target, on its axis) as dashed rules. */
export function frontSpec(points: FrontChartPoint[], maxLossPp: number, target: { kind: string; limit: number }, threads = 1): ChartSpec {
  const runs = ['proxy', 'final'];
  const panel = (field: 'bytes' | 'ms', title: string, limit: number | undefined): ChartSpec => ({
    width: WIDTH / 2 - 20, height: 260,
    layer: [
      { mark: { type: 'line', color: '#bbb', strokeWidth: 1 }, encoding: { x: { field, type: 'quantitative' }, y: { field: 'lossPp', type: 'quantitative' }, detail: { field: 'hash' } } },
      {
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          x: { field, type: 'quantitative', scale: { type: 'log' }, title },
          y: { field: 'lossPp', type: 'quantitative', title: 'accuracy lost (pp)' },
          color: { field: 'run', type: 'nominal', sort: runs, scale: { domain: runs, range: ['#9ab6d3', '#e15759'] }, title: 'fine-tune' },
          shape: { field: 'meets', type: 'nominal', title: 'meets the goal' },
        },
      },
      { data: { values: [{ y: maxLossPp }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
      ...(limit === undefined ? [] : [{ data: { values: [{ x: limit }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#59a14f' }, encoding: { x: { field: 'x', type: 'quantitative' } } }]),
    ],
  });
  return spec('Search front: accuracy lost against size and latency', {
    data: { values: points },
    hconcat: [
      panel('bytes', 'file bytes (log scale)', target.kind === 'size' ? target.limit : undefined),
      panel('ms', `ms per image, ${threads} thread${threads > 1 ? 's' : ''} (log scale)`, target.kind === 'latency' ? target.limit : undefined),
    ],
  });
}

interface Vega {
  View: new (runtime: unknown, o: { renderer: 'none' }) => { toSVG(): Promise<string>; finalize(): void };
  parse(spec: unknown): unknown;
}
interface VegaLite {
  compile(spec: unknown): { spec: unknown };
}

let charting: Promise<{ vega: Vega; vl: VegaLite }> | undefined;

/** Vega and Vega-Lite, imported on first use (a command that will draw calls it before its work: one outcome). */
export function loadCharting(): Promise<{ vega: Vega; vl: VegaLite }> {
  const load = <T>(pkg: string) => importOptional<T>(pkg, 'report: drawing charts', 'vega vega-lite');
  charting ??= Promise.all([load<Vega>('vega'), load<VegaLite>('vega-lite')]).then(([vega, vl]) => ({ vega, vl }));
  return charting;
}

/** The chart as a standalone SVG document. */
export async function renderSvg(chart: ChartSpec): Promise<string> {
  const { vega, vl } = await loadCharting();
  const view = new vega.View(vega.parse(vl.compile(chart).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
