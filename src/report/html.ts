// The HTML report: one self-contained file (inline CSS and SVG, no script, no
// fetch) that opens offline. Sections for what the inputs hold: a compression
// run (stages, layers, weight histograms, bits per weight), sensitivity curves,
// speed next to peers, and a search's front (proxy and fully fine-tuned points). Every number cell carries its exact value in data-value.
import type { SensitivityResult } from '../compress/prune/sensitivity.js';
import type { Evaluation } from '../search/evaluate.js';
import type { SearchSummary } from '../search/search.js';
import { bitsSpec, frontSpec, histogramSpec, renderSvg, sensitivitySpec, speedSpec, stageShort, tradeoffSpec, type ChartSpec, type FrontChartPoint, type SpeedPoint } from './charts.js';
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

/** The proxy's front and, when there are final runs, the fully fine-tuned points with the proxy result each came from. */
function frontPoints(s: SearchSummary): FrontChartPoint[] {
  const pt = (e: Evaluation & { meets?: boolean }, run: FrontChartPoint['run'], baseline: number): FrontChartPoint =>
    ({ hash: e.hash, run, bytes: e.size, ms: e.latencyMs, lossPp: Number((100 * (baseline - e.accuracy)).toFixed(3)), meets: e.meets ?? false });
  const proxy = new Map(s.front.map((e) => [e.hash, pt(e, 'proxy', s.baseline)]));
  for (const e of s.final?.front ?? []) if (!proxy.has(e.hash)) proxy.set(e.hash, pt(e.proxy, 'proxy', s.baseline));
  return [...proxy.values(), ...(s.final?.front ?? []).map((e) => pt(e, 'final', s.final!.baseline))];
}

async function searchSection(s: SearchSummary): Promise<string> {
  const f = s.final;
  const tuning = f ? `${f.epochs} epoch${f.epochs > 1 ? 's' : ''} per stage${f.steps ? ` of ${f.steps} steps` : ''} on the whole training set, scored on the test set (baseline ${pct(f.baseline)})` : '';
  const summary = `Target ${escapeHtml(s.target.text)}, at most ${(100 * s.maxLoss).toFixed(2)} pp lost; ${int(s.evaluated)} candidates evaluated with the proxy ` +
    `(held-out baseline ${pct(s.baseline)})${f ? `; the best ${f.finished} fine-tuned fully: ${escapeHtml(tuning)}` : ''}. ` +
    (s.winner ? `Winner <b>${escapeHtml(s.winner.hash)}</b>: ${int(s.winner.size)} bytes, ${s.winner.latencyMs.toPrecision(3)} ms, ${pct(s.winner.accuracy)}.` : 'No candidate meets the goal.');
  const byHash = new Map(s.front.map((e) => [e.hash, e]));
  const rows = [...(f?.front ?? []), ...s.front.filter((e) => !f?.front.some((g) => g.hash === e.hash))].map((e) => {
    const proxy = 'proxy' in e ? (e.proxy as Evaluation) : byHash.get(e.hash)!;
    const final = 'proxy' in e ? e : undefined;
    return [e.hash, num('bytes', e.size, int), num('ms', e.latencyMs, (v) => v.toPrecision(3)), num('proxyAccuracy', proxy.accuracy, pct),
      num('finalAccuracy', final?.accuracy, pct), e.meets ? 'yes' : 'no'];
  });
  return [
    `<section id="search"><h2>Co-design search</h2><p class="summary">${summary}</p>`,
    await figure('search-front', frontSpec(frontPoints(s), 100 * s.maxLoss, s.target, s.threads), 'Accuracy lost against file size and latency: pale points after the short proxy fine-tune, red after the full fine-tune (a grey line joins the two runs of one candidate); dashed: the loss bound and the target.'),
    table('front', ['candidate', 'bytes', 'ms', 'proxy accuracy (held-out)', 'final accuracy (test)', 'meets'], rows), '</section>',
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
    else if (input.kind === 'search') sections.push(await searchSection(input.summary));
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
