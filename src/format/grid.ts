// Grids (fixed point, linear quantization): one integer per weight and a scale per
// tensor or per channel, each weight f32(q − zero) · scale (GridFormat in
// ir/tensor_format.ts). Finding the exact grid of float weights that another tool
// quantized (int8 QDQ, fixed point Qm.f), and the grid block of the .nnz encodings.
import { fail, NnzipError } from '../ir/errors.js';
import { dequantizeValue, quantAxis } from '../ir/quant.js';
import { Tensor } from '../ir/tensor.js';
import type { GridFormat } from '../ir/tensor_format.js';
import { BitReader, BitWriter } from './bits.js';

export type Grid = Pick<GridFormat, 'q' | 'scale' | 'zero' | 'axis'>;


/** Most integer levels a stored grid spans (16-bit integers). */
export const MAX_GRID_LEVELS = 65536;
/** Zero points of 8- and 16-bit integers fit. */
const MAX_ZERO_POINT = 65536;

/** Element i's scale index: floor(i / inner) mod count (ir/quant.ts's layout); throws when the scales do not fit the shape. */
export function gridLayout(f: Pick<GridFormat, 'scale' | 'zero' | 'axis'>, shape: readonly number[]): { inner: number; count: number } {
  const dims = f.scale.length === 1 ? [] : [f.scale.length];
  // the layout depends on the counts only, so a float32 copy of float64 scales will do
  const scale = f.scale instanceof Float32Array ? f.scale : Float32Array.from(f.scale);
  const q = quantAxis(shape, f.axis, new Tensor('float32', dims, scale), f.zero && new Tensor('int32', dims, f.zero));
  if (typeof q === 'string') fail(`grid format: ${q}`);
  return { inner: q.inner, count: q.count };
}

/** The float values of a grid of `shape`, exactly as DequantizeLinear computes them. */
export function decodeGrid(f: Grid, shape: readonly number[]): Float32Array {
  const { inner, count } = gridLayout(f, shape);
  const out = new Float32Array(f.q.length);
  for (let i = 0; i < out.length; i++) {
    const c = Math.floor(i / inner) % count;
    out[i] = dequantizeValue(f.q[i], f.scale[c], f.zero ? f.zero[c] : 0);
  }
  return out;
}

/** q − zero of every element. */
export function gridOffsets(g: Grid, shape: readonly number[]): Int32Array {
  const { inner, count } = gridLayout(g, shape);
  const v = new Int32Array(g.q.length);
  for (let i = 0; i < v.length; i++) v[i] = g.q[i] - (g.zero ? g.zero[Math.floor(i / inner) % count] : 0);
  return v;
}

/** The grid whose q − zero are `v` (q = v + zero). */
export function gridFromOffsets(base: Omit<Grid, 'q'>, shape: readonly number[], v: Int32Array): Grid {
  const { inner, count } = gridLayout(base, shape);
  if (!base.zero) return { ...base, q: v };
  const q = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) q[i] = v[i] + base.zero[Math.floor(i / inner) % count];
  return { ...base, q };
}

/** The range of q − zero with 0 in it: lo ≤ 0 < lo + levels. */
export function gridRange(v: Int32Array): { lo: number; levels: number } {
  let lo = 0, hi = 0;
  for (let i = 0; i < v.length; i++) {
    if (v[i] < lo) lo = v[i];
    else if (v[i] > hi) hi = v[i];
  }
  return { lo, levels: hi - lo + 1 };
}

/** Checks a grid against its tensor's shape: counts, scales, range. */
export function checkGrid(g: Grid, shape: readonly number[], where: string): void {
  if (!(g.q instanceof Int32Array) || !(g.scale instanceof Float32Array || g.scale instanceof Float64Array)) {
    throw new NnzipError(`${where}: grid q must be an Int32Array and scale a Float32Array or Float64Array`);
  }
  if (g.zero !== undefined && (!(g.zero instanceof Int32Array) || g.zero.length !== g.scale.length)) {
    throw new NnzipError(`${where}: grid has ${g.zero.length} zero points for ${g.scale.length} scales; give one per scale`);
  }
  for (const s of g.scale) if (!(s > 0 && Number.isFinite(s))) throw new NnzipError(`${where}: grid scale ${s} must be finite and > 0`);
  for (const z of g.zero ?? []) if (Math.abs(z) > MAX_ZERO_POINT) throw new NnzipError(`${where}: grid zero point ${z} is outside ±${MAX_ZERO_POINT}`);
  try {
    gridLayout(g, shape);
  } catch (e) {
    throw new NnzipError(`${where}: ${(e as Error).message}`);
  }
  if (g.q.length !== shape.reduce((p, d) => p * d, 1)) throw new NnzipError(`${where}: grid has ${g.q.length} integers for shape [${shape.join(',')}]`);
  const { levels } = gridRange(gridOffsets(g, shape));
  if (levels > MAX_GRID_LEVELS) throw new NnzipError(`${where}: grid spans ${levels} integer levels; at most ${MAX_GRID_LEVELS} (16 bits) are stored`);
}

// ---- detection ------------------------------------------------------------------

/** A channel's scale: a float32 when one reproduces every value, else a float64. */
interface ChannelScale {
  scale: number;
  f64: boolean;
}

/**
 * The exact scale of one channel's values, writing their integers to q; undefined
 * when they are not on a grid. The largest |value| is Q steps for the smallest Q
 * that puts every value within float rounding of an integer number of steps.
 */
/** Steps whose integers no scale reproduces before a channel is declared off-grid. */
const MAX_SCALE_TRIES = 64;

function channelGrid(values: Float32Array, q: Int32Array): ChannelScale | undefined {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const nz: number[] = [];
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    if (bits[i] === 0) continue;
    const x = Math.abs(values[i]);
    if (bits[i] === 0x80000000 || !Number.isFinite(x)) return undefined; // −0, NaN and ±Inf are not grid values
    nz.push(i);
    if (x > m) m = x;
  }
  q.fill(0);
  if (m === 0) return { scale: 1, f64: false };
  // q near integers at a step but no scale reproducing them is rare past the first few steps (float rounding); the bound keeps
  // a channel of such values at O(n·MAX_SCALE_TRIES) instead of O(n·65,535)
  let tries = 0;
  for (let Q = 1; Q < MAX_GRID_LEVELS && tries < MAX_SCALE_TRIES; Q++) {
    if (!nearIntegers(values, nz, m / Q, q)) continue;
    const scale = exactScale(values, q);
    if (scale !== undefined) return scale;
    tries++;
  }
  return undefined;
}

/** q = round(value / step) at the nonzero positions, when each is within float rounding of an integer. */
function nearIntegers(values: Float32Array, nz: number[], step: number, q: Int32Array): boolean {
  for (const i of nz) {
    const r = values[i] / step;
    const n = Math.round(r);
    // NaN-safe: a step that underflows (subnormal values) makes r infinite, which is no integer
    if (!(Math.abs(r - n) <= 1e-9 + Math.abs(r) * 3e-7)) return false;
    q[i] = n;
  }
  return true;
}

/** Whether f32(q·s) gives every value bit for bit (DequantizeLinear's arithmetic). */
function reproduces(values: Float32Array, q: Int32Array, s: number): boolean {
  if (!(s > 0 && Number.isFinite(s))) return false;
  for (let i = 0; i < q.length; i++) if (Math.fround(dequantizeValue(q[i], s, 0)) !== values[i]) return false;
  return true;
}

/**
 * A scale that reproduces the values from q: the float32 within 2 ulps of value/q of
 * the largest |q| (where a float32 scale that made them must be), else a float64 in
 * the intersection of every value's rounding interval divided by its q.
 */
function exactScale(values: Float32Array, q: Int32Array): ChannelScale | undefined {
  let j = 0;
  for (let i = 1; i < q.length; i++) if (Math.abs(q[i]) > Math.abs(q[j])) j = i;
  const cand = new Float32Array([values[j] / q[j]]);
  const candBits = new Uint32Array(cand.buffer);
  const guess = candBits[0];
  for (const d of [0, 1, -1, 2, -2]) {
    candBits[0] = guess + d;
    if (reproduces(values, q, cand[0])) return { scale: cand[0], f64: false };
  }
  let lo = 0, hi = Infinity;
  const v = new Float32Array(1);
  const vb = new Uint32Array(v.buffer);
  for (let i = 0; i < q.length; i++) {
    if (q[i] === 0) continue;
    v[0] = Math.abs(values[i]);
    const x = v[0];
    vb[0]++;
    const up = (x + v[0]) / 2; // half-way to the next float32
    vb[0] -= 2;
    const down = (x + v[0]) / 2;
    const n = Math.abs(q[i]);
    lo = Math.max(lo, down / n);
    hi = Math.min(hi, up / n);
  }
  for (const t of [0.5, 0.25, 0.75]) {
    const s = lo + (hi - lo) * t;
    if (lo < hi && reproduces(values, q, s)) return { scale: s, f64: true };
  }
  return undefined;
}

/** The grid along `axis` (undefined = one scale for the tensor), or undefined. */
function gridAlong(data: Float32Array, shape: readonly number[], axis: number | undefined): Grid | undefined {
  const count = axis === undefined ? 1 : shape[axis];
  const inner = axis === undefined ? data.length : shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const outer = data.length / (count * inner);
  const q = new Int32Array(data.length);
  const scales: ChannelScale[] = [];
  // a channel is contiguous when nothing comes before the axis; otherwise it is gathered
  const values = outer === 1 ? undefined : new Float32Array(outer * inner);
  const ints = outer === 1 ? undefined : new Int32Array(outer * inner);
  const at = (c: number, o: number, r: number) => (o * count + c) * inner + r;
  for (let c = 0; c < count; c++) {
    let s: ChannelScale | undefined;
    if (values && ints) {
      for (let o = 0; o < outer; o++) for (let r = 0; r < inner; r++) values[o * inner + r] = data[at(c, o, r)];
      s = channelGrid(values, ints);
      if (s) for (let o = 0; o < outer; o++) for (let r = 0; r < inner; r++) q[at(c, o, r)] = ints[o * inner + r];
    } else {
      s = channelGrid(data.subarray(c * inner, (c + 1) * inner), q.subarray(c * inner, (c + 1) * inner));
    }
    if (!s) return undefined;
    scales.push(s);
  }
  if (gridRange(q).levels > MAX_GRID_LEVELS) return undefined;
  const f64 = scales.some((s) => s.f64);
  const scale = f64 ? Float64Array.from(scales, (s) => s.scale) : Float32Array.from(scales, (s) => s.scale);
  return { q, scale, axis: axis ?? 0 };
}

/**
 * The exact grid of float32 weights: one scale for the tensor, else one per index of
 * axis 0, else of axis 1 (output channels of Conv and Gemm [out, in], or of MatMul
 * [in, out]); decoding gives every value back bit for bit. Undefined when there is
 * none within 16-bit integers (then the values are not fixed point).
 */
export function exactGrid(data: Float32Array, shape: readonly number[]): Grid | undefined {
  if (data.length === 0) return undefined;
  const axes = shape.length >= 2 ? [0, 1].filter((a) => shape[a] > 1) : [];
  for (const axis of [undefined, ...axes]) {
    const g = gridAlong(data, shape, axis);
    if (g) return g;
  }
  return undefined;
}

// ---- the grid block of the grid encodings (docs/format.md §5.4) -------------------

/** varint count of scales; varint axis (count > 1); 1 bit float64; the scales; 1 bit + zero points; zigzag lo; varint levels − 1. */
export function writeGridBlock(w: BitWriter, g: Grid, lo: number, levels: number): void {
  w.writeVarint(g.scale.length);
  if (g.scale.length > 1) w.writeVarint(g.axis);
  const f64 = g.scale instanceof Float64Array;
  w.writeBit(f64);
  const dv = new DataView(new ArrayBuffer(8));
  for (const s of g.scale) {
    // a float32's bits, or a float64's two 32-bit halves, low first
    if (!f64) dv.setFloat32(0, s, true);
    else dv.setFloat64(0, s, true);
    w.writeBits(dv.getUint32(0, true), 32);
    if (f64) w.writeBits(dv.getUint32(4, true), 32);
  }
  w.writeBit(g.zero !== undefined);
  if (g.zero) for (const z of g.zero) w.writeSignedVarint(z);
  w.writeSignedVarint(lo);
  w.writeVarint(levels - 1);
}

export interface GridBlock {
  base: Omit<Grid, 'q'>;
  lo: number;
  levels: number;
}

export function readGridBlock(r: BitReader, shape: readonly number[]): GridBlock {
  const corrupt = (what: string): never => {
    throw new NnzipError(`${r.where}: grid ${what}; the file is corrupt`);
  };
  const count = r.readVarint();
  if (count < 1 || count * 32 > r.bitsLeft) corrupt(`of ${count} scales does not fit the data left`);
  const axis = count > 1 ? r.readVarint() : 0;
  if (count > 1 && shape[axis] !== count) corrupt(`has ${count} scales along axis ${axis} of shape [${shape.join(',')}]`);
  const f64 = r.readBit();
  if (f64 && count * 64 > r.bitsLeft) corrupt(`of ${count} float64 scales does not fit the data left`);
  const scale = f64 ? new Float64Array(count) : new Float32Array(count);
  const dv = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < count; i++) {
    dv.setUint32(0, r.readBits(32), true);
    if (f64) dv.setUint32(4, r.readBits(32), true);
    scale[i] = f64 ? dv.getFloat64(0, true) : dv.getFloat32(0, true);
  }
  for (const s of scale) if (!(s > 0 && Number.isFinite(s))) corrupt(`scale ${s} is not finite and > 0`);
  let zero: Int32Array | undefined;
  if (r.readBit()) {
    zero = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const z = r.readSignedVarint();
      if (Math.abs(z) > MAX_ZERO_POINT) corrupt(`zero point ${z} is outside ±${MAX_ZERO_POINT}`);
      zero[i] = z;
    }
  }
  const lo = r.readSignedVarint();
  const levels = r.readVarint() + 1;
  if (lo > 0 || levels > MAX_GRID_LEVELS || lo + levels - 1 < 0) corrupt(`range ${lo}..${lo + levels - 1} must hold 0 and at most ${MAX_GRID_LEVELS} levels`);
  return { base: zero ? { scale, zero, axis } : { scale, axis }, lo, levels };
}

/**
 * Value symbols of sparse storage: the nonzero levels in order, then the filler
 * (level 0) last, as the sparse codebook's zero index.
 */
export function sparseGridSymbol(v: number, lo: number, levels: number): number {
  return v < 0 ? v - lo : v > 0 ? v - lo - 1 : levels - 1;
}

export function sparseGridLevel(s: number, lo: number, levels: number): number {
  return s === levels - 1 ? 0 : s < -lo ? s + lo : s + lo + 1;
}
