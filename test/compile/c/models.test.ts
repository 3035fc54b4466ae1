// Whole models through the C backend against nnzip's runtime on MNIST test
// images: the Deep Compression LeNet-5 (fixtures/models/lenet5_deep_compression.nnz,
// 99.23%: pruned, shared, relative-index) and the onnxruntime QDQ int8 LeNet-5
// (8-bit layers: int8 in, int8 out), natively and on the Cortex-M4 under QEMU (mps2-an386). Float
// tolerance 1e-5 of the largest logit; int8: bit for bit (the same integer steps);
// top-1 the same on every image. The Cortex-M4 build of the compressed LeNet-5 must
// meet the embedded goal: flash < 64 KB, RAM (arena + measured stack) < 16 KB.
// The other classifier fixtures (LeNet-300-100, VGG-S) go through the compression
// pipeline (one-shot, the C benchmark's recipes) and run natively pruned and pruned+shared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CASES } from '../../../bench/c_native.js';
import { compileC } from '../../../src/compile/backends/c/index.js';
import { measureCortexM4 } from '../../../src/compile/backends/c/measure.js';
import { intake, withFormats } from '../../../src/compress/intake.js';
import { compressGraph, stageGraph } from '../../../src/compress/pipeline.js';
import { batchImages, loadDataset } from '../../../src/data/datasets.js';
import { nnzToGraph } from '../../../src/format/nnz.js';
import type { Graph } from '../../../src/ir/graph.js';
import { loadOnnxFile } from '../../../src/onnx/load.js';
import { ramTotal, flashTotal } from '../../../src/report/c_memory.js';
import { MODELS } from '../../cli/helpers.js';
import { ARM_MISSING, assertAgrees, HAS_ARM, runC, runNnzip, top1 } from './helpers.js';

const IMAGES = batchImages(loadDataset('mnist', 'test'), 0, 300);
const M4_IMAGES = IMAGES.subarray(0, 100 * 784);

const lenet5DeepCompression = (): Graph => nnzToGraph(readFileSync(join(MODELS, 'lenet5_deep_compression.nnz')), 'lenet5_deep_compression.nnz').graph;

const int8Model = () => loadOnnxFile(join(MODELS, 'lenet5_int8_qdq.onnx'));

/** The largest |C − nnzip| in steps of the output's scale, and the same top-1. */
function assertInt8(c: Float32Array, want: Float32Array, scale: number, label: string): void {
  let worst = 0;
  for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(c[i] - want[i]) / scale);
  // both run the same integer steps (compile/fuse_int.ts) with the same fixed-point requantization
  assert.equal(worst, 0, `${label}: C differs from nnzip by ${worst.toFixed(3)} output steps (the integer layers are bit for bit the same)`);
  assert.deepEqual(top1(c, 10), top1(want, 10), `${label}: top-1 differs`);
}

test('C LeNet-5 Deep Compression, native: the same logits and top-1 as nnzip on 300 MNIST images', async () => {
  const g = lenet5DeepCompression();
  const c = runC(g, IMAGES);
  assertAgrees(c.outputs, await runNnzip(g, IMAGES, [1, 1, 28, 28]), 1e-5, 10, 'LeNet-5 DC native');
  const kinds = c.program.layers.map((l) => l.weights.split(':')[0]);
  assert.deepEqual(kinds, ['sparse codebook by input offset', 'sparse codebook by input offset', 'sparse codebook', 'sparse codebook']);
});

test('C int8 LeNet-5 (onnxruntime QDQ), native: 8-bit layers, int8 in and out, bit for bit as nnzip', async () => {
  const g = int8Model();
  const c = runC(g, IMAGES);
  const p = c.program;
  assert.deepEqual(p.layers.map((l) => l.kernel.split(' ')[0] + (l.kernel.includes('8-bit') ? ' 8-bit' : '')), ['conv 8-bit', 'conv 8-bit', 'fc 8-bit', 'fc 8-bit']);
  assert.equal(p.input.type, 'int8_t');
  assert.equal(p.output.type, 'int8_t');
  assert.match(p.header, /#define MODEL_IN_ZERO \(-128\)/);
  assertInt8(c.outputs, await runNnzip(g, IMAGES, [1, 1, 28, 28]), p.output.quant!.scale, 'int8 LeNet-5 native');
  // the same model after the lossless intake (weights in the grid format, as its .nnz stores them): the same program
  const gi = withFormats(g, intake(g));
  assert.ok([...gi.formats.values()].filter((f) => f.kind === 'grid').length >= 4, 'the intake finds the int8 grids');
  const ci = compileC(gi, { name: 'model' });
  assert.deepEqual(ci.layers.map((l) => `${l.kernel} | ${l.weights}`), p.layers.map((l) => `${l.kernel} | ${l.weights}`));
  assert.equal(ci.source.replace(/\/\*[^]*?\*\//g, ''), p.source.replace(/\/\*[^]*?\*\//g, ''), 'same C apart from comments');
});

for (const c of CASES.filter((k) => k.key !== 'lenet5')) {
  test(`C ${c.name} compressed by the pipeline, native: pruned (relative-index f32) and pruned+shared (codebook) agree with nnzip on 100 images`, async () => {
    const r = compressGraph(loadOnnxFile(join(MODELS, c.file)), { recipe: c.recipe() });
    const images = batchImages(loadDataset(c.dataset, 'test'), 0, 100);
    for (const [label, g, storage] of [['pruned', stageGraph(r, 'prune')!, 'sparse f32'], ['pruned+shared', r.compressed, 'sparse codebook']] as const) {
      const run = runC(g, images);
      assertAgrees(run.outputs, await runNnzip(g, images, [1, 1, 28, 28]), 1e-5, 10, `${c.name} ${label} native`);
      // every layer stays sparse; the big ones take the stage's storage (a small layer may find sparse f32 fewer bytes than a codebook)
      const stored = run.program.layers.filter((l) => l.weights), all = stored.map((l) => l.weights).join(' | ');
      const big = stored.filter((l) => Number(/(\d+) entries/.exec(l.weights)?.[1]) >= 1000);
      assert.ok(stored.length >= 3 && stored.every((l) => l.weights.startsWith('sparse')), `${c.name} ${label}: every weight sparse: ${all}`);
      assert.ok(big.length >= 2 && big.every((l) => l.weights.startsWith(storage)), `${c.name} ${label}: layers of 1000+ entries ${storage}: ${all}`);
    }
  });
}

test('C on the Cortex-M4 (QEMU mps2-an386): the Deep Compression LeNet-5 meets < 64 KB flash and < 16 KB RAM and matches nnzip', { skip: HAS_ARM ? false : ARM_MISSING }, async () => {
  const g = lenet5DeepCompression();
  const c = runC(g, M4_IMAGES, { m4: true, stack: true });
  assertAgrees(c.outputs, await runNnzip(g, M4_IMAGES, [1, 1, 28, 28]), 1e-5, 10, 'LeNet-5 DC on the Cortex-M4');
  const stack = Number(/stack (\d+)/.exec(c.log)?.[1]);
  const r = measureCortexM4(compileC(g, { name: 'model' }));
  assert.ok(r.stackMeasured !== undefined && r.stackStatic !== undefined, 'the report has the measured and the static stack');
  assert.equal(r.stackMeasured, stack, 'the report measures the stack the way the test run does');
  assert.ok(stack <= r.stackStatic! + 64, `measured stack ${stack} B is past the static bound ${r.stackStatic} B (+64 for memcpy)`);
  const flash = flashTotal(r)!, ram = ramTotal(r);
  assert.ok(flash < 64 * 1024, `flash ${flash} B >= 64 KB`);
  assert.ok(ram < 16 * 1024, `RAM ${ram} B >= 16 KB`);
  const perLayer = r.layers.reduce((s, l) => s + l.code! + l.flashConst!, 0);
  assert.equal(perLayer + r.otherFlash!, flash, 'the layers and the rest add up to the object size');
});

test('C int8 LeNet-5 on the Cortex-M4 (QEMU): bit for bit as nnzip, same top-1', { skip: HAS_ARM ? false : ARM_MISSING }, async () => {
  const g = int8Model();
  const c = runC(g, M4_IMAGES, { m4: true });
  assertInt8(c.outputs, await runNnzip(g, M4_IMAGES, [1, 1, 28, 28]), c.program.output.quant!.scale, 'int8 LeNet-5 on the Cortex-M4');
});
