// Filter ranking by norm and the choice of kept filters, against plain loops.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NnzipError } from '../../../src/ir/errors.js';
import { Rng } from '../../../src/ir/random.js';
import { f32, i64, sizeOf } from '../../../src/ir/tensor.js';
import { filterLayers, findFilterLayer, rankChannels, selectKeep } from '../../../src/compress/prune/structured.js';
import { fixture } from './thin_graphs.js';

// Plain nested-loop norm of the slice `index` along `axis`, in float64.
function sliceNorm(data: Float32Array, shape: number[], axis: number, index: number, norm: 'l1' | 'l2'): number {
  const inner = sizeOf(shape.slice(2));
  let s = 0;
  for (let i0 = 0; i0 < shape[0]; i0++) {
    for (let i1 = 0; i1 < shape[1]; i1++) {
      if ((axis === 0 ? i0 : i1) !== index) continue;
      for (let k = 0; k < inner; k++) {
        const v = data[(i0 * shape[1] + i1) * inner + k];
        s += norm === 'l1' ? Math.abs(v) : v * v;
      }
    }
  }
  return norm === 'l2' ? Math.sqrt(s) : s;
}

const bad = (f: () => unknown, re: RegExp) =>
  assert.throws(f, (e: Error) => e instanceof NnzipError && re.test(e.message) ? true : assert.fail(`got ${e}`));

describe('rankChannels', () => {
  const rng = new Rng(1);
  for (const shape of [[7, 5, 3, 3], [6, 11], [1, 1, 1, 1], [3, 4, 1, 2]]) {
    for (const axis of [0, 1] as const) {
      for (const norm of ['l1', 'l2'] as const) {
        it(`${norm} along axis ${axis} of [${shape}] equals a plain loop`, () => {
          const w = f32(shape, rng.floats(sizeOf(shape), -2, 2));
          const got = rankChannels(w, axis, norm);
          assert.equal(got.length, shape[axis]);
          got.forEach((v, i) => {
            const want = sliceNorm(w.data, shape, axis, i, norm);
            assert.ok(Math.abs(v - want) <= 1e-6 * Math.max(1, want), `slice ${i}: ${v} vs ${want}`);
          });
        });
      }
    }
  }

  it('bad input: integer weights, rank 1, unknown axis or norm', () => {
    bad(() => rankChannels(i64([2, 2], [1, 2, 3, 4]), 0, 'l1'), /weight must be float, got int64/);
    bad(() => rankChannels(f32([4]), 0, 'l1'), /at least 2 dimensions/);
    bad(() => rankChannels(f32([2, 2]), 2 as 0, 'l1'), /axis must be 0 .* or 1/);
    bad(() => rankChannels(f32([2, 2]), 0, 'max' as 'l1'), /norm must be "l1" or "l2", got "max"/);
  });
});

describe('selectKeep', () => {
  it('keeps the highest scores, ascending', () => {
    assert.deepEqual([...selectKeep([0.1, 5, 3, 0.2, 4], { count: 3 })], [1, 2, 4]);
    assert.deepEqual([...selectKeep(Float32Array.of(9, 1, 8), { count: 3 })], [0, 1, 2]);
  });

  it('ties keep the lower index, whatever the order of equal scores', () => {
    assert.deepEqual([...selectKeep([1, 2, 2, 2, 1], { count: 2 })], [1, 2]);
    assert.deepEqual([...selectKeep([3, 3, 3, 3], { ratio: 0.5 })], [0, 1]);
  });

  it('a ratio rounds to the nearest count and keeps at least one', () => {
    assert.equal(selectKeep(new Float32Array(20), { ratio: 0.33 }).length, 7);
    assert.equal(selectKeep(new Float32Array(20), { ratio: 0.01 }).length, 1);
    assert.equal(selectKeep(new Float32Array(20), { ratio: 1 }).length, 20);
  });

  it('agrees with a sort-based reference on random scores', () => {
    const rng = new Rng(5);
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + rng.int(60);
      const scores = Array.from({ length: n }, () => Math.round(rng.uniform(0, 10))); // many ties
      const count = 1 + rng.int(n);
      const want = scores.map((s, i) => [s, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, count).map((p) => p[1]).sort((a, b) => a - b);
      assert.deepEqual([...selectKeep(scores, { count })], want);
    }
  });

  it('bad input: ratio outside (0, 1], bad count, both or neither, NaN scores, no scores', () => {
    for (const ratio of [0, -1, 1.01, Number.NaN, Infinity]) bad(() => selectKeep([1, 2], { ratio }), /keep ratio .* is outside \(0, 1\]/);
    for (const count of [0, 3, 1.5]) bad(() => selectKeep([1, 2], { count }), /keep count .* must be an integer in 1\.\.2/);
    bad(() => selectKeep([1, 2], { ratio: 0.5, count: 1 } as never), /exactly one of ratio or count/);
    bad(() => selectKeep([1, 2], {} as never), /exactly one of ratio or count/);
    bad(() => selectKeep([1, Number.NaN], { count: 1 }), /score 1 is NaN/);
    bad(() => selectKeep([], { count: 1 }), /no scores/);
  });
});

describe('filterLayers', () => {
  it('LeNet-5: convs filter along axis 0, Gemm (transB=1) neurons along axis 0', () => {
    const g = fixture('lenet5_dense');
    const layers = filterLayers(g).map((l) => [l.name, l.node.op, l.filterAxis, l.channels, l.bias]);
    assert.deepEqual(layers, [
      ['conv1', 'Conv', 0, 20, 'conv1.bias'],
      ['conv2', 'Conv', 0, 50, 'conv2.bias'],
      ['fc1', 'Gemm', 0, 500, 'fc1.bias'],
      ['fc2', 'Gemm', 0, 10, 'fc2.bias'],
    ]);
  });

  it('finds a layer by friendly, weight or node name', () => {
    const g = fixture('lenet5_dense');
    for (const key of ['conv2', 'conv2.weight', 'node_conv2d_1']) assert.equal(findFilterLayer(g, key, 'test').name, 'conv2');
    bad(() => findFilterLayer(g, 'conv3', 'test'), /test: layer "conv3" does not exist; layers: conv1, conv2, fc1, fc2/);
  });
});
