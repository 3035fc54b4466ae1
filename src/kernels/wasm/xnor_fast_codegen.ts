// The binary conv's whole-image fast path (xnor_codegen.ts emitConv is the general one):
// taken when packPlanes found no input that is not ±1 after the sign (no exact zero, no
// NaN), the weights are binary with symmetric levels and the call has at least 4 outputs
// per channel. Every window then counts only mismatches, S = B − 2·popcnt(a ⊕ w) over the
// whole window, the padded taps included (their zero words mismatch every +1 weight bit):
// B = valid + 2·corrX of the pixel's border class, a table [channel][pixel] (xnor.ts
// borderTables). The call's pixels (rows oh0..oh1, contiguous in each output plane) go in
// pairs, consecutive across row ends: the two windows are gathered (sign words only), every
// tile of 8 channels walks them (emitTileLoop: 4 on the integer unit with both counts in one
// i64 per channel, as emitConv; 4 on the vector unit; a last tile of 4 if M needs it) and
// stores each channel's two counts as i32 in place of their outputs; then one pass per
// channel turns 4 pixels at a time into outputs in place: S, convert, ·a + bias, clamp, one
// v128 store. An odd count recomputes one pixel (the last pair overlaps); the last vector of a
// plane's range may overlap the one before: its counts are loaded before the pass.
import type { FuncBuilder, Local } from './emitter.js';
import { F32, I32, I64, V128, type ValType } from './opcodes.js';
import { XNOR_TILE, type XnorVariant } from './xnor_codegen.js';

/** Words of the window between widenings of the vector rows' byte counts (each word adds at most 8 to a byte). */
const VEC_WORDS = 31;

/** convFast's parameters: (inp, oh0, oh1, OW, sh, wts, M, a, bias, y, ms, offs, win, bTab, lo: f32, hi: f32), a subset of conv's. */
export const XNOR_FAST_PARAMS: ValType[] = [...Array<ValType>(14).fill(I32), F32, F32];

/** Whether a variant has the fast path (binary weights, symmetric levels). */
export const hasFastPath = (v: Pick<XnorVariant, 'ternary' | 'asym'>): boolean => !v.ternary && !v.asym;

/** The registers of emitTileLoop: window and weight cursors, the window's end, and the counts. */
export interface TileRegs {
  q: Local;
  wq: Local;
  qEnd: Local;
  /** a0 and a1 (i64), the weight word (i64), splat a0 and a1, two weight pairs (v128). */
  s: Local[];
  wv: Local;
  sv: Local[];
  wv2: Local[];
  /** Per integer row, both pixels' counts (pixel 1's in the high half); per vector k = 2p + h, byte counts (v128). */
  acc: Local[];
  vacc: Local[];
}

/**
 * The fast path's inner loop, one window word per iteration from q to qEnd (16 bytes a word: a0, a1), wq at the tile's
 * weights (block bytes a word). Rows 0..3 count on the integer unit (acc += popcnt(w ⊕ a0) + popcnt(w ⊕ a1) << 32, a count
 * < 2^31: 4 accumulators stay in registers). With eight, rows 4..7 (the next tile of the weights, words·block bytes on)
 * count on the vector unit in the same loop, the two units running side by side (~18% faster than two tiles of 4 in the
 * integer loop): vector k = 2p + h is the weight pair of rows 4 + 2h, 5 + 2h ⊕ pixel p's word splat, i8x16.popcnt, summed
 * per byte (≤ 8 a word: at most 31 words before the caller widens). Plain v128 loads and one splat at offset 0: TurboFan
 * keeps a base register per offset of a splat load.
 */
export function emitTileLoop(f: FuncBuilder, r: TileRegs, words: number, eight: boolean): void {
  const block = XNOR_TILE * 8, { q, wq, qEnd, s, wv, sv, wv2, acc, vacc } = r;
  f.loop((top) => {
    f.get(q).mem('i64.load').set(s[0]).get(q).mem('i64.load', 8).set(s[1]);
    if (eight) {
      f.get(q).mem('v128.load64_splat').set(sv[0]).get(s[1]).op('i64x2.splat').set(sv[1]);
      f.get(wq).mem('v128.load', words * block).set(wv2[0]).get(wq).mem('v128.load', words * block + 16).set(wv2[1]);
    }
    for (let j = 0; j < XNOR_TILE; j++) {
      f.get(wq).mem('i64.load', 8 * j).set(wv);
      f.get(acc[j]).get(wv).get(s[0]).op('i64.xor').op('i64.popcnt')
        .get(wv).get(s[1]).op('i64.xor').op('i64.popcnt').i64(32).op('i64.shl').op('i64.add').op('i64.add').set(acc[j]);
      if (eight) f.get(vacc[j]).get(wv2[j & 1]).get(sv[j >> 1]).op('v128.xor').op('i8x16.popcnt').op('i8x16.add').set(vacc[j]);
    }
    f.addTo(wq, block).addTo(q, 16).get(q).get(qEnd).op('i32.ne').brIf(top);
  });
}

/** Outputs (m, p) at y + 4·(m·ms + p) for the pixels p = oh·OW + ow of rows [oh0, oh1); bTab = B as i32 [M padded][ms] (ms = OH·OW). */
export function emitConvFast(f: FuncBuilder, v: XnorVariant): void {
  const [inp, oh0, oh1, OW, sh, wts, M, a, bias, y, ms, offs, win, bTab, lo, hi] = f.params;
  const pix = 16 * v.Cw, words = v.kh * v.kw * v.Cw, block = XNOR_TILE * 8, swPix = v.sw * pix;
  const p0 = f.local(), p1 = f.local(), px = f.local(), at = [f.local(), f.local()], q = f.local(), op = f.local(), wq = f.local(), wp = f.local();
  const mt = f.local(), m = f.local(), yq = f.local(), ms4 = f.local(), yr = f.local(), br = f.local(), j = f.local(), jEnd = f.local(), winEnd = f.local(), t = f.local();
  const acc = Array.from({ length: XNOR_TILE }, () => f.local(I64)), s = [f.local(I64), f.local(I64)], wv = f.local(I64);
  const ones16 = f.local(V128), m8 = f.local(), qEnd = f.local(), sv = [f.local(V128), f.local(V128)], wv2 = [f.local(V128), f.local(V128)], vacc = acc.map(() => f.local(V128)), tot = acc.map(() => f.local(V128));
  const av = f.local(V128), bv = f.local(V128), vy = f.local(V128), lo4 = f.local(V128), hi4 = f.local(V128), tail = f.local(V128);
  f.get(win).i32(16 * words).op('i32.add').set(winEnd);
  f.get(ms).i32(4).op('i32.mul').set(ms4);
  f.i32x4(0x10001, 0x10001, 0x10001, 0x10001).set(ones16);
  f.get(M).i32(3).op('i32.add').i32(-4).op('i32.and').i32(7).op('i32.sub').set(m8); // tiles of 8 while mt + 8 ≤ M padded to 4; then one of 4 if mt < M
  f.get(oh0).get(OW).op('i32.mul').set(p0).get(oh1).get(OW).op('i32.mul').set(p1);
  f.get(lo).op('f32x4.splat').set(lo4).get(hi).op('f32x4.splat').set(hi4);

  /** at[k] ← the grid address of pixel px + k's window. */
  const base = (k: number) => {
    f.get(px).i32(k).op('i32.add').tee(t).get(OW).op('i32.div_u').tee(q).get(sh).op('i32.mul').i32(v.Wp * pix).op('i32.mul')
      .get(t).get(q).get(OW).op('i32.mul').op('i32.sub').i32(swPix).op('i32.mul').op('i32.add').get(inp).op('i32.add').set(at[k]);
  };
  /** One tile of 4 rows (mt.. mt + 3), or of 8 (eight; emitTileLoop), its counts stored as two pixels' i32 in place of their outputs. */
  const tile = (eight: boolean) => {
    for (const l of acc) f.i64(0).set(l);
    for (const l of eight && words > VEC_WORDS ? tot : []) f.i32x4(0, 0, 0, 0).set(l);
    f.get(win).set(q).get(wp).set(wq);
    for (let w0 = 0; w0 < words; w0 += VEC_WORDS) {
      for (const l of eight ? vacc : []) f.i32x4(0, 0, 0, 0).set(l);
      f.get(win).i32(16 * Math.min(words, w0 + VEC_WORDS)).op('i32.add').set(qEnd);
      emitTileLoop(f, { q, wq, qEnd, s, wv, sv, wv2, acc, vacc }, words, eight);
      // per row (64-bit half) the byte counts summed to two i32: vector k lanes [a, b, c, d], row 4 + 2h: a + b, row 5 + 2h: c + d
      // (pairs of u16 < 2^15 by i32x4.dot with ones: one pmaddwd); a window of one chunk sets tot, no add
      for (const [k, l] of (eight ? vacc : []).entries()) {
        if (words > VEC_WORDS) f.get(tot[k]);
        f.get(l).op('i16x8.extadd_pairwise_i8x16_u').get(ones16).op('i32x4.dot_i16x8_s');
        if (words > VEC_WORDS) f.op('i32x4.add');
        f.set(tot[k]);
      }
    }
    for (const t of eight ? tot : []) f.get(t).get(t).i32(32).op('i64x2.shr_u').op('i32x4.add').set(t);
    // as emitConv: the i64 is the two pixels' counts, little-endian; vector rows: pixel p's count in lane 0 or 2 of tot[2p + h]
    for (let r = 0; r < (eight ? 2 : 1) * XNOR_TILE; r++) {
      const store = r < XNOR_TILE ? () => { f.get(yq).get(acc[r]).mem('i64.store', 0, 2); }
        : () => {
          const h = (r - XNOR_TILE) >> 1, lane = 2 * (r & 1);
          f.get(yq).get(tot[h]).memLane('v128.store32_lane', 0, lane).get(yq).get(tot[2 + h]).memLane('v128.store32_lane', 4, lane);
        };
      if (r === 0 || v.wholeTiles) store();
      else f.get(mt).i32(r).op('i32.add').get(M).op('i32.lt_s').if(store);
      f.get(yq).get(ms4).op('i32.add').set(yq);
    }
    f.addTo(wp, (eight ? 2 : 1) * words * block);
  };

  /** The counts of pixels px, px + 1 for every tile, as i32 in place of their outputs: tiles of 8 rows, then one of 4 if M needs it. */
  const pair = () => {
    base(0); base(1);
    // gather: window word i of pixel 0 at win + 16i, of pixel 1 at +8
    f.get(win).set(q).get(offs).set(op);
    f.loop((top) => {
      for (const k of [0, 1]) f.get(q).get(at[k]).get(op).mem('i32.load').op('i32.add').mem('i64.load').mem('i64.store', 8 * k);
      f.addTo(q, 16).addTo(op, 4).get(q).get(winEnd).op('i32.ne').brIf(top);
    });
    f.get(wts).set(wp).get(y).get(px).i32(4).op('i32.mul').op('i32.add').set(yq);
    f.forUp(mt, 0, m8, 2 * XNOR_TILE, () => tile(true));
    f.get(mt).get(M).op('i32.lt_s').if(() => tile(false));
  };

  /** S = B − 2X (exact in i32), then as the oracle: f32(S)·a + bias, clamped (FuncBuilder.clampTo); stored at yr + j. */
  const outputs = (counts: () => void) => {
    f.get(br).get(j).op('i32.add').mem('v128.load', 0, 2); counts(); f.i32(1).op('i32x4.shl').op('i32x4.sub')
      .op('f32x4.convert_i32x4_s').get(av).op('f32x4.mul').get(bv).op('f32x4.add').set(vy);
    // unconditional: with lo = −∞ (hi = +∞) the comparison is never true, and NaN and −0 pass unchanged
    f.get(vy).clampTo(lo4, hi4).set(vy);
    f.get(yr).get(j).op('i32.add').get(vy).mem('v128.store', 0, 2);
  };

  // the pairs, the last one ending at p1
  f.get(p0).set(px);
  f.block((done) => f.loop((top) => {
    f.get(px).get(p1).i32(2).op('i32.sub').op('i32.gt_s').if(() => { f.get(p1).i32(2).op('i32.sub').set(px); });
    pair();
    f.get(px).get(p1).i32(2).op('i32.sub').op('i32.eq').brIf(done);
    f.addTo(px, 2).br(top);
  }));
  // per channel, 4 pixels a vector; jEnd = the byte offset of the last vector (p1 − 4 − p0 pixels)
  f.get(p1).get(p0).op('i32.sub').i32(4).op('i32.sub').i32(4).op('i32.mul').set(jEnd);
  f.forUp(m, 0, M, 1, () => {
    f.get(a).get(m).i32(4).op('i32.mul').op('i32.add').mem('v128.load32_splat').set(av);
    f.get(bias).get(m).i32(4).op('i32.mul').op('i32.add').mem('v128.load32_splat').set(bv);
    f.get(y).get(m).get(ms).op('i32.mul').get(p0).op('i32.add').i32(4).op('i32.mul').op('i32.add').set(yr);
    f.get(bTab).get(yr).op('i32.add').get(y).op('i32.sub').set(br); // B is laid out as the outputs (row stride ms)
    f.get(yr).get(jEnd).op('i32.add').mem('v128.load', 0, 2).set(tail);
    f.i32(0).set(j);
    f.block((done) => f.loop((top) => {
      f.get(j).get(jEnd).op('i32.ge_s').brIf(done);
      outputs(() => { f.get(yr).get(j).op('i32.add').mem('v128.load', 0, 2); });
      f.addTo(j, 16).br(top);
    }));
    f.get(jEnd).set(j);
    outputs(() => { f.get(tail); });
  });
}
