// `npm run bench:browser`: nnzip next to onnxruntime-web in headless Chromium,
// in the same page (bench/browser_page.ts), one page per thread count (served
// cross-origin isolated, so both run on Web Workers); then the download each
// needs: nnzip's bundle against onnxruntime-web's and TF.js-wasm's files.
// 'nnzip .nnz' runs a compressed file of the model: LeNet-5's Deep Compression demo,
// VGG-S pattern-pruned (bench/pattern_model.ts patternVggs: the repro's trained file, or
// the dense model projected one-shot), so the browser row answers the pattern issue's
// question: the pattern model in a browser against onnxruntime-web on the dense one.
// Options:
//   --threads 1,2    thread settings (default 1,2)
//   --rounds N       timed rounds per row, >= 5 (default 7)
//   --warmup MS      warm-up per contender and row before its rounds (default 2000): V8 runs
//                    each wasm function on baseline code (Liftoff) until it has run enough
//                    there; a fresh pattern-model session in this Chromium takes ~500 runs at
//                    batch 1 to come within 1.3x of its steady speed, and ~800 on 2 Web Workers
//                    (each worker's instance counts its own calls). The harness's 200 ms timed
//                    the 2-worker pattern model mostly on baseline code (1.0-1.6 ms, not 0.36)
//   --json FILE      also write the rows (nnzip report reads them) and the sizes
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '../src/cli/serve.js';
import { graphToNnz } from '../src/format/nnz.js';
import { NnzipError } from '../src/ir/errors.js';
import { bundle, buildWeb, DEMO_MODELS, fileSize, ROOT, type BuiltFile } from '../web/build.js';
import { launchChromium, watchedPage } from '../web/chromium.js';
import type { benchPage, PageCase, PageRow } from './browser_page.js';
import { patternVggs } from './pattern_model.js';
import { formatRatio, formatSig, formatTable } from './table.js';

const MODELS = join(ROOT, 'fixtures/models');
const CASES: PageCase[] = [
  { model: 'LeNet-5', onnx: '/models/lenet5_dense.onnx', nnz: `/models/${DEMO_MODELS.nnz.split('/').pop()}`, image: [1, 28, 28], batches: [1, 64] },
  { model: 'LeNet-300-100', onnx: '/models/lenet300_dense.onnx', image: [1, 28, 28], batches: [1, 64] },
  { model: 'VGG-S', onnx: '/models/vggs_fmnist_dense.onnx', nnz: '/vggs_pattern.nnz', image: [1, 28, 28], batches: [1, 64] },
];
const PEERS = ['nnzip', 'nnzip .nnz', 'ort-web'];

interface Options { threads: number[]; rounds: number; warmupMs: number; json?: string }

function parseArgs(argv: string[]): Options {
  const o: Options = { threads: [1, 2], rounds: 7, warmupMs: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i], v = argv[++i];
    if (v === undefined) throw new NnzipError(`bench:browser: ${flag} needs a value`);
    if (flag === '--threads') o.threads = v.split(',').map(Number);
    else if (flag === '--rounds') o.rounds = Number(v);
    else if (flag === '--warmup') o.warmupMs = Number(v);
    else if (flag === '--json') o.json = v;
    else throw new NnzipError(`bench:browser: unknown option ${flag}; see the header of bench/browser.ts`);
  }
  if (!o.threads.every((t) => Number.isInteger(t) && t >= 1)) throw new NnzipError('bench:browser: --threads takes integers >= 1');
  if (!(o.warmupMs >= 0)) throw new NnzipError('bench:browser: --warmup takes milliseconds >= 0');
  return o;
}

/** Files each runtime needs downloaded to run an ONNX model with WebAssembly, raw and gzipped. */
/** An installed package's folder (node_modules at the repository's root). */
const pkg = (name: string): string => join(ROOT, 'node_modules', name);

function downloads(library: BuiltFile): { runtime: string; files: string; bytes: number; gzipBytes: number }[] {
  const sum = (runtime: string, files: string[]) => {
    const sizes = files.map(fileSize);
    return { runtime, files: files.map((f) => f.split('/').pop()).join(' + '), bytes: sizes.reduce((a, s) => a + s.bytes, 0), gzipBytes: sizes.reduce((a, s) => a + s.gzipBytes, 0) };
  };
  const ort = join(pkg('onnxruntime-web'), 'dist');
  const tf = (p: string, f: string) => join(pkg(`@tensorflow/${p}`), f);
  return [
    sum('nnzip', [library.path]),
    sum('onnxruntime-web (wasm)', [join(ort, 'ort.wasm.min.mjs'), join(ort, 'ort-wasm-simd-threaded.mjs'), join(ort, 'ort-wasm-simd-threaded.wasm')]),
    sum('TF.js + wasm backend', [tf('tfjs-core', 'dist/tf-core.fesm.min.js'), tf('tfjs-converter', 'dist/tf-converter.fesm.min.js'),
      tf('tfjs-backend-wasm', 'dist/tf-backend-wasm.fesm.min.js'), tf('tfjs-backend-wasm', 'wasm-out/tfjs-backend-wasm-simd.wasm')]),
  ];
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const site = mkdtempSync(join(tmpdir(), 'nnzip-bench-'));
  const { library } = await buildWeb(site);
  await bundle(join(ROOT, 'bench/browser_page.ts'), join(site, 'bench.js'), { library: '/nnzip.js' });
  const pattern = patternVggs();
  writeFileSync(join(site, 'vggs_pattern.nnz'), graphToNnz(pattern.graph).bytes);
  writeFileSync(join(site, 'bench.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>nnzip bench</title><script type="module" src="bench.js"></script>');
  const ortDir = join(pkg('onnxruntime-web'), 'dist');
  const server = await serveStatic({ mounts: { '/': site, '/models/': MODELS, '/ort/': ortDir } });
  const chromium = await launchChromium();
  const version = `Chromium ${chromium.context.browser()?.version() ?? ''}`.trim();
  const sizes = downloads(library);
  const rows: PageRow[] = [];
  const load = loadavg()[0];
  try {
    for (const threads of o.threads) {
      process.stderr.write(`bench:browser: ${threads} thread(s)\n`);
      const { page, errors } = await watchedPage(chromium.context);
      await page.goto(`${server.url}/bench.html`);
      await page.waitForFunction(() => 'benchPage' in globalThis);
      page.setDefaultTimeout(0);
      rows.push(...await page.evaluate(({ cases, threads, rounds, warmupMs }) =>
        (globalThis as unknown as { benchPage: typeof benchPage }).benchPage(cases, threads, rounds, warmupMs), { cases: CASES, threads, rounds: o.rounds, warmupMs: o.warmupMs }));
      if (errors.length) process.stderr.write(`bench:browser: page errors: ${errors.join('; ')}\n`);
      await page.close();
    }
  } finally {
    await chromium.close();
    await server.close();
    rmSync(site, { recursive: true, force: true });
  }
  const ms = (r: PageRow, p: string) => r.peers[p]?.ms;
  console.log(`\nInference in ${version} (headless), median ms per run, same page; load ${load.toFixed(1)} on ${cpus().length} cores`);
  console.log(`nnzip .nnz: LeNet-5 Deep Compression (the demo's file); VGG-S pattern-pruned, ${pattern.source}\n`);
  console.log(formatTable(['model', 'batch', 'threads', ...PEERS, 'ort-web / nnzip', 'ort-web / nnzip .nnz'], rows.map((r) => [
    r.model, String(r.batch), String(r.threads), ...PEERS.map((p) => formatSig(ms(r, p))), formatRatio(ms(r, 'ort-web'), ms(r, 'nnzip')), formatRatio(ms(r, 'ort-web'), ms(r, 'nnzip .nnz')),
  ])));
  const far = rows.flatMap((r) => Object.entries(r.peers).filter(([, p]) => (p.maxAbs ?? 0) > 1e-3).map(([n, p]) => `${r.model} batch ${r.batch}: ${n} differs from ort-web by ${p.maxAbs}`));
  if (far.length) console.log(`\n${far.join('\n')}`);
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  console.log('\nDownload to run an ONNX model on WebAssembly (minified JS + .wasm), raw and gzip -9\n');
  console.log(formatTable(['runtime', 'raw', 'gzip', 'files'], sizes.map((s) => [s.runtime, kb(s.bytes), kb(s.gzipBytes), s.files])));
  if (o.json) {
    writeFileSync(o.json, `${JSON.stringify({ kind: 'bench-browser', browser: version, date: new Date().toISOString(), load, rows, sizes }, null, 2)}\n`);
    console.log(`\nbench:browser: wrote ${o.json}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(() => process.exit(0), (e) => {
    process.stderr.write(e instanceof NnzipError ? `nnzip: error: ${e.message}\n` : `${(e as Error).stack ?? e}\n`);
    process.exit(e instanceof NnzipError ? e.exitCode : 1);
  });
}
