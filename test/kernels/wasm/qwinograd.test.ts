// The integer Winograd conv against the direct integer conv (im2col padded with the
// zero point + the reference integer GEMM, ir/ref), bit for bit: everything is integer
// arithmetic, so the two must agree exactly. Tile edges: odd H / W, every padding, C odd,
// M not a multiple of 4, chunks of one tile row, batch 2, int8 and uint8 in and out, a
// fused ReLU, weights and inputs at their extremes (the int16 and int32 bounds), several
// images in one chunk; with a fused 2×2 max pool, against the direct conv then the reference max pool.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intRange, requantMultipliers } from '../../../src/ir/quant.js';
import { Rng } from '../../../src/ir/random.js';
import { im2col } from '../../../src/ir/ref/im2col.js';
import { maxPool2d } from '../../../src/ir/ref/pool.js';
import { qgemmRef } from '../../../src/ir/ref/qgemm_ref.js';
import { checkWindow2d, outHW } from '../../../src/ir/window.js';
import { integerWinograd, transformFiltersInt, type IntWinogradTile } from '../../../src/ir/winograd.js';
import { WasmQGemm, type QEpilogue, type QInType } from '../../../src/kernels/wasm/qgemm.js';
import { qwinogradModule } from '../../../src/kernels/wasm/qwinograd_codegen.js';
import { WasmQWinograd } from '../../../src/kernels/wasm/qwinograd.js';
import { WA } from '../../../src/kernels/wasm/wasm_api.js';

interface Case {
  m: IntWinogradTile; N: number; C: number; M: number; H: number; W: number;
  pads: [number, number, number, number];
  input?: QInType; out?: 'int8' | 'uint8'; relu?: boolean; extreme?: boolean; rowsPerChunk?: number;
  /** Weights and inputs in −1..1 / −2..2 (zero point 0), requantization scales (0.5..1.5)·scale: shifts below 32. */
  small?: { scale: number };
  /** A 2×2 stride-2 max pool fused into the output transform. */
  pool?: boolean;
}

function ints(rng: Rng, n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, () => lo + rng.int(hi - lo + 1));
}

/** Checks one case; returns its requantization shift (before the transforms' e). */
function check(q: WasmQGemm, rng: Rng, c: Case): number {
  const input = c.input ?? 'int8', out = c.out ?? 'int8', K = c.C * 9;
  const [xlo, xhi] = intRange(8, input === 'int8');
  const w = Int8Array.from(c.extreme ? ints(rng, c.M * K, 0, 1).map((b) => (b ? 127 : -128)) : c.small ? ints(rng, c.M * K, -1, 1) : ints(rng, c.M * K, -128, 127));
  const xs = c.extreme ? ints(rng, c.N * c.C * c.H * c.W, 0, 1).map((b) => (b ? xhi : xlo))
    : c.small ? ints(rng, c.N * c.C * c.H * c.W, -2, 2).map((v) => v + (input === 'uint8' ? 128 : 0)) : ints(rng, c.N * c.C * c.H * c.W, xlo, xhi);
  const x = input === 'int8' ? Int8Array.from(xs) : Uint8Array.from(xs);
  const inZero = c.small ? (input === 'uint8' ? 128 : 0) : input === 'int8' ? rng.int(41) - 20 : 100 + rng.int(50), off = input === 'uint8' ? 128 : 0;
  const bias = Int32Array.from(c.small ? ints(rng, c.M, -3, 3) : ints(rng, c.M, -50000, 50000));
  const [lo, hi] = intRange(8, out === 'int8');
  const { mult, shift } = requantMultipliers(Array.from({ length: c.M }, () => (0.5 + rng.next()) * (c.small?.scale ?? 1 / (40 * Math.sqrt(K)))));
  const zero = out === 'uint8' ? 60 + rng.int(40) : rng.int(21) - 10;
  const epilogue: QEpilogue = { mult, shift, zero, lo: c.relu ? zero : lo, hi, out };
  const win = checkWindow2d('test', { kh: 3, kw: 3, pads: c.pads });
  const [OH, OW] = outHW('test', c.H, c.W, win), P = OH * OW;
  // the direct integer conv: im2col padded with the zero point, the stored integers read as x − 128 for uint8
  const want = new Int32Array(c.N * c.M * P), cols = new Float64Array(K * P);
  for (let n = 0; n < c.N; n++) {
    im2col(Float64Array.from(x), n * c.C * c.H * c.W, { C: c.C, H: c.H, W: c.W, OH, OW, win }, cols, 0, inZero);
    qgemmRef({
      M: c.M, N: P, K, a: w, b: cols.map((v) => v - off), c: want, cOff: n * c.M * P, bias,
      biasPer: 'row', requant: { ...epilogue, per: 'row' },
    });
  }
  const conv = new WasmQWinograd(q, { C: c.C, M: c.M, kh: 3, kw: 3, pads: c.pads }, w, { m: c.m, input, inZero, bias, epilogue, rowsPerChunk: c.rowsPerChunk, pool: c.pool });
  const got = conv.conv(c.N, c.H, c.W, x);
  let expect: Int32Array = want;
  if (c.pool) {
    const POH = OH >> 1, POW = OW >> 1;
    expect = new Int32Array(c.N * c.M * POH * POW);
    maxPool2d({ planes: c.N * c.M, H: OH, W: OW, OH: POH, OW: POW, win: checkWindow2d('pool', { kh: 2, kw: 2, strides: [2, 2] }) }, want, expect);
  }
  assert.deepEqual(Array.from(got), Array.from(expect), `F(${c.m},3) ${JSON.stringify(c)}`);
  return shift;
}

test('integer Winograd transforms: Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A = 2^e·odd × the correlation, in int16 range', () => {
  const rng = new Rng(5);
  for (const m of [2, 4] as const) {
    const t = integerWinograd(m), a = t.alpha;
    assert.ok(t.inMax < 2 ** 15 && t.filterMax < 2 ** 15);
    assert.equal(Math.imul(t.odd, t.oddInv), 1);
    for (let trial = 0; trial < 20; trial++) {
      const g = Int8Array.from(ints(rng, 9, -128, 127)), d = ints(rng, a * a, -128, 127);
      const U = transformFiltersInt(g, 1, 1, m);
      const V = t.BT.map((r1) => t.BT.map((r2) => r1.reduce((s, b1, i) => s + b1 * r2.reduce((s2, b2, j) => s2 + b2 * d[i * a + j], 0), 0)));
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++) {
          let y = 0, direct = 0;
          for (let p = 0; p < a; p++) for (let r = 0; r < a; r++) y += t.AT[i][p] * U[p * a + r] * V[p][r] * t.AT[j][r];
          for (let u = 0; u < 3; u++) for (let v = 0; v < 3; v++) direct += g[u * 3 + v] * d[(i + u) * a + j + v];
          assert.equal(y, 2 ** t.shift * t.odd * direct);
        }
      }
    }
  }
});

test('integer Winograd conv equals the direct integer conv bit for bit at tile edges', () => {
  for (const m of [2, 4] as const) assert.ok(WA.validate(qwinogradModule({ m, mr: 4, nr: 8, shared: false })));
  const q = new WasmQGemm(), rng = new Rng(11);
  const cases: Case[] = [];
  for (const m of [2, 4] as const) {
    cases.push(
      { m, N: 1, C: 8, M: 8, H: 8, W: 8, pads: [1, 1, 1, 1] },
      { m, N: 2, C: 3, M: 5, H: 7, W: 9, pads: [1, 1, 1, 1], rowsPerChunk: 1 },
      { m, N: 1, C: 9, M: 7, H: 11, W: 5, pads: [0, 0, 0, 0] },
      { m, N: 1, C: 5, M: 13, H: 6, W: 13, pads: [2, 0, 1, 2], input: 'uint8', out: 'uint8', relu: true },
      { m, N: 2, C: 16, M: 12, H: 14, W: 14, pads: [1, 1, 1, 1], input: 'uint8', rowsPerChunk: 2 },
      { m, N: 1, C: 1, M: 4, H: 3, W: 3, pads: [1, 1, 1, 1] },
      { m, N: 1, C: 33, M: 9, H: 5, W: 21, pads: [1, 2, 1, 0], out: 'uint8' },
      { m, N: 1, C: 64, M: 6, H: 9, W: 9, pads: [1, 1, 1, 1], extreme: true },
      { m, N: 1, C: 7, M: 3, H: 10, W: 30, pads: [1, 1, 1, 1], input: 'uint8', extreme: true, rowsPerChunk: 3 },
      // several images per chunk: all of them (the default at this size), and 2 of 3 then 1
      { m, N: 3, C: 6, M: 5, H: 7, W: 7, pads: [1, 1, 1, 1] },
      { m, N: 3, C: 3, M: 4, H: 5, W: 9, pads: [0, 1, 2, 1], input: 'uint8', out: 'uint8', rowsPerChunk: 2 * Math.ceil(6 / m) },
      // band rows past 240 bytes; tile rows of 1–2 tiles (a group of 4 spills into the next row, or image)
      { m, N: 1, C: 3, M: 3, H: 4, W: 230, pads: [1, 1, 1, 1] },
      { m, N: 4, C: 5, M: 4, H: 3, W: 2, pads: [1, 2, 1, 1], input: 'uint8' },
    );
  }
  for (const c of cases) check(q, rng, c);
});

test('integer Winograd requantization with shift + e on both sides of 32 (the 64-bit shift and the high-word path)', () => {
  const q = new WasmQGemm(), rng = new Rng(12), totals = new Set<number>();
  for (const m of [2, 4] as const) {
    for (const scale of [40, 12, 3, 1, 0.25, 0.05]) {
      const shift = check(q, rng, { m, N: 1, C: 3, M: 6, H: 7, W: 9, pads: [1, 1, 1, 1], small: { scale } });
      check(q, rng, { m, N: 2, C: 4, M: 5, H: 6, W: 5, pads: [1, 0, 1, 0], input: 'uint8', out: 'uint8', small: { scale: scale * 1.3 } });
      totals.add(shift + integerWinograd(m).shift);
    }
  }
  const seen = [...totals].sort((a, b) => a - b);
  assert.ok(seen[0] < 32 && seen.some((s) => s >= 32 && s <= 34), `shift + e covered: ${seen.join(', ')}`);
});

test('integer Winograd conv with a fused 2×2 max pool equals the direct conv then the max pool, bit for bit', () => {
  const q = new WasmQGemm(), rng = new Rng(13);
  for (const m of [2, 4] as const) {
    for (const c of [
      { m, N: 1, C: 8, M: 8, H: 8, W: 8, pads: [1, 1, 1, 1] },
      // odd sizes (the last row / column dropped), by rows and by tiles, one tile row per chunk
      { m, N: 2, C: 3, M: 5, H: 7, W: 9, pads: [1, 1, 1, 1], rowsPerChunk: 1 },
      { m, N: 3, C: 6, M: 5, H: 7, W: 7, pads: [1, 1, 1, 1] },
      { m, N: 1, C: 9, M: 7, H: 11, W: 5, pads: [0, 0, 0, 0], input: 'uint8', out: 'uint8', relu: true },
      { m, N: 1, C: 33, M: 9, H: 5, W: 21, pads: [1, 2, 1, 0], out: 'uint8' },
      { m, N: 1, C: 16, M: 6, H: 14, W: 30, pads: [1, 1, 1, 1], extreme: true },
      { m, N: 1, C: 1, M: 4, H: 3, W: 3, pads: [1, 1, 1, 1] },
      { m, N: 4, C: 5, M: 4, H: 4, W: 3, pads: [1, 2, 1, 1], input: 'uint8' },
      { m, N: 1, C: 3, M: 6, H: 10, W: 13, pads: [1, 1, 1, 1], small: { scale: 40 } },
      { m, N: 1, C: 3, M: 6, H: 10, W: 13, pads: [1, 1, 1, 1], small: { scale: 0.05 } },
    ] as Case[]) check(q, rng, { ...c, pool: true });
  }
});

test('integer Winograd refuses a layer whose sums could pass int32 after the transforms, naming why', () => {
  const q = new WasmQGemm(), C = 256, M = 4, w = new Int8Array(M * C * 9).fill(-128);
  const epilogue: QEpilogue = { mult: new Int32Array(M).fill(1 << 20), shift: 40, zero: 0, lo: -128, hi: 127, out: 'int8' };
  const make = (m: IntWinogradTile) => new WasmQWinograd(q, { C, M, kh: 3, kw: 3 }, w, { m, input: 'int8', inZero: 0, bias: new Int32Array(M), epilogue });
  assert.throws(() => make(4), /int32 sums ≤ 2\^26\.2 leave no room for F\(4,3\)'s 2\^6/);
  make(2); // 2^26.2 · 4 < 2^31
  assert.throws(() => new WasmQWinograd(q, { C: 2, M: 1, kh: 3, kw: 3, strides: [2, 2] }, new Int8Array(18), { m: 2, input: 'int8', inZero: 0, bias: new Int32Array(1), epilogue: { ...epilogue, mult: new Int32Array(1) } }), /needs a 3×3 window, stride 1/);
});
