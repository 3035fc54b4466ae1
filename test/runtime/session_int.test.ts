// The integer path of the runtime: QOperator ops and QDQ units planned onto the
// integer kernels, run on 1 thread and on 2 (every step split), bit for bit
// against the integer oracle (ir/ref/im2col + qgemmRef with the step's constants),
// within one output step of the ONNX reference (onnxruntime's float
// requantization), and the QDQ LeNet-5 of onnxruntime's quantizer integer-only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { planGraph } from '../../src/compile/plan.js';
import type { QConvStep, QFcStep } from '../../src/compile/plan_types.js';
import { loadDataset } from '../../src/data/datasets.js';
import { argmaxRows } from '../../src/eval/evaluate.js';
import { ortRun, ortSession } from '../../src/eval/ort.js';
import { Rng } from '../../src/ir/random.js';
import { im2col } from '../../src/ir/ref/im2col.js';
import { maxPool2d } from '../../src/ir/ref/pool.js';
import { qgemmRef } from '../../src/ir/ref/qgemm_ref.js';
import { f32, fromNumbers, Tensor, type DType } from '../../src/ir/tensor.js';
import { loadOnnxFile } from '../../src/onnx/load.js';
import { runReference } from '../../src/runtime/reference.js';
import { Session } from '../../src/runtime/session.js';
import { createNodeSession } from '../../src/runtime/session_node.js';
import { GraphBuilder } from '../onnx/graph_builder.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/models/', import.meta.url));

function ints(rng: Rng, dtype: 'int8' | 'uint8' | 'int32', shape: number[], lo: number, hi: number): Tensor {
  return fromNumbers(dtype, shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + rng.int(hi - lo + 1)));
}

/** The integer oracle of a qconv step: im2col (padded with the input zero point) and qgemmRef per image and group, then its fused max pool. */
function qconvOracle(s: QConvStep, x: Tensor): Int32Array {
  const y = qconvSums(s, x), p = s.pool;
  if (!p) return y;
  const pooled = new Int32Array(s.N * s.M * p.OH * p.OW);
  maxPool2d({ planes: s.N * s.M, H: s.OH, W: s.OW, OH: p.OH, OW: p.OW, win: p.win }, y, pooled);
  return pooled;
}

function qconvSums(s: QConvStep, x: Tensor): Int32Array {
  const { N, C, H, W, M, OH, OW, group: G, win, layer: l } = s;
  const Cg = C / G, Mg = M / G, K = Cg * win.kh * win.kw, P = OH * OW;
  const xs = Float64Array.from(x.data as ArrayLike<number>), cols = new Float64Array(K * P), y = new Int32Array(N * M * P);
  const off = l.input === 'uint8' ? 128 : 0;
  for (let n = 0; n < N; n++) for (let g = 0; g < G; g++) {
    im2col(xs, (n * C + g * Cg) * H * W, { C: Cg, H, W, OH, OW, win }, cols, 0, l.inZero);
    qgemmRef({
      M: Mg, N: P, K, a: l.weight, aOff: g * Mg * K, b: cols.map((v) => v - off), c: y, cOff: (n * M + g * Mg) * P,
      bias: l.bias.subarray(g * Mg, (g + 1) * Mg), biasPer: 'row',
      requant: l.epilogue && { ...l.epilogue, mult: l.epilogue.mult.subarray(g * Mg, (g + 1) * Mg), per: 'row' },
    });
  }
  return y;
}

function qfcOracle(s: QFcStep, x: Tensor): Int32Array {
  const l = s.layer, y = new Int32Array(s.M * s.N);
  qgemmRef({
    M: s.M, N: s.N, K: s.K, a: x.data as Int8Array, aZero: l.input === 'uint8' ? 128 : 0, b: l.weight, transB: true, c: y,
    bias: l.bias, requant: l.epilogue && { ...l.epilogue, per: 'col' },
  });
  return y;
}

/** Runs a one-step integer graph on 1 and 2 threads: exact against the integer oracle, within `tol` of the reference runtime. */
async function check(g: ReturnType<GraphBuilder['build']>, x: Tensor, label: string, tol: number, o: { winograd?: 'off' } = {}): Promise<void> {
  const feeds = { x };
  const want = runReference(g, feeds)[g.outputs[0].name];
  for (const session of [await Session.create(g, { batch: x.shape[0], ...o }), await createNodeSession(g, { threads: 2, splitFlops: 0, batch: x.shape[0], ...o })]) {
    try {
      const got = session.run(feeds)[g.outputs[0].name];
      const step = session.plan.steps[0];
      assert.ok(step.kind === 'qconv' || step.kind === 'qfc', `${label}: planned as ${step.kind} (${step.reason})`);
      const oracle = step.kind === 'qconv' ? qconvOracle(step, x) : qfcOracle(step as QFcStep, x);
      const where = `${label} (${session.threads} thread${session.threads > 1 ? 's' : ''})`;
      for (let i = 0; i < oracle.length; i++) {
        if (got.data[i] !== oracle[i]) assert.fail(`${where}: element ${i} is ${got.data[i]}, the integer oracle gives ${oracle[i]}`);
        if (Math.abs(Number(got.data[i]) - Number(want.data[i])) > tol) assert.fail(`${where}: element ${i} is ${got.data[i]}, the ONNX reference ${want.data[i]}`);
      }
    } finally {
      await session.dispose();
    }
  }
}

const scale = (v: number) => f32([], [v]);
const zero = (dtype: DType, v: number) => fromNumbers(dtype, [], [v]);

test('QLinearConv on the integer kernels: pads, strides, dilation, groups, 1×1, int8 and uint8, per-channel scales, the integer Winograd', async () => {
  const rng = new Rng(7);
  const cases: { x: number[]; w: number[]; attrs: Record<string, number[] | number>; xt: 'int8' | 'uint8'; bias: boolean }[] = [
    { x: [3, 3, 9, 8], w: [5, 3, 3, 3], attrs: { pads: [1, 1, 1, 1] }, xt: 'uint8', bias: true },
    { x: [2, 4, 11, 10], w: [9, 4, 3, 2], attrs: { strides: [2, 3], pads: [0, 1, 2, 0] }, xt: 'int8', bias: false },
    { x: [1, 6, 12, 11], w: [6, 2, 3, 3], attrs: { group: 3, dilations: [2, 1], pads: [2, 1, 2, 1] }, xt: 'int8', bias: true },
    { x: [2, 16, 5, 7], w: [10, 16, 1, 1], attrs: {}, xt: 'uint8', bias: true },
    { x: [2, 24, 13, 10], w: [20, 24, 3, 3], attrs: { pads: [1, 0, 1, 1] }, xt: 'uint8', bias: true },
    // 2 threads: chunks of images taken dynamically, in two rounds (groups: many calls per image); patches packed from the image
    { x: [40, 6, 12, 11], w: [9, 2, 3, 3], attrs: { group: 3, pads: [1, 1, 0, 1], strides: [1, 2] }, xt: 'uint8', bias: true },
    { x: [11, 5, 10, 9], w: [7, 5, 5, 5], attrs: {}, xt: 'int8', bias: true },
  ];
  for (const [i, c] of cases.entries()) {
    const b = new GraphBuilder(i);
    const M = c.w[0];
    const ws = f32([M], Array.from({ length: M }, () => 0.002 + 0.004 * rng.next()));
    const inputs = [
      b.input('x', c.x, c.xt), b.constant('xs', scale(0.02)), b.constant('xz', zero(c.xt, c.xt === 'int8' ? -7 : 121)),
      b.constant('w', ints(rng, 'int8', c.w, -127, 127)), b.constant('ws', ws), b.constant('wz', fromNumbers('int8', [M], new Array(M).fill(0))),
      b.constant('ys', scale(0.08)), b.constant('yz', zero(c.xt, c.xt === 'int8' ? 5 : 110)),
      ...(c.bias ? [b.constant('b', ints(rng, 'int32', [M], -2000, 2000))] : []),
    ];
    const g = b.build([b.op1('QLinearConv', inputs, c.attrs)], 17);
    if (i === 4) {
      const step = planGraph(g, { inputShapes: { x: c.x } }).steps[0] as QConvStep;
      assert.ok(step.tile !== undefined && /int8 Winograd F\([24],3\), est /.test(step.reason), `${step.kernel}: ${step.reason}`);
    }
    await check(g, ints(rng, c.xt, c.x, c.xt === 'int8' ? -128 : 0, c.xt === 'int8' ? 127 : 255), `QLinearConv case ${i}`, 1);
  }
});

interface QConvPoolCase { x: number[]; w: number[]; conv: Record<string, number[] | number>; pool: Record<string, number[] | number>; xt: 'int8' | 'uint8' }

/** QLinearConv → DequantizeLinear → MaxPool → QuantizeLinear, as a QDQ model has it: the pool between a DequantizeLinear and a QuantizeLinear of the conv's output scale. */
function qconvPoolGraph(b: GraphBuilder, rng: Rng, c: QConvPoolCase): ReturnType<GraphBuilder['build']> {
  const M = c.w[0];
  const inputs = [
    b.input('x', c.x, c.xt), b.constant('xs', scale(0.02)), b.constant('xz', zero(c.xt, c.xt === 'int8' ? 4 : 125)),
    b.constant('w', ints(rng, 'int8', c.w, -127, 127)), b.constant('ws', f32([M], Array.from({ length: M }, () => 0.002 + 0.004 * rng.next()))),
    b.constant('wz', fromNumbers('int8', [M], new Array(M).fill(0))), b.constant('ys', scale(0.08)), b.constant('yz', zero(c.xt, c.xt === 'int8' ? -3 : 100)),
    b.constant('b', ints(rng, 'int32', [M], -2000, 2000)),
  ];
  const pooled = b.op1('MaxPool', [b.op1('DequantizeLinear', [b.op1('QLinearConv', inputs, c.conv), 'ys', 'yz'])], c.pool);
  return b.build([b.op1('QuantizeLinear', [pooled, 'ys', 'yz'])], 17);
}

test('QLinearConv → DequantizeLinear → MaxPool → QuantizeLinear: the pool fused into the int8 im2col conv (windows with pads, strides, dilation, ceil mode; groups; a slice of a batch in rounds), bit for bit on 1 and 2 threads', async () => {
  const rng = new Rng(9);
  const cases: QConvPoolCase[] = [
    { x: [5, 3, 12, 11], w: [6, 3, 3, 3], conv: { pads: [1, 1, 1, 1] }, pool: { kernel_shape: [2, 2], strides: [2, 2] }, xt: 'int8' },
    { x: [4, 4, 13, 12], w: [7, 4, 5, 5], conv: {}, pool: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, xt: 'uint8' },
    { x: [3, 2, 10, 9], w: [5, 2, 1, 1], conv: {}, pool: { kernel_shape: [2, 3], strides: [1, 2], dilations: [2, 1], ceil_mode: 1 }, xt: 'int8' },
    { x: [40, 6, 9, 8], w: [9, 2, 3, 3], conv: { group: 3, pads: [1, 1, 1, 1] }, pool: { kernel_shape: [2, 2], strides: [2, 2] }, xt: 'uint8' },
  ];
  for (const [i, c] of cases.entries()) {
    const g = qconvPoolGraph(new GraphBuilder(20 + i), rng, c);
    const step = planGraph(g, { inputShapes: { x: c.x }, winograd: 'off' }).steps;
    assert.deepEqual(step.map((s) => [s.kind, (s as QConvStep).pool?.mode]), [['qconv', 'max']], `case ${i}: one integer conv step with its pool`);
    await check(g, ints(rng, c.xt, c.x, c.xt === 'int8' ? -128 : 0, c.xt === 'int8' ? 127 : 255), `QLinearConv → MaxPool case ${i}`, 1, { winograd: 'off' });
  }
});

test('a max pool fused into an int8 im2col conv on 2 threads: its plane counts in the chunks\' 16 MB cap (fewer sets), bit for bit the unfused oracle', async () => {
  // 1×1, 2 → 256 channels on 96×96: a set's patches and panels are 18 KB, the pool's plane (the conv's output of one image) 2.3 MB
  const c: QConvPoolCase = { x: [8, 2, 96, 96], w: [256, 2, 1, 1], conv: {}, pool: { kernel_shape: [2, 2], strides: [2, 2] }, xt: 'int8' };
  const rng = new Rng(11), g = qconvPoolGraph(new GraphBuilder(30), rng, c);
  const step = planGraph(g, { inputShapes: { x: c.x }, threads: 2, splitFlops: 0, winograd: 'off' }).steps[0] as QConvStep;
  const l = step.layout, per = step.scratch / l.sets;
  assert.ok(step.kind === 'qconv' && step.pool && l.byImages && step.split === 2, `chunks of images with the pool fused: ${step.kernel}`);
  assert.ok(l.plane > 0 && per === l.patches + l.panels + l.plane, `a set holds the pool's plane: ${JSON.stringify(l)}`);
  assert.ok(l.sets > step.split && l.sets * per <= 16 << 20, `${l.sets} sets of ${per} B stay under 16 MB (more than one per thread)`);
  assert.ok((l.sets + 1) * per > 16 << 20 && l.sets < c.x[0], `as many sets as fit: ${l.sets} of ${per} B`);
  await check(g, ints(rng, c.xt, c.x, -128, 127), 'QLinearConv → MaxPool at the chunk cap', 1, { winograd: 'off' });
});

test('QLinearMatMul, MatMulInteger and ConvInteger on the integer kernels (int32 out exact)', async () => {
  const rng = new Rng(8);
  const b = new GraphBuilder(1);
  const inputs = [
    b.input('x', [5, 37], 'int8'), b.constant('as', scale(0.05)), b.constant('az', zero('int8', 3)), b.constant('b', ints(rng, 'int8', [37, 19], -127, 127)),
    b.constant('bs', f32([19], Array.from({ length: 19 }, () => 0.003 + 0.01 * rng.next()))), b.constant('bz', fromNumbers('int8', [19], new Array(19).fill(0))),
    b.constant('ys', scale(0.2)), b.constant('yz', zero('int8', -4)),
  ];
  await check(b.build([b.op1('QLinearMatMul', inputs)], 17), ints(rng, 'int8', [5, 37], -128, 127), 'QLinearMatMul', 1);
  const m = new GraphBuilder(2);
  const mm = m.op1('MatMulInteger', [m.input('x', [4, 23], 'uint8'), m.constant('b', ints(rng, 'int8', [23, 9], -128, 127)), m.constant('az', zero('uint8', 130))]);
  await check(m.build([mm], 17), ints(rng, 'uint8', [4, 23], 0, 255), 'MatMulInteger', 0);
  const c = new GraphBuilder(3);
  const ci = c.op1('ConvInteger', [c.input('x', [2, 3, 7, 6], 'uint8'), c.constant('w', ints(rng, 'uint8', [4, 3, 3, 3], 0, 255)), c.constant('xz', zero('uint8', 9)),
    c.constant('wz', zero('uint8', 128))], { pads: [1, 1, 1, 1] });
  await check(c.build([ci], 17), ints(rng, 'uint8', [2, 3, 7, 6], 0, 255), 'ConvInteger', 0);
});

test("onnxruntime's QDQ LeNet-5 runs integer-only from its first QuantizeLinear to its last DequantizeLinear, agreeing with onnxruntime", async () => {
  const path = `${FIXTURES}lenet5_int8_qdq.onnx`;
  const g = loadOnnxFile(path);
  const s = await Session.create(g, { batch: 100 });
  const kinds = s.plan.steps.map((st) => st.kind);
  assert.deepEqual(kinds, ['quantize', 'qconv', 'qconv', 'qfc', 'qfc', 'dequantize'], s.describe());
  assert.ok(s.plan.steps.every((st) => st.kind !== 'qconv' || st.pool?.mode === 'max'), `its max pools fused into the convs: ${s.describe()}`);
  const ort = await ortSession(path);
  const ds = loadDataset('mnist', 'test');
  let agree = 0, maxDiff = 0;
  const n = 500;
  for (let i = 0; i < n; i += 100) {
    const x = f32([100, 1, 28, 28], ds.images.subarray(i * 784, (i + 100) * 784));
    const mine = s.run({ input: x }).logits.data as Float32Array;
    const theirs = (await ortRun(ort, { input: x })).logits.data as Float32Array;
    const [a, b] = [argmaxRows(mine, 100), argmaxRows(theirs, 100)];
    for (let r = 0; r < 100; r++) if (a[r] === b[r]) agree++;
    for (let j = 0; j < mine.length; j++) maxDiff = Math.max(maxDiff, Math.abs(mine[j] - theirs[j]));
  }
  await s.dispose();
  assert.ok(agree >= n - 1, `top-1 agreement with onnxruntime ${agree}/${n}`);
  const logitsScale = g.initializers.get('logits_scale')!.data[0] as number;
  assert.ok(maxDiff <= 2 * logitsScale + 1e-6, `logits differ from onnxruntime's by ${maxDiff} (${(maxDiff / logitsScale).toFixed(1)} output steps)`);
});

test("QDQ VGG-S: the 3×3 convs run on the integer Winograd (reason given, its 2×2 max pools fused), bit for bit the int8 im2col of winograd 'off', on 1 and 2 threads; a forced float tile (winograd: 6) keeps them float between Q and DQ; all agree with onnxruntime", async () => {
  const path = `${FIXTURES}vggs_fmnist_int8_qdq.onnx`;
  const g = loadOnnxFile(path);
  const ort = await ortSession(path);
  const x = f32([100, 1, 28, 28], loadDataset('fashion-mnist', 'test').images.subarray(0, 100 * 784));
  const theirs = argmaxRows((await ortRun(ort, { input: x })).logits.data as Float32Array, 100);
  const logits: Record<string, Float32Array> = {};
  for (const [label, winograd, threads] of [['off', 'off', 1], ['auto', 'auto', 1], ['auto 2 threads', 'auto', 2], ['6', 6, 1]] as const) {
    const s = threads > 1 ? await createNodeSession(g, { batch: 100, winograd, threads, splitFlops: 0 }) : await Session.create(g, { batch: 100, winograd });
    const convs = s.plan.steps.filter((st) => st.op === 'Conv');
    assert.equal(convs[0].kind, 'qconv', 'the 1-channel first conv stays on im2col');
    assert.equal((convs[0] as QConvStep).tile, undefined);
    for (const st of convs.slice(1)) {
      if (winograd === 'off') assert.ok(st.kind === 'qconv' && st.tile === undefined, s.describe());
      else if (winograd === 'auto') {
        assert.ok(st.kind === 'qconv' && st.tile !== undefined, s.describe());
        assert.match(st.reason, /; int8 Winograd F\([24],3\), est .* vs .*int8 im2col /);
      } else {
        assert.equal(st.kind, 'conv', s.describe());
        assert.match(st.reason, /float: float Winograd F\(6,3\) between dequantize and quantize, est .* vs int8 im2col /);
      }
    }
    // the three 2×2 max pools: pooled from each image's output on im2col ('off'), in the integer Winograd's output transform ('auto')
    const pools = s.plan.steps.filter((st) => st.op === 'MaxPool').length, fused = convs.filter((st) => st.kind === 'qconv' && st.pool).length;
    if (winograd !== 6) assert.deepEqual([pools, fused], [0, 3], s.describe());
    logits[label] = s.run({ input: x }).logits.data as Float32Array;
    await s.dispose();
    const mine = argmaxRows(logits[label], 100);
    assert.ok(mine.filter((c, i) => c === theirs[i]).length >= 99, `winograd ${label}: top-1 agreement with onnxruntime`);
  }
  assert.deepEqual(logits.auto, logits.off, 'integer Winograd and integer im2col: the same integers');
  assert.deepEqual(logits['auto 2 threads'], logits.off);
});

test('a QDQ residual Add (with the ReLU after it) runs as one integer add, within one output step of the reference', async () => {
  const b = new GraphBuilder(9);
  const x = b.input('x', ['N', 4, 5, 5]);
  const q = (t: string, s: number, z: number) => {
    const [sn, zn] = [b.constant(`${t}_s`, scale(s)), b.constant(`${t}_z`, zero('int8', z))];
    return b.op1('DequantizeLinear', [b.op1('QuantizeLinear', [t, sn, zn]), sn, zn]);
  };
  const a = q(x, 0.02, 3), c = q(b.op1('Relu', [x]), 0.01, -128);
  const y = q(b.op1('Relu', [b.op1('Add', [a, c])]), 0.03, -128);
  // a broadcast operand (one value per channel) has no integer add: it stays float, and right
  const bias = q(b.constant('bias', f32([1, 4, 1, 1], [0.5, -0.25, 1, 0])), 0.01, 0);
  const z = q(b.op1('Add', [a, bias]), 0.03, 0);
  const g = b.build([y, z], 17, 'N');
  const s = await Session.create(g, { batch: 2 });
  const adds = s.plan.steps.filter((st) => st.kind === 'qadd');
  assert.equal(adds.length, 1, s.describe());
  assert.equal(adds[0].kernel, 'add int8 + clamp');
  const feeds = { x: f32([2, 4, 5, 5], new Rng(4).floats(200, -2, 2)) };
  const got = s.run(feeds), want = runReference(g, feeds);
  for (const [v, step] of [[y, 0.03], [z, 0.03]] as const) {
    const [gv, wv] = [got[v].data as Float32Array, want[v].data as Float32Array];
    gv.forEach((e, i) => assert.ok(Math.abs(e - wv[i]) <= step + 1e-6, `${v} element ${i}: ${e} vs ${wv[i]}`));
  }
  await s.dispose();
});
