// The op every peer of bench/gemm.ts and bench/conv.ts runs: its one-node graph
// computes what its data says (onnxruntime-node against a plain loop), its output
// shape and FLOPs follow the conv geometry, and each peer's contender runs it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { opContender } from '../../bench/compare.js';
import { opData, opFlops, opGraph, opName, type OpTask } from '../../bench/op.js';
import { createOrtNodePeer } from '../../bench/peers/ort_node.js';
import { f32 } from '../../src/ir/tensor.js';

describe('bench op tasks', () => {
  it('the MatMul graph computes X·W of the task data (onnxruntime-node vs a plain loop)', async () => {
    const t: OpTask = { kind: 'matmul', M: 5, N: 7, K: 3 };
    const d = opData(t);
    const peer = await createOrtNodePeer(opGraph(t), { threads: 1 });
    try {
      const y = (await peer.run({ X: f32(d.xDims, d.x) })).Y;
      assert.deepEqual(y.shape, [5, 7]);
      for (let i = 0; i < 5; i++) {
        for (let j = 0; j < 7; j++) {
          let s = 0;
          for (let k = 0; k < 3; k++) s += d.x[i * 3 + k] * d.w[k * 7 + j];
          assert.ok(Math.abs((y.data[i * 7 + j] as number) - s) < 1e-5, `Y[${i},${j}] = ${y.data[i * 7 + j]}, want ${s}`);
        }
      }
    } finally {
      await peer.dispose();
    }
    assert.equal(opFlops(t), 2 * 5 * 7 * 3);
    assert.equal(opName(t), 'MatMul 5×3 · 3×7');
  });

  it('Conv: output shape from the pads and stride, FLOPs per output, seeded data the same every time', () => {
    const t: OpTask = { kind: 'conv', N: 2, C: 3, H: 9, W: 8, M: 4, kh: 3, kw: 3, pad: 1, stride: 2 };
    assert.deepEqual(opGraph(t).outputs[0].shape, [2, 4, 5, 4]);
    assert.equal(opFlops(t), 2 * (2 * 4 * 5 * 4) * 3 * 3 * 3);
    assert.deepEqual(opData(t).x, opData(t).x);
    assert.equal(opData(t).w.length, 4 * 3 * 3 * 3);
  });

  it('the ort-node and tfjs-wasm contenders run the op and report their threads', async () => {
    const t: OpTask = { kind: 'conv', N: 1, C: 2, H: 6, W: 6, M: 3, kh: 3, kw: 3, pad: 0, stride: 1 };
    for (const peer of ['ort-node', 'tfjs-wasm'] as const) {
      const c = await opContender(peer, t, 1);
      try {
        assert.equal(c.name, peer);
        assert.equal(c.threads, 1);
        const ms = await c.time(3);
        assert.ok(ms > 0 && Number.isFinite(ms), `${peer}: ${ms} ms per call`);
      } finally {
        await c.close?.();
      }
    }
  });
});
