// The HTML report: one self-contained file (inline CSS and SVG, no script, no
// fetch) that opens offline. Sections for what the inputs hold: a compression
// run (stages, layers, weight histograms, bits per weight), sensitivity curves,
// and speed next to peers. Every number cell carries its exact value in data-value.
import type { SensitivityResult } from '../compress/prune/sensitivity.js';
import { bitsSpec, histogramSpec, renderSvg, sensitivitySpec, speedSpec, stageShort, tradeoffSpec, type ChartSpec, type SpeedPoint } from './charts.js';
import type { CompressRun } from './compress_report.js';
import type { ReportInput } from './report_inputs.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const int = (v: number): string => v.toLocaleString('en-US');
const pct = (v: number | undefined): string => (v === undefined ? '-' : `${(100 * v).toFixed(2)}%`);
const ratio = (v: number): string => `${v.toFixed(1)}×`;

type Cell = string | { text: string; value: number | undefined; key: string };

const num = (key: string, value: number | undefined, text: (v: number) => string): Cell => ({ key, value, text: value === undefined ? '-' : text(value) });

function table(cls: string, header: string[], rows: Cell[][]): string {
  const cell = (c: Cell): string =>
    typeof c === 'string' ? `<td>${escapeHtml(c)}</td>` : `<td class="num" data-key="${c.key}"${c.value === undefined ? '' : ` data-value="${c.value}"`}>${escapeHtml(c.text)}</td>`;
  const head = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  return `<table class="${cls}"><thead><tr>${head}</tr></thead><tbody>\n${rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n')}\n</tbody></table>`;
}

/** A chart rendered to SVG inside a figure; `id` names it for links and tests. */
async function figure(id: string, chart: ChartSpec, caption: string): Promise<string> {
  return `<figure class="chart" id="${escapeHtml(id)}">${await renderSvg(chart)}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

function stageTable(run: CompressRun): string {
  return table('stages', ['stage', 'bytes', 'ratio', 'accuracy'], run.stages.map((s) => [
    s.stage, num('bytes', s.bytes, int), num('ratio', s.ratio, ratio), num('accuracy', s.accuracy, pct),
  ]));
}

function layerTable(run: CompressRun): string {
  return table('layers', ['layer', 'params', 'kept', 'bits (codebook)', 'bytes before', 'bytes after', 'ratio', 'bits per weight (file)'], run.layers.map((l) => [
    l.layer, num('params', l.params, int), num('keptPct', l.keptPct, (v) => `${v.toFixed(1)}%`), num('bits', l.bits, String),
    num('bytesBefore', l.bytesBefore, int), num('bytesAfter', l.bytesAfter, int), num('ratio', l.bytesBefore / l.bytesAfter, ratio),
    num('bitsPerWeight', (l.bytesAfter * 8) / l.params, (v) => v.toFixed(2)),
  ]));
}

async function compressSection(run: CompressRun): Promise<string> {
  const acc = run.accuracy;
  const summary = `${escapeHtml(run.model)} → ${escapeHtml(run.output)}: <b>${int(run.fileBytes)}</b> bytes from ${int(run.originalBytes)} of float32 weights, ` +
    `<b>${ratio(run.originalBytes / run.fileBytes)}</b> smaller` + (acc.original !== undefined ? `; test accuracy ${pct(acc.original)} → ${pct(acc.file)}` : '');
  const withAccuracy = run.stages.some((s) => s.accuracy !== undefined);
  const histograms = await Promise.all(run.histograms.map((h) =>
    figure(`histogram-${h.layer}`, histogramSpec(h), `${h.layer}: weight values before compression and after each stage; pruned zeros are not drawn; red rules are the shared weights' centroids.`)));
  return [
    `<section id="run"><h2>Compression run</h2><p class="summary">${summary}. Recipe: ${escapeHtml(String(run.recipe?.name ?? '-'))}.</p>`,
    '<h3>Stages</h3>', stageTable(run),
    withAccuracy ? await figure('tradeoff', tradeoffSpec(run.stages), `Test accuracy against file size after each stage: ${run.stages.map(stageShort).join(' → ')}.`) : '',
    '<h3>Layers</h3>', layerTable(run),
    await figure('bits', bitsSpec(run.layers), 'Bits per weight each layer takes in the file: values, relative indices and codebook together (float32 = 32).'),
    '<h3>Weight distributions</h3>', ...histograms, '</section>',
  ].join('\n');
}

async function sensitivitySection(r: SensitivityResult, where: string): Promise<string> {
  const rows = r.layers.map((l) => [l.layer, l.op, num('weights', l.weights, int), ...l.accuracy.map((a, i) => num(`accuracy@${r.densities[i]}`, a, pct))]);
  return [
    `<section id="sensitivity"><h2>Pruning sensitivity</h2><p class="summary">Each layer pruned alone (${escapeHtml(r.mode)}), no fine-tuning; baseline ${pct(r.baseline)} (${escapeHtml(where)}).</p>`,
    await figure('sensitivity-chart', sensitivitySpec(r), 'Accuracy as one layer at a time keeps a smaller fraction: where a curve falls off, that layer cannot be pruned further.'),
    table('sensitivity', ['layer', 'op', 'weights', ...r.densities.map((d) => `kept ${d}`)], rows), '</section>',
  ].join('\n');
}

async function speedSection(title: string, points: SpeedPoint[], where: string, index: number): Promise<string> {
  const rows = points.map((p) => [p.setting, p.peer, num('ms', p.ms, (v) => (v >= 100 ? v.toFixed(0) : v.toPrecision(3)))]);
  return [
    `<section class="speed"><h2>${escapeHtml(title)}</h2><p class="summary">Median milliseconds per run, measured side by side in one run (${escapeHtml(where)}).</p>`,
    await figure(`speed-${index}`, speedSpec(points, title), 'Lower is faster; every runtime measured in the same run.'),
    table('speed', ['setting', 'runtime', 'ms per run'], rows), '</section>',
  ].join('\n');
}

const STYLE = `
body { font-family: system-ui, sans-serif; color: #1d2433; max-width: 1000px; margin: 24px auto; padding: 0 16px; line-height: 1.4; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #dde1e8; padding-bottom: 4px; } h3 { font-size: 15px; margin-top: 22px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; } th, td { padding: 3px 10px; border-bottom: 1px solid #eceff3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } th { background: #f4f6f9; }
figure.chart { margin: 12px 0 20px; } figure.chart svg { max-width: 100%; height: auto; } figcaption { font-size: 12px; color: #5b6477; max-width: 720px; }
p.summary { color: #3b4456; } footer { margin-top: 36px; font-size: 12px; color: #7a8396; }`;

/** The report page for the inputs, in their order. */
export async function reportHtml(inputs: ReportInput[], generator: string): Promise<string> {
  const sections: string[] = [];
  let speed = 0;
  for (const input of inputs) {
    if (input.kind === 'compress') sections.push(await compressSection(input.run));
    else if (input.kind === 'sensitivity') sections.push(await sensitivitySection(input.result, input.where));
    else sections.push(await speedSection(input.title, input.points, input.where, speed++));
  }
  const run = inputs.find((i) => i.kind === 'compress');
  const title = run?.kind === 'compress' ? `nnzip report: ${run.run.model}` : 'nnzip report';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${sections.join('\n')}
<footer>Made by ${escapeHtml(generator)} from ${inputs.map((i) => escapeHtml(i.where)).join(', ')}. Charts: Vega-Lite, rendered to SVG.</footer>
</body></html>
`;
}
