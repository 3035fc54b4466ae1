// Intake without loss: models pruned, shared and quantized by other tools come in as
// plain dense ONNX, compress losslessly (no stage), decompress to bit-identical
// initializers, and run to the same prediction on every image.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LayerIntake } from '../../src/compress/intake.js';
import { compressGraph } from '../../src/compress/pipeline.js';
import { LOSSLESS, parseRecipe } from '../../src/compress/recipe.js';
import { loadDataset } from '../../src/data/datasets.js';
import { sessionAccuracy } from '../../src/eval/runners.js';
import { nnzToGraph } from '../../src/format/nnz.js';
import type { Graph } from '../../src/ir/graph.js';
import { fixedPoint, model, pruned, quantized, shared, viaOnnx } from './foreign.js';

const L300 = { fc1: 0.08, fc2: 0.09, fc3: 0.26 };
const L5 = { conv1: 0.66, conv2: 0.12, fc1: 0.08, fc2: 0.19 };

/** compress (no stage) → .nnz → decompress to ONNX → read back: the graph a user gets. */
function roundTrip(g: Graph) {
  const r = compressGraph(g, { recipe: LOSSLESS });
  const back = viaOnnx(nnzToGraph(r.file.bytes, 'intake.nnz').graph);
  return { r, back };
}

function sameInitializers(a: Graph, b: Graph, what: string): void {
  assert.deepEqual([...b.initializers.keys()].sort(), [...a.initializers.keys()].sort(), what);
  for (const [name, t] of a.initializers) {
    const u = b.initializers.get(name)!;
    assert.deepEqual(u.shape, t.shape, `${what}: ${name} shape`);
    const x = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const y = new Uint8Array(u.data.buffer, u.data.byteOffset, u.data.byteLength);
    const at = x.findIndex((v, i) => v !== y[i]);
    assert.equal(at, -1, `${what}: ${name} differs at byte ${at}`);
  }
}

const test1000 = loadDataset('mnist', 'test');

async function samePredictions(a: Graph, b: Graph, what: string): Promise<void> {
  const [x, y] = [await sessionAccuracy(a, test1000, { limit: 1000 }), await sessionAccuracy(b, test1000, { limit: 1000 })];
  assert.deepEqual([...y.predictions], [...x.predictions], `${what}: predictions differ`);
}

const kinds = (found: LayerIntake[]) => found.map((l) => `${l.layer}:${l.format?.kind ?? 'dense'}${l.format?.kind === 'codebook' || l.format?.kind === 'grid' ? l.bits : ''}`).join(' ');

test('a LeNet-300-100 pruned to 8/9/26% and 5-bit shared elsewhere comes back bit for bit, at the size of its codebooks', async () => {
  const g = viaOnnx(shared(pruned(model('lenet300_dense'), L300), 5));
  const { r, back } = roundTrip(g);
  assert.equal(kinds(r.intake), 'fc1:codebook5 fc2:codebook5 fc3:codebook5');
  assert.deepEqual(r.intake.map((l) => Math.round(l.density * 100)), [8, 9, 26]);
  sameInitializers(g, back, 'pruned + shared');
  assert.deepEqual(r.unmeasured, []);
  assert.ok(r.file.bytes.length < 24000, `${r.file.bytes.length} bytes (Deep Compression's own figure: 27 KB)`);
  await samePredictions(g, back, 'pruned + shared');
});

test('int8 per channel (onnxruntime, PyTorch) and per tensor on a pruned model, and fixed point: integers and scales, bit for bit', () => {
  const [l5, l300] = [model('lenet5_dense'), model('lenet300_dense')];
  const cases: [string, Graph, string][] = [
    ['int8 per channel', viaOnnx(quantized(l5, { perChannel: true })), 'conv1:grid8 conv2:grid8 fc1:grid8 fc2:grid8'],
    ['pruned + int8 per tensor', viaOnnx(quantized(pruned(l300, L300), {})), 'fc1:grid8 fc2:grid8 fc3:grid8'],
    ['fixed point Q.10', viaOnnx(fixedPoint(l300, 10)), 'fc1:grid10 fc2:grid10 fc3:grid11'],
  ];
  for (const [what, g, want] of cases) {
    const { r, back } = roundTrip(g);
    assert.equal(kinds(r.intake), want, what);
    sameInitializers(g, back, what);
    const weights = r.final.reduce((s, l) => s + l.params, 0);
    const bits = (8 * r.file.bytes.length) / weights;
    assert.ok(bits < (what.startsWith('pruned') ? 3 : what.startsWith('int8') ? 8.2 : 9), `${what}: ${bits.toFixed(2)} bits per weight`);
  }
});

test("onnxruntime's QDQ LeNet-5: per-channel int8 weights found behind the folded DequantizeLinear, stored under the ONNX file's size", async () => {
  const g = model('lenet5_int8_qdq');
  const { r, back } = roundTrip(g); // no trainable model needed: QuantizeLinear is not trainable
  assert.deepEqual(r.intake.map((l) => l.format?.kind === 'grid' && l.format.scale.length), [20, 50, 500, 10]);
  sameInitializers(g, back, 'QDQ');
  assert.ok(r.file.bytes.length < 446953, `${r.file.bytes.length} bytes vs the QDQ ONNX file's 446,953`);
  await samePredictions(g, back, 'QDQ');
});

test('without data only what the recipe asks changes, and each changed layer is named with what changed', () => {
  const g = viaOnnx(shared(pruned(model('lenet300_dense'), L300), 5));
  const recipe = (raw: object) => parseRecipe({ prune: null, share: null, ...raw }, 'test', LOSSLESS);
  // fc1 (8%) and fc2 (9%) are already below 10%: only fc3 is pruned
  const p = compressGraph(g, { recipe: recipe({ prune: { density: { fc: 0.1 } } }) });
  assert.deepEqual(p.unmeasured, [{ layer: 'fc3', changes: ['density 26% → 10%'] }]);
  // 5-bit sharing of layers with at most 32 values keeps them exactly; 4 bits re-clusters
  const s5 = compressGraph(g, { recipe: recipe({ share: { bits: { fc: 5 } } }) });
  assert.deepEqual(s5.unmeasured, []);
  sameInitializers(g, s5.compressed, '5-bit sharing of a 5-bit model');
  const s4 = compressGraph(g, { recipe: recipe({ share: { bits: { fc: 4 } } }) });
  assert.deepEqual(s4.unmeasured.map((c) => c.layer), ['fc1', 'fc2', 'fc3']);
  assert.match(s4.unmeasured[0].changes.join(), /^2\d → 1\d distinct values \(4-bit codebook\)$/);
  // an int8 grid asked for 8 bits stays the grid; asked for 4 bits it is clustered
  const q = viaOnnx(quantized(model('lenet5_dense'), { perChannel: true }));
  assert.deepEqual(compressGraph(q, { recipe: recipe({ share: { bits: { conv: 8, fc: 8 } } }) }).unmeasured, []);
});
