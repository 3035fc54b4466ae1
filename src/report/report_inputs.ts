// The JSON documents `nnzip report` reads, recognised by their shape and checked
// field by field: a compression run (`nnzip compress`), a sensitivity analysis
// (`nnzip sensitivity -o`), and benchmark timings (`npm run bench -- --json`,
// `npm run bench:browser -- --json`), and a search's front (`nnzip search`, DIR/front.json).
import type { SensitivityResult } from '../compress/prune/sensitivity.js';
import { fail } from '../ir/errors.js';
import type { SpeedPoint } from './charts.js';
import type { CompressRun } from './compress_report.js';
import type { SearchSummary } from '../search/search.js';

export type ReportInput =
  | { kind: 'compress'; where: string; run: CompressRun }
  | { kind: 'sensitivity'; where: string; result: SensitivityResult }
  | { kind: 'bench'; where: string; title: string; points: SpeedPoint[] }
  | { kind: 'search'; where: string; summary: SearchSummary };

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function need(ok: boolean, where: string, what: string): void {
  if (!ok) fail(`${where}: ${what}`);
}

function checkCompress(d: Json, where: string): CompressRun {
  need(Array.isArray(d.layers) && Array.isArray(d.stages) && isNumber(d.originalBytes) && isNumber(d.fileBytes), where, 'a compression run needs layers, stages, originalBytes and fileBytes');
  (d.stages as unknown[]).forEach((s, i) => need(isObject(s) && typeof s.stage === 'string' && isNumber(s.bytes) && isNumber(s.ratio), where, `stages[${i}] needs stage, bytes and ratio`));
  (d.layers as unknown[]).forEach((l, i) => need(isObject(l) && typeof l.layer === 'string' && isNumber(l.params) && isNumber(l.bytesAfter) && isNumber(l.bytesBefore), where, `layers[${i}] needs layer, params, bytesBefore and bytesAfter`));
  need(Array.isArray(d.histograms), where, 'no histograms: this run was written by an older nnzip; run nnzip compress again');
  (d.histograms as unknown[]).forEach((h, i) => need(isObject(h) && Array.isArray(h.series) && isNumber(h.lo) && isNumber(h.hi) && isNumber(h.bins), where, `histograms[${i}] needs lo, hi, bins and series`));
  return d as unknown as CompressRun;
}

function checkSensitivity(d: Json, where: string): SensitivityResult {
  const n = (d.densities as unknown[]).length;
  need(Array.isArray(d.layers) && (d.densities as unknown[]).every(isNumber), where, 'a sensitivity analysis needs densities (numbers) and layers');
  (d.layers as unknown[]).forEach((l, i) => need(isObject(l) && typeof l.layer === 'string' && Array.isArray(l.accuracy) && l.accuracy.length === n && l.accuracy.every(isNumber), where, `layers[${i}] needs a layer name and ${n} accuracies`));
  return d as unknown as SensitivityResult;
}

function checkSearch(d: Json, where: string): SearchSummary {
  const target = d.target as Json | undefined;
  need(isObject(target) && typeof target.kind === 'string' && isNumber(target.limit) && isNumber(d.maxLoss) && isNumber(d.baseline) && Array.isArray(d.front), where, 'a search front needs target, maxLoss, baseline and front');
  need(d.threads === undefined || (Number.isInteger(d.threads) && (d.threads as number) >= 1), where, `threads ${JSON.stringify(d.threads)}: an integer >= 1`);
  const point = (e: unknown) => isObject(e) && typeof e.hash === 'string' && isNumber(e.size) && isNumber(e.latencyMs) && isNumber(e.accuracy);
  (d.front as unknown[]).forEach((e, i) => need(point(e), where, `front[${i}] needs hash, size, latencyMs and accuracy`));
  if (d.final !== undefined) {
    const f = d.final as Json;
    need(isObject(f) && isNumber(f.baseline) && Array.isArray(f.front), where, 'final needs baseline and front');
    (f.front as unknown[]).forEach((e, i) => need(point(e) && point((e as Json).proxy), where, `final.front[${i}] needs hash, size, latencyMs, accuracy and its proxy result`));
  }
  return d as unknown as SearchSummary;
}

/** Bench rows { model, batch, threads, peers: { name: { ms } } } as chart points (peers without a time left out). */
function benchPoints(rows: unknown, where: string): SpeedPoint[] {
  need(Array.isArray(rows), where, 'benchmark rows missing');
  const points: SpeedPoint[] = [];
  (rows as unknown[]).forEach((r, i) => {
    need(isObject(r) && typeof r.model === 'string' && isNumber(r.batch) && isNumber(r.threads) && isObject(r.peers), where, `rows[${i}] needs model, batch, threads and peers`);
    const row = r as { model: string; batch: number; threads: number; peers: Record<string, { ms?: unknown }> };
    const setting = `${row.model}, batch ${row.batch}, ${row.threads} thread${row.threads > 1 ? 's' : ''}`;
    for (const [peer, p] of Object.entries(row.peers)) if (isObject(p) && isNumber(p.ms)) points.push({ setting, peer, ms: p.ms });
  });
  need(points.length > 0, where, 'no timing in the benchmark rows');
  return points;
}

/** Reads one input document (`where` names it in errors). */
export function parseReportInput(text: string, where: string): ReportInput {
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch (e) {
    fail(`${where}: not JSON (${(e as Error).message})`);
  }
  need(isObject(d), where, 'not a JSON object');
  const doc = d as Json;
  if (doc.kind === 'compress' || ('stages' in doc && 'originalBytes' in doc)) return { kind: 'compress', where, run: checkCompress(doc, where) };
  if (Array.isArray(doc.densities) && 'baseline' in doc) return { kind: 'sensitivity', where, result: checkSensitivity(doc, where) };
  if (isObject(doc.models) && 'rows' in doc.models) return { kind: 'bench', where, title: 'Speed vs peers (Node, npm run bench)', points: benchPoints(doc.models.rows, where) };
  if (doc.kind === 'search-front') return { kind: 'search', where, summary: checkSearch(doc, where) };
  if (doc.kind === 'bench-browser') return { kind: 'bench', where, title: `Speed vs peers (${String(doc.browser ?? 'browser')}, npm run bench:browser)`, points: benchPoints(doc.rows, where) };
  return fail(`${where}: not a document nnzip report knows; give the JSON of nnzip compress, nnzip sensitivity -o, nnzip search (front.json), or npm run bench -- --json`);
}
