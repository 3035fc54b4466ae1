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
  const [c, r, r1, da, db, src, dst, chan] = Array.from({ length: 8 }, () => f.local(I32));
  const t = [f.local(V128), f.local(V128)];
  const min = (a: () => void, b: () => void) => { a(); b(); a(); b(); f.op('i32.lt_s').op('select'); };
  /** Zero rows [from, to) of the channel at chan, when any. */
  const zeroRows = (from: () => void, to: () => void) => {
    to(); from(); f.op('i32.gt_s').if(() => {
      f.get(chan); from(); f.i32(P * 4).op('i32.mul').op('i32.add').i32(0);
      to(); from(); f.op('i32.sub').i32(P * 4).op('i32.mul').memoryFill();
    });
  };
  min(() => f.get(y1).i32(2).op('i32.add'), () => f.i32(g.PH)); f.set(r1);
  // the input's rows: da..db (the rows of y0..r1 between padT and padT + H)
  f.get(y0).i32(g.padT).get(y0).i32(g.padT).op('i32.gt_s').op('select').set(da);
  min(() => f.get(r1), () => f.i32(g.padT + g.H)); f.set(db);
  f.forUp(c, c0, c1, 1, () => {
    f.get(xpad).get(c).i32(planeBytes).op('i32.mul').op('i32.add').set(chan);
    zeroRows(() => f.get(y0), () => { min(() => f.get(r1), () => f.i32(g.padT)); });
    f.get(x).get(c).i32(src0.plane).op('i32.mul').op('i32.add').get(da).i32(g.padT).op('i32.sub').i32(src0.row).op('i32.mul').op('i32.add').set(src);
    f.get(chan).get(da).i32(P * 4).op('i32.mul').op('i32.add').set(dst);
    f.forUp(r, da, db, 1, () => {
      for (let k = 0; k < lead; k++) f.get(dst).i32(0).mem('i32.store', 4 * k);
      f.get(dst).i32(4 * lead).op('i32.add').set(dst);
      writeRow(f, s, src, dst, t);
      for (let k = 0; k < trail; k++) f.get(dst).i32(0).mem('i32.store', 4 * (g.W + k));
      f.addTo(src, src0.row).addTo(dst, (P - lead) * 4);
    });
    zeroRows(() => { f.get(y0).i32(g.padT + g.H).get(y0).i32(g.padT + g.H).op('i32.gt_s').op('select'); }, () => f.get(r1));
    if (plane) {
      // the last row's right pad (the next row's zero column), or at the plane's end its slack
      f.get(chan).get(r1).i32(P * 4).op('i32.mul').op('i32.add').i32(0);
      f.i32((planeFloats(g) - g.PH * P) * 4).i32(4).get(r1).i32(g.PH).op('i32.eq').op('select').memoryFill();
    }
  });
}
