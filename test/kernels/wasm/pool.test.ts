import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../../src/ir/errors.js';
import { Rng } from '../../../src/ir/random.js';
import { WasmArena } from '../../../src/kernels/wasm/arena.js';
import { WasmPool2d, type Pool2dParams } from '../../../src/kernels/wasm/pool.js';
import { assertClose, nchw, refPool } from './helpers.js';

const WINDOWS: Omit<Pool2dParams, 'kind'>[] = [
  { kh: 2, kw: 2, strides: [2, 2] },
  { kh: 3, kw: 3, strides: [2, 2], pads: [1, 1, 1, 1] },
  { kh: 3, kw: 3, strides: [2, 2], ceil: true },
  { kh: 3, kw: 2, strides: [1, 3], pads: [0, 1, 2, 1], ceil: true },
  { kh: 2, kw: 3, strides: [1, 1], dilations: [2, 2] },
  { kh: 3, kw: 3, strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: true },
  { kh: 5, kw: 5, strides: [3, 3], pads: [2, 2, 2, 2], countIncludePad: true, ceil: true },
  { kh: 1, kw: 1, strides: [1, 1] },
];

test('max and average pooling match the reference (pads, strides, dilations, ceil mode, count_include_pad)', () => {
  const rng = new Rng(21);
  const arena = new WasmArena();
  for (const kind of ['max', 'avg'] as const) {
    for (const w of WINDOWS) {
      if (kind === 'avg' && w.dilations && w.countIncludePad) continue;
      const p: Pool2dParams = { ...w, kind };
      const pool = new WasmPool2d(arena, p);
      for (const [N, C, H, W] of [[1, 1, 7, 7], [2, 3, 12, 13], [1, 2, 5, 24], [1, 1, 3, 3]]) {
        const fits = (size: number, k: number, padSum: number, d: number): boolean => size + padSum >= d * (k - 1) + 1;
        const [pt, pl, pb, pr] = w.pads ?? [0, 0, 0, 0];
        if (!fits(H, w.kh, pt + pb, w.dilations?.[0] ?? 1) || !fits(W, w.kw, pl + pr, w.dilations?.[1] ?? 1)) continue;
        const x = rng.floats(N * C * H * W);
        const got = pool.pool(N, C, H, W, x);
        const [, , OH, OW] = pool.outShape(N, C, H, W);
        assertClose(got, refPool(p, N, C, H, W, x), () => 1e-6, `${kind} pool ${JSON.stringify(w)} on [${N},${C},${H},${W}]`, nchw(C, OH, OW));
      }
    }
  }
});

test('bad input: windows, strides, and avg dilations with count_include_pad throw NnzipError', () => {
  const arena = new WasmArena();
  const isErr = (re: RegExp) => (e: unknown) => e instanceof NnzipError && re.test(e.message);
  assert.throws(() => new WasmPool2d(arena, { kind: 'max', kh: 2, kw: 0 }), isErr(/MaxPool: kernel_shape=\[2,0\]/));
  assert.throws(() => new WasmPool2d(arena, { kind: 'avg', kh: 2, kw: 2, pads: [-1, 0, 0, 0] }), isErr(/AveragePool: pads/));
  assert.throws(() => new WasmPool2d(arena, { kind: 'avg', kh: 2, kw: 2, dilations: [2, 1], countIncludePad: true }), isErr(/count_include_pad with dilations/));
  const pool = new WasmPool2d(arena, { kind: 'max', kh: 4, kw: 4 });
  assert.throws(() => pool.pool(1, 1, 3, 3, new Float32Array(9)), isErr(/does not fit the 3×3 input/));
  assert.throws(() => pool.pool(1, 2, 4, 4, new Float32Array(16)), isErr(/input has 16 values, \[1,2,4,4\] needs 32/));
});
