// Fits the pattern kernel's cost model (kernels/wasm/pattern.ts PATTERN_COST) to
// measured process CPU time (fastest of 7 samples) on synthetic layers: VGG-like
// shapes, 4 and 8 patterns, connectivity 2, 3.6 and 6. Prints the fitted
// constants per layout and the model's error on each case.
// Run: node dist/bench/pattern_calibrate.js   (best at real-time priority: chrt -f 20)
import { fileURLToPath } from 'node:url';
import { CANDIDATES, projectLayer } from '../src/compress/pattern/project.js';
import { patternCounts } from '../src/ir/pattern.js';
import { Rng } from '../src/ir/random.js';
import { WasmArena } from '../src/kernels/wasm/arena.js';
import { defaultPatternVariant, patternConvNs, patternCostTerms, patternGeometry, rowsPatternVariant, WasmPatternConv } from '../src/kernels/wasm/pattern.js';
import type { PatternVariant } from '../src/kernels/wasm/pattern_spec.js';
import { formatTable } from './table.js';

const SHAPES: [C: number, M: number, H: number][] = [
  [16, 32, 28], [32, 32, 28], [32, 64, 14], [64, 64, 14], [64, 128, 7], [128, 128, 7], [128, 256, 7], [32, 32, 14], [64, 64, 28],
];

function cpuNs(run: () => void): number {
  for (let i = 0; i < 20; i++) run();
  let best = Infinity;
  for (let s = 0; s < 7; s++) {
    const u0 = process.cpuUsage(), t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 25) { run(); n++; }
    const u = process.cpuUsage(u0);
    best = Math.min(best, ((u.user + u.system) * 1000) / n);
  }
  return best;
}

/** Non-negative least squares: fit, drop the most negative term (its constant 0), refit; all-zero columns stay 0. */
function nnls(A: number[][], b: number[]): number[] {
  const active = A[0].map((_, i) => A.some((row) => row[i] !== 0));
  for (;;) {
    const cols = active.flatMap((on, i) => (on ? [i] : []));
    const x = leastSquares(A.map((row) => cols.map((i) => row[i])), b);
    const out = A[0].map(() => 0);
    cols.forEach((i, j) => (out[i] = x[j]));
    const worst = cols.reduce((w, i) => (out[i] < 0 && (w < 0 || out[i] < out[w]) ? i : w), -1);
    if (worst < 0) return out;
    active[worst] = false;
  }
}

/** Least squares x of A·x ≈ b (normal equations, Gaussian elimination). */
function leastSquares(A: number[][], b: number[]): number[] {
  const n = A[0].length, M = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0));
  A.forEach((row, r) => row.forEach((v, i) => { for (let j = 0; j < n; j++) M[i][j] += v * row[j]; M[i][n] += v * b[r]; }));
  for (let i = 0; i < n; i++) {
    const p = M.slice(i).reduce((best, row, k) => (Math.abs(row[i]) > Math.abs(M[best][i]) ? i + k : best), i);
    [M[i], M[p]] = [M[p], M[i]];
    for (let k = 0; k < n; k++) if (k !== i) { const f = M[k][i] / M[i][i]; for (let j = i; j <= n; j++) M[k][j] -= f * M[i][j]; }
  }
  return M.map((row, i) => row[n] / row[i]);
}

function main(): void {
  const arena = new WasmArena({ maximumBytes: 1 << 30 });
  const rng = new Rng(7);
  const cases: { name: string; layout: string; terms: number[]; ns: number; model: number }[] = [];
  for (const [C, M, H] of SHAPES) {
    for (const K of [4, 8]) {
      for (const rate of [2, 3.6, 6]) {
        const w = rng.floats(M * C * 9, -1, 1);
        const p = projectLayer({ name: 'l', w, M, C }, CANDIDATES.slice(0, K), rate);
        const params = { C, M, H, W: H, pads: [1, 1, 1, 1] as const };
        const mark = arena.used;
        const x = arena.allocF32(C * H * H), y = arena.allocF32(M * H * H);
        const pairs = defaultPatternVariant(patternGeometry(params));
        const plane: PatternVariant = { ...pairs, layout: 'plane', rows: 1, unroll: 1 };
        for (const variant of [pairs, plane, rowsPatternVariant({ OH: H, OW: H })]) {
          const conv = new WasmPatternConv(arena, params, p.w, p.format, { clamp: [0, Infinity], variant });
          const scratch = arena.alloc(conv.padBytes + conv.accBytes);
          const c = patternCounts(p.format);
          const ns = cpuNs(() => conv.run(1, x, y, scratch));
          const counts = { rows: M, kernels: c.kept, weights: c.weights };
          cases.push({ name: `${C}→${M} ${H}² K${K} ×${rate}`, layout: variant.layout, terms: patternCostTerms(conv.geo, counts, variant), ns, model: patternConvNs(conv.geo, counts, variant) });
        }
        arena.reset(mark);
      }
    }
  }
  for (const layout of ['pairs', 'plane', 'rows']) {
    const mine = cases.filter((c) => c.layout === layout);
    if (mine.length === 0) continue;
    const k = nnls(mine.map((c) => c.terms), mine.map((c) => c.ns));
    console.log(`${layout}: constants [${k.map((v) => v.toPrecision(3)).join(', ')}] for the terms of patternCostTerms`);
    console.log(formatTable(['layer', 'measured µs', 'fit µs', 'error', 'built-in model µs', 'error'], mine.map((c) => {
      const est = c.terms.reduce((s, t, i) => s + t * k[i], 0);
      const err = (e: number) => `${((100 * (e - c.ns)) / c.ns).toFixed(0)}%`;
      return [c.name, (c.ns / 1000).toFixed(1), (est / 1000).toFixed(1), err(est), (c.model / 1000).toFixed(1), err(c.model)];
    })));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
