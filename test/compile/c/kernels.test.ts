// Every C kernel against nnzip's runtime: small seeded graphs covering each step
// kind the C backend emits (convs with padding, stride, dilation, groups and each
// way of bounding a weight's pass; fused and standalone pools; elementwise ops,
// broadcast, concat, BatchNormalization, Clip, per-axis Q→DQ, Softmax) and each
// weight storage (dense, relative-index sparse, codebook, sparse codebook with
// packed and whole-byte fields), built with gcc -std=c99 -O2 -Wall -Wextra -Werror.
// Tolerance: 1e-5 of the largest output (float sums in another order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CodebookFormat, TensorFormat } from '../../../src/ir/tensor_format.js';
import type { Graph } from '../../../src/ir/graph.js';
import { Rng } from '../../../src/ir/random.js';
import { Tensor, f32 } from '../../../src/ir/tensor.js';
import { GraphBuilder } from '../../onnx/graph_builder.js';
import { assertAgrees, runC, runNnzip } from './helpers.js';

const RTOL = 1e-5;

/** Zeroes all but the `keep` fraction of largest-magnitude weights (in place); marks the tensor sparse. */
export function pruneWeight(g: Graph, name: string, keep: number): Float32Array {
  const w = g.initializers.get(name)!.data as Float32Array;
  const mags = Float32Array.from(w, Math.abs).sort();
  const cut = mags[Math.floor(mags.length * (1 - keep))];
  for (let i = 0; i < w.length; i++) if (Math.abs(w[i]) < cut) w[i] = 0;
  g.formats.set(name, { kind: 'sparse' });
  return w;
}

/** Shares the weights over 2^bits centroids (zeros stay pruned: index k); the initializer holds the decoded values. */
export function shareWeight(g: Graph, name: string, bits: number): CodebookFormat {
  const w = g.initializers.get(name)!.data as Float32Array;
  const k = 2 ** bits;
  let lo = Infinity, hi = -Infinity;
  for (const v of w) if (v !== 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const centroids = Float32Array.from({ length: k }, (_, i) => Math.fround(lo + ((hi - lo) * i) / (k - 1)));
  const indices = new Uint8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    if (w[i] === 0) { indices[i] = k; continue; }
    indices[i] = Math.round(((w[i] - lo) / (hi - lo)) * (k - 1));
    w[i] = centroids[indices[i]];
  }
  const f: CodebookFormat = { kind: 'codebook', bits, centroids, indices };
  g.formats.set(name, f);
  return f;
}

/** Puts the weight on a `bits`-bit grid (fixed point), one scale per output channel or one for the tensor; zeros stay 0. */
export function gridWeight(g: Graph, name: string, bits: number, perChannel: boolean): void {
  const t = g.initializers.get(name)!, w = t.data as Float32Array;
  const groups = perChannel ? t.shape[0] : 1, inner = w.length / groups, top = 2 ** (bits - 1) - 1;
  const scale = new Float32Array(groups), q = new Int32Array(w.length);
  for (let c = 0; c < groups; c++) {
    let max = 0;
    for (let i = c * inner; i < (c + 1) * inner; i++) max = Math.max(max, Math.abs(w[i]));
    scale[c] = Math.fround(max / top || 1);
    for (let i = c * inner; i < (c + 1) * inner; i++) { q[i] = Math.round(w[i] / scale[c]); w[i] = Math.fround(q[i] * scale[c]); }
  }
  g.formats.set(name, { kind: 'grid', bits, q, scale, axis: 0 });
}

/** Makes the weight binary or ternary per output channel (levels +α, −0.8α: asymmetric, as TTQ), with its format. */
export function signWeight(g: Graph, name: string, kind: 'binary' | 'ternary'): void {
  const t = g.initializers.get(name)!, w = t.data as Float32Array, inner = w.length / t.shape[0];
  for (let c = 0; c < t.shape[0]; c++) {
    const row = w.subarray(c * inner, (c + 1) * inner);
    const alpha = Math.fround(row.reduce((a, v) => a + Math.abs(v), 0) / inner), cut = kind === 'ternary' ? 0.7 * alpha : 0;
    for (let i = 0; i < inner; i++) row[i] = Math.abs(row[i]) < cut ? 0 : row[i] >= 0 ? alpha : Math.fround(-0.8 * alpha);
  }
  g.formats.set(name, { kind, axis: 0 });
}

/**
 * Convs in every form: passes clipped at the edges (a padded 18×18 conv with its pool
 * fused in bands), one constant-bound loop per kernel position (padded, dilated,
 * grouped), input channel by input channel (padded, small planes), whole rows
 * (strided, grouped); a standalone average pool, global pool, Gemm, Softmax.
 */
function convNet(): Graph {
  const b = new GraphBuilder(11);
  const x = b.input('x', ['N', 3, 18, 18]);
  // 3×2 (a dense 3×3 stride-1 conv would run on the pattern kernel, conv_pattern.ts)
  const c1 = b.op1('Relu', [b.op1('Conv', [x, b.weight('w1', [4, 3, 3, 2]), b.weight('b1', [4])], { pads: [1, 1, 1, 0] })]);
  const p1 = b.op1('MaxPool', [c1], { kernel_shape: [2, 2], strides: [2, 2] });
  const c2 = b.op1('Conv', [p1, b.weight('w2', [6, 2, 3, 3])], { pads: [2, 2, 2, 2], dilations: [2, 2], group: 2 });
  const c2b = b.op1('Relu', [b.op1('Conv', [c2, b.weight('w2b', [6, 6, 3, 3]), b.weight('b2b', [6])], { pads: [1, 1, 1, 1] })]);
  const a = b.op1('AveragePool', [c2b], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], count_include_pad: 1 });
  const c3 = b.op1('Conv', [a, b.weight('w3', [6, 3, 2, 2]), b.weight('b3', [6])], { group: 2, strides: [2, 2] });
  const f = b.op1('Flatten', [b.op1('GlobalAveragePool', [c3])]);
  const y = b.op1('Softmax', [b.op1('Gemm', [f, b.weight('w4', [10, 6]), b.weight('b4', [10])], { transB: 1 })], { axis: -1 });
  const g = b.build([y], 17, 'N');
  pruneWeight(g, 'w2', 0.3);
  pruneWeight(g, 'w2b', 0.4);
  shareWeight(g, 'w3', 3);
  pruneWeight(g, 'w4', 0.5);
  shareWeight(g, 'w4', 2);
  return g;
}

/** A 5×5 padded conv (clipped passes) with a ceil-mode pool fused in bands past the edge, then a global max pool. */
function clippedNet(): Graph {
  const b = new GraphBuilder(12);
  const x = b.input('x', ['N', 2, 17, 17]); // 17×17 output planes: too big to go by input channel
  const c = b.op1('Conv', [x, b.weight('w', [3, 2, 5, 5]), b.weight('b', [3])], { pads: [2, 2, 2, 2] });
  const p = b.op1('MaxPool', [c], { kernel_shape: [3, 3], strides: [3, 3], ceil_mode: 1 });
  return b.build([b.op1('Flatten', [b.op1('GlobalMaxPool', [p])])], 17, 'N');
}

/** Elementwise, broadcast (with a fused Relu), concat, an unfolded BatchNormalization, Clip, a per-axis Q→DQ pair, Softmax. */
function elementwiseNet(): Graph {
  const b = new GraphBuilder(13);
  const x = b.input('x', ['N', 4, 5]);
  const s = b.op1('Sigmoid', [x]);
  const m = b.op1('Mul', [b.op1('Relu', [b.op1('Add', [s, b.weight('c1', [5])])]), x]);
  const l = b.op1('LeakyRelu', [b.op1('Tanh', [m])], { alpha: 0.2 });
  const d = b.op1('Sub', [b.op1('Div', [l, b.weight('c2', [4, 1], 2, 0.5)]), x]);
  const cat = b.op1('Concat', [d, s], { axis: 1 });
  const bn = b.op1('BatchNormalization', [cat, b.weight('g', [8], 2, 0.5), b.weight('beta', [8]), b.weight('mu', [8]), b.weight('var', [8], 2, 0.5)]);
  const cl = b.op1('Clip', [bn, b.constant('lo', f32([], [-0.5])), b.constant('hi', f32([], [0.5]))]);
  const sc = b.constant('qs', f32([8], Array.from({ length: 8 }, (_, i) => 0.01 * (i + 1))));
  const zp = b.constant('qz', new Tensor('uint8', [8], Uint8Array.from({ length: 8 }, (_, i) => 100 + i)));
  const dq = b.op1('DequantizeLinear', [b.op1('QuantizeLinear', [cl, sc, zp], { axis: 1 }), sc, zp], { axis: 1 });
  return b.build([b.op1('Softmax', [dq], { axis: -1 })], 17, 'N');
}

/** A wide two-layer MLP: batch 1 takes the scatter kernel where inputs carry many weights. */
function mlp(storage: 'dense' | 'sparse' | 'codebook'): Graph {
  const b = new GraphBuilder(14);
  const x = b.input('x', ['N', 64]);
  const h = b.op1('Relu', [b.op1('Gemm', [x, b.weight('w1', [96, 64]), b.weight('b1', [96])], { transB: 1 })]);
  const g = b.build([b.op1('Gemm', [h, b.weight('w2', [10, 96]), b.weight('b2', [10])], { transB: 1 })], 17, 'N');
  if (storage !== 'dense') for (const [w, keep] of [['w1', 0.25], ['w2', 0.3]] as const) pruneWeight(g, w, keep);
  if (storage === 'codebook') { shareWeight(g, 'w1', 4); shareWeight(g, 'w2', 5); }
  return g;
}

function samples(n: number, seed: number, zeros = 0): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => (rng.next() < zeros ? 0 : rng.uniform(-1, 1)));
}

async function check(g: Graph, shape: number[], count: number, label: string, classes?: number): Promise<string[]> {
  const per = shape.reduce((a, b) => a * b, 1);
  const xs = samples(per * count, 7, 0.3);
  const c = runC(g, xs, { batch: shape[0] });
  assertAgrees(c.outputs, await runNnzip(g, xs, shape), RTOL, classes, label);
  return c.program.layers.map((l) => `${l.kernel} | ${l.weights}`);
}

test('C convs: padded / dilated / strided / grouped in every form, fused band pool, average pool, global pool, Gemm, Softmax', async () => {
  const g = convNet();
  for (const batch of [1, 2]) {
    const kernels = await check(g, [batch, 3, 18, 18], 6, `convNet batch ${batch}`, 10);
    const text = kernels.join('\n');
    const forms = ['clipped rows', 'a loop per kernel position', 'by input channel', 'whole rows', 'max pool 2x2/2 (bands of 2 rows)', 'avg pool 3x3/1'];
    for (const want of [...forms, 'dense f32', 'sparse f32 by input', 'codebook: 8 centroids']) {
      assert.ok(text.includes(want), `batch ${batch}: no "${want}" among the kernels:\n${text}`);
    }
  }
});

test('C conv 5×5 with a ceil-mode pool fused past the edge, global max pool', async () => {
  const kernels = await check(clippedNet(), [2, 2, 17, 17], 4, 'clippedNet');
  assert.match(kernels[0], /clipped rows\) \+ max pool 3x3\/3/);
});

test('C elementwise: sigmoid, tanh, leaky relu, broadcast arithmetic, concat, batchnorm, clip, per-axis Q→DQ, softmax', async () => {
  const kernels = await check(elementwiseNet(), [3, 4, 5], 4, 'elementwiseNet');
  for (const k of ['sigmoid', 'add (broadcast) + relu', 'concat', 'batchnorm', 'clip [-0.5, 0.5]', 'fakequant per axis (8 scales)', 'softmax over 5']) {
    assert.ok(kernels.some((l) => l.startsWith(k)), `no ${k} kernel among ${kernels.join('; ')}`);
  }
});

test('C fully connected: dense, sparse and shared weights, scatter at batch 1 and rows at batch 3', async () => {
  for (const storage of ['dense', 'sparse', 'codebook'] as const) {
    const one = await check(mlp(storage), [1, 64], 8, `mlp ${storage} batch 1`, 10);
    assert.match(one[0], /^fc scatter/, `${storage}: 96 or 24 weights per input are worth skipping zero inputs`);
    // 10 weights per input (dense) are; 3 (30% of 10) are not
    assert.match(one[1], storage === 'dense' ? /^fc scatter/ : /^fc rows/, `${storage}: second layer at batch 1`);
    if (storage !== 'dense') assert.match(one[0], storage === 'sparse' ? /\| sparse f32/ : /\| sparse codebook/);
    const three = await check(mlp(storage), [3, 64], 3, `mlp ${storage} batch 3`, 10);
    assert.ok(three.every((k) => k.startsWith('fc rows')), `${storage} batch 3: ${three.join('; ')}`);
  }
});

test('C weights in a format the C backend does not execute: run from their values, and the report says so', async () => {
  const g = mlp('sparse');
  g.formats.set('w2', { kind: 'not-a-c-format' } as unknown as TensorFormat);
  const xs = samples(64 * 4, 3, 0.3);
  const c = runC(g, xs);
  g.formats.delete('w2');
  assertAgrees(c.outputs, await runNnzip(g, xs, [1, 64]), RTOL, 10, 'mlp, w2 in an unknown format');
  assert.doesNotMatch(c.program.layers[0].weights, /does not execute/);
  assert.match(c.program.layers[1].weights, /the model stores it as not-a-c-format, a format the C backend does not execute here/);
});

test('C grid (fixed point) weights: dense and sparse, scale per tensor, row or column, in convs and fully connected layers', async () => {
  const g = convNet();
  gridWeight(g, 'w1', 8, true);
  gridWeight(g, 'w2', 5, true);
  gridWeight(g, 'w2b', 8, true);
  gridWeight(g, 'w4', 3, false);
  const text = (await check(g, [1, 3, 18, 18], 4, 'convNet on grids', 10)).join('\n');
  for (const want of ['| grid: 8-bit integers, scale per row', '| sparse grid', 'scale per tensor']) assert.ok(text.includes(want), `no "${want}" in:\n${text}`);
  for (const storage of ['grid', 'sparse']) {
    const m = mlp(storage === 'grid' ? 'dense' : 'sparse');
    gridWeight(m, 'w1', 8, true);
    gridWeight(m, 'w2', 4, true);
    for (const batch of [1, 3]) {
      const k = (await check(m, [batch, 64], 8, `mlp ${storage} grid batch ${batch}`, 10)).join('\n');
      assert.match(k, batch === 1 ? /fc scatter.*grid.*scale per col/ : /fc rows.*grid.*scale per row/, k);
      assert.doesNotMatch(k, /written from its values|f32/, k);
    }
  }
});

test('C binary and ternary weights: sign bits / trits and two levels per row or column, in convs and fully connected layers', async () => {
  const g = convNet();
  signWeight(g, 'w1', 'binary');
  signWeight(g, 'w2b', 'ternary');
  signWeight(g, 'w4', 'ternary');
  const text = (await check(g, [1, 3, 18, 18], 4, 'convNet binary / ternary', 10)).join('\n');
  for (const want of ['| binary: sign bits, two levels per row', '| ternary: 2-bit trits']) assert.ok(text.includes(want), `no "${want}" in:\n${text}`);
  const m = mlp('dense');
  signWeight(m, 'w1', 'binary');
  signWeight(m, 'w2', 'ternary');
  for (const batch of [1, 3]) {
    const k = (await check(m, [batch, 64], 8, `mlp binary / ternary batch ${batch}`, 10)).join('\n');
    assert.match(k, batch === 1 ? /fc scatter.*binary: sign bits, two levels per col/ : /fc rows.*binary: sign bits, two levels per row/, k);
    assert.doesNotMatch(k, /written from its values|f32/, k);
  }
});
