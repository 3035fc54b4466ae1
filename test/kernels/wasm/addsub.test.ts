// The add/subtract kernels (binary / ternary weights on float inputs) against their
// plain-TS oracle (ir/ref/signed_sum.ts, the same summation order): bit for bit at the
// edges (K not a multiple of 4, 8 or 32, odd sizes, pixels and rows not whole tiles,
// stride 2, dilation, asymmetric padding, binary / ternary / TTQ levels, clamps); the
// oracle itself against the float conv and GEMM on the same weights (a tight tolerance:
// only the summation order differs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signRows, type SignRows } from '../../../src/ir/binary.js';
import { Rng } from '../../../src/ir/random.js';
import { conv2d } from '../../../src/ir/ref/conv.js';
import { signedSumConvRef, signedSumFcRef, signedSumRef } from '../../../src/ir/ref/signed_sum.js';
import { checkWindow2d, outHW } from '../../../src/ir/window.js';
import { WasmAddSub } from '../../../src/kernels/wasm/addsub.js';
import { addsubModule } from '../../../src/kernels/wasm/addsub_codegen.js';

const WA = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;

type Levels = 'binary' | 'ternary' | 'ttq';

/** Rows of ±α (binary), with about a third zeros (ternary), or +α / −β (TTQ: ternary, asymmetric). */
function weights(rng: Rng, M: number, K: number, levels: Levels): Float32Array {
  const w = new Float32Array(M * K);
  for (let m = 0; m < M; m++) {
    const a = Math.fround(rng.uniform(0.05, 1)), b = levels === 'ttq' ? Math.fround(rng.uniform(0.05, 1)) : a;
    for (let k = 0; k < K; k++) { const r = rng.next(); w[m * K + k] = levels !== 'binary' && r < 0.3 ? 0 : r < 0.65 ? a : -b; }
  }
  return w;
}

function rowsOf(w: Float32Array, M: number, K: number): SignRows {
  const r = signRows(w, M, K);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

function assertSame(got: Float32Array, want: Float32Array, label: string): void {
  assert.equal(got.length, want.length, label);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) assert.fail(`${label}: element ${i} is ${got[i]}, the oracle ${want[i]}`);
}

const CLAMPS: (readonly [number, number] | undefined)[] = [undefined, [0, Infinity], [-1.5, 2.5], [-Infinity, 1]];

test('add/subtract conv matches its oracle bit for bit at the edges', () => {
  const k = new WasmAddSub(), rng = new Rng(21);
  // [C, M, H, W, kh, kw, stride, dilation, pads]
  const cases: [number, number, number, number, number, number, number, number, [number, number, number, number]][] = [
    [1, 1, 5, 5, 3, 3, 1, 1, [1, 1, 1, 1]], [3, 5, 7, 9, 3, 3, 1, 1, [1, 1, 1, 1]], [20, 50, 12, 12, 5, 5, 1, 1, [0, 0, 0, 0]],
    [33, 7, 6, 5, 3, 3, 2, 1, [1, 1, 1, 1]], [63, 9, 5, 7, 3, 3, 1, 2, [2, 0, 1, 2]], [64, 64, 6, 6, 3, 3, 1, 1, [1, 1, 1, 1]],
    [65, 6, 4, 3, 1, 1, 1, 1, [0, 0, 0, 0]], [2, 3, 9, 8, 2, 3, 2, 1, [0, 1, 1, 0]], [7, 13, 11, 11, 5, 5, 2, 1, [2, 2, 2, 2]],
  ];
  let i = 0;
  for (const [C, M, H, W, kh, kw, s, d, pads] of cases) {
    for (const levels of ['binary', 'ternary', 'ttq'] as Levels[]) {
      const K = C * kh * kw, rows = rowsOf(weights(rng, M, K, levels), M, K);
      const params = { C, M, kh, kw, pads, strides: [s, s] as const, dilations: [d, d] as const };
      const e = { bias: Float32Array.from({ length: M }, () => rng.uniform(-1, 1)), clamp: CLAMPS[i++ % CLAMPS.length] };
      const l = k.prepare(rows, M, K, e, params);
      const N = 1 + (i % 3), x = Float32Array.from({ length: N * C * H * W }, () => rng.uniform(-2, 2));
      const win = checkWindow2d('test', params), [OH, OW] = outHW('test', H, W, win);
      assertSame(k.conv(l, N, H, W, x), signedSumConvRef(x, N, C, H, W, M, win, OH, OW, rows, e), `C${C} M${M} ${H}×${W} ${kh}×${kw} s${s} d${d} ${levels}`);
    }
  }
});

test('add/subtract fc matches its oracle bit for bit (batch 1 to 17, K 1 to 801)', () => {
  const k = new WasmAddSub(), rng = new Rng(22);
  let i = 0;
  for (const [B, K, M] of [[1, 1, 1], [1, 800, 500], [3, 33, 7], [5, 100, 10], [17, 65, 6], [4, 801, 3]]) {
    for (const levels of ['binary', 'ternary', 'ttq'] as Levels[]) {
      const rows = rowsOf(weights(rng, M, K, levels), M, K);
      const e = { bias: Float32Array.from({ length: M }, () => rng.uniform(-1, 1)), clamp: CLAMPS[i++ % CLAMPS.length] };
      const x = Float32Array.from({ length: B * K }, () => rng.uniform(-2, 2));
      assertSame(k.fc(k.prepare(rows, M, K, e), B, x), signedSumFcRef(x, B, K, M, rows, e), `B${B} K${K} M${M} ${levels}`);
    }
  }
});

test('the oracle is the conv and the GEMM on the same weights, up to summation order', () => {
  const rng = new Rng(23);
  for (const levels of ['binary', 'ternary', 'ttq'] as Levels[]) {
    const [N, C, H, W, M] = [2, 9, 7, 6, 5], K = C * 9, w = weights(rng, M, K, levels), rows = rowsOf(w, M, K);
    const win = checkWindow2d('test', { kh: 3, kw: 3, pads: [1, 0, 1, 2], strides: [2, 1] }), [OH, OW] = outHW('test', H, W, win);
    const x = Float32Array.from({ length: N * C * H * W }, () => rng.uniform(-1, 1)), bias = Float32Array.from({ length: M }, () => rng.uniform(-1, 1));
    const want = new Float32Array(N * M * OH * OW);
    conv2d({ N, C, H, W, M, OH, OW, win, group: 1 }, x, w, bias, want);
    const got = signedSumConvRef(x, N, C, H, W, M, win, OH, OW, rows, { bias });
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `${levels} conv ${i}: ${got[i]} vs ${want[i]}`);
    const xs = Float32Array.from({ length: 3 * K }, () => rng.uniform(-1, 1)), fc = signedSumFcRef(xs, 3, K, M, rows, { bias });
    for (let n = 0; n < 3; n++) for (let m = 0; m < M; m++) {
      let s = bias[m];
      for (let j = 0; j < K; j++) s += w[m * K + j] * xs[n * K + j];
      assert.ok(Math.abs(fc[n * M + m] - s) <= 1e-5 * (1 + Math.abs(s)), `${levels} fc ${n},${m}: ${fc[n * M + m]} vs ${s}`);
    }
  }
  // no multiplication by a weight: an input that only a zero weight reads never reaches the output
  const rows = rowsOf(Float32Array.of(1, 0, -1, 1), 1, 4);
  assert.deepEqual([...signedSumRef(Float32Array.of(1, NaN, 2, 3), 4, 1, 1, rows)], [2]);
});

test('every add/subtract module variant validates; bad input is one line', () => {
  for (const ternary of [false, true]) for (const contiguous of [false, true]) for (const shared of [false, true]) {
    assert.ok(WA.validate(addsubModule({ ternary, px: 4, contiguous, shared })), `${ternary} ${contiguous} ${shared}`);
  }
  assert.ok(WA.validate(addsubModule({ ternary: false, px: 8, contiguous: true, shared: false })));
  const k = new WasmAddSub(), rows = rowsOf(Float32Array.of(1, -1, 1, -2, 2, -2), 2, 3);
  assert.throws(() => k.prepare(rows, 3, 3), /add\/subtract fc: 6 weights, the layer needs 3·3/);
  assert.throws(() => k.prepare(rows, 3, 2), /add\/subtract fc: levels for 2 rows, the layer has 3/);
  assert.throws(() => k.prepare(rows, 2, 3, { bias: new Float32Array(5) }), /bias has 5 values, needs 2/);
  assert.throws(() => k.prepare(rows, 2, 3, {}, { C: 3, M: 2, kh: 1, kw: 1, group: 3 }), /group=3; only ungrouped convs/);
  assert.throws(() => k.fc(k.prepare(rows, 2, 3), 2, new Float32Array(5)), /x has 5 values, \[2,3\] needs 6/);
});
