import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../../src/ir/errors.js';
import type { Node } from '../../../src/ir/graph.js';
import { Tape, TapeCtx, Var } from '../../../src/train/autograd.js';
import { tsBackend } from '../../../src/train/backend_ts.js';
import { trainOp } from '../../../src/train/ops/index.js';
import { Rng } from '../../../src/ir/random.js';
import { gradCheck, node } from '../gradcheck.js';

function run(op: string, n: Node, shapes: (number[] | null)[], seed: number): { vars: (Var | undefined)[]; y: Var } {
  const rng = new Rng(seed);
  const tape = new Tape(new TapeCtx(tsBackend, rng), false);
  const vars = shapes.map((s, i) => (s ? new Var(`in${i}`, s, rng.fillUniform(new Float32Array(s.reduce((a, b) => a * b, 1)), -1, 1)) : undefined));
  const [y] = trainOp(op)!.build(n, vars, { tape, constant: () => undefined, buffer: () => new Float32Array(0) });
  tape.finalize();
  tape.forward();
  return { vars, y };
}

test('Gemm forward: α·op(A)·op(B) + β·C for every transpose and C broadcast', () => {
  const M = 3, N = 5, K = 4;
  let seed = 1;
  for (const [ta, tb] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
    for (const cShape of [[N], [1, N], [M, 1], [M, N], [1], []]) {
      const attrs = { transA: ta, transB: tb, alpha: 0.5, beta: 2 };
      const { vars, y } = run('Gemm', node('Gemm', ['a', 'b', 'c'], attrs), [ta ? [K, M] : [M, K], tb ? [N, K] : [K, N], cShape], seed++);
      const [a, b, c] = vars.map((v) => v!.data);
      const cAt = (i: number, j: number) => c[(cShape.length === 2 && cShape[0] === M ? i : 0) * (cShape[cShape.length - 1] === N ? N : 1) + (cShape[cShape.length - 1] === N ? j : 0)];
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += (ta ? a[k * M + i] : a[i * K + k]) * (tb ? b[j * K + k] : b[k * N + j]);
        const want = 0.5 * s + 2 * cAt(i, j);
        assert.ok(Math.abs(y.data[i * N + j] - want) < 1e-5, `trans ${ta}${tb} C [${cShape}]: y[${i},${j}] = ${y.data[i * N + j]}, want ${want}`);
      }
    }
  }
});

test('Gemm gradients (all transposes, alpha/beta, C broadcasts) match finite differences', () => {
  const M = 5, N = 7, K = 6;
  let seed = 1;
  for (const [ta, tb] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
    for (const cShape of [[N], [M, 1], [M, N]]) {
      const r = gradCheck({
        node: node('Gemm', ['a', 'b', 'c'], { transA: ta, transB: tb, alpha: 1.5, beta: 0.5 }),
        inputs: [{ name: 'a', shape: ta ? [K, M] : [M, K] }, { name: 'b', shape: tb ? [N, K] : [K, N] }, { name: 'c', shape: cShape }],
        seed: seed++, eps: 0.1,
      });
      assert.ok(r.worst <= 1, `transA=${ta} transB=${tb} C [${cShape}]: ${r.where}`);
    }
  }
});

test('PyTorch Linear layout (Gemm transB=1, W [out, in]) without input gradient', () => {
  const r = gradCheck({
    node: node('Gemm', ['x', 'w', 'b'], { transB: 1 }),
    inputs: [{ name: 'x', shape: [9, 13], grad: false }, { name: 'w', shape: [11, 13] }, { name: 'b', shape: [11] }],
    eps: 0.1,
  });
  assert.ok(r.worst <= 1, r.where);
});

test('MatMul with a 3-D A: forward and gradients', () => {
  const { vars, y } = run('MatMul', node('MatMul', ['a', 'b']), [[2, 3, 4], [4, 5]], 3);
  assert.deepEqual(y.shape, [2, 3, 5]);
  const [a, b] = vars.map((v) => v!.data);
  for (let r = 0; r < 6; r++) for (let j = 0; j < 5; j++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += a[r * 4 + k] * b[k * 5 + j];
    assert.ok(Math.abs(y.data[r * 5 + j] - s) < 1e-5);
  }
  const g = gradCheck({ node: node('MatMul', ['a', 'b']), inputs: [{ name: 'a', shape: [2, 3, 4] }, { name: 'b', shape: [4, 5] }], eps: 0.1 });
  assert.ok(g.worst <= 1, g.where);
});

test('Gemm and MatMul reject mismatched shapes naming the node', () => {
  assert.throws(() => run('Gemm', node('Gemm', ['a', 'b'], { transB: 1 }), [[2, 3], [4, 4]], 1), (e: Error) => e instanceof NnzipError && /gemm_test.*inner sizes differ/.test(e.message));
  assert.throws(() => run('Gemm', node('Gemm', ['a', 'b', 'c']), [[2, 3], [3, 4], [3]], 1), /does not broadcast/);
  assert.throws(() => run('Gemm', node('Gemm', ['a', 'b']), [[2, 3, 1], [3, 4]], 1), /must be 2-D/);
  assert.throws(() => run('MatMul', node('MatMul', ['a', 'b']), [[2, 3], [4, 5]], 1), /inner sizes differ/);
});
