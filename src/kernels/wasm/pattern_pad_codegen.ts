// The pattern conv's pad step: each input channel into the zero-padded planes
// of the layer's layout (row tiles: pitch PW = W + pads; plane: pitch W + 1, one
// zero column shared by neighbouring rows), optionally through a fused 2×2
// stride-2 max pool (the pool before the conv is then never written out: its
// maxima go straight into the padded planes).
import type { FuncBuilder, Local } from './emitter.js';
import { I32, V128 } from './opcodes.js';
import { planeFloats, planePitch } from './pattern_plane_codegen.js';
import { planePadded, type PatternModuleSpec } from './pattern_spec.js';


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

/**
 * (x, xpad, c0, c1, y0, y1): the padded rows y0 .. min(PH, y1 + 2) that output rows y0..y1 read, each channel c0..c1:
 * zero rows above and below the input; each input row as its left pad (row tiles: padL zeros;
 * plane: the one zero column), its W values and its right pad (row tiles: padR zeros; plane:
 * none, the next row's zero column is it, so after the last row one more zero, and when that
 * is the plane's end its slack). A row's vector over-write is fixed by the next row.
 */
export function emitPad(f: FuncBuilder, s: PatternModuleSpec): void {
  const g = s.geo, [x, xpad, c0, c1, y0, y1] = f.params;
  const plane = planePadded(s.variant);
  const P = plane ? planePitch(g) : g.PW, lead = plane ? 1 : g.padL, trail = plane ? 0 : g.PW - g.padL - g.W;
  const planeBytes = (plane ? planeFloats(g) : g.PH * g.PW) * 4, src0 = source(s);
  const [c, r, r1, da, db, src, dst, chan, top, bottom, p, end] = Array.from({ length: 12 }, () => f.local(I32));
  const t = [f.local(V128), f.local(V128)], zero = f.local(V128);
  const max = (a: () => void, b: () => void) => { a(); b(); a(); b(); f.op('i32.gt_s').op('select'); };
  const min = (a: () => void, b: () => void) => { a(); b(); a(); b(); f.op('i32.lt_s').op('select'); };
  /** Zero rows from..to of the channel at chan: whole vectors, then floats (a memory.fill of a run-time length is a call). */
  const zeroRows = (from: Local, to: Local) => {
    f.get(chan).get(from).i32(P * 4).op('i32.mul').op('i32.add').set(p);
    f.get(chan).get(to).i32(P * 4).op('i32.mul').op('i32.add').set(end);
    f.block((done) => f.loop((next) => {
      f.get(p).i32(16).op('i32.add').get(end).op('i32.gt_u').brIf(done);
      f.get(p).get(zero).mem('v128.store').addTo(p, 16).br(next);
    }));
    f.block((done) => f.loop((next) => {
      f.get(p).get(end).op('i32.ge_u').brIf(done);
      f.get(p).i32(0).mem('i32.store').addTo(p, 4).br(next);
    }));
  };
  min(() => f.get(y1).i32(2).op('i32.add'), () => f.i32(g.PH)); f.set(r1);
  // zero rows y0..top above the input, its rows da..db, zero rows bottom..r1 below it
  min(() => f.get(r1), () => f.i32(g.padT)); f.set(top);
  max(() => f.get(y0), () => f.i32(g.padT)); f.set(da);
  min(() => f.get(r1), () => f.i32(g.padT + g.H)); f.set(db);
  max(() => f.get(y0), () => f.i32(g.padT + g.H)); f.set(bottom);
  f.forUp(c, c0, c1, 1, () => {
    f.get(xpad).get(c).i32(planeBytes).op('i32.mul').op('i32.add').set(chan);
    zeroRows(y0, top);
    f.get(x).get(c).i32(src0.plane).op('i32.mul').op('i32.add').get(da).i32(g.padT).op('i32.sub').i32(src0.row).op('i32.mul').op('i32.add').set(src);
    f.get(chan).get(da).i32(P * 4).op('i32.mul').op('i32.add').set(dst);
    f.forUp(r, da, db, 1, () => {
      for (let k = 0; k < lead; k++) f.get(dst).i32(0).mem('i32.store', 4 * k);
      f.get(dst).i32(4 * lead).op('i32.add').set(dst);
      writeRow(f, s, src, dst, t);
      for (let k = 0; k < trail; k++) f.get(dst).i32(0).mem('i32.store', 4 * (g.W + k));
      f.addTo(src, src0.row).addTo(dst, (P - lead) * 4);
    });
    zeroRows(bottom, r1);
    if (plane) {
      // the last row's right pad (the next row's zero column), or at the plane's end its slack
      f.get(chan).get(r1).i32(P * 4).op('i32.mul').op('i32.add').set(p);
      f.get(r1).i32(g.PH).op('i32.eq').if(() => { for (let o = 0; o < planeFloats(g) - g.PH * P; o++) f.get(p).i32(0).mem('i32.store', 4 * o); },
        () => { f.get(p).i32(0).mem('i32.store'); });
    }
  });
}
