// nnzip in a real browser: headless Chromium (one launch for every test here)
// loads the esbuild bundle from a localhost server. The runtime runs a .nnz and
// a dense .onnx and gives Node's outputs bit for bit, on one thread and on Web
// Workers; the demo page classifies drawn MNIST digits; the HTML report opens
// offline with every chart drawn and the JSON's numbers in its tables.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveStatic, type Server } from '../../src/cli/serve.js';
import { loadDataset } from '../../src/data/datasets.js';
import { buildWeb, DEMO_MODELS } from '../../web/build.js';
import { launchChromium, watchedPage, type Chromium } from '../../web/chromium.js';
import { digitStrokes, firstImages, MODELS, nodeLogitBits, ROOT } from './helpers.js';
import { checkReportPage, makeReportInputs } from './report_checks.js';

const BLANK = '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>nnzip test</title></head><body></body></html>';
const FILES = ['lenet5_deep_compression.nnz', 'lenet5_dense.onnx'];
const COUNT = 8;
const SHOTS = join(ROOT, 'dist/screenshots');

let chromium: Chromium;
let isolated: Server;
let plain: Server;
let blank: string;

before(async () => {
  await buildWeb(join(ROOT, 'dist/browser')); // what npm run build:web makes, and nnzip demo --serve serves
  blank = mkdtempSync(join(tmpdir(), 'nnzip-page-'));
  writeFileSync(join(blank, 'blank.html'), BLANK);
  const mounts = { '/': join(ROOT, 'dist/browser'), '/models/': MODELS, '/test/': blank };
  isolated = await serveStatic({ mounts });
  plain = await serveStatic({ mounts, isolated: false });
  chromium = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await chromium?.close();
  await isolated?.close();
  await plain?.close();
  rmSync(blank, { recursive: true, force: true });
});

/** `nnzip demo --serve --port 0` in a child process, and the page's URL it prints. */
async function demoServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/nnzip.js'), 'demo', '--serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`nnzip demo --serve exited (${code}): ${out}`)));
  });
  return { url, child };
}

interface PageRun { file: string; threads: number; asked: number; splitSteps: number; bits: number[] }

/** Runs in the page: each model on each thread count, the first images as one batch; outputs as bit patterns. */
async function runInPage(a: { files: string[]; images: number[]; count: number; threads: number[] }) {
  const url: string = '/nnzip.js';
  const nn = (await import(url)) as typeof import('../../src/browser.js');
  const runs: PageRun[] = [];
  for (const file of a.files) {
    const bytes = new Uint8Array(await (await fetch(`/models/${file}`)).arrayBuffer());
    for (const threads of a.threads) {
      // splitFlops 0: every step that can be split is, so the workers really run kernels
      const s = await nn.createWebSession(bytes, { threads, batch: a.count, splitFlops: 0 });
      const y = s.run({ [s.inputNames[0]]: new nn.Tensor('float32', [a.count, 1, 28, 28], Float32Array.from(a.images)) });
      const out = y[s.outputNames[0]].data as Float32Array;
      runs.push({ file, threads: s.threads, asked: threads, splitSteps: s.plan.steps.filter((st) => st.split > 1).length, bits: Array.from(new Uint32Array(out.buffer)) });
      await s.dispose();
    }
  }
  let badInput = '';
  await nn.createWebSession(new Uint8Array([1, 2, 3]), { threads: Math.max(...a.threads) }).catch((e: Error) => { badInput = `${e.name}: ${e.message}`; });
  return { runs, relaxedSimd: nn.wasmFeatures().relaxedSimd, isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated, badInput };
}

describe('runtime bundle in Chromium', () => {
  const images = firstImages(loadDataset('mnist', 'test'), COUNT);

  it('runs a .nnz and a dense .onnx on 1 thread and on 2 (Web Workers): outputs equal Node\'s bit for bit, no console errors', async () => {
    const { page, errors } = await watchedPage(chromium.context);
    await page.goto(`${isolated.url}/test/blank.html`);
    const r = await page.evaluate(runInPage, { files: FILES, images, count: COUNT, threads: [1, 2] });
    assert.equal(r.isolated, true, 'the page is cross-origin isolated');
    const want = nodeLogitBits(FILES.map((f) => join(MODELS, f)), COUNT, r.relaxedSimd);
    for (const run of r.runs) {
      assert.equal(run.threads, run.asked, `${run.file}: ${run.asked} threads asked`);
      if (run.threads > 1) assert.ok(run.splitSteps > 0, `${run.file}: no step was shared by the workers`);
      assert.equal(run.bits.length, COUNT * 10);
      assert.deepEqual(run.bits, want[join(MODELS, run.file)], `${run.file} on ${run.threads} thread(s) differs from Node`);
    }
    assert.match(r.badInput, /^NnzipError: .+/, 'bad bytes give an NnzipError');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('on a page that is not cross-origin isolated, asks for 2 threads and runs on 1 with the same outputs', async () => {
    const { page, errors } = await watchedPage(chromium.context);
    await page.goto(`${plain.url}/test/blank.html`);
    const r = await page.evaluate(runInPage, { files: FILES.slice(0, 1), images, count: COUNT, threads: [2] });
    assert.equal(r.isolated, false);
    assert.equal(r.runs[0].threads, 1);
    assert.deepEqual(r.runs[0].bits, nodeLogitBits(FILES.map((f) => join(MODELS, f)), COUNT, r.relaxedSimd)[join(MODELS, FILES[0])]);
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe('demo page in Chromium', () => {
  it('nnzip demo --serve: a scripted drawing of MNIST test digits is classified as their labels, compressed and dense; sizes and latency shown', async (t) => {
    const ds = loadDataset('mnist', 'test');
    const server = await demoServer();
    t.after(() => server.child.kill('SIGINT'));
    const { page, errors } = await watchedPage(chromium.context);
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const box = (await page.locator('#canvas').boundingBox())!;
    // the first test image of each label
    const picks = Array.from({ length: 10 }, (_, d) => ds.labels.indexOf(d));
    const wrong: string[] = [];
    for (const i of picks) {
      await page.click('#clear');
      const strokes = digitStrokes(ds.images.subarray(i * 784, (i + 1) * 784), box.width);
      const before = Number(await page.locator('body').getAttribute('data-strokes') ?? 0);
      for (const [first, ...rest] of strokes) {
        await page.mouse.move(box.x + first[0], box.y + first[1]);
        await page.mouse.down();
        for (const [x, y] of rest) await page.mouse.move(box.x + x, box.y + y);
        await page.mouse.up();
      }
      await page.waitForSelector(`body[data-classified="${before + strokes.length}"]`); // the result of the whole drawing
      const got = await Promise.all(['#nnz', '#onnx'].map((k) => page.locator(k).getAttribute('data-digit')));
      if (got[0] !== String(ds.labels[i]) || got[1] !== String(ds.labels[i])) wrong.push(`test image ${i} (${ds.labels[i]}): nnz ${got[0]}, onnx ${got[1]}`);
    }
    assert.deepEqual(wrong, []);
    const text = (sel: string) => page.locator(sel).innerText();
    assert.ok((await text('#nnz .size')).includes(readFileSync(DEMO_MODELS.nnz).length.toLocaleString('en-US')));
    assert.ok((await text('#onnx .size')).includes(readFileSync(DEMO_MODELS.onnx).length.toLocaleString('en-US')));
    for (const k of ['nnz', 'onnx']) assert.match(await text(`#${k} .latency`), /^\d+(\.\d+)? (µs|ms) per run$/);
    assert.match(await text('#status'), /^ready: .* on \d threads? /);
    await page.screenshot({ path: join(SHOTS, 'demo.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe('HTML report in Chromium', () => {
  it('opens offline; every chart is a drawn SVG with axes; the tables hold the JSON\'s numbers; no console errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nnzip-report-'));
    const { html, run, sensitivity } = await makeReportInputs(dir);
    const { page, errors } = await watchedPage(chromium.context);
    const requests: string[] = [];
    page.on('request', (q) => { if (!q.url().startsWith('file:')) requests.push(q.url()); });
    await chromium.context.setOffline(true);
    try {
      await page.goto(`file://${html}`);
      await checkReportPage(page, run, sensitivity);
      await page.screenshot({ path: join(SHOTS, 'report.png'), fullPage: true });
    } finally {
      await chromium.context.setOffline(false);
    }
    assert.deepEqual(requests, [], 'the report fetches nothing');
    assert.deepEqual(errors, []);
    await page.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
