// Thinning must be exact: the thinned graph computes what the original computes when
// the removed channels' contributions are cut at their consumers (zeroSlices).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NnzipError } from '../../../src/ir/errors.js';
import type { Graph } from '../../../src/ir/graph.js';
import { Rng } from '../../../src/ir/random.js';
import { codebookValues } from '../../../src/format/codebook.js';
import type { CodebookFormat } from '../../../src/ir/tensor_format.js';
import { f32, toNumbers, type Tensor } from '../../../src/ir/tensor.js';
import { exportOnnx } from '../../../src/onnx/export.js';
import { ortRun, ortSession } from '../../../src/eval/ort.js';
import { runReference } from '../../../src/runtime/reference.js';
import { verify } from '../../../src/ir/verify.js';
import { rankChannels, selectKeep } from '../../../src/compress/prune/structured.js';
import { couplingGroups, pruneChannels, thinFilters } from '../../../src/compress/prune/thin.js';
import {
  assertSameOutputs, blocks, Builder, fixture, paramCount, randomFeeds, randomKeep, removed, zeroSlices,
} from './thin_graphs.js';

const shapeOf = (g: Graph, name: string): number[] => (g.initializers.get(name) as Tensor).shape;

function checkThinned(t: Graph, original: Graph, reference: Graph, dropped: number, feeds: Record<string, Tensor>): void {
  verify(t);
  assert.equal(paramCount(original) - paramCount(t), dropped, 'parameters removed');
  assertSameOutputs(t, reference, feeds);
}

describe('thinFilters: LeNet-5 (conv → pool → conv → pool → flatten → gemm)', () => {
  const g = fixture('lenet5_dense');
  const feeds = randomFeeds(g, new Rng(1), 8);

  it('conv1: its filters go, conv2 loses the matching input channels', () => {
    const keep = randomKeep(new Rng(2), 20, 12);
    const t = thinFilters(g, { layer: 'conv1', keep });
    const gone = removed(20, keep);
    assert.deepEqual(shapeOf(t, 'conv1.weight'), [12, 1, 5, 5]);
    assert.deepEqual(shapeOf(t, 'conv2.weight'), [50, 12, 5, 5]);
    checkThinned(t, g, zeroSlices(g, 'conv2.weight', 1, gone), 8 * (25 + 1) + 50 * 8 * 25, feeds);
  });

  it('conv2: Flatten maps channel c to fc1 columns 16c … 16c+15; the Reshape constant follows', () => {
    const keep = randomKeep(new Rng(3), 50, 30);
    const t = thinFilters(g, { layer: 'conv2', keep });
    const reshape = t.nodes.find((n) => n.op === 'Reshape');
    assert.deepEqual(toNumbers(t.initializers.get(reshape?.inputs[1] as string) as Tensor), [-1, 30 * 16]);
    assert.deepEqual(shapeOf(t, 'fc1.weight'), [500, 480]);
    const ref = zeroSlices(g, 'fc1.weight', 1, blocks(removed(50, keep), 16));
    checkThinned(t, g, ref, 20 * (20 * 25 + 1) + 500 * 20 * 16, feeds);
  });

  it('fc1 neurons: fc2 loses the matching columns (node name works as the layer name)', () => {
    const keep = randomKeep(new Rng(4), 500, 200);
    const t = thinFilters(g, { layer: 'node_linear', keep });
    assert.deepEqual(shapeOf(t, 'fc1.bias'), [200]);
    checkThinned(t, g, zeroSlices(g, 'fc2.weight', 1, removed(500, keep)), 300 * (800 + 1) + 10 * 300, feeds);
  });

  it('pruneChannels thins all three by L1 norm, independent of the order given', () => {
    const p = pruneChannels(g, { ratios: { fc1: 0.2, conv1: 0.5, conv2: 0.4 }, norm: 'l1' });
    const keep = (w: string, ratio: number) => selectKeep(rankChannels(g.initializers.get(w) as Tensor, 0, 'l1'), { ratio });
    const [k1, k2, k3] = [keep('conv1.weight', 0.5), keep('conv2.weight', 0.4), keep('fc1.weight', 0.2)];
    assert.deepEqual([k1.length, k2.length, k3.length], [10, 20, 100]);
    let ref = zeroSlices(g, 'conv2.weight', 1, removed(20, k1));
    ref = zeroSlices(ref, 'fc1.weight', 1, blocks(removed(50, k2), 16));
    ref = zeroSlices(ref, 'fc2.weight', 1, removed(500, k3));
    const after = 10 * 26 + 20 * (10 * 25 + 1) + 100 * (20 * 16 + 1) + 10 * 101;
    checkThinned(p, g, ref, paramCount(g) - after, feeds);
    const again = pruneChannels(g, { ratios: { conv2: 0.4, conv1: 0.5, fc1: 0.2 }, norm: 'l1' });
    for (const [k, v] of p.initializers) assert.deepEqual(again.initializers.get(k)?.data, v.data, k);
  });

  it('the thinned model exports to ONNX and onnxruntime computes the same logits', async () => {
    const t = pruneChannels(g, { ratios: { conv1: 0.5, conv2: 0.5, fc1: 0.5 } });
    const ort = (await ortRun(await ortSession(exportOnnx(t)), feeds)).logits;
    const ref = runReference(t, feeds).logits;
    const scale = Math.max(...Array.from(ref.data as Float32Array, Math.abs));
    ref.data.forEach((v, i) => assert.ok(Math.abs(Number(v) - Number(ort.data[i])) <= 1e-4 * scale, `logit ${i}: ${v} vs ort ${ort.data[i]}`));
  });

  it('leaves its input graph unchanged', () => {
    const before = new Map([...g.initializers].map(([k, v]) => [k, v.data.slice()]));
    thinFilters(g, { layer: 'conv2', keep: Int32Array.of(0, 5, 9) });
    for (const [k, v] of before) assert.deepEqual(g.initializers.get(k)?.data, v, k);
  });
});

// conv1 → BN (β ≠ 0) → Relu → MaxPool → conv2 → BN → Relu → Flatten → Gemm
function convBnRelu(): Graph {
  const b = new Builder(new Rng(10), { name: 'x', shape: ['N', 3, 10, 10] });
  let v = b.node('Relu', [b.bn('bn1', b.conv('conv1', 'x', 3, 8, 3), 8)]);
  v = b.node('MaxPool', [v], { kernel_shape: [2, 2], strides: [2, 2] });
  v = b.node('Relu', [b.bn('bn2', b.conv('conv2', v, 8, 6, 3, { bias: false }), 6)]);
  b.gemm('fc', b.node('Flatten', [v], { axis: 1 }), 6 * 25, 4);
  return b.build(['N', 4]);
}

describe('thinFilters: Conv-BN-Relu chain', () => {
  const g = convBnRelu();
  const feeds = randomFeeds(g, new Rng(11), 4);

  it('conv1: BatchNorm shrinks with it; a removed channel is cut after its BN shift', () => {
    const keep = Int32Array.of(0, 2, 3, 6, 7);
    const t = thinFilters(g, { layer: 'conv1', keep });
    for (const p of ['weight', 'bias', 'running_mean', 'running_var']) assert.deepEqual(shapeOf(t, `bn1.${p}`), [5]);
    checkThinned(t, g, zeroSlices(g, 'conv2.weight', 1, [1, 4, 5]), 3 * (27 + 1) + 3 * 4 + 6 * 3 * 9, feeds);
    // Zeroing only conv1's filters is not equivalent (BN's β revives the channel): the reference matters.
    const naive = zeroSlices(zeroSlices(g, 'conv1.weight', 0, [1, 4, 5]), 'conv1.bias', 0, [1, 4, 5]);
    assert.throws(() => assertSameOutputs(t, naive, feeds));
  });

  it('conv2 (no bias) through BN, Relu and Flatten into the Gemm', () => {
    const t = thinFilters(g, { layer: 'conv2', keep: Int32Array.of(1, 4) });
    const ref = zeroSlices(g, 'fc.weight', 1, blocks([0, 2, 3, 5], 25));
    checkThinned(t, g, ref, 4 * 8 * 9 + 4 * 4 + 4 * 4 * 25, feeds);
  });
});

describe('thinFilters: compressed formats follow the tensor', () => {
  it('codebook indices (one per element; k marks a pruned zero) are sliced with the weights', () => {
    // conv2.weight [6,8,3,3] stored as a 2-bit codebook with some pruned zeros.
    const g = convBnRelu();
    const rng = new Rng(12);
    const centroids = Float32Array.of(-0.5, -0.1, 0.25, 0.5);
    const indices = Uint8Array.from({ length: 6 * 8 * 9 }, () => rng.int(5));
    const format: CodebookFormat = { kind: 'codebook', bits: 2, centroids, indices };
    g.initializers.set('conv2.weight', f32([6, 8, 3, 3], codebookValues(format)));
    g.formats.set('conv2.weight', format);
    const t = thinFilters(g, { layer: 'conv1', keep: Int32Array.of(1, 2, 6) });
    const w = t.initializers.get('conv2.weight') as Tensor<'float32'>;
    assert.deepEqual(w.shape, [6, 3, 3, 3]);
    const f = t.formats.get('conv2.weight') as CodebookFormat;
    assert.ok(f.indices instanceof Uint8Array);
    assert.deepEqual(codebookValues(f), w.data);
    assert.equal((g.formats.get('conv2.weight') as CodebookFormat).indices, indices, 'the input graph keeps its format');
  });
});

// conv0 → Relu → depthwise (multiplier m) → BN → Clip (ReLU6) → pointwise → GAP → Flatten → Gemm
function depthwise(m: number): Graph {
  const b = new Builder(new Rng(20 + m), { name: 'x', shape: ['N', 4, 8, 8] });
  let v = b.node('Relu', [b.conv('conv0', 'x', 4, 6, 1)]);
  v = b.bn('bn', b.conv('dw', v, 6, 6 * m, 3, { group: 6 }), 6 * m);
  b.inits.set('zero', f32([], [0]));
  b.inits.set('six', f32([], [6]));
  v = b.conv('pw', b.node('Clip', [v, 'zero', 'six']), 6 * m, 5, 1, { bias: false });
  b.gemm('fc', b.node('Flatten', [b.node('GlobalAveragePool', [v])], { axis: 1 }), 5, 3);
  return b.build(['N', 3]);
}

describe('thinFilters: depthwise conv', () => {
  for (const m of [1, 2]) {
    it(`multiplier ${m}: the depthwise filters, its BN and group follow; the pointwise conv shrinks`, () => {
      const g = depthwise(m);
      const t = thinFilters(g, { layer: 'conv0', keep: Int32Array.of(0, 2, 3, 5) });
      const dw = t.nodes.find((n) => n.name === 'dw');
      assert.equal(dw?.attrs.group, 4);
      assert.deepEqual(shapeOf(t, 'dw.weight'), [4 * m, 1, 3, 3]);
      const gone = blocks([1, 4], m);
      const dropped = 2 * (4 + 1) + 2 * m * (9 + 1) + 2 * m * 4 + 5 * 2 * m;
      checkThinned(t, g, zeroSlices(g, 'pw.weight', 1, gone), dropped, randomFeeds(g, new Rng(22), 3));
    });
  }

  it('a depthwise conv has no filters of its own to thin', () => {
    assert.throws(() => thinFilters(depthwise(1), { layer: 'dw', keep: Int32Array.of(0) }), /"dw".*no removable filters.*depthwise/);
  });
});

// SqueezeNet fire module: squeeze → (expand1x1 ‖ expand3x3) → Concat → conv
function fire(): Graph {
  const b = new Builder(new Rng(30), { name: 'x', shape: ['N', 3, 9, 9] });
  const s = b.node('Relu', [b.conv('squeeze', 'x', 3, 4, 1)]);
  const e1 = b.node('Relu', [b.conv('e1', s, 4, 5, 1)]);
  const e3 = b.node('Relu', [b.conv('e3', s, 4, 6, 3)]);
  const v = b.conv('next', b.node('Concat', [e1, e3], { axis: 1 }), 11, 3, 1);
  b.gemm('fc', b.node('Flatten', [b.node('GlobalAveragePool', [v])], { axis: 1 }), 3, 2);
  return b.build(['N', 2]);
}

describe('thinFilters: Concat (fire module)', () => {
  const g = fire();
  const feeds = randomFeeds(g, new Rng(31), 3);

  it('expand3x3: the consumer of the Concat shrinks at the branch offset', () => {
    const t = thinFilters(g, { layer: 'e3', keep: Int32Array.of(1, 4) });
    assert.deepEqual(shapeOf(t, 'next.weight'), [3, 7, 1, 1]);
    checkThinned(t, g, zeroSlices(g, 'next.weight', 1, [5, 7, 8, 10]), 4 * (4 * 9 + 1) + 3 * 4, feeds);
  });

  it('expand1x1: the first branch, offset 0', () => {
    const t = thinFilters(g, { layer: 'e1', keep: Int32Array.of(0, 1, 4) });
    checkThinned(t, g, zeroSlices(g, 'next.weight', 1, [2, 3]), 2 * (4 + 1) + 3 * 2, feeds);
  });

  it('squeeze: both expand convs lose input channels', () => {
    const t = thinFilters(g, { layer: 'squeeze', keep: Int32Array.of(0, 3) });
    const ref = zeroSlices(zeroSlices(g, 'e1.weight', 1, [1, 2]), 'e3.weight', 1, [1, 2]);
    checkThinned(t, g, ref, 2 * (3 + 1) + 5 * 2 + 6 * 2 * 9, feeds);
  });
});

describe('thinFilters: SqueezeNet 1.1 (real ONNX file, 96×96 input for speed)', () => {
  const g = fixture('squeezenet1_1_random');
  g.inputs[0].shape = ['N', 3, 96, 96];
  const feeds = randomFeeds(g, new Rng(40), 1);

  it('a squeeze layer and an expand layer, thinned together by pruneChannels', () => {
    const ratios = { 'features.3.squeeze': 9 / 16, 'features.3.expand3x3': 40 / 64, 'features.12.expand1x1': 0.5 };
    const t = pruneChannels(g, { ratios, norm: 'l2' });
    const keep = (w: string, r: number) => selectKeep(rankChannels(g.initializers.get(`${w}.weight`) as Tensor, 0, 'l2'), { ratio: r });
    const sq = removed(16, keep('features.3.squeeze', 9 / 16));
    const e3 = removed(64, keep('features.3.expand3x3', 40 / 64));
    const e12 = removed(256, keep('features.12.expand1x1', 0.5));
    let ref = zeroSlices(g, 'features.3.expand1x1.weight', 1, sq);
    ref = zeroSlices(ref, 'features.3.expand3x3.weight', 1, sq);
    ref = zeroSlices(ref, 'features.4.squeeze.weight', 1, e3.map((c) => 64 + c));
    ref = zeroSlices(ref, 'classifier.1.weight', 1, e12);
    // No biases in this export. squeeze: 7 of 16 filters; expand1x1: 7 inputs; expand3x3: [64,16,3,3] → [40,9,3,3];
    // features.4.squeeze: 24 inputs; features.12.expand1x1: 128 of 256 filters; classifier.1: 128 inputs.
    const dropped = 7 * 64 + 64 * 7 + (64 * 16 * 9 - 40 * 9 * 9) + 16 * 24 + 128 * 64 + 1000 * 128;
    checkThinned(t, g, ref, dropped, feeds);
    assert.deepEqual(shapeOf(t, 'features.3.expand3x3.weight'), [40, 9, 3, 3]);
  });
});

// conv0 → BN → Relu = x; conv1 → BN → Relu → conv2 → BN; Add(·, x) → Relu → conv3 → GAP → Flatten → Gemm.
// skipFromInput: the skip is the graph input itself; addIsOutput: the Add's Relu is the graph output.
// blocks: 2 chains a second block (conv1b, conv2b) whose skip is the first block's output.
function residual(opts: { skipFromInput?: boolean; addIsOutput?: boolean; blocks?: number } = {}): Graph {
  const b = new Builder(new Rng(50), { name: 'x', shape: ['N', opts.skipFromInput ? 6 : 3, 8, 8] });
  let y = opts.skipFromInput ? 'x' : b.node('Relu', [b.bn('bn0', b.conv('conv0', 'x', 3, 6, 3), 6)]);
  for (const k of ['', 'b'].slice(0, opts.blocks ?? 1)) {
    const h = b.node('Relu', [b.bn(`bn1${k}`, b.conv(`conv1${k}`, y, 6, 5, 3), 5)]);
    y = b.node('Relu', [b.node('Add', [b.bn(`bn2${k}`, b.conv(`conv2${k}`, h, 5, 6, 3), 6), y])]);
  }
  if (opts.addIsOutput) return b.build(['N', 6, 8, 8]);
  const v = b.conv('conv3', y, 6, 4, 1, { bias: false });
  b.gemm('fc', b.node('Flatten', [b.node('GlobalAveragePool', [v])], { axis: 1 }), 4, 3);
  return b.build(['N', 3]);
}

describe('thinFilters: residual Add couples its producers', () => {
  const g = residual();
  const feeds = randomFeeds(g, new Rng(51), 3);

  it('couplingGroups finds {conv0, conv2}; the last layer is blocked', () => {
    const groups = couplingGroups(g);
    assert.deepEqual(groups.map((x) => x.layers), [['conv0', 'conv2'], ['conv1'], ['conv3'], ['fc']]);
    assert.deepEqual(groups.map((x) => x.channels), [6, 5, 4, 3]);
    assert.deepEqual(groups.map((x) => x.blocked !== undefined), [false, false, false, true]);
  });

  it('thinning either member thins both with the same channels', () => {
    const keep = Int32Array.of(0, 2, 3);
    const t = thinFilters(g, { layer: 'conv2', keep });
    for (const w of ['conv0.weight', 'conv2.weight', 'bn0.bias', 'bn2.running_var']) assert.equal(shapeOf(t, w)[0], 3, w);
    const ref = zeroSlices(zeroSlices(g, 'conv1.weight', 1, [1, 4, 5]), 'conv3.weight', 1, [1, 4, 5]);
    const dropped = 3 * (27 + 1) + 3 * 4 + 5 * 3 * 9 + 3 * (5 * 9 + 1) + 3 * 4 + 4 * 3;
    checkThinned(t, g, ref, dropped, feeds);
    const same = thinFilters(g, { layer: 'conv0', keep });
    for (const [k, v] of t.initializers) assert.deepEqual(same.initializers.get(k)?.data, v.data, k);
  });

  it('pruneChannels ranks a coupled group by the sum of its members\' scores', () => {
    const p = pruneChannels(g, { ratios: { conv2: 0.5 } });
    const score = rankChannels(g.initializers.get('conv0.weight') as Tensor, 0, 'l1');
    rankChannels(g.initializers.get('conv2.weight') as Tensor, 0, 'l1').forEach((s, i) => (score[i] += s));
    const keep = selectKeep(score, { ratio: 0.5 });
    const t = thinFilters(g, { layer: 'conv0', keep });
    for (const [k, v] of t.initializers) assert.deepEqual(p.initializers.get(k)?.data, v.data, k);
    assert.throws(() => pruneChannels(g, { ratios: { conv0: 0.5, conv2: 0.25 } }), /"conv0" and "conv2" are coupled.*different ratios/);
  });

  it('a chain of blocks couples the stem with every block\'s last conv', () => {
    const c = residual({ blocks: 2 });
    assert.deepEqual(couplingGroups(c).map((x) => x.layers), [['conv0', 'conv2', 'conv2b'], ['conv1'], ['conv1b'], ['conv3'], ['fc']]);
    const t = thinFilters(c, { layer: 'conv2b', keep: Int32Array.of(1, 5) });
    let ref = zeroSlices(c, 'conv1.weight', 1, [0, 2, 3, 4]);
    ref = zeroSlices(zeroSlices(ref, 'conv1b.weight', 1, [0, 2, 3, 4]), 'conv3.weight', 1, [0, 2, 3, 4]);
    const dropped = 4 * (27 + 1 + 4) + 2 * (5 * 4 * 9 + 4 * (5 * 9 + 1 + 4)) + 4 * 4;
    checkThinned(t, c, ref, dropped, randomFeeds(c, new Rng(52), 2));
  });

  it('refuses when the skip comes from the graph input, naming it', () => {
    const s = residual({ skipFromInput: true });
    assert.match(couplingGroups(s).find((x) => x.layers.includes('conv2'))?.blocked ?? '', /graph input "x"/);
    assert.throws(() => thinFilters(s, { layer: 'conv2', keep: Int32Array.of(0) }), (e: Error) => {
      assert.ok(e instanceof NnzipError);
      assert.match(e.message, /cannot thin layer "conv2": node "add\d+" \(Add\) combines its channels with graph input "x"/);
      return true;
    });
  });

  it('refuses when the coupled channels reach the graph output, naming the coupled layers', () => {
    const s = residual({ addIsOutput: true });
    assert.throws(() => thinFilters(s, { layer: 'conv0', keep: Int32Array.of(0) }), /cannot thin layer "conv0" \(coupled with "conv2".*graph output "out"/);
  });
});

describe('thinFilters: MatMul neurons with an Add bias', () => {
  // x [N,6] → MatMul W1 [6,8] → Add b1 [8] → Relu → MatMul W2 [8,3]
  const b = new Builder(new Rng(60), { name: 'x', shape: ['N', 6] });
  b.inits.set('w1', f32([6, 8], b.rng.floats(48)));
  b.inits.set('b1', f32([8], b.rng.floats(8)));
  b.inits.set('w2', f32([8, 3], b.rng.floats(24)));
  b.node('MatMul', [b.node('Relu', [b.node('Add', [b.node('MatMul', ['x', 'w1'], {}, 'mm1'), 'b1'])]), 'w2'], {}, 'mm2');
  const g = b.build(['N', 3]);

  it('the weight columns, the broadcast bias and the next weight rows shrink', () => {
    const t = thinFilters(g, { layer: 'mm1', keep: Int32Array.of(1, 2, 6) });
    assert.deepEqual([shapeOf(t, 'w1'), shapeOf(t, 'b1'), shapeOf(t, 'w2')], [[6, 3], [3], [3, 3]]);
    checkThinned(t, g, zeroSlices(g, 'w2', 0, [0, 3, 4, 5, 7]), 5 * 6 + 5 + 5 * 3, randomFeeds(g, new Rng(61), 5));
  });
});

describe('thinFilters: bad input', () => {
  const g = fixture('lenet5_dense');
  const bad = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: Error) => {
      assert.ok(e instanceof NnzipError, `want NnzipError, got ${e}`);
      assert.equal(e.exitCode, 2);
      assert.match(e.message, re);
      return true;
    });

  it('a layer that does not exist: named, with the real ones listed', () => {
    bad(() => thinFilters(g, { layer: 'conv9', keep: Int32Array.of(0) }), /layer "conv9" does not exist; layers: conv1, conv2, fc1, fc2/);
    bad(() => pruneChannels(g, { ratios: { fc7: 0.5 } }), /pruneChannels: layer "fc7" does not exist/);
  });

  it('a keep ratio outside (0, 1]', () => {
    for (const r of [0, -0.5, 1.5, Number.NaN]) bad(() => pruneChannels(g, { ratios: { conv1: r } }), /layer "conv1".*keep ratio .* is outside \(0, 1\]/);
  });

  it('the last layer (its outputs are the graph outputs)', () => {
    bad(() => thinFilters(g, { layer: 'fc2', keep: Int32Array.of(0, 1) }), /cannot thin layer "fc2": .*graph output "logits".*last layer/);
    bad(() => pruneChannels(g, { ratios: { fc2: 0.5 } }), /graph output "logits"/);
  });

  it('keep indices that are empty, out of range or not ascending', () => {
    bad(() => thinFilters(g, { layer: 'conv1', keep: new Int32Array(0) }), /empty; keep at least one of its 20/);
    bad(() => thinFilters(g, { layer: 'conv1', keep: Int32Array.of(3, 20) }), /index 20 is out of range .*0\.\.19/);
    bad(() => thinFilters(g, { layer: 'conv1', keep: Int32Array.of(4, 2) }), /strictly increasing/);
    bad(() => thinFilters(g, { layer: 'conv1', keep: [1, 2] as unknown as Int32Array }), /must be an Int32Array/);
  });

  it('an op that mixes channels stops the walk with the node named', () => {
    const b = new Builder(new Rng(70), { name: 'x', shape: ['N', 2, 4, 4] });
    b.conv('conv2', b.node('Softmax', [b.conv('conv1', 'x', 2, 3, 1)], { axis: 1 }, 'sm'), 3, 2, 1);
    const s = b.build(['N', 2, 4, 4]);
    bad(() => thinFilters(s, { layer: 'conv1', keep: Int32Array.of(0) }), /node "sm" \(Softmax\) normalises across the thinned channels/);
  });
});
