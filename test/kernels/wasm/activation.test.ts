import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../../src/ir/errors.js';
import { Rng } from '../../../src/ir/random.js';
import { WasmActivation } from '../../../src/kernels/wasm/activation.js';
import { WasmArena } from '../../../src/kernels/wasm/arena.js';
import { clip } from '../../../src/kernels/ts/activation.js';
import { assertClose } from './helpers.js';
import { KernelSet } from '../../../src/runtime/kernel_set.js';

const clipped = (x: Float32Array, lo: number, hi: number): Float32Array => {
  const y = new Float32Array(x.length);
  clip(x, y, lo, hi);
  return y;
};

test('relu and clip match the reference for every tail length', () => {
  const rng = new Rng(31);
  const act = new WasmActivation(new WasmArena());
  for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 17, 1000]) {
    const x = rng.floats(n, -2, 2);
    assertClose(act.apply({ kind: 'relu' }, x), clipped(x, 0, Infinity), () => 0, `relu n=${n}`);
    assertClose(act.apply({ kind: 'clip', min: -0.5, max: 6 }, x), clipped(x, -0.5, 6), () => 0, `clip n=${n}`);
  }
});

test('add, sub, mul, div with a fused clamp match plain loops for every tail length, in place too', () => {
  const arena = new WasmArena(), rng = new Rng(32);
  const e = new KernelSet(arena).elementwise().exports;
  const ops = { add: (p: number, q: number) => p + q, sub: (p: number, q: number) => p - q, mul: (p: number, q: number) => p * q, div: (p: number, q: number) => p / q };
  for (const n of [1, 3, 4, 5, 8, 13, 1001]) {
    for (const [op, f] of Object.entries(ops) as [keyof typeof ops, (p: number, q: number) => number][]) {
      for (const [lo, hi] of [[-Infinity, Infinity], [0, Infinity], [-0.5, 0.25]]) {
        const mark = arena.used, a = arena.allocF32(n), b = arena.allocF32(n), y = arena.allocF32(n);
        const av = rng.floats(n, -2, 2), bv = rng.floats(n, 0.5, 2);
        arena.f32(a, n).set(av);
        arena.f32(b, n).set(bv);
        const want = Float32Array.from(av, (v, i) => Math.min(Math.max(Math.fround(f(v, bv[i])), lo), hi));
        e[op](a, b, y, n, lo, hi);
        assertClose(arena.f32(y, n), want, () => 0, `${op} n=${n} [${lo}, ${hi}]`);
        e[op](a, b, a, n, lo, hi); // in place: the output over an input
        assertClose(arena.f32(a, n), want, () => 0, `${op} in place n=${n}`);
        arena.reset(mark);
      }
    }
  }
});

test('in place on the arena, and out of place leaves the source', () => {
  const arena = new WasmArena();
  const act = new WasmActivation(arena);
  const src = arena.allocF32(6), dst = arena.allocF32(6);
  arena.f32(src, 6).set([-1, 2, -3, 4, -5, 6]);
  act.run({ kind: 'relu' }, src, dst, 6);
  assert.deepEqual([...arena.f32(dst, 6)], [0, 2, 0, 4, 0, 6]);
  assert.deepEqual([...arena.f32(src, 6)], [-1, 2, -3, 4, -5, 6]);
  act.run({ kind: 'clip', min: -2, max: 3 }, src, src, 6);
  assert.deepEqual([...arena.f32(src, 6)], [-1, 2, -2, 3, -2, 3]);
});

test('bad input: clip with min > max throws NnzipError', () => {
  const act = new WasmActivation(new WasmArena());
  assert.throws(() => act.apply({ kind: 'clip', min: 1, max: 0 }, new Float32Array(2)),
    (e: unknown) => e instanceof NnzipError && /min=1 is greater than max=0/.test(e.message));
});
