// The long fuzz run: `npm run fuzz -- [--format onnx|nnz] [--cases N] [--seed S] [--out FILE]`
// (run it niced: `nice -n 19 npm run fuzz`). `--from F` runs cases F..N-1 only, so one run can
// be split over processes; `--merge A.json B.json ...` adds their summaries up. Cases run in a worker thread; this thread
// samples the process's resident memory every millisecond, attributing each peak to the
// case being run, and restarts the worker past a case that takes over --hang-ms of CPU
// time (a hang; CPU, not wall time, so a niced run on a busy machine sees no false hangs).
// `--seconds T` stops after T seconds and reports the cases run so far (`to` = the first not run).
// Replay one case with its stack trace: `npm run fuzz -- --format nnz --seed S --case I [--save FILE]`.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { caseBytes, nthCase, runCase, type Format, type OutcomeKind } from './cases.js';
import { makeSeeds } from './seeds.js';
import type { CaseReport, WorkerData } from './worker.js';

interface Summary {
  format: Format;
  runSeed: number;
  /** Cases from..to-1 of the run. */
  from: number;
  to: number;
  seconds: number;
  counts: Record<string, number>;
  /** Normalised error line → count, per outcome kind. */
  messages: Record<string, Record<string, number>>;
  /** Cases to replay: every failure and hang (first 100). */
  replay: { index: number; kind: string; error?: string }[];
  hangs: number[];
  slowest: { index: number; ms: number; kind: string }[];
  memory: { baselineMb: number; peakMb: number; maxCaseGrowthMb: number; maxCaseIndex: number; maxCaseBytes: number; worstGrowthPerByte: number };
}

/** Groups messages: numbers → #, quoted names → "…". */
const normalise = (m: string): string => m.replace(/"[^"]*"/g, '"…"').replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi, '#').slice(0, 200);

function runFormat(format: Format, runSeed: number, from: number, cases: number, hangMs: number, seconds = Infinity): Promise<Summary> {
  const s: Summary = {
    format, runSeed, from, to: cases, seconds: 0, counts: {}, messages: {}, replay: [], hangs: [], slowest: [],
    memory: { baselineMb: 0, peakMb: 0, maxCaseGrowthMb: 0, maxCaseIndex: -1, maxCaseBytes: 0, worstGrowthPerByte: 0 },
  };
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const bytesOf = new Map<number, number>();
  const growth = new Map<number, number>();
  const t0 = Date.now();
  let done = 0, next = from;
  let current = -1, startRss = 0, peakRss = 0, ready = false;
  const rss = (): number => process.memoryUsage.rss();
  // this thread only samples: the process's CPU time is the worker's
  const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let since = cpuMs();
  const record = (r: CaseReport): void => {
    done++;
    next = r.index + 1;
    const kind = r.outcome.kind;
    s.counts[kind] = (s.counts[kind] ?? 0) + 1;
    bytesOf.set(r.index, r.outcome.bytes);
    if (r.outcome.error) {
      const m = (s.messages[kind] ??= {});
      const key = normalise(r.outcome.error);
      m[key] = (m[key] ?? 0) + 1;
    }
    if (!['ok', 'rejected', 'late'].includes(kind) && s.replay.length < 100) s.replay.push({ index: r.index, kind, error: r.outcome.error });
    s.slowest.push({ index: r.index, ms: Math.round(r.ms), kind });
    if (s.slowest.length > 40) s.slowest = s.slowest.sort((a, b) => b.ms - a.ms).slice(0, 10);
    if (done % 5000 === 0) console.error(`${format}: ${done}/${cases - from} cases, ${((Date.now() - t0) / 1000).toFixed(0)} s, ${JSON.stringify(s.counts)}`);
  };
  return new Promise((resolve) => {
    let worker: Worker;
    const start = (from: number): void => {
      ready = false;
      Atomics.store(shared, 0, from - 1);
      const data: WorkerData = { fuzz: true, format, runSeed, from, to: cases, shared };
      worker = new Worker(fileURLToPath(new URL('./worker.js', import.meta.url)), { workerData: data });
      worker.on('message', (m: CaseReport | { ready: true }) => ('ready' in m ? ((ready = true), (s.memory.baselineMb ||= rss() / 2 ** 20)) : record(m)));
      worker.on('error', (e) => {
        console.error(`${format}: the worker failed: ${(e as Error).stack}`);
        s.counts['harness-error'] = (s.counts['harness-error'] ?? 0) + 1;
        finish();
      });
      worker.on('exit', () => {
        if (Atomics.load(shared, 0) >= cases) finish();
      });
    };
    let measuring = false;
    const sampler = setInterval(() => {
      if (Date.now() - t0 > seconds * 1000) {
        // out of time: the cases before `next` ran (in order), the one running is dropped
        s.to = next;
        clearInterval(sampler);
        void worker.terminate().then(finish);
        return;
      }
      const index = Atomics.load(shared, 0);
      const running = Atomics.load(shared, 1) === 1;
      const now = rss();
      s.memory.peakMb = Math.max(s.memory.peakMb, now / 2 ** 20);
      if (!ready) return;
      if (index !== current || running !== measuring) {
        // growth is counted from when nnzip starts on the case, not while the mutator builds it
        if (current >= 0 && measuring && peakRss - startRss > 1 << 20) growth.set(current, peakRss - startRss);
        if (index !== current) since = cpuMs();
        current = index;
        measuring = running;
        startRss = peakRss = now;
      } else {
        peakRss = Math.max(peakRss, now);
        if (cpuMs() - since > hangMs && index < cases) {
          s.hangs.push(index);
          s.counts.hang = (s.counts.hang ?? 0) + 1;
          current = -1;
          next = index + 1;
          void worker.terminate().then(() => start(index + 1));
        }
      }
    }, 1);
    const finish = (): void => {
      clearInterval(sampler);
      s.seconds = Math.round((Date.now() - t0) / 1000);
      s.slowest = s.slowest.sort((a, b) => b.ms - a.ms).slice(0, 10);
      for (const [index, g] of growth) {
        const perByte = g / Math.max(1, bytesOf.get(index) ?? 1);
        if (g / 2 ** 20 > s.memory.maxCaseGrowthMb) Object.assign(s.memory, { maxCaseGrowthMb: g / 2 ** 20, maxCaseIndex: index, maxCaseBytes: bytesOf.get(index) ?? 0 });
        s.memory.worstGrowthPerByte = Math.max(s.memory.worstGrowthPerByte, perByte);
      }
      resolve(s);
    };
    start(from);
  });
}

/** One summary of several (parts of one run, or runs): counts and messages add up, the worst memory wins. */
function merge(parts: Summary[]): Summary {
  const out: Summary = structuredClone(parts[0]);
  for (const p of parts.slice(1)) {
    if (p.format !== out.format || p.runSeed !== out.runSeed) throw new Error('merge: the parts are of different formats or seeds');
    out.from = Math.min(out.from, p.from);
    out.to = Math.max(out.to, p.to);
    out.seconds = Math.max(out.seconds, p.seconds);
    for (const [k, n] of Object.entries(p.counts)) out.counts[k] = (out.counts[k] ?? 0) + n;
    for (const [kind, m] of Object.entries(p.messages)) for (const [msg, n] of Object.entries(m)) (out.messages[kind] ??= {})[msg] = (out.messages[kind]?.[msg] ?? 0) + n;
    out.replay.push(...p.replay);
    out.hangs.push(...p.hangs);
    out.slowest = [...out.slowest, ...p.slowest].sort((a, b) => b.ms - a.ms).slice(0, 10);
    if (p.memory.maxCaseGrowthMb > out.memory.maxCaseGrowthMb) out.memory = { ...p.memory, worstGrowthPerByte: Math.max(p.memory.worstGrowthPerByte, out.memory.worstGrowthPerByte) };
    out.memory.peakMb = Math.max(out.memory.peakMb, p.memory.peakMb);
  }
  return out;
}

async function replay(format: Format, runSeed: number, index: number, save?: string): Promise<void> {
  const seeds = await makeSeeds();
  const c = nthCase(format, seeds, runSeed, index);
  const bytes = caseBytes(format, seeds, c);
  console.log(`case ${index} of seed ${runSeed} (${format}): seed file ${format === 'onnx' ? seeds.onnx[c.seed].name : seeds.nnz[c.seed].name}, edits ${JSON.stringify(c.edits)}${c.damage ? `, damage ${JSON.stringify(c.damage)}` : ''}, ${bytes.length} bytes`);
  if (save) writeFileSync(save, bytes);
  const o = await runCase(format, bytes);
  console.log(`${o.kind}${o.error ? `: ${o.error}` : ''}`);
  if (o.stack && o.kind !== 'rejected') console.log(o.stack);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      format: { type: 'string' }, cases: { type: 'string' }, seed: { type: 'string' }, case: { type: 'string' },
      save: { type: 'string' }, out: { type: 'string' }, 'hang-ms': { type: 'string' }, from: { type: 'string' }, seconds: { type: 'string' },
      merge: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (values.merge) {
    const parts: Summary[] = positionals.flatMap((f) => JSON.parse(readFileSync(f, 'utf8')));
    const merged = [...new Set(parts.map((p) => p.format))].map((f) => merge(parts.filter((p) => p.format === f)));
    console.log(JSON.stringify(merged, null, 2));
    if (values.out) writeFileSync(values.out, JSON.stringify(merged, null, 2) + '\n');
    return;
  }
  const runSeed = Number(values.seed ?? 1);
  const formats: Format[] = values.format ? [values.format as Format] : ['onnx', 'nnz'];
  if (values.case !== undefined) return replay(formats[0], runSeed, Number(values.case), values.save);
  const summaries: Summary[] = [];
  for (const format of formats) {
    const s = await runFormat(format, runSeed, Number(values.from ?? 0), Number(values.cases ?? 100_000), Number(values['hang-ms'] ?? 30_000), Number(values.seconds ?? Infinity));
    console.log(JSON.stringify(s, null, 2));
    summaries.push(s);
  }
  if (values.out) writeFileSync(values.out, JSON.stringify(summaries, null, 2) + '\n');
  const failures = summaries.flatMap((s) => (['unexpected', 'unloadable', 'hang', 'harness-error'] as (OutcomeKind | string)[]).map((k) => s.counts[k] ?? 0));
  process.exitCode = failures.some((n) => n > 0) ? 1 : 0;
}

// under `node --test` (which runs every file in dist/test) this file only defines things
if (!process.env.NODE_TEST_CONTEXT && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
