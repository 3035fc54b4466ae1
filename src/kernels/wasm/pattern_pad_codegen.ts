// The pattern conv's pad step: each input channel into the zero-padded planes
// of the layer's layout (row tiles: pitch PW = W + pads; plane: pitch W + 1, one
// zero column shared by neighbouring rows; stride 2: four phase planes of pitch
// OW + 1), optionally through a fused 2×2 stride-2 max pool (the pool before the
// conv is then never written out: its maxima go straight into the padded planes).
import type { FuncBuilder, Local } from './emitter.js';
import { I32, V128 } from './opcodes.js';
import { planeFloats, planePitch, planeRows } from './pattern_plane_codegen.js';
import { planePadded, type PatternModuleSpec } from './pattern_spec.js';


/** Input floats of one channel (before the fused pool, if any) and of one source row step. */
function source(s: PatternModuleSpec): { plane: number; row: number } {
  const g = s.geo, p = s.maxPool;
  return p ? { plane: p.H0 * p.W0 * 4, row: 2 * p.W0 * 4 } : { plane: g.H * g.W * 4, row: g.W * 4 };
}

/** Pushes a if (a cmp b) else b (i32.lt_s: the smaller, i32.gt_s: the larger). */
function pick(f: FuncBuilder, a: () => void, b: () => void, cmp: 'i32.lt_s' | 'i32.gt_s'): void {
  a(); b(); a(); b(); f.op(cmp).op('select');
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
  if (s.geo.S === 2) { emitPhasePad(f, s); return; }
  const g = s.geo, [x, xpad, c0, c1, y0, y1] = f.params;
  const plane = planePadded(s.variant);
  const P = plane ? planePitch(g) : g.PW, lead = plane ? 1 : g.padL, trail = plane ? 0 : g.PW - g.padL - g.W;
  const planeBytes = (plane ? planeFloats(g) : g.PH * g.PW) * 4, src0 = source(s);
  const [c, r, r1, da, db, src, dst, chan, top, bottom, p, end] = Array.from({ length: 12 }, () => f.local(I32));
  const t = [f.local(V128), f.local(V128)], zero = f.local(V128);
  const max = (a: () => void, b: () => void) => pick(f, a, b, 'i32.gt_s');
  const min = (a: () => void, b: () => void) => pick(f, a, b, 'i32.lt_s');
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

/**
 * Stride 2: (x, xpad, c0, c1, y0, y1) rows i = y0 .. min(OH + 1, y1 + 1) of each channel's four
 * phase planes, phase (py, px) row i holding the padded image's row 2i + py, columns px, px + 2, …
 * (pattern_plane_codegen.ts); at the planes' end their slack. An input row goes to the two phases
 * of its row parity as its even and odd columns (one shuffle per 8 values, whole vectors: up to 4
 * floats past a phase row are written, fixed by the next row or the slack's zeros); the phase
 * columns that fall on the pads, and rows outside the input, are zeros.
 */
function emitPhasePad(f: FuncBuilder, s: PatternModuleSpec): void {
  const g = s.geo, [x, xpad, c0, c1, y0, y1] = f.params;
  const Q = planePitch(g), R = planeRows(g), PF = planeFloats(g) * 4;
  const [c, i, r1, chan, src, row, dst] = Array.from({ length: 7 }, () => f.local(I32));
  const a = f.local(V128), b = f.local(V128), zero = f.local(V128);
  // the phase column px holds input columns 2j + px − padL: evens from j = 0 in phase padL, odds from j = padL in the other
  const streams = [{ px: g.padL, start: 0, count: Math.ceil(g.W / 2), lanes: [0, 2, 4, 6] as const },
    { px: 1 - g.padL, start: g.padL, count: Math.floor(g.W / 2), lanes: [1, 3, 5, 7] as const }];
  const vecs = Math.ceil(g.W / 8);
  pick(f, () => f.get(y1).i32(1).op('i32.add'), () => f.i32(R), 'i32.lt_s'); f.set(r1);
  f.forUp(c, c0, c1, 1, () => {
    f.get(xpad).get(c).i32(4 * PF).op('i32.mul').op('i32.add').set(chan);
    f.forUp(i, y0, r1, 1, () => {
      for (let py = 0; py < 2; py++) {
        /** dst = phase (py, px) row i. */
        const phaseRow = (px: number) => f.get(chan).get(i).i32(Q * 4).op('i32.mul').op('i32.add').i32((py * 2 + px) * PF).op('i32.add').set(dst);
        // the input row 2i + py − padT, when inside the input (unsigned: a negative row is outside too)
        f.get(i).i32(2).op('i32.mul').i32(py - g.padT).op('i32.add').tee(row).i32(g.H).op('i32.lt_u').if(() => {
          f.get(x).get(c).i32(g.H * g.W * 4).op('i32.mul').op('i32.add').get(row).i32(g.W * 4).op('i32.mul').op('i32.add').set(src);
          for (const st of streams) {
            phaseRow(st.px);
            for (let k = 0; k < vecs; k++) {
              f.get(src).mem('v128.load', 32 * k).set(a);
              if (8 * k + 4 < g.W) f.get(src).mem('v128.load', 32 * k + 16).set(b); else f.get(a).set(b);
              f.get(dst).get(a).get(b).shuffle32(st.lanes[0], st.lanes[1], st.lanes[2], st.lanes[3]).mem('v128.store', 4 * (st.start + 4 * k));
            }
            for (let j = 0; j < Q; j++) if (j < st.start || j >= st.start + st.count) f.get(dst).i32(0).mem('i32.store', 4 * j);
          }
        }, () => {
          for (let px = 0; px < 2; px++) {
            phaseRow(px);
            for (let k = 0; k < Math.ceil(Q / 4); k++) f.get(dst).get(zero).mem('v128.store', 16 * k);
          }
        });
      }
    });
    // at the planes' end, their slack (the last vectors' over-reads, and the over-writes above)
    f.get(r1).i32(R).op('i32.eq').if(() => {
      for (let ph = 0; ph < 4; ph++) {
        for (let o = R * Q; o < planeFloats(g); o += 4) f.get(chan).get(zero).mem('v128.store', ph * PF + 4 * o);
      }
    });
  });
}
