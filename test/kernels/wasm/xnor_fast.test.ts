// The binary conv's whole-image fast path (xnor_fast_codegen.ts): the packer's zero flag
// that selects it, and the path bit for bit against the oracle over the call lists' parts
// (rows split between parts, a part with fewer than 4 outputs falling back), odd pixel
// counts, channels off the tile, stride and dilation, images with and without a zero.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/ir/random.js';
import { signRows, type SignRows } from '../../../src/ir/binary.js';
import { binaryConvRef } from '../../../src/ir/ref/binary_layer.js';
import { convSizes, type Conv2dParams } from '../../../src/kernels/wasm/conv_params.js';
import { WasmXnor, type XnorExports } from '../../../src/kernels/wasm/xnor.js';

const xnor = new WasmXnor();

function binaryRows(rng: Rng, M: number, K: number): SignRows {
  const w = new Float32Array(M * K);
  for (let m = 0; m < M; m++) { const a = Math.fround(rng.uniform(0.1, 2)); for (let k = 0; k < K; k++) w[m * K + k] = rng.next() < 0.5 ? a : -a; }
  const r = signRows(w, M, K);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

/** Inputs without a zero (the fast path's case). */
const nonzero = (rng: Rng, n: number): Float32Array => Float32Array.from({ length: n }, () => rng.uniform(-1, 1) || 0.5);

test('packPlanes flags an image with a zero or NaN input (after the affine), and only then', () => {
  const rng = new Rng(21);
  for (const [C, H, W] of [[1, 3, 5], [33, 2, 8], [64, 3, 7], [65, 2, 5], [130, 1, 6]]) {
    const layer = xnor.prepareConv(binaryRows(rng, 4, C * 9), { C, M: 4, kh: 3, kw: 3, pads: [1, 1, 1, 1] });
    const { Wp, bytes } = xnor.grid(layer, H, W), e = xnor.kernelFor(layer, Wp).exports as XnorExports, ar = xnor.arena;
    // the input is followed by zeros: the packer reads 4 pixels a step, past the end of the last row
    const n = C * H * W, x = ar.allocF32(n + 8), grid = ar.alloc(bytes), flag = ar.alloc(16), sc = ar.allocF32(C), sh = ar.allocF32(C);
    const flagOf = (v: Float32Array, affine = false) => {
      ar.f32(x, n + 8).fill(0).set(v);
      const f = new Int32Array(ar.memory.buffer, flag, 1);
      f[0] = 7;
      e.clear(grid, bytes);
      e.packPlanes(x, C, H, W, Wp, 1, 1, grid, layer.Cw, affine ? sc : 0, affine ? sh : 0, flag);
      return new Int32Array(ar.memory.buffer, flag, 1)[0];
    };
    const v = nonzero(rng, n);
    assert.equal(flagOf(v), 0, `C=${C} ${H}×${W}: no zero`);
    for (const at of [0, n - 1, rng.int(n)]) {
      for (const bad of [0, -0, NaN]) {
        const u = v.slice(); u[at] = bad;
        assert.equal(flagOf(u), 1, `C=${C} ${H}×${W}: ${bad} at ${at}`);
      }
    }
    // the affine maps channel c's values t to t·1 − v[at]: exactly zero at `at`
    const at = rng.int(n), c = Math.floor(at / (H * W));
    ar.f32(sc, C).fill(1);
    ar.f32(sh, C).fill(0)[c] = -v[at];
    assert.equal(flagOf(v, true), 1, `C=${C}: a zero made by the affine`);
    ar.f32(sh, C).fill(0);
    assert.equal(flagOf(v, true), 0, `C=${C}: the identity affine`);
  }
});

interface Case { C: number; M: number; H: number; W: number; pads: [number, number, number, number]; strides?: [number, number]; dilations?: [number, number] }

const CASES: Case[] = [
  { C: 128, M: 12, H: 7, W: 7, pads: [1, 1, 1, 1] },
  { C: 64, M: 7, H: 6, W: 9, pads: [1, 1, 1, 1] },
  { C: 65, M: 5, H: 9, W: 9, pads: [1, 0, 2, 1], strides: [2, 2] },
  { C: 3, M: 8, H: 10, W: 11, pads: [2, 2, 2, 2], dilations: [2, 2] },
  { C: 40, M: 4, H: 3, W: 3, pads: [1, 1, 1, 1] },
  { C: 200, M: 13, H: 5, W: 6, pads: [1, 1, 1, 1] }, // 36 words a window: the vector rows' byte counts widen between chunks
];

/** Runs the conv through its call lists (parts one after the other) on NaN-filled outputs. */
function runCalls(layer: ReturnType<typeof xnor.prepareConv>, cs: Case, x: Float32Array, N: number, parts: number): Float32Array {
  const s = convSizes(layer.params!, cs.H, cs.W, 'test'), ar = xnor.arena;
  const e = xnor.kernelFor(layer, xnor.grid(layer, cs.H, cs.W).Wp).exports as unknown as Record<string, (...a: number[]) => void>;
  const xo = ar.allocF32(x.length), yo = ar.allocF32(N * cs.M * s.P), sc = ar.alloc(xnor.convScratchBytes(layer, cs.H, cs.W, N, parts));
  ar.f32(xo, x.length).set(x);
  ar.f32(yo, N * cs.M * s.P).fill(NaN);
  // the parts of a round write disjoint rows with their own buffers: one after the other is the same as at once
  for (const round of xnor.convCalls(layer, N, cs.H, cs.W, xo, yo, sc, parts)) for (const calls of round) for (const c of calls) e[c.fn](...c.args);
  return ar.f32(yo, N * cs.M * s.P).slice();
}

test('the fast path is bit for bit the oracle over parts, odd pixel counts and images with and without a zero', () => {
  const rng = new Rng(22);
  for (const cs of CASES) {
    const p: Conv2dParams = { C: cs.C, M: cs.M, kh: 3, kw: 3, pads: cs.pads, strides: cs.strides, dilations: cs.dilations };
    const s = convSizes(p, cs.H, cs.W, 'test'), K = cs.C * 9, w = binaryRows(rng, cs.M, K);
    const bias = Float32Array.from({ length: cs.M }, () => rng.uniform(-3, 3));
    for (const clamp of [undefined, [0, Infinity], [-1.5, 2.5]] as ([number, number] | undefined)[]) {
      const layer = xnor.prepareConv(w, p, { bias, clamp });
      for (const [N, parts] of [[1, 1], [2, 1], [1, 2], [1, 3], [3, 2], [1, 5]]) {
        const x = nonzero(rng, N * cs.C * cs.H * cs.W);
        if (N > 1) x[rng.int(cs.C * cs.H * cs.W)] = 0; // the first image takes the general path, the others the fast one
        const got = runCalls(layer, cs, x, N, parts), want = binaryConvRef(x, N, cs.C, cs.H, cs.W, cs.M, s.win, s.OH, s.OW, w, { bias, clamp });
        for (let i = 0; i < want.length; i++) {
          if (!Object.is(got[i], want[i])) assert.fail(`C=${cs.C} M=${cs.M} ${cs.H}×${cs.W} N=${N} parts=${parts} clamp ${clamp}: index ${i}: got ${got[i]}, want ${want[i]}`);
        }
      }
    }
  }
});

test('the fast path counts windows whose every bit mismatches, past 255 a byte (36 words)', () => {
  // all weights +α and all inputs negative: each 64-bit word adds 8 to every byte of the vector rows' counts
  const cs: Case = { C: 256, M: 16, H: 4, W: 5, pads: [1, 1, 1, 1] }, K = cs.C * 9;
  const rows = signRows(new Float32Array(cs.M * K).fill(0.5), cs.M, K);
  if (typeof rows === 'string') throw new Error(rows);
  const p: Conv2dParams = { C: cs.C, M: cs.M, kh: 3, kw: 3, pads: cs.pads }, s = convSizes(p, cs.H, cs.W, 'test');
  const layer = xnor.prepareConv(rows, p), x = new Float32Array(cs.C * cs.H * cs.W).fill(-1);
  const got = runCalls(layer, cs, x, 1, 1), want = binaryConvRef(x, 1, cs.C, cs.H, cs.W, cs.M, s.win, s.OH, s.OW, rows, {});
  assert.equal(want[cs.W + 1], -0.5 * K, 'an inner window: every product −α');
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) assert.fail(`index ${i}: got ${got[i]}, want ${want[i]}`);
});
