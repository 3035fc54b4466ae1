// The pattern conv's pad step: each input channel into the zero-padded planes
// of the layer's layout (row tiles: pitch PW = W + pads; plane: pitch W + 1, one
// zero column shared by neighbouring rows), optionally through a fused 2×2
// stride-2 max pool (the pool before the conv is then never written out: its
// maxima go straight into the padded planes).
import type { FuncBuilder, Local } from './emitter.js';
import { V128 } from './opcodes.js';
import { planeFloats, planePitch } from './pattern_plane_codegen.js';
import { planePadded, type PatternGeometry, type PatternModuleSpec } from './pattern_spec.js';

/** (x, xpad, c0, c1): planes c0..c1 of x into the padded planes. */
export function emitPad(f: FuncBuilder, s: PatternModuleSpec): void {
  if (planePadded(s.variant)) emitPlanePad(f, s);
  else emitRowsPad(f, s);
}

/** Input floats of one channel (before the fused pool, if any) and of one source row step. */
function source(s: PatternModuleSpec): { plane: number; row: number } {
  const g = s.geo, p = s.maxPool;
  return p ? { plane: p.H0 * p.W0 * 4, row: 2 * p.W0 * 4 } : { plane: g.H * g.W * 4, row: g.W * 4 };
}

/**
 * One row of W values from src to dst: a copy, or the 2×2 maxima of input rows src
 * and src + W0; whole vectors either way (a memory.copy per row was a call per row):
 * up to 3 floats past the row are read (arena allocations allow it) and written, and
 * fixed afterwards by the next row or the caller's zero fills.
 */
function writeRow(f: FuncBuilder, s: PatternModuleSpec, src: Local, dst: Local, t: Local[]): void {
  const g = s.geo, p = s.maxPool;
  if (!p) {
    for (let k = 0; k < Math.ceil(g.W / 4); k++) f.get(dst).get(src).mem('v128.load', 16 * k).mem('v128.store', 16 * k);
    return;
  }
  const [a, b] = t;
  for (let k = 0; k < Math.ceil(g.W / 4); k++) {
    f.get(src).mem('v128.load', 32 * k).get(src).mem('v128.load', p.W0 * 4 + 32 * k).op('f32x4.max').set(a);
    f.get(src).mem('v128.load', 32 * k + 16).get(src).mem('v128.load', p.W0 * 4 + 32 * k + 16).op('f32x4.max').set(b);
    f.get(dst);
    f.get(a).get(b).shuffle32(0, 2, 4, 6).get(a).get(b).shuffle32(1, 3, 5, 7).op('f32x4.max');
    f.mem('v128.store', 16 * k);
  }
}

/** Row tiles: each row at padL in a row of pitch PW; pads zero-filled after the rows are written. */
function emitRowsPad(f: FuncBuilder, s: PatternModuleSpec): void {
  const g = s.geo, [x, xpad, c0, c1] = f.params;
  const c = f.local(), r = f.local(), src = f.local(), dst = f.local(), t = [f.local(V128), f.local(V128)];
  const plane = g.PH * g.PW * 4, gap = (g.PW - g.W) * 4, src0 = source(s);
  f.forUp(c, c0, c1, 1, () => {
    f.get(xpad).get(c).i32(plane).op('i32.mul').op('i32.add').set(dst);
    f.get(dst).i32(0).i32((g.padT * g.PW + g.padL) * 4).memoryFill(); // top rows and the first left pad
    f.get(x).get(c).i32(src0.plane).op('i32.mul').op('i32.add').set(src);
    f.addTo(dst, (g.padT * g.PW + g.padL) * 4);
    f.forUp(r, 0, g.H, 1, () => {
      writeRow(f, s, src, dst, t);
      for (let k = 0; k < gap; k += 4) f.get(dst).i32(0).mem('i32.store', g.W * 4 + k); // right pad, next left pad
      f.addTo(src, src0.row).addTo(dst, g.PW * 4);
    });
    f.get(dst).i32(-g.padL * 4).op('i32.add').i32(0).i32(plane - (g.padT + g.H) * g.PW * 4).memoryFill(); // the bottom rows
  });
}

/** Plane: per padded row, the zero column then the row's W values; zero rows above and below. */
function emitPlanePad(f: FuncBuilder, s: PatternModuleSpec): void {
  const g = s.geo, [x, xpad, c0, c1] = f.params;
  const c = f.local(), r = f.local(), src = f.local(), dst = f.local(), t = [f.local(V128), f.local(V128)];
  const Q = planePitch(g), plane = planeFloats(g) * 4, src0 = source(s);
  f.forUp(c, c0, c1, 1, () => {
    f.get(xpad).get(c).i32(plane).op('i32.mul').op('i32.add').set(dst);
    f.get(dst).i32(0).i32((g.padT * Q + 1) * 4).memoryFill(); // top rows and the first zero column
    f.get(x).get(c).i32(src0.plane).op('i32.mul').op('i32.add').set(src);
    f.addTo(dst, (g.padT * Q + 1) * 4);
    f.forUp(r, 0, g.H, 1, () => {
      writeRow(f, s, src, dst, t);
      f.get(dst).i32(0).mem('i32.store', g.W * 4); // the zero column after the row
      f.addTo(src, src0.row).addTo(dst, Q * 4);
    });
    f.get(dst).i32(0).i32(((g.PH - g.padT - g.H) * Q + 8) * 4 - 4).memoryFill(); // bottom rows and the slack
  });
}
