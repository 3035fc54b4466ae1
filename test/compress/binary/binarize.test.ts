// Binary and ternary weights through the fine-tuning engine: the transforms'
// values and gradients (clipped STE, TTQ's trained scales against finite
// differences), the binarize stage of a recipe for each method (formats, the
// .nnz file decoding to the trained graph bit for bit, learning on seeded data),
// XNOR-Net's graph rewrite, and bad input named in one line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binarize, ternarize, trainedTernary, ttqInitialScales, WEIGHT_STE_CLIP } from '../../../src/compress/binary/transforms.js';
import { BINARIZE_DEFAULTS, type BinaryMethod } from '../../../src/compress/binary/settings.js';
import { compressGraph } from '../../../src/compress/pipeline.js';
import { DEEP_COMPRESSION, parseRecipe, type Recipe } from '../../../src/compress/recipe.js';
import { nnzToGraph } from '../../../src/format/nnz.js';
import { channelLevels } from '../../../src/ir/binary.js';
import { NnzipError } from '../../../src/ir/errors.js';
import { Param } from '../../../src/train/autograd.js';
import { tinyData, tinyGraph } from '../../train/tiny.js';

const data = { train: tinyData(512, 1), test: tinyData(256, 2) };

function recipe(method: BinaryMethod, extra: Partial<Recipe['binarize']> = {}): Recipe {
  const r = structuredClone(DEEP_COMPRESSION);
  delete r.prune;
  delete r.share;
  r.binarize = { ...BINARIZE_DEFAULTS, method: { conv: method, fc: method }, first: true, last: true, epochs: 3, ...extra };
  r.train = { ...r.train, lr: 0.02, batch: 32 };
  return r;
}

test('BWN and TWN: scales over the nonzero weights (a pruned zero does not shrink α), clipped straight-through gradient', () => {
  const w = Float32Array.of(0.5, -1.5, 0, 0, /* ch 1 */ 2, 2, -2, 0.4);
  const out = new Float32Array(8);
  binarize().forward(w, out, [2, 4]);
  assert.deepEqual([...out], [1, -1, 1, 1, 1.6, 1.6, -1.6, 1.6].map(Math.fround));
  // [K, N] layout: channels along axis 1
  binarize(1).forward(Float32Array.of(1, -4, -3, 2), out.subarray(0, 4), [2, 2]);
  assert.deepEqual([...out.subarray(0, 4)], [2, -3, -2, 3]);
  ternarize(0.7).forward(w, out, [2, 4]);
  // ch 0: Δ = 0.7 → keeps −1.5 (α 1.5); ch 1: Δ = 1.12 → keeps ±2 (α 2)
  assert.deepEqual([...out], [0, -1.5, 0, 0, 2, 2, -2, 0]);
  const g = Float32Array.of(1, 1, 1, 1, 1, 1, 1, 1);
  binarize().backward!(w, g, [2, 4]);
  assert.deepEqual([...g], [...w].map((v) => (Math.abs(v) > WEIGHT_STE_CLIP ? 0 : 1)));
  assert.throws(() => ternarize(2), (e: Error) => e instanceof NnzipError && /TWN threshold factor 2 must be in \(0, 1.5\]/.test(e.message));
  assert.throws(() => binarize(2).forward(w, out, [2, 4]), /binarize: axis 2 is out of range for rank 2/);
});

test('TTQ: values Wp / 0 / −Wn; the scales\' gradients are finite differences of a loss over the set sizes; a negative scale counts as 0', () => {
  const w = Float32Array.of(0.9, -0.6, 0.01, 0.3, -0.02, -0.8);
  const init = ttqInitialScales(w, 0.05);
  assert.ok(Math.abs(init[0] - 0.6) < 1e-6 && Math.abs(init[1] - 0.7) < 1e-6, `initial scales ${init}`);
  const scales = new Param('s', [2], Float32Array.of(0.5, 0.25));
  const t = trainedTernary(scales, 0.05);
  const out = new Float32Array(6);
  t.forward(w, out, [6]);
  assert.deepEqual([...out], [0.5, -0.25, 0, 0.5, 0, -0.25]);
  // loss = Σ c_i·out_i: ∂/∂Wp = Σ_{pos} c_i, ∂/∂Wn = −Σ_{neg} c_i; the transform gives them over the set sizes (2 and 2)
  const c = Float32Array.of(1, 2, 3, 4, 5, 6);
  const loss = () => { t.forward(w, out, [6]); return out.reduce((s, v, i) => s + v * c[i], 0); };
  const g = c.slice();
  t.backward!(w, g, [6]);
  for (const k of [0, 1]) {
    const h = 1e-3, base = scales.master[k];
    scales.master[k] = base + h; const up = loss();
    scales.master[k] = base - h; const down = loss();
    scales.master[k] = base;
    assert.ok(Math.abs((up - down) / (2 * h) - 2 * scales.grad[k]) < 1e-3, `scale ${k}: ${scales.grad[k]} vs ${(up - down) / (2 * h)} / 2`);
  }
  // latent weights: the gradient scaled by Wp, 1 (inside the threshold) or Wn
  assert.deepEqual([...g], [1 * 0.5, 2 * 0.25, 3, 4 * 0.5, 5, 6 * 0.25]);
  scales.master[1] = -0.5;
  t.forward(w, out, [6]);
  assert.deepEqual([...out], [0.5, 0, 0, 0.5, 0, 0]);
  assert.throws(() => trainedTernary(scales, 1), (e: Error) => e instanceof NnzipError && /TTQ threshold t=1 must be in \(0, 1\)/.test(e.message));
  assert.throws(() => trainedTernary(new Param('x', [3], new Float32Array(3))), /"x" must hold 2 values/);
});

for (const method of ['bwn', 'twn', 'ttq', 'xnor'] as BinaryMethod[]) {
  test(`binarize stage (${method}): trains through the engine, stores 1 or 2 bits a weight, the file decodes to the trained graph`, () => {
    // TTQ's two scales per layer learn at the pace of a mean gradient: it needs more steps here
    const r = compressGraph(tinyGraph(3), { recipe: recipe(method, method === 'ttq' ? { epochs: 6 } : {}), data, seed: 1 });
    const st = r.stages.find((s) => s.name === 'binarize')!;
    assert.ok(st.accuracy! >= 0.9, `${method}: accuracy ${st.accuracy}`);
    const g = r.compressed;
    for (const name of ['conv1.weight', 'fc1.weight']) {
      const f = g.formats.get(name);
      const t = g.initializers.get(name)!;
      assert.equal(typeof channelLevels(t.data as Float32Array, t.shape, 0, 'ternary'), 'object', `${method} ${name}: levels per channel`);
      // the intake stores each layer in its smallest exact form: TTQ's one (Wp, Wn) pair is a 2-entry codebook
      if (method === 'ttq' && f?.kind === 'codebook') { assert.ok(f.centroids.length <= 2); continue; }
      assert.ok(f && (f.kind === 'binary' || f.kind === 'ternary'), `${method} ${name}: format ${JSON.stringify(f?.kind)}`);
      if (method === 'bwn' || method === 'xnor') assert.equal(f.kind, 'binary');
    }
    assert.equal(g.nodes.some((n) => n.op === 'Sign'), method === 'xnor');
    const back = nnzToGraph(r.file.bytes, 'b.nnz').graph;
    for (const [name, t] of g.initializers) {
      const d = back.initializers.get(name)!;
      assert.ok((t.data as Float32Array).every((v, i) => Object.is(v, (d.data as Float32Array)[i])), `${method}: ${name} decodes bit for bit`);
    }
    assert.equal(back.formats.get('fc1.weight')?.kind, g.formats.get('fc1.weight')?.kind);
    // fc1 [4×27]: 108 bits (binary) or 22 ternary symbols, + levels and the section header, of 432 float bytes
    const fcBytes = r.file.sections.find((s) => s.name === 'fc1.weight')!.bytes;
    assert.ok(fcBytes < 432 / 6, `${method}: fc1.weight ${fcBytes} bytes`);
  });
}

test('XNOR graph: BatchNormalization → Sign before each binary layer, the ReLU feeding it removed; first and last layers stay float by default', () => {
  const r = compressGraph(tinyGraph(3, true), { recipe: recipe('xnor', { first: false, last: true, epochs: 0 }), seed: 1 });
  const g = r.compressed;
  const fc = g.nodes.find((n) => n.name === 'fc1' || n.inputs[1] === 'fc1.weight')!;
  const producer = (v: string) => g.nodes.find((n) => n.outputs.includes(v))!;
  const sign = producer(fc.inputs[0]);
  assert.equal(sign.op, 'Sign');
  const chain: string[] = [];
  for (let n = producer(sign.inputs[0]); n; n = producer(n.inputs[0])) chain.push(n.op);
  assert.deepEqual(chain, ['Reshape', 'MaxPool', 'BatchNormalization', 'Conv']);
  assert.equal(g.formats.get('conv1.weight'), undefined, 'the first layer stays float');
  assert.equal(g.formats.get('fc1.weight')?.kind, 'binary');
});

test('XNOR position scaling: K = mean |x| over each window (Abs → frozen box filter → Mul), kept fixed by training', () => {
  const r = compressGraph(tinyGraph(3), { recipe: recipe('xnor', { scaling: 'position', epochs: 2 }), data, seed: 1 });
  const g = r.compressed;
  const ops = g.nodes.map((n) => n.op);
  for (const op of ['Abs', 'Sign', 'Mul']) assert.equal(ops.filter((o) => o === op).length, 2, `${op} per xnor layer: ${ops.join(' ')}`);
  const k = g.initializers.get('conv1.k_filter')!;
  assert.deepEqual(k.shape, [1, 1, 3, 3]);
  assert.ok((k.data as Float32Array).every((v) => v === Math.fround(1 / 9)), 'the K filter stays the box filter');
  assert.ok(r.stages[0].accuracy! > 0.5, `accuracy ${r.stages[0].accuracy}`);
});

test('bad input: one line naming the option or layer', () => {
  const src = 'r.yaml';
  assert.throws(() => parseRecipe({ binarize: { method: { conv: 'xor' } } }, src), (e: Error) => e instanceof NnzipError && /r\.yaml: binarize\.method\.conv "xor" must be one of bwn, xnor, twn, ttq or none/.test(e.message));
  assert.throws(() => parseRecipe({ binarize: { threshold: 1.5 } }, src), /TTQ threshold t=1.5 must be in \(0, 1\)/);
  assert.throws(() => parseRecipe({ binarize: { delta: 0 } }, src), /TWN threshold factor 0 must be in \(0, 1.5\]/);
  assert.throws(() => parseRecipe({ binarize: {} }, src), /binarize and share both set the weights' values; drop one of them/);
  assert.throws(() => parseRecipe({ share: null, binarize: {}, layers: { fc1: { binary: 'one' } } }, src), /layers\.fc1\.binary "one" must be one of/);
  const ok = parseRecipe({ share: null, prune: null, binarize: { method: { fc: 'ttq' }, epochs: 0 } }, src);
  assert.equal(ok.binarize!.method.conv, 'bwn');
  assert.equal(ok.binarize!.method.fc, 'ttq');
});
