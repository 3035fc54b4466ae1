// `node dist/bench/winograd.js --calibrate`: the Winograd stages timed alone (process CPU
// time, min of rounds) on a grid of layers, fitted to the cost model's terms
// (kernels/wasm/winograd.ts WINOGRAD_COST) by least squares on relative error, in the
// GEMM's units: every figure is divided by (this run's ns per multiply-add of a large
// GEMM) / GEMM_COST.mac, so a busy or faster machine gives the same constants.
// Then the model against whole calls, Winograd and the dense im2col conv alike.
import { checkWindow2d } from '../src/ir/window.js';
import { Rng } from '../src/ir/random.js';
import { WasmArena } from '../src/kernels/wasm/arena.js';
import { denseConvNs, WasmConv2d } from '../src/kernels/wasm/conv.js';
import { GEMM_COST, WasmGemm } from '../src/kernels/wasm/gemm.js';
import type { PoolCall } from '../src/kernels/wasm/thread_pool.js';
import {
  callsHere, chunkRows, packFilters, WasmWinograd, WINOGRAD_COST, winogradCalls, winogradKernel, winogradLayout, winogradNs, type WinogradShape,
} from '../src/kernels/wasm/winograd.js';
import { WINOGRAD_TILES, type WinogradTile } from '../src/ir/winograd.js';
import { formatTable } from './table.js';

/** Min over rounds of the CPU time per call (µs → ns), each round at least `ms` long. */
function cpuNs(f: () => void, rounds = 7, ms = 10): number {
  f();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    let n = 0, el = 0;
    do { f(); n++; const c = process.cpuUsage(c0); el = (c.user + c.system) / 1000; } while (el < ms);
    best = Math.min(best, el / n);
  }
  return best * 1e6;
}

/** Weighted least squares y ≈ Σ k_i x_i minimizing the relative error (Gauss-Jordan on the normal equations). */
function fit(rows: { x: number[]; y: number }[]): number[] {
  const n = rows[0].x.length, A = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0));
  for (const { x, y } of rows) {
    const w = 1 / (y * y);
    for (let i = 0; i < n; i++) { for (let j = 0; j < n; j++) A[i][j] += w * x[i] * x[j]; A[i][n] += w * x[i] * y; }
  }
  for (let c = 0; c < n; c++) {
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = A[r][c] / A[c][c];
      for (let j = c; j <= n; j++) A[r][j] -= f * A[c][j];
    }
  }
  return A.map((r, i) => r[n] / r[i]);
}

const SHAPES: [C: number, M: number, H: number, N: number][] = [
  [3, 32, 28, 1], [16, 64, 55, 1], [32, 32, 28, 1], [32, 64, 14, 4], [64, 64, 14, 1], [64, 64, 14, 8], [48, 192, 13, 1],
  [64, 128, 7, 1], [128, 128, 7, 16], [64, 256, 13, 1], [256, 64, 13, 1], [32, 32, 28, 8],
];

function shapeOf([C, M, H, N]: (typeof SHAPES)[number]): WinogradShape {
  return { N, C, H, W: H, M, OH: H, OW: H, win: checkWindow2d('calibrate', { kh: 3, kw: 3, pads: [1, 1, 1, 1] }) };
}

interface Stages { input: number; gemm: number; output: number; whole: number; s: WinogradShape; m: WinogradTile }

function timeStages(gemm: WasmGemm, s: WinogradShape, m: WinogradTile): Stages {
  const ar = gemm.arena, mark = ar.used, rng = new Rng(s.C * s.M);
  const k = winogradKernel(gemm, m);
  const filters = packFilters(gemm, rng.floats((m + 2) ** 2 * s.M * s.C), s.M, s.C, m);
  const l = winogradLayout(s, m, chunkRows(s, m), gemm.variant.nr, gemm.scratchBytes());
  const x = ar.allocF32(s.N * s.C * s.H * s.W), y = ar.allocF32(s.N * s.M * s.OH * s.OW), set = ar.alloc(l.setBytes);
  ar.f32(x, s.N * s.C * s.H * s.W).set(rng.floats(s.N * s.C * s.H * s.W));
  const calls = winogradCalls(gemm, k.key, s, l, { x, y, imageStride: s.M * s.OH * s.OW, filters, bias: 0, sets: [set] })[0];
  const lookup = (c: PoolCall) => (c.key === k.key ? k.exports[c.fn as 'input'] : gemm.exports[c.fn as 'gemmStrided']) as (...a: number[]) => void;
  const stage = (fn: string) => cpuNs(callsHere(calls.filter((c) => c.fn === fn), lookup));
  const r = { input: stage('input'), gemm: stage('gemmStrided'), output: stage('output'), whole: cpuNs(callsHere(calls, lookup)), s, m };
  ar.reset(mark);
  return r;
}

/** The model's terms of each stage, summed over the chunks (what WINOGRAD_COST multiplies). */
function terms(st: Stages): { input: number[]; gemm: number[]; output: number[]; chunks: number } {
  const { s, m } = st, l = winogradLayout(s, m, chunkRows(s, m), 8, 0);
  const t = { input: [0], gemm: [0, 0], output: [0], chunks: l.chunks };
  for (let i = 0; i < l.chunks; i++) {
    const Rt = Math.min(l.rowsPerChunk, l.rows - i * l.rowsPerChunk), count = Rt * l.tilesW, groups = Math.ceil(count / 4);
    t.input[0] += s.C * groups;
    t.gemm[0] += l.alpha ** 2; t.gemm[1] += l.alpha ** 2 * Math.ceil(s.M / 4) * 4 * s.C * Math.ceil(count / 8) * 8;
    t.output[0] += s.M * groups;
  }
  return t;
}

export function calibrate(): void {
  const gemm = new WasmGemm({ arena: new WasmArena({ maximumBytes: 2 ** 31 }) });
  const big = 512, rng = new Rng(1), A = rng.floats(big * big), B = rng.floats(big * big), Cm = new Float32Array(big * big);
  const pb = gemm.prepackB(B, big, big);
  const scale = cpuNs(() => gemm.sgemmPackedB(big, pb, A, Cm)) / big ** 3 / GEMM_COST.mac;
  console.log(`this run: a ${big}³ GEMM takes ${(scale * GEMM_COST.mac * 1000).toFixed(1)} ps per multiply-add = ${scale.toFixed(2)}× GEMM_COST.mac; all figures below are divided by that`);
  const all = SHAPES.flatMap((sh) => WINOGRAD_TILES.map((m) => timeStages(gemm, shapeOf(sh), m)));
  const k: Record<string, number[]> = {};
  for (const m of WINOGRAD_TILES) {
    const mine = all.filter((r) => r.m === m);
    k[`input${m}`] = fit(mine.map((r) => ({ x: terms(r).input, y: r.input / scale })));
    k[`output${m}`] = fit(mine.map((r) => ({ x: terms(r).output, y: r.output / scale })));
  }
  k.gemm = fit(all.map((r) => ({ x: terms(r).gemm, y: r.gemm / scale })));
  // what a whole call costs beyond its stages' fits: per chunk, least squares on the residuals
  k.chunk = fit(all.map((r) => {
    const t = terms(r), m = r.m, model = k[`input${m}`][0] * t.input[0] + k[`output${m}`][0] * t.output[0] + k.gemm[0] * t.gemm[0] + k.gemm[1] * t.gemm[1];
    return { x: [t.chunks], y: Math.max(1, r.whole / scale - model) };
  }));
  console.log('fitted (ns, reference machine units):');
  for (const m of WINOGRAD_TILES) console.log(`  F(${m},3): input ${k[`input${m}`][0].toFixed(1)}, output ${k[`output${m}`][0].toFixed(1)} per group of 4 tiles and channel`);
  console.log(`  gemm: call ${k.gemm[0].toFixed(0)}, ${(k.gemm[1] * 1000).toFixed(1)} ps per padded multiply-add (GEMM_COST.mac ${GEMM_COST.mac * 1000}); chunk ${k.chunk[0].toFixed(0)}`);
  console.log(`in use: ${JSON.stringify(WINOGRAD_COST)}`);
  const rows = SHAPES.map((sh) => {
    const s = shapeOf(sh), w = rng.floats(s.M * s.C * 9), p = { C: s.C, M: s.M, kh: 3, kw: 3, pads: [1, 1, 1, 1] as [number, number, number, number] };
    const ar = gemm.arena, mark = ar.used, x = ar.allocF32(s.N * s.C * s.H * s.W), y = ar.allocF32(s.N * s.M * s.H * s.W);
    const im = new WasmConv2d(gemm, p, w, { kernel: 'im2col' });
    const cells = [`${s.C}→${s.M} ${s.H}² ×${s.N}`];
    const dense = cpuNs(() => im.run(s.N, s.H, s.W, x, y)) / scale;
    cells.push(`${(dense / 1000).toFixed(0)} / ${(s.N * denseConvNs('im2col', s.M, 9 * s.C, s.H * s.W) / 1000).toFixed(0)}`);
    for (const m of WINOGRAD_TILES) {
      const wg = new WasmWinograd(gemm, p, w, { m });
      cells.push(`${(cpuNs(() => wg.run(s.N, s.H, s.W, x, y)) / scale / 1000).toFixed(0)} / ${(winogradNs(s, m) / 1000).toFixed(0)}`);
    }
    ar.reset(mark);
    return cells;
  });
  console.log('\nmeasured / model µs (reference units), whole calls on one thread:');
  console.log(formatTable(['layer', 'im2col', 'F(2,3)', 'F(4,3)', 'F(6,3)'], rows));
}
