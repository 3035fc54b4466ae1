// Post-training quantization: the QDQ form it writes (weights on grids, pairs on the
// activations, ReLUs folded into the quantization), that it runs integer-only and
// close to the float model, calibration ranges, onnxruntime's parameters on the
// same model and images, and bad input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { planGraph } from '../../../src/compile/plan.js';
import { chooseRange, HISTOGRAM_BINS, type TensorStats } from '../../../src/compress/quantize/calibrate.js';
import { layerErrors } from '../../../src/compress/quantize/error_report.js';
import { quantizeGraph } from '../../../src/compress/quantize/ptq.js';
import { loadDataset } from '../../../src/data/datasets.js';
import { NnzipError } from '../../../src/ir/errors.js';
import { dequantizeValue } from '../../../src/ir/quant.js';
import { Rng } from '../../../src/ir/random.js';
import { f32 } from '../../../src/ir/tensor.js';
import { verify } from '../../../src/ir/verify.js';
import { loadOnnxFile } from '../../../src/onnx/load.js';
import { runReference } from '../../../src/runtime/reference.js';
import { smallNet, syntheticSet } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('../../../../fixtures/models/', import.meta.url));

test('int8 PTQ writes the QDQ form: grids on the weights, pairs on the activations, ReLUs folded, biases on the int32 grid', async () => {
  const g = smallNet();
  const set = syntheticSet(40);
  const r = quantizeGraph(g, { scheme: 'int8', bits: 8, calibrate: 'minmax' }, set);
  verify(r.graph);
  assert.equal(r.graph.nodes.filter((n) => n.op === 'Relu').length, 0, 'ReLUs before an asymmetric quantization are dropped');
  const ops = r.graph.nodes.map((n) => n.op).join(' ');
  assert.equal(ops, 'QuantizeLinear DequantizeLinear Conv QuantizeLinear DequantizeLinear MaxPool QuantizeLinear DequantizeLinear Conv QuantizeLinear DequantizeLinear Flatten QuantizeLinear DequantizeLinear Gemm QuantizeLinear DequantizeLinear');
  for (const [w, channels] of [['conv1.weight', 4], ['conv2.weight', 6], ['fc.weight', 5]] as const) {
    const f = r.graph.formats.get(w);
    assert.ok(f?.kind === 'grid' && f.scale.length === channels && f.bits === 8, `${w} has a per-channel 8-bit grid`);
    const t = r.graph.initializers.get(w)!.data as Float32Array;
    f.q.forEach((q, i) => assert.equal(Math.fround(dequantizeValue(q, f.scale[Math.floor(i / (f.q.length / channels))], 0)), t[i]));
    assert.ok(f.q.every((q) => q >= -127 && q <= 127));
  }
  // the pool and flatten pass their input's parameters on; the bias is a multiple of input scale × weight scale
  const [pool, relu] = [r.tensors.get(r.layers[1].input)!, r.tensors.get(r.layers[0].output)!];
  assert.deepEqual([pool.scale, pool.zero, pool.dtype], [relu.scale, relu.zero, relu.dtype]);
  const sx = r.tensors.get(r.layers[2].input)!.scale, sw = (r.graph.formats.get('fc.weight') as { scale: Float32Array }).scale;
  (r.graph.initializers.get('fc.bias')!.data as Float32Array).forEach((b, c) => {
    const s = Math.fround(sx * sw[c]);
    assert.ok(Math.abs(b / s - Math.round(b / s)) < 1e-3, `fc.bias[${c}] = ${b} is on the grid of ${s}`);
  });
  const plan = planGraph(r.graph, { inputShapes: { input: [2, 1, 8, 8] } });
  // the max pool runs inside the first integer conv (pooled from each image's output, compile/fuse.ts)
  assert.deepEqual(plan.steps.map((s) => [s.kind, s.kind === 'qconv' ? s.pool?.mode : undefined]), [['quantize', undefined], ['qconv', 'max'], ['qconv', undefined], ['qfc', undefined], ['dequantize', undefined]],
    plan.steps.map((s) => s.reason).join('\n'));
  // the quantized model stays close to the float one
  const x = f32([8, 1, 8, 8], set.data.images.subarray(0, 8 * 64));
  const [a, b] = [runReference(r.float, { input: x }), runReference(r.graph, { input: x })];
  const out = g.outputs[0].name, ya = a[out].data as Float32Array, yb = b[out].data as Float32Array;
  let num = 0, den = 0;
  ya.forEach((v, i) => { num += v * v; den += (v - yb[i]) ** 2; });
  assert.ok(10 * Math.log10(num / den) > 25, `SQNR ${(10 * Math.log10(num / den)).toFixed(1)} dB`);
  const report = layerErrors(r, set);
  assert.equal(report.length, 3);
  assert.ok(report.every((e, i) => i === 0 || report[i - 1].sqnr <= e.sqnr), 'worst first');
  assert.ok(report.every((e) => e.cosine > 0.99 && e.sqnr > 20), JSON.stringify(report));
});

test('dynamic fixed point: power-of-two scales, zero points 0, narrower bits clipped', async () => {
  const r = quantizeGraph(smallNet(), { scheme: 'fixed', bits: 6 }, syntheticSet(20));
  for (const [t, p] of r.tensors) {
    assert.equal(p.zero, 0);
    assert.ok(Number.isInteger(Math.log2(p.scale)), `scale ${p.scale} is a power of two`);
    // computed tensors saturate at 6 bits; the pool and flatten outputs are already within their input's
    const computed = r.layers.some((l) => l.output === t || l.input === t) && t !== 'maxpool2' && t !== 'flatten5';
    assert.deepEqual(p.clip, computed ? [-32 * p.scale, 31 * p.scale] : undefined, t);
  }
  const f = r.graph.formats.get('conv2.weight');
  assert.ok(f?.kind === 'grid' && f.scale.length === 1 && Number.isInteger(Math.log2(f.scale[0])) && f.q.every((q) => q >= -32 && q <= 31));
  assert.ok(r.graph.nodes.some((n) => n.op === 'Clip'), 'the 6-bit saturation is a Clip before the int8 QuantizeLinear');
  const plan = planGraph(r.graph, { inputShapes: { input: [1, 1, 8, 8] } });
  assert.ok(plan.steps.filter((s) => s.kind === 'qconv').length === 2, 'fixed point runs on the integer kernels (a power-of-two scale is an int8 scale)');
});

test('calibration ranges: minmax, percentile clips rare outliers, entropy clips a long tail, 0 kept for nonnegative tensors', () => {
  const rng = new Rng(5);
  const hist = new Float64Array(HISTOGRAM_BINS);
  for (let i = 0; i < 200000; i++) hist[Math.min(HISTOGRAM_BINS - 1, Math.floor(Math.abs(rng.normal()) * 100))]++; // |N(0,1)| over [0, 20.48)
  hist[HISTOGRAM_BINS - 1] += 1; // one outlier at the top
  const s: TensorStats = { min: -20.48, max: 20.48, hist };
  assert.deepEqual(chooseRange(s, 'minmax', 127), [-20.48, 20.48]);
  const [plo, phi] = chooseRange(s, 'percentile', 127);
  assert.ok(phi > 3.5 && phi < 5 && plo === -phi, `percentile range ±${phi}`);
  const [, ehi] = chooseRange(s, 'entropy', 127);
  assert.ok(ehi > 2 && ehi < 6, `entropy clip ${ehi}`);
  const relu: TensorStats = { min: 0, max: 20.48, hist };
  assert.equal(chooseRange(relu, 'entropy', 127)[0], 0);
});

test("int8 PTQ of LeNet-5 on the 1000 training images onnxruntime's quantize_static used gives its parameters and weights", async () => {
  const ref = loadOnnxFile(`${FIXTURES}lenet5_int8_qdq.onnx`);
  const r = quantizeGraph(loadOnnxFile(`${FIXTURES}lenet5_dense.onnx`), { scheme: 'int8', bits: 8, calibrate: 'minmax' },
    { data: loadDataset('mnist', 'train'), count: 1000, label: 'mnist train, 1000 images' });
  for (const t of ['input', 'conv2d', 'conv2d_1', 'relu', 'logits']) {
    const mine = r.tensors.get(t)!, scale = ref.initializers.get(`${t}_scale`)!.data[0] as number;
    assert.equal(mine.zero, ref.initializers.get(`${t}_zero_point`)!.data[0], `${t} zero point`);
    // the float convs of nnzip and onnxruntime differ in the last bits, and so may a maximum
    assert.ok(Math.abs(mine.scale - scale) <= 1e-6 * scale, `${t} scale ${mine.scale} vs onnxruntime ${scale}`);
  }
  for (const w of ['conv1', 'conv2', 'fc1', 'fc2']) {
    assert.deepEqual(r.graph.initializers.get(`${w}.weight`)!.data, ref.initializers.get(`${w}.weight_DequantizeLinear_Output`)!.data, `${w} weights`);
  }
});

test('a tensor constant on every calibration image (a dead ReLU, a flat input) is quantized exactly, by every method', () => {
  const g = smallNet();
  (g.initializers.get('conv2.bias')!.data as Float32Array).fill(-100); // conv2's ReLU is 0 on every image
  for (const calibrate of ['minmax', 'percentile', 'entropy'] as const) {
    for (const scheme of ['int8', 'fixed'] as const) {
      const set = syntheticSet(6, 1, (i) => (i < 64 * 3 ? 0.25 : (i % 7) / 7));
      const r = quantizeGraph(g, { scheme, bits: 8, calibrate }, set);
      const dead = r.tensors.get(r.layers[1].output)!;
      if (scheme === 'int8') assert.deepEqual([dead.scale, dead.zero], [1, -128], `${calibrate}: an all-zero tensor takes scale 1, zero point at the bottom`);
      const plan = planGraph(r.graph, { inputShapes: { input: [6, 1, 8, 8] } });
      assert.ok(plan.steps.some((s) => s.kind === 'qconv'), `${scheme} ${calibrate}: still runs on the integer kernels`);
      // entropy clips the output, which holds only the 5 values of fc.bias, far inside its range
      if (calibrate === 'entropy') continue;
      // images 0-2 are flat (0.25): the input keeps its range from the others; the model's output is fc.bias
      const x = f32([6, 1, 8, 8], set.data.images);
      const [a, b] = [runReference(r.float, { input: x }), runReference(r.graph, { input: x })];
      const out = g.outputs[0].name, ya = a[out].data as Float32Array, yb = b[out].data as Float32Array;
      const bias = g.initializers.get('fc.bias')!.data as Float32Array;
      ya.forEach((v, i) => assert.ok(Math.abs(v - bias[i % 5]) < 1e-6 && Math.abs(yb[i] - v) <= 0.02 * Math.abs(v) + 1e-3, `${scheme} ${calibrate}: output ${i} ${yb[i]} vs float ${v}`));
    }
  }
});

test('bad input: no calibration images, NaN in calibration, bits out of range, an unknown --exclude', async () => {
  const g = smallNet();
  const bad = (run: () => unknown, re: RegExp) => assert.throws(run, (e: Error) => e instanceof NnzipError && re.test(e.message));
  bad(() => quantizeGraph(g, { scheme: 'int8', bits: 8 }, syntheticSet(0)), /at least 1/);
  bad(() => quantizeGraph(g, { scheme: 'int8', bits: 8 }, syntheticSet(4, 1, (i) => (i === 70 ? NaN : 0.5))), /tensor "input" holds NaN/);
  bad(() => quantizeGraph(g, { scheme: 'int8', bits: 9 }, syntheticSet(4)), /int8 weights take 2\.\.8 bits/);
  bad(() => quantizeGraph(g, { scheme: 'fixed', bits: 1 }, syntheticSet(4)), /bits=1 must be an integer in 2\.\.16/);
  bad(() => quantizeGraph(g, { scheme: 'int8', bits: 8, exclude: ['conv9'] }, syntheticSet(4)), /layer "conv9" does not exist; layers: conv1, conv2, fc/);
  bad(() => quantizeGraph(g, { scheme: 'int8', bits: 8, exclude: ['conv1', 'conv2', 'fc'] }, syntheticSet(4)), /no layer is left/);
});
