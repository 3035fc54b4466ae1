// Every fixture model, as its file stores it, through the C backend: compiled,
// built natively with the tests' strict flags (gcc -std=c99 -O2 -Wall -Wextra -Werror)
// and run next to nnzip's runtime on the same inputs (MNIST / Fashion-MNIST test
// images for 28×28 models, seeded uniform inputs otherwise). `npm test` runs the
// compressed forms (test/compile/c/models.test.ts); the dense fixtures take 10-60 s
// of gcc each (multi-MB weight arrays), so they are checked here.
// Run: `npm run repro -- c-fixtures [FILE ...]` (default: every file in fixtures/models).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { batchImages, loadDataset } from '../../src/data/datasets.js';
import { nnzToGraph } from '../../src/format/nnz.js';
import type { Graph } from '../../src/ir/graph.js';
import { formatBytes } from '../../src/ir/print.js';
import { Rng } from '../../src/ir/random.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { formatTable } from '../../src/report/table.js';
import { relativeError, runC, runNnzip, top1 } from '../../test/compile/c/helpers.js';
import { FIXTURE_DIR, log } from './common.js';

const SAMPLES = 20;

function load(file: string): Graph {
  const path = join(FIXTURE_DIR, file);
  return file.endsWith('.nnz') ? nnzToGraph(readFileSync(path), file).graph : loadOnnxFile(path);
}

function inputs(file: string, shape: number[]): Float32Array {
  const per = shape.reduce((a, b) => a * b, 1);
  if (per === 784) return batchImages(loadDataset(file.startsWith('vggs_fmnist') ? 'fashion-mnist' : 'mnist', 'test'), 0, SAMPLES);
  return new Rng(1).floats(per * SAMPLES, 0, 1);
}

export async function cFixtures(args: string[]): Promise<void> {
  const files = args.length ? args : readdirSync(FIXTURE_DIR).filter((f) => /\.(onnx|nnz)$/.test(f)).sort();
  const rows: (string | number)[][] = [];
  for (const file of files) {
    log(`compiling ${file} to C and running it natively on ${SAMPLES} inputs`);
    const g = load(file);
    const shape = g.inputs[0].shape.map((d) => (typeof d === 'number' ? d : 1));
    const x = inputs(file, shape);
    const t0 = performance.now();
    const c = runC(g, x);
    const seconds = (performance.now() - t0) / 1000;
    const want = await runNnzip(g, x, shape);
    const classes = want.length / SAMPLES;
    const q = c.program.output.quant;
    const err = q ? `${(Math.max(...c.outputs.map((v, i) => Math.abs(v - want[i]))) / q.scale).toFixed(2)} output steps` : `${relativeError(c.outputs, want).toExponential(1)} of max`;
    const a = top1(c.outputs, classes), b = top1(want, classes);
    const storages = [...new Set(c.program.layers.map((l) => l.weights.split(':')[0]).filter(Boolean))].join(', ');
    rows.push([file, c.program.input.type, storages, formatBytes(c.program.source.length), seconds.toFixed(1), err, `${a.filter((v, i) => v === b[i]).length}/${SAMPLES}`]);
  }
  console.log(formatTable(['model', 'input', 'weights as', 'NAME.c', 'gcc + run s', '|C - nnzip|', 'same top-1'], rows));
}
