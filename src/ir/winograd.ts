// Winograd minimal filtering F(m×m, 3×3) for 3×3, stride-1, undilated convolution:
// the transform matrices (Toom-Cook, built from interpolation points), the filter
// transform done once per weight, and the geometry of the tiles.
//
//   Y (m×m tile) = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,    d = the (m+2)×(m+2) input tile
//
// The element-wise products summed over input channels are α² = (m+2)² GEMMs
// (out channels × in channels times in channels × tiles): α² multiplications per
// tile and channel pair instead of 9m² (16 vs 36 for F(2,3), 36 vs 144 for F(4,3)).
// The WASM kernels (kernels/wasm/winograd*.ts) emit these matrices as constants; the
// .nnz 'winograd' encoding stores U and gets g back with recoverFilters.
import { fail } from './errors.js';

export type WinogradTile = 2 | 4 | 6;

/** The output tile sizes there are kernels for, smallest first: F(2,3), F(4,3), F(6,3). */
export const WINOGRAD_TILES: readonly WinogradTile[] = [2, 4, 6];

/** Filter taps (3×3 only). */
export const R = 3;

/**
 * Finite interpolation points per tile (∞ is the last one, implicit), in ± pairs so the
 * transforms share their even and odd halves. F(4,3) on ±1/√2, ±√2 (ncnn's choice) has
 * a quarter of the fp32 error of Lavin & Gray's ±1, ±2 (1.2e-6 vs 4.7e-6 relative on a
 * 64→64 layer); F(6,3) on ±1, ±2, ±1/2 beats the √2 set (8.7e-6 vs 1.4e-5).
 */
const POINTS: Record<WinogradTile, readonly number[]> = {
  2: [0, 1, -1],
  4: [0, Math.SQRT1_2, -Math.SQRT1_2, Math.SQRT2, -Math.SQRT2],
  6: [0, 1, -1, 2, -2, 0.5, -0.5],
};

export interface WinogradMatrices {
  m: WinogradTile;
  /** Input tile side m + 2; α² transform positions. */
  alpha: number;
  /** Output transform, m × α. */
  AT: number[][];
  /** Filter transform, α × 3. */
  G: number[][];
  /** Input transform, α × α. */
  BT: number[][];
}

export function tileName(m: WinogradTile): string {
  return `F(${m},3)`;
}

export function isWinogradTile(m: number): m is WinogradTile {
  return (WINOGRAD_TILES as readonly number[]).includes(m);
}

/**
 * Whether a conv can run on the Winograd kernels: 3×3, stride 1, dilation 1, one group (any padding).
 * `win` is a Window2d (ir/window.ts) by shape only: tensor_format.ts imports this file, and window.ts the graph.
 */
export function winogradApplies(win: { kh: number; kw: number; sh: number; sw: number; dh: number; dw: number }, group: number): boolean {
  return group === 1 && win.kh === R && win.kw === R && win.sh === 1 && win.sw === 1 && win.dh === 1 && win.dw === 1;
}

/** The inverse of a square matrix (Gauss-Jordan with partial pivoting, float64). */
function inverse(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const d = m[c][c];
    for (let j = 0; j < 2 * n; j++) m[c][j] /= d;
    for (let r = 0; r < n; r++) {
      if (r === c || m[r][c] === 0) continue;
      const f = m[r][c];
      for (let j = 0; j < 2 * n; j++) m[r][j] -= f * m[c][j];
    }
  }
  return m.map((row) => row.slice(n));
}

/** Powers p^0 .. p^(count-1) at a finite point; at ∞ only the leading coefficient counts. */
function powers(p: number | undefined, count: number): number[] {
  return Array.from({ length: count }, (_, k) => (p === undefined ? (k === count - 1 ? 1 : 0) : p ** k));
}

/** Drops the rounding noise of the inversion: the entries are short binary fractions or simple rationals. */
function clean(x: number): number {
  const r = Math.round(x * 2 ** 20) / 2 ** 20;
  return Math.abs(r - x) < 1e-12 ? r : x;
}

const cache = new Map<string, WinogradMatrices>();

/**
 * Toom-Cook: with V the α×α Vandermonde matrix of the points (∞ last),
 * Y = V_mᵀ [ (V_3 g) ⊙ (V⁻ᵀ d) ] (the transpose of polynomial multiplication).
 * Each finite point's row of V⁻ᵀ is scaled by Π(p_j − p_l) and its row of G by the
 * inverse, so Bᵀ has small entries and G carries the fractions (as in Lavin & Gray).
 */
function toomCook(m: WinogradTile, points: readonly number[]): WinogradMatrices {
  const key = `${m}:${points.join()}`, hit = cache.get(key);
  if (hit) return hit;
  const alpha = m + R - 1;
  const pts: (number | undefined)[] = [...points, undefined];
  const V = pts.map((p) => powers(p, alpha));
  const Vinv = inverse(V);
  const scale = pts.map((p, j) => (p === undefined ? 1 : pts.reduce<number>((f, q, l) => (l === j || q === undefined ? f : f * (p - q)), 1)));
  const BT = pts.map((_, j) => Vinv.map((row) => clean(row[j] * scale[j])));
  const G = pts.map((p, j) => powers(p, R).map((v) => (p === undefined ? v : v / scale[j])));
  const AT = Array.from({ length: m }, (_, i) => pts.map((p) => (p === undefined ? (i === m - 1 ? 1 : 0) : p ** i)));
  const mats = { m, alpha, AT, G, BT };
  cache.set(key, mats);
  return mats;
}

/** The float kernels' transforms of F(m,3) (POINTS). */
export function winogradMatrices(m: WinogradTile): WinogradMatrices {
  if (!isWinogradTile(m)) fail(`winograd: tile F(${m},3) has no kernel; use one of ${WINOGRAD_TILES.join(', ')}`);
  return toomCook(m, POINTS[m]);
}

/**
 * The transformed filters U = G g Gᵀ of weights [M, C, 3, 3], in float64 rounded once:
 * α² matrices [M × C], transform position p = a·α + b (a vertical, b horizontal) at p·M·C.
 */
export function transformFilters(w: Float32Array, M: number, C: number, m: WinogradTile): Float32Array {
  if (w.length !== M * C * R * R) fail(`winograd: weights have ${w.length} values, [${M},${C},3,3] needs ${M * C * R * R}`);
  const { alpha, G } = winogradMatrices(m);
  const out = new Float32Array(alpha * alpha * M * C);
  const t = new Float64Array(alpha * R); // G g: α × 3
  for (let o = 0; o < M; o++) {
    for (let c = 0; c < C; c++) {
      const g = (o * C + c) * R * R;
      for (let a = 0; a < alpha; a++) {
        for (let k = 0; k < R; k++) t[a * R + k] = G[a][0] * w[g + k] + G[a][1] * w[g + R + k] + G[a][2] * w[g + 2 * R + k];
      }
      for (let a = 0; a < alpha; a++) {
        for (let b = 0; b < alpha; b++) {
          const v = t[a * R] * G[b][0] + t[a * R + 1] * G[b][1] + t[a * R + 2] * G[b][2];
          out[((a * alpha + b) * M + o) * C + c] = v;
        }
      }
    }
  }
  return out;
}

/** G⁺ = (GᵀG)⁻¹Gᵀ (3 × α): G has full column rank, so G⁺ (G g Gᵀ) G⁺ᵀ = g. */
function pseudoInverse(G: number[][]): number[][] {
  const GtG = [0, 1, 2].map((i) => [0, 1, 2].map((j) => G.reduce((s, r) => s + r[i] * r[j], 0)));
  const inv = inverse(GtG);
  return inv.map((row) => G.map((r) => row.reduce((s, v, k) => s + v * r[k], 0)));
}

/** The filters [M, C, 3, 3] back from their transforms (transformFilters' layout), in float64 rounded once. */
export function recoverFilters(U: Float32Array, M: number, C: number, m: WinogradTile): Float32Array {
  const { alpha, G } = winogradMatrices(m), P = pseudoInverse(G), a2 = alpha * alpha;
  if (U.length !== a2 * M * C) fail(`winograd: ${U.length} transformed values, F(${m},3) of [${M},${C},3,3] needs ${a2 * M * C}`);
  const out = new Float32Array(M * C * R * R), t = new Float64Array(R * alpha);
  for (let o = 0; o < M; o++) {
    for (let c = 0; c < C; c++) {
      const at = (a: number, b: number) => U[((a * alpha + b) * M + o) * C + c];
      for (let i = 0; i < R; i++) for (let b = 0; b < alpha; b++) t[i * alpha + b] = P[i].reduce((s, v, a) => s + v * at(a, b), 0);
      for (let i = 0; i < R; i++) for (let j = 0; j < R; j++) out[(o * C + c) * R * R + i * R + j] = P[j].reduce((s, v, b) => s + v * t[i * alpha + b], 0);
    }
  }
  return out;
}

/** Tiles of m×m outputs covering an OH×OW output (the last row and column of tiles may be partial). */
export function tileGrid(OH: number, OW: number, m: WinogradTile): { tilesH: number; tilesW: number } {
  return { tilesH: Math.ceil(OH / m), tilesW: Math.ceil(OW / m) };
}

/** Integer Winograd tiles: F(2,3) on 0, ±1 and F(4,3) on 0, ±1, ±2 (points whose transforms are integers after scaling). */
export type IntWinogradTile = 2 | 4;
export const INT_WINOGRAD_TILES: readonly IntWinogradTile[] = [2, 4];
const INT_POINTS: Record<IntWinogradTile, readonly number[]> = { 2: [0, 1, -1], 4: [0, 1, -1, 2, -2] };

/**
 * The integer form of F(m,3) for int8 convolution, everything exact in integers:
 * G's row a scaled by the smallest s_a that makes it integral (U'' = G'' g G''ᵀ = s_a s_b U),
 * Aᵀ's column a by L/s_a (L = lcm s), so Aᵀ'' M'' A'' = L²·Y. With L² = 2^shift · odd,
 * multiplying by odd⁻¹ mod 2^32 leaves 2^shift·Y: every step is a ring operation mod 2^32,
 * so int32 lanes that wrap still give the exact result when |2^shift·Y| < 2^31.
 */
export interface IntWinograd {
  m: IntWinogradTile;
  alpha: number;
  /** α × α, α × 3 and m × α integer matrices. */
  BT: number[][];
  G: number[][];
  AT: number[][];
  /** L² = 2^shift · odd; oddInv = odd⁻¹ mod 2^32 as an int32. */
  shift: number;
  odd: number;
  oddInv: number;
  /** Largest |Bᵀ d B| for int8 d and |G'' g G''ᵀ| for int8 g: both must fit int16. */
  inMax: number;
  filterMax: number;
}

/** The smallest positive integer that makes every entry of `row` an integer. */
function rowScale(row: number[]): number {
  for (let s = 1; s <= 1 << 12; s++) if (row.every((v) => Math.abs(v * s - Math.round(v * s)) < 1e-9)) return s;
  throw new Error(`winograd: no integer scale for the row ${row.join(', ')}`);
}

/** Greatest common divisor of two non-negative integers. */
export const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const absRowSum = (a: number[][]): number => Math.max(...a.map((r) => r.reduce((s, v) => s + Math.abs(v), 0)));

/** Inverse of an odd number mod 2^32 (Newton: each step doubles the correct low bits). */
function oddInverse(odd: number): number {
  let x = odd;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(odd, x));
  return x;
}

const intCache = new Map<IntWinogradTile, IntWinograd>();

export function integerWinograd(m: IntWinogradTile): IntWinograd {
  const hit = intCache.get(m);
  if (hit) return hit;
  if (!INT_WINOGRAD_TILES.includes(m)) fail(`winograd: integer tile F(${m},3) has no kernel; use one of ${INT_WINOGRAD_TILES.join(', ')}`);
  const f = toomCook(m, INT_POINTS[m]);
  if (f.BT.some((r) => r.some((v) => !Number.isInteger(v)))) throw new Error(`winograd: integer F(${m},3) has a fractional Bᵀ`);
  const s = f.G.map(rowScale), L = s.reduce((a, b) => (a * b) / gcd(a, b), 1);
  const G = f.G.map((r, a) => r.map((v) => Math.round(v * s[a])));
  const AT = f.AT.map((r) => r.map((v, a) => Math.round((v * L) / s[a])));
  let shift = 0, odd = L * L;
  while (odd % 2 === 0) { odd /= 2; shift++; }
  const r: IntWinograd = {
    m, alpha: f.alpha, BT: f.BT, G, AT, shift, odd, oddInv: oddInverse(odd),
    inMax: absRowSum(f.BT) ** 2 * 128, filterMax: absRowSum(G) ** 2 * 128,
  };
  if (r.inMax >= 2 ** 15 || r.filterMax >= 2 ** 15) throw new Error(`winograd: integer F(${m},3) transforms pass int16`);
  intCache.set(m, r);
  return r;
}

/**
 * U'' = G'' g G''ᵀ of int8 weights [M, C, 3, 3], exact, as int16 in transformFilters' layout
 * (position p = a·α + b at p·M·C): |U''| ≤ filterMax < 2^15.
 */
export function transformFiltersInt(w: Int8Array, M: number, C: number, m: IntWinogradTile): Int16Array {
  if (w.length !== M * C * R * R) fail(`winograd: weights have ${w.length} values, [${M},${C},3,3] needs ${M * C * R * R}`);
  const { alpha, G } = integerWinograd(m);
  const out = new Int16Array(alpha * alpha * M * C), t = new Int32Array(alpha * R);
  for (let o = 0; o < M; o++) {
    for (let c = 0; c < C; c++) {
      const g = (o * C + c) * R * R;
      for (let a = 0; a < alpha; a++) for (let k = 0; k < R; k++) t[a * R + k] = G[a][0] * w[g + k] + G[a][1] * w[g + R + k] + G[a][2] * w[g + 2 * R + k];
      for (let a = 0; a < alpha; a++) {
        for (let b = 0; b < alpha; b++) out[((a * alpha + b) * M + o) * C + c] = t[a * R] * G[b][0] + t[a * R + 1] * G[b][1] + t[a * R + 2] * G[b][2];
      }
    }
  }
  return out;
}
