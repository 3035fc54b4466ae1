// The package's public entry points, imported by name as a user would ('nnzip',
// 'nnzip/browser' through package.json "exports"): load, compress to .nnz bytes,
// run those bytes with Session, and agree with the reference runtime.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as browser from 'nnzip/browser';
import { Session, Tensor, createNodeSession, graphToNnz, isNnz, loadOnnxFile, runReference } from 'nnzip';
import { MODELS } from './cli/helpers.js';
import { Rng } from '../src/ir/random.js';

const path = join(MODELS, 'lenet300_dense.onnx');

/** LeNet-300-100 with every weight under |0.05| zeroed: stored sparse in the .nnz. */
function prunedNnz(): Uint8Array {
  const g = loadOnnxFile(path);
  for (const [name, t] of g.initializers) {
    if (t.shape.length !== 2) continue;
    const d = t.data as Float32Array;
    for (let i = 0; i < d.length; i++) if (Math.abs(d[i]) < 0.05) d[i] = 0;
    g.formats.set(name, { kind: 'sparse' });
  }
  return graphToNnz(g).bytes;
}

test('Session.create takes .onnx and .nnz bytes alike and agrees with the reference runtime', async () => {
  const onnx = new Uint8Array(readFileSync(path));
  const nnz = prunedNnz();
  assert.ok(isNnz(nnz) && !isNnz(onnx));
  assert.ok(nnz.length < onnx.length / 3, `the pruned .nnz (${nnz.length} B) is much smaller than the ONNX (${onnx.length} B)`);
  const x = new Tensor('float32', [2, 1, 28, 28], new Rng(7).floats(2 * 784));
  for (const bytes of [onnx, nnz]) {
    const s = await Session.create(bytes, { batch: 2 });
    const feeds = { [s.inputNames[0]]: x };
    const got = s.run(feeds)[s.outputNames[0]].data as Float32Array;
    const want = runReference(s.graph, feeds)[s.outputNames[0]].data as Float32Array;
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-4 * (1 + Math.abs(want[i])), `output ${i}: ${v} vs ${want[i]}`));
  }
  const threaded = await createNodeSession(nnz, { threads: 2, batch: 2 });
  try {
    assert.equal(threaded.threads, 2);
  } finally {
    await threaded.dispose();
  }
});

test('the browser entry is the same Session, and refuses bytes that are neither ONNX nor .nnz', async () => {
  assert.equal(browser.Session, Session);
  assert.equal('loadOnnxFile' in browser, false, 'no file access in the browser entry');
  await assert.rejects(browser.Session.create(new Uint8Array([0x4e, 0x4e, 0x5a, 9, 9])), (e: Error) => e instanceof browser.NnzipError && /\.nnz/.test(e.message));
  await assert.rejects(browser.Session.create(new Uint8Array([1, 2, 3])), (e: Error) => e instanceof browser.NnzipError);
});
