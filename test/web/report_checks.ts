// The report test's inputs, made quickly for real (a short compression run and a
// sensitivity analysis of LeNet-5 on MNIST slices, a timing next to
// onnxruntime-node), and the checks of the page Chromium opens.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Page } from 'playwright-core';
import { contender, measure } from '../../bench/harness.js';
import { recipe } from '../../bench/repro/common.js';
import { report } from '../../src/cli/commands/report.js';
import { compressGraph } from '../../src/compress/pipeline.js';
import { sensitivity, type SensitivityResult } from '../../src/compress/prune/sensitivity.js';
import { loadDataset, type Dataset } from '../../src/data/datasets.js';
import { sessionAccuracy } from '../../src/eval/runners.js';
import { nnzToGraph } from '../../src/format/nnz.js';
import { Tensor } from '../../src/ir/tensor.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { compressRun, type CompressRun } from '../../src/report/compress_report.js';
import { Session } from '../../src/runtime/session.js';
import { MODELS } from './helpers.js';

const TEST_IMAGES = 400;

function slice(ds: Dataset, count: number): Dataset {
  return { ...ds, count, images: ds.images.subarray(0, count * 784), labels: ds.labels.subarray(0, count) };
}

/** Milliseconds per LeNet-5 batch-1 run: nnzip dense and compressed next to onnxruntime-node, as `npm run bench -- --json` writes rows. */
async function timings(nnz: Uint8Array): Promise<unknown> {
  const onnx = join(MODELS, 'lenet5_dense.onnx');
  const x = new Tensor('float32', [1, 1, 28, 28], new Float32Array(784).fill(0.5));
  const dense = await Session.create(loadOnnxFile(onnx)), small = await Session.create(nnz);
  const peer = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feed = { input: new ort.Tensor('float32', x.data as Float32Array, x.shape) };
  const t = await measure([
    contender('nnzip', () => dense.run({ input: x })),
    contender('nnzip .nnz', () => small.run({ input: x })),
    contender('ort-node', () => peer.run(feed)),
  ], { rounds: 5, warmupMs: 20, minSampleMs: 5 });
  await peer.release();
  return { models: { rows: [{ model: 'LeNet-5', batch: 1, threads: 1, peers: Object.fromEntries(t.map((r) => [r.name, { ms: r.ms }])) }] } };
}

/** RUN.json (as nnzip compress writes it), SENS.json and BENCH.json in `dir`, and the report nnzip report makes of them. */
export async function makeReportInputs(dir: string): Promise<{ html: string; run: CompressRun; sensitivity: SensitivityResult }> {
  const graph = loadOnnxFile(join(MODELS, 'lenet5_dense.onnx'));
  const all = loadDataset('mnist', 'test');
  const test = slice(all, TEST_IMAGES);
  // fine-tuning data from further on in the same file (the 60k training images take longer to load than this whole run)
  const train = { ...all, count: 256, images: all.images.subarray(5000 * 784, 5256 * 784), labels: all.labels.subarray(5000, 5256) };
  const base = recipe('lenet5.yaml');
  const quick = { ...base, prune: { ...base.prune!, stages: 1, epochsPerStage: 1 }, share: { ...base.share!, epochs: 1 } };
  const r = compressGraph(graph, { recipe: quick, data: { train, test }, maxStepsPerEpoch: 2, seed: 1 });
  const fileAccuracy = (await sessionAccuracy(nnzToGraph(r.file.bytes, 'run').graph, test)).accuracy;
  const run = compressRun(graph, r, { model: 'lenet5_dense.onnx', output: 'lenet5.nnz', recipe: quick, fileAccuracy });
  const sens = await sensitivity(graph, {
    densities: [1, 0.3, 0.05], mode: 'unstructured', evaluate: async (g) => (await sessionAccuracy(g, test, { limit: 200 })).accuracy,
  });
  const files = { run: join(dir, 'run.json'), sens: join(dir, 'sens.json'), bench: join(dir, 'bench.json'), html: join(dir, 'report.html') };
  writeFileSync(files.run, JSON.stringify(run, null, 2));
  writeFileSync(files.sens, JSON.stringify(sens, null, 2));
  writeFileSync(files.bench, JSON.stringify(await timings(r.file.bytes)));
  assert.equal(await report.run([files.run, files.sens, files.bench, '-o', files.html]), 0);
  return { html: files.html, run: JSON.parse(readFileSync(files.run, 'utf8')) as CompressRun, sensitivity: sens };
}

interface ChartSeen { id: string; width: number; height: number; axes: number; tickLabels: number; marks: number }

/** Every chart drawn (non-empty SVG with labelled axes and marks); the tables' numbers are the JSON's. */
export async function checkReportPage(page: Page, run: CompressRun, sens: SensitivityResult): Promise<void> {
  const charts: ChartSeen[] = await page.$$eval('figure.chart', (figs) => figs.map((f) => {
    const box = f.querySelector('svg')?.getBoundingClientRect();
    const texts = [...f.querySelectorAll('g.role-axis-label text')].filter((t) => (t.textContent ?? '').trim() !== '');
    return { id: f.id, width: box?.width ?? 0, height: box?.height ?? 0, axes: f.querySelectorAll('g.role-axis').length, tickLabels: texts.length, marks: f.querySelectorAll('g.role-mark > *').length };
  }));
  const want = ['tradeoff', 'bits', ...run.histograms.map((h) => `histogram-${h.layer}`), 'sensitivity-chart', 'speed-0'];
  assert.deepEqual(charts.map((c) => c.id), want);
  for (const c of charts) {
    assert.ok(c.width > 200 && c.height > 60, `${c.id}: drawn ${c.width}×${c.height}`);
    assert.ok(c.axes >= 2 && c.tickLabels >= 4, `${c.id}: ${c.axes} axes, ${c.tickLabels} tick labels`);
    assert.ok(c.marks > 0, `${c.id}: no marks`);
  }
  const cells = (table: string) => page.$$eval(`table.${table} tbody tr`, (rows) => rows.map((r) =>
    Object.fromEntries([...r.querySelectorAll('td')].map((td, i) => [td.dataset.key ?? `col${i}`, { text: td.textContent ?? '', value: td.dataset.value }]))));
  const int = (v: number) => v.toLocaleString('en-US');
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  const layers = await cells('layers');
  assert.equal(layers.length, run.layers.length);
  run.layers.forEach((l, i) => {
    const row = layers[i];
    assert.equal(row.col0.text, l.layer);
    for (const key of ['params', 'bytesBefore', 'bytesAfter'] as const) {
      assert.equal(row[key].text, int(l[key]), `${l.layer} ${key}`);
      assert.equal(Number(row[key].value), l[key]);
    }
    assert.equal(row.keptPct.text, `${l.keptPct.toFixed(1)}%`);
    assert.equal(Number(row.bits.value), l.bits);
  });
  const stages = await cells('stages');
  assert.deepEqual(stages.map((s) => [s.col0.text, s.bytes.text, s.accuracy.text]),
    run.stages.map((s) => [s.stage, int(s.bytes), s.accuracy === undefined ? '-' : pct(s.accuracy)]));
  const sensRows = await cells('sensitivity');
  assert.deepEqual(sensRows.map((r) => sens.densities.map((d) => r[`accuracy@${d}`].text)), sens.layers.map((l) => l.accuracy.map(pct)));
  // the numbers drawn on the bits chart are the layers' bits per weight
  const bitLabels = await page.$$eval('#bits g.role-mark text', (ts) => ts.map((t) => t.textContent));
  assert.deepEqual(bitLabels, run.layers.map((l) => String(Number(((l.bytesAfter * 8) / l.params).toFixed(2)))));
  assert.ok((await page.locator('#run p.summary').innerText()).includes(int(run.fileBytes)));
}
