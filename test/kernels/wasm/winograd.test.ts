import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { NnzipError } from '../../../src/ir/errors.js';
import { Rng } from '../../../src/ir/random.js';
import { conv2d } from '../../../src/ir/ref/conv.js';
import { checkWindow2d } from '../../../src/ir/window.js';
import { WINOGRAD_TILES, winogradMatrices, type WinogradTile } from '../../../src/ir/winograd.js';
import { WasmArena } from '../../../src/kernels/wasm/arena.js';
import { WasmConv2d } from '../../../src/kernels/wasm/conv.js';
import type { Conv2dParams } from '../../../src/kernels/wasm/conv_params.js';
import { WasmGemm } from '../../../src/kernels/wasm/gemm.js';
import { NodeThreadPool } from '../../../src/kernels/wasm/thread_pool_node.js';
import { WasmWinograd } from '../../../src/kernels/wasm/winograd.js';
import { winogradModule } from '../../../src/kernels/wasm/winograd_codegen.js';
import { WA } from '../../../src/kernels/wasm/wasm_api.js';
import { assertClose, nchw, refConv } from './helpers.js';

/**
 * Max error relative to the output's scale (max |y64|) of each tile size in fp32 on a
 * ReLU-fed 64→64 layer with He-scaled weights, and the bound the tests hold them to
 * (measured: im2col 5.6e-7, F(2,3) 3.3e-7, F(4,3) 1.1e-6, F(6,3) 8.7e-6).
 */
export const ERROR_BOUND: Record<WinogradTile, number> = { 2: 2e-6, 4: 5e-6, 6: 3e-5 };

const pads = (p: number): [number, number, number, number] => [p, p, p, p];

/** Output sizes around each tile: 1, m−1, m, m+1, 2m+3 (never only multiples of the tile). */
function outputSizes(m: number): number[] {
  return [...new Set([1, m - 1, m, m + 1, 2 * m + 3])].filter((s) => s >= 1);
}

interface Case { p: Conv2dParams; N: number; H: number; W: number }

/** Edge cases for one tile: odd and tile-edge output sizes, channels 1/3/odd/64/130, padding 0, 1 and uneven. */
function cases(m: number): Case[] {
  const out: Case[] = [];
  const sizes = outputSizes(m);
  const channels: [number, number][] = [[1, 1], [3, 5], [7, 9], [64, 64], [130, 3], [3, 130]];
  channels.forEach(([C, M], i) => {
    const [oh, ow] = [sizes[i % sizes.length], sizes[(i + 2) % sizes.length]];
    for (const pad of [0, 1]) out.push({ p: { C, M, kh: 3, kw: 3, pads: pads(pad) }, N: 1 + (i % 2), H: oh + 2 - 2 * pad, W: ow + 2 - 2 * pad });
  });
  out.push({ p: { C: 5, M: 6, kh: 3, kw: 3, pads: [0, 1, 2, 0] }, N: 3, H: 2 * m + 1, W: 13 }); // uneven pads, odd sizes
  out.push({ p: { C: 2, M: 3, kh: 3, kw: 3, pads: pads(1) }, N: 2, H: 1, W: 1 }); // 1×1 input and output
  return out.filter((c) => c.H >= 1 && c.W >= 1 && c.H + (c.p.pads?.[0] ?? 0) + (c.p.pads?.[2] ?? 0) >= 3);
}

const CLAMPS: (readonly [number, number] | undefined)[] = [undefined, [0, Infinity], [-0.3, 0.2]];

function check(g: WasmGemm, rng: Rng, m: WinogradTile, c: Case, rowsPerChunk?: number): void {
  const { C, M } = c.p;
  const w = rng.floats(M * C * 9), x = rng.floats(c.N * C * c.H * c.W);
  const clamp = CLAMPS[rng.int(CLAMPS.length)], bias = rng.next() < 0.5 ? rng.floats(M) : undefined;
  const conv = new WasmWinograd(g, c.p, w, { m, bias, clamp, rowsPerChunk });
  const got = conv.conv(c.N, c.H, c.W, x);
  const want = refConv(c.p, c.N, c.H, c.W, x, w, bias, clamp);
  const s = conv.shape(c.N, c.H, c.W);
  let scale = 1;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  assertClose(got, want, () => 2 * ERROR_BOUND[m] * scale,
    `F(${m},3) ${JSON.stringify(c.p)} N=${c.N} ${c.H}×${c.W} clamp=${clamp} bias=${!!bias} rows/chunk=${rowsPerChunk}`, nchw(M, s.OH, s.OW));
}

test('every tile size matches the reference conv at the edges: sizes off the tile, 1×1, odd, channels 1/3/odd/64/130, pads 0/1', () => {
  const rng = new Rng(121);
  const g = new WasmGemm();
  for (const m of WINOGRAD_TILES) for (const c of cases(m)) check(g, rng, m, c);
});

test('chunks of one tile row, of a few, and across images give the same answer (a GEMM tile of 3×12 and one of 4×8)', () => {
  const rng = new Rng(122);
  for (const g of [new WasmGemm(), new WasmGemm({ variant: { mr: 3, nr: 12, kc: 8, mc: 6 } })]) {
    for (const m of WINOGRAD_TILES) {
      const c: Case = { p: { C: 6, M: 7, kh: 3, kw: 3, pads: pads(1) }, N: 3, H: m + 3, W: 2 * m + 1 };
      for (const rows of [1, 2, 5]) check(g, rng, m, c, rows);
    }
  }
});

test('fp32 error vs the float64 reference, per tile size, stays within its stated bound', () => {
  const rng = new Rng(123);
  const [C, M, H] = [64, 64, 14];
  const w = Float32Array.from({ length: M * C * 9 }, () => rng.normal() * Math.sqrt(2 / (9 * C)));
  const x = Float32Array.from({ length: C * H * H }, () => Math.max(0, rng.normal()));
  const p: Conv2dParams = { C, M, kh: 3, kw: 3, pads: pads(1) };
  const y64 = new Float64Array(M * H * H);
  conv2d({ N: 1, C, H, W: H, M, OH: H, OW: H, win: checkWindow2d('test', p), group: 1 }, Float64Array.from(x), Float64Array.from(w), undefined, y64);
  const scale = y64.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
  const rel = (y: Float32Array) => y.reduce((a, v, i) => Math.max(a, Math.abs(v - y64[i])), 0) / scale;
  const g = new WasmGemm();
  const direct = rel(new WasmConv2d(g, p, w).conv(1, H, H, x));
  const lines = [`max relative error vs float64 (${C}→${M}, ${H}×${H}, ReLU input): im2col ${direct.toExponential(1)}`];
  for (const m of WINOGRAD_TILES) {
    const e = rel(new WasmWinograd(g, p, w, { m }).conv(1, H, H, x));
    lines.push(`  F(${m},3) ${e.toExponential(1)} (bound ${ERROR_BOUND[m].toExponential(0)})`);
    assert.ok(e <= ERROR_BOUND[m], `F(${m},3): relative error ${e} over its bound ${ERROR_BOUND[m]}`);
    assert.ok(e > 0.1 * direct, `F(${m},3): error ${e} is implausibly small next to im2col's ${direct}`);
  }
  console.log(lines.join('\n'));
});

/** One tile of Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A in float64, counting the element-wise multiplications. */
function tile(m: WinogradTile, d: number[][], g: number[][]): { y: number[][]; products: number } {
  const { alpha, AT, G, BT } = winogradMatrices(m);
  const mul = (a: number[][], b: number[][]) => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
  const tr = (a: number[][]) => a[0].map((_, j) => a.map((r) => r[j]));
  const U = mul(mul(G, g), tr(G)), V = mul(mul(BT, d), tr(BT));
  let products = 0;
  const P = U.map((r, i) => r.map((u, j) => { products++; return u * V[i][j]; }));
  assert.equal(products, alpha * alpha);
  return { y: mul(mul(AT, P), tr(AT)), products };
}

test('multiplications per output tile and channel pair: 16 vs 36 (F(2,3)), 36 vs 144 (F(4,3)), 64 vs 324 (F(6,3))', () => {
  const rng = new Rng(124);
  const lines: string[] = [];
  for (const m of WINOGRAD_TILES) {
    const a = m + 2;
    const d = Array.from({ length: a }, () => Array.from({ length: a }, () => rng.uniform(-1, 1)));
    const g = Array.from({ length: 3 }, () => Array.from({ length: 3 }, () => rng.uniform(-1, 1)));
    const { y, products } = tile(m as WinogradTile, d, g);
    let direct = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let u = 0; u < 3; u++) for (let v = 0; v < 3; v++) { s += g[u][v] * d[i + u][j + v]; direct++; }
        assert.ok(Math.abs(s - y[i][j]) < 1e-12, `F(${m},3) tile output (${i},${j}): ${y[i][j]} vs direct ${s}`);
      }
    }
    lines.push(`F(${m},3): ${products} multiplications for ${m * m} outputs vs ${direct} direct (${(direct / products).toFixed(2)}×)`);
  }
  assert.deepEqual(lines.map((l) => l.match(/(\d+) multiplications .* vs (\d+)/)!.slice(1).map(Number)), [[16, 36], [36, 144], [64, 324]]);
  console.log(lines.join('\n'));
});

test('every tile module validates: private and shared memory, panel widths 4, 8, 12', () => {
  for (const m of WINOGRAD_TILES) {
    for (const [nr, shared] of [[4, false], [12, false], [8, true]] as const) assert.ok(WA.validate(winogradModule({ m, nr, shared })));
  }
});

const arena = new WasmArena({ shared: true, maximumBytes: 1 << 27 });
const pool = new NodeThreadPool(arena, 2);
after(() => pool.close());

test('2 threads give bit-identical results to 1, sharing chunks or each chunk\'s output channels, batch 1 and a batch', () => {
  const rng = new Rng(125);
  const two = new WasmGemm({ threads: pool }), one = new WasmGemm();
  const p: Conv2dParams = { C: 16, M: 24, kh: 3, kw: 3, pads: pads(1) };
  const w = rng.floats(16 * 24 * 9), bias = rng.floats(24);
  for (const m of WINOGRAD_TILES) {
    for (const [N, H] of [[1, 23], [5, 9]]) {
      const x = rng.floats(N * 16 * H * H);
      const b = new WasmWinograd(one, p, w, { m, bias, clamp: [0, Infinity] }).conv(N, H, H, x);
      for (const byChannels of [false, true]) {
        const a = new WasmWinograd(two, p, w, { m, bias, clamp: [0, Infinity], rowsPerChunk: 1, byChannels }).conv(N, H, H, x);
        assert.deepEqual(a, b, `F(${m},3) N=${N} ${H}×${H} byChannels=${byChannels}: 2 threads differ from 1`);
      }
    }
  }
});

test('bad input: windows Winograd cannot run, weights, bias and input sizes throw NnzipError', () => {
  const g = new WasmGemm();
  const isErr = (re: RegExp) => (e: unknown) => e instanceof NnzipError && re.test(e.message);
  const w = new Float32Array(2 * 2 * 9);
  assert.throws(() => new WasmWinograd(g, { C: 2, M: 2, kh: 3, kw: 3, strides: [2, 2] }, w, { m: 2 }), isErr(/needs a 3×3 window, stride 1/));
  assert.throws(() => new WasmWinograd(g, { C: 2, M: 2, kh: 3, kw: 3, dilations: [2, 2] }, w, { m: 4 }), isErr(/dilation 1/));
  assert.throws(() => new WasmWinograd(g, { C: 2, M: 2, kh: 3, kw: 3, group: 2 }, new Float32Array(18), { m: 4 }), isErr(/one group/));
  assert.throws(() => new WasmWinograd(g, { C: 2, M: 2, kh: 5, kw: 5 }, new Float32Array(100), { m: 2 }), isErr(/3×3 window/));
  assert.throws(() => new WasmWinograd(g, { C: 2, M: 2, kh: 3, kw: 3 }, new Float32Array(10), { m: 2 }), isErr(/weights have 10 values/));
  assert.throws(() => new WasmWinograd(g, { C: 2, M: 2, kh: 3, kw: 3 }, w, { m: 2, bias: new Float32Array(3) }), isErr(/bias has 3 values/));
  assert.throws(() => new WasmWinograd(g, { C: 2, M: 2, kh: 3, kw: 3 }, w, { m: 3 as WinogradTile }), isErr(/F\(3,3\) has no kernel/));
  const conv = new WasmWinograd(g, { C: 2, M: 2, kh: 3, kw: 3 }, w, { m: 2 });
  assert.throws(() => conv.conv(1, 2, 2, new Float32Array(8)), isErr(/does not fit the 2×2 input/));
  assert.throws(() => conv.conv(1, 4, 4, new Float32Array(31)), isErr(/input has 31 values/));
});
