// A small SVG line-chart writer (no dependency): one polyline with point markers per
// series, linear axes with "nice" ticks, a legend on the right. Same input, same bytes.
import { fail } from '../ir/errors.js';

export interface Series {
  name: string;
  points: [x: number, y: number][];
}

export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Axis ranges; default: the data's range, widened to nice ticks. */
  xDomain?: [number, number];
  yDomain?: [number, number];
}

// Tableau 10: distinguishable, and readable on white.
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const LEGEND_WIDTH = 150;
const MARGIN = { top: 36, right: 16, bottom: 48, left: 60 };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** Short decimal text for a coordinate or tick (no float noise like 0.30000000000000004). */
export function fmt(v: number): string {
  return String(Number(v.toPrecision(6)));
}

// A round step (1, 2 or 5 × 10^k) giving about `count` intervals over [lo, hi].
function niceStep(lo: number, hi: number, count: number): number {
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9)) as number;
}

/** About `count` evenly spaced round numbers within [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step = niceStep(lo, hi, count);
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

function domainOf(values: number[], given: [number, number] | undefined, what: string): [number, number] {
  if (given) {
    if (!given.every(Number.isFinite) || !(given[1] > given[0])) fail(`lineChart: ${what} [${given.join(', ')}] must be two finite numbers, low < high`);
    return given;
  }
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi === lo) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  // Widen to whole steps so the axis starts and ends on a tick.
  const step = niceStep(lo, hi, 5);
  return [Number((Math.floor(lo / step + 1e-9) * step).toPrecision(12)), Number((Math.ceil(hi / step - 1e-9) * step).toPrecision(12))];
}

function checkSeries(series: Series[]): void {
  if (series.length === 0) fail('lineChart: no series to draw');
  for (const s of series) {
    if (s.points.length === 0) fail(`lineChart: series "${s.name}" has no points`);
    s.points.forEach(([x, y], i) => {
      if (!Number.isFinite(x) || !Number.isFinite(y)) fail(`lineChart: series "${s.name}" point ${i} is (${x}, ${y}); coordinates must be finite numbers`);
    });
  }
}

function axes(w: number, h: number, sx: (v: number) => number, sy: (v: number) => number, xd: [number, number], yd: [number, number]): string[] {
  const out: string[] = [];
  const [x0, x1, y0, y1] = [MARGIN.left, w, MARGIN.top, MARGIN.top + h];
  for (const t of niceTicks(yd[0], yd[1])) {
    out.push(`<line x1="${x0}" y1="${fmt(sy(t))}" x2="${x1}" y2="${fmt(sy(t))}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${x0 - 6}" y="${fmt(sy(t) + 4)}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(xd[0], xd[1])) {
    out.push(`<line x1="${fmt(sx(t))}" y1="${y1}" x2="${fmt(sx(t))}" y2="${y1 + 5}" stroke="#333"/>`);
    out.push(`<text x="${fmt(sx(t))}" y="${y1 + 18}" text-anchor="middle">${fmt(t)}</text>`);
  }
  out.push(`<line x1="${x0}" y1="${y1}" x2="${x1}" y2="${y1}" stroke="#333"/>`);
  out.push(`<line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y1}" stroke="#333"/>`);
  return out;
}

/** An SVG document: x and y axes, one coloured line per series, and a legend. */
export function lineChart(series: Series[], opts: LineChartOptions = {}): string {
  checkSeries(series);
  const width = opts.width ?? 640;
  const height = opts.height ?? 400;
  if (!(width >= 200 && height >= 150)) fail(`lineChart: size ${width}×${height} is too small (at least 200×150)`);
  const xd = domainOf(series.flatMap((s) => s.points.map((p) => p[0])), opts.xDomain, 'xDomain');
  const yd = domainOf(series.flatMap((s) => s.points.map((p) => p[1])), opts.yDomain, 'yDomain');
  const plotW = width - MARGIN.left - MARGIN.right - LEGEND_WIDTH;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const sx = (v: number): number => MARGIN.left + ((v - xd[0]) / (xd[1] - xd[0])) * plotW;
  const sy = (v: number): number => MARGIN.top + (1 - (v - yd[0]) / (yd[1] - yd[0])) * plotH;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (opts.title) out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(opts.title)}</text>`);
  out.push(...axes(MARGIN.left + plotW, plotH, sx, sy, xd, yd));
  if (opts.xLabel) out.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  if (opts.yLabel) out.push(`<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    out.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${fmt(sx(x))},${fmt(sy(y))}`).join(' ')}"/>`);
    for (const [x, y] of pts) out.push(`<circle cx="${fmt(sx(x))}" cy="${fmt(sy(y))}" r="3" fill="${color}"/>`);
    out.push('</g>');
    const ly = MARGIN.top + 8 + i * 16;
    const lx = MARGIN.left + plotW + 16;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 24}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
