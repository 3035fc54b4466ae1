// The pattern conv's 'plane' layout (pads of 1 left and right, stride 1): each
// input channel padded into rows of pitch Q = W + 1 whose one zero column is both
// the right pad of a row and the left pad of the next, so the whole output plane
// is one flat run of f32x4 vectors (one junk column per row) and every tap is a
// constant offset (ky·Q + kx) from the output position. Per filter: the plane's
// accumulators start at the bias in scratch memory; each kernel (or group of 2
// or 4 kernels of the same pattern) then streams over the plane, each vector taking
// the taps' products summed as a tree; a last pass clamps and stores the valid
// columns. Kernel-major order: a kernel's weights stay in registers for the whole
// plane and the accumulator's store between vectors keeps V8 from hoisting every
// load of a tile to the top (the spills that cap the 'rows' layout).
import type { FuncBuilder, Local } from './emitter.js';
import { I32, V128 } from './opcodes.js';
import type { PatternGeometry, PatternModuleSpec } from './pattern_spec.js';

/** Row pitch of the plane layout. */
export const planePitch = (g: PatternGeometry): number => g.W + 1;

/** Floats of one channel's padded plane (with slack for the last vector's over-read). */
export function planeFloats(g: PatternGeometry): number {
  return g.PH * planePitch(g) + 8;
}

/** Output vectors of a filter's plane: every position up to the last valid one. */
export function planeVectors(g: PatternGeometry): number {
  return Math.ceil(((g.OH - 1) * planePitch(g) + g.OW) / 4);
}

/** Bytes of the accumulator plane of one filter. */
export function planeAccBytes(g: PatternGeometry): number {
  return planeVectors(g) * 16 + 64;
}

/** Whether the plane layout can run the geometry: one column of padding each side (so OW = W). */
export function planeFits(g: PatternGeometry): boolean {
  return g.padL === 1 && g.PW === g.W + 2;
}

/** Locals and parameters the plane conv shares with the row setup of pattern_codegen.ts. */
export interface PlaneCtx {
  f: FuncBuilder;
  s: PatternModuleSpec;
  xpad: Local; acc: Local; clampAt: Local;
  yrow: Local; bias: Local; ip: Local; wp: Local; cp: Local; end: Local;
  lo: Local; hi: Local;
  taps: [number, number][][];
}

/** One filter's plane: bias, the pattern groups, clamp and store. */
export function emitPlaneRow(c: PlaneCtx): void {
  const { f, s } = c;
  const g = s.geo, nvec = planeVectors(g), j = f.local(I32), a = f.local(I32), U = s.variant.unroll;
  const bs = Array.from({ length: U }, () => f.local(I32));
  const t = f.local(V128), ws = Array.from({ length: U }, () => Array.from({ length: 9 }, () => f.local(V128)));
  f.forUp(j, 0, nvec * 16, 16, () => { f.get(c.acc).get(j).op('i32.add').get(c.bias).mem('v128.store'); });
  c.taps.forEach((taps, p) => {
    f.get(c.cp).mem('i32.load', 4 * p).i32(4).op('i32.mul').get(c.ip).op('i32.add').set(c.end);
    /** n kernels of pattern p in one pass over the plane: the accumulator read and written once for all of them. */
    const kernels = (n: number) => {
      for (let q = 0; q < n; q++) {
        f.get(c.xpad).get(c.ip).mem('i32.load', 4 * q).op('i32.add').set(bs[q]);
        taps.forEach((_, k) => f.get(c.wp).mem('v128.load32_splat', 4 * (q * taps.length + k)).set(ws[q][k]));
      }
      // the plane's vectors `vecs` at a time (constant offsets from the pointers), then the rest
      const V = Math.max(1, Math.min(s.variant.vecs, nvec)), whole = Math.floor(nvec / V);
      const load = (i: number, v: number) => {
        const q = Math.floor(i / taps.length), k = i % taps.length;
        const [ky, kx] = taps[k];
        f.get(bs[q]).mem('v128.load', (ky * planePitch(g) + kx + 4 * v) * 4).get(ws[q][k]);
      };
      const vector = (v: number) => {
        if (s.fma) {
          // a chain of fused multiply-adds into the accumulator (out-of-order execution overlaps the vectors)
          f.get(a).mem('v128.load', 16 * v).set(t);
          for (let i = 0; i < n * taps.length; i++) { load(i, v); f.get(t).op('f32x4.relaxed_madd').set(t); }
        } else {
          f.get(a).mem('v128.load', 16 * v);
          tree(f, 0, n * taps.length, (i) => { load(i, v); f.op('f32x4.mul'); });
          f.op('f32x4.add').set(t);
        }
        f.get(a).get(t).mem('v128.store', 16 * v);
      };
      f.get(c.acc).set(a);
      f.forUp(j, 0, whole, 1, () => {
        for (let v = 0; v < V; v++) vector(v);
        f.addTo(a, 16 * V);
        for (let q = 0; q < n; q++) f.addTo(bs[q], 16 * V);
      });
      for (let v = 0; v < nvec - whole * V; v++) vector(v);
      f.addTo(c.ip, 4 * n).addTo(c.wp, 4 * n * taps.length);
    };
    // groups of U kernels while U are left, then pairs (U = 4), then single kernels
    for (const n of [4, 2].filter((n) => n <= U)) {
      f.block((done) => f.loop((top) => {
        f.get(c.ip).i32(4 * (n - 1)).op('i32.add').get(c.end).op('i32.ge_u').brIf(done);
        kernels(n);
        f.br(top);
      }));
    }
    f.get(c.ip).get(c.end).op('i32.lt_u').if(() => f.loop((top) => {
      kernels(1);
      f.get(c.ip).get(c.end).op('i32.lt_u').brIf(top);
    }));
  });
  storePlane(c, t);
}

/** Clamp (when asked) and store each output row's OW columns from the accumulators. */
function storePlane(c: PlaneCtx, t: Local): void {
  const { f, s } = c;
  const g = s.geo, Q = planePitch(g), r = f.local(I32), src = f.local(I32), dst = f.local(I32);
  const full = Math.floor(g.OW / 4), lanes = g.OW % 4;
  f.get(c.acc).set(src).get(c.yrow).set(dst);
  f.forUp(r, 0, g.OH, 1, () => {
    for (let v = 0; v <= full; v++) {
      if (v === full && lanes === 0) break;
      f.get(src).mem('v128.load', 16 * v).set(t);
      f.get(c.clampAt).if(() => { f.get(t).get(c.lo).op('f32x4.max').get(c.hi).op('f32x4.min').set(t); });
      if (v < full) { f.get(dst).get(t).mem('v128.store', 16 * v); continue; }
      if (lanes >= 2) f.get(dst).get(t).memLane('v128.store64_lane', 16 * v, 0);
      if (lanes === 1) f.get(dst).get(t).memLane('v128.store32_lane', 16 * v, 0);
      if (lanes === 3) f.get(dst).get(t).memLane('v128.store32_lane', 16 * v + 8, 2);
    }
    f.addTo(src, Q * 4).addTo(dst, g.OW * 4);
  });
}

/** Pushes the sum of terms [a, b) as a balanced tree of f32x4.add. */
export function tree(f: FuncBuilder, a: number, b: number, term: (t: number) => void): void {
  if (b - a === 1) { term(a); return; }
  const mid = (a + b) >> 1;
  tree(f, a, mid, term);
  tree(f, mid, b, term);
  f.op('f32x4.add');
}
