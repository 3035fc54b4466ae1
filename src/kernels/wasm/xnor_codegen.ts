// Code generation for the binary kernels (XNOR-Net): activations bit-packed along
// the input channels, 64 to an i64 word, each word with a twin word of "nonzero"
// bits, so that zero inputs and the padding (neither −1 nor +1) count exactly
// nothing: a window's dot product with a row of binary weights is
//   S = n − 2·popcnt((a ⊕ w) ∧ z)  (z = the nonzero bits; n = popcnt(z))
// and for ternary weights (a second plane w≠0 ANDed into z) the same with n per row.
// Asymmetric levels (TTQ) also need T = 2·popcnt(a ∧ z) − n. The float epilogue is
// y = S·a (+ T·b) + bias, clamped (ir/ref/binary_layer.ts, the oracle, in this order).
//
// Layouts (byte offsets; Cw = ceil(C/64) words per pixel):
//   packed input: pixel p at in + p·16·Cw; channel block cw at +16·cw: the sign
//     word (bit c%64 = x > 0) then the nonzero word (x ≠ 0). A conv's input is
//     packed into its padded grid (Hp × Wp, the border all zero).
//   weights: tiles of 4 output channels; per tile, per tap, per cw a block of the
//     4 sign words (then the 4 nonzero words when ternary), 32 (64) bytes: the order
//     in which the conv walks a window.
import type { FuncBuilder, Local } from './emitter.js';
import { I32, I64, V128 } from './opcodes.js';

/** Output channels per register tile (the weights are packed in tiles of this many rows). */
export const XNOR_TILE = 4;

export interface XnorVariant {
  kh: number;
  kw: number;
  dh: number;
  dw: number;
  /** Stride along the width (a pixel's window start is a constant multiple of its column). */
  sw: number;
  /** Width of the packed (padded) input grid, and 64-channel words per pixel: a row's and a pixel's strides are constants. */
  Wp: number;
  Cw: number;
  /** Weights have zeros: a second bit-plane. */
  ternary: boolean;
  /** Levels differ in magnitude (TTQ): the epilogue also needs T. */
  asym: boolean;
  /** Output channels are whole tiles (M % XNOR_TILE = 0): every lane is stored without a check. */
  wholeTiles: boolean;
  shared: boolean;
}


export function xnorVariantKey(v: XnorVariant): string {
  return `xnor:${v.kh}x${v.kw}:d${v.dh},${v.dw}:sw${v.sw}:Wp${v.Wp}:Cw${v.Cw}:${v.ternary ? 'ternary' : 'binary'}:${v.asym ? 'asym' : 'sym'}:${v.wholeTiles ? 'whole' : 'edge'}:${v.shared ? 'shared' : 'private'}`;
}

/** Byte offsets in the packed grid of a window's words from its first, in the weights' order (tap, then channel word). */
export function windowOffsets(v: Pick<XnorVariant, 'kh' | 'kw' | 'dh' | 'dw' | 'Wp' | 'Cw'>): Int32Array {
  const out = new Int32Array(v.kh * v.kw * v.Cw), pix = 16 * v.Cw;
  let i = 0;
  for (let ky = 0; ky < v.kh; ky++) for (let kx = 0; kx < v.kw; kx++) for (let cw = 0; cw < v.Cw; cw++) out[i++] = (ky * v.dh * v.Wp + kx * v.dw) * pix + 16 * cw;
  return out;
}

/** Bytes of the conv's window buffer: two pixels' windows, 16 bytes (sign and nonzero word) a word. */
export const xnorWindowBytes = (v: Pick<XnorVariant, 'kh' | 'kw' | 'Cw'>): number => 2 * 16 * v.kh * v.kw * v.Cw;


/** v ← v·scale[c] + shift[c] (splats) when scale ≠ 0; `load` pushes the address of scale[c] relative to the arrays. */
function affine(f: FuncBuilder, v: Local, scale: Local, shift: Local, at: () => void, splat: boolean): void {
  const load = splat ? 'v128.load32_splat' : 'v128.load';
  f.get(scale).if(() => {
    f.get(v).get(scale); at(); f.op('i32.add').mem(load).op('f32x4.mul');
    f.get(shift); at(); f.op('i32.add').mem(load).op('f32x4.add').set(v);
  });
}

// ---- packPlanes: per 64-channel word and 32-channel half, the image's pixels in groups of 16 (then 4), flat over its
// rows: each of the half's channels adds its bit to the group's words by Horner's rule from the last channel down
// (bits = 2·bits − mask: one add and one sub, the mask being −1 or 0), so that a channel's plane is read as a stream.

export function emitPackPlanes(f: FuncBuilder): void {
  const [x, C, H, W, Wp, padT, padL, dst, Cw, scale, shift, flag] = f.params;
  const n = f.local(), zs = f.local(V128), full = f.local(V128);
  const cw = f.local(), c0 = f.local(), c1 = f.local(), c = f.local(), cEnd = f.local(), HW = f.local(), p = f.local();
  const P = f.local(), out = f.local(), pix = f.local(), skip = f.local(), w = f.local(), ptr = f.local();
  const v = f.local(V128), g = f.local(V128), sa = f.local(V128), sb = f.local(V128);
  const sgn = Array.from({ length: 4 }, () => f.local(V128)), nz = Array.from({ length: 4 }, () => f.local(V128));
  f.get(H).get(W).op('i32.mul').tee(HW).i32(4).op('i32.mul').set(P); // plane bytes
  f.get(Cw).i32(16).op('i32.mul').set(pix);
  f.get(Wp).get(W).op('i32.sub').get(pix).op('i32.mul').set(skip); // from a row's end to the next row's start in the grid
  /** Pixels p.. p + 4·groups − 1: channels cEnd − 1 down to c (ptr at channel cEnd's plane) into sgn, nz; with the affine or not. */
  const channels = (groups: number, affine: boolean) => f.loop((top) => {
    f.get(ptr).get(P).op('i32.sub').set(ptr);
    f.get(cEnd).i32(1).op('i32.sub').set(cEnd);
    if (affine) {
      f.get(scale).get(cEnd).i32(2).op('i32.shl').op('i32.add').mem('v128.load32_splat').set(sa);
      f.get(shift).get(cEnd).i32(2).op('i32.shl').op('i32.add').mem('v128.load32_splat').set(sb);
    }
    for (let k = 0; k < groups; k++) {
      f.get(ptr).mem('v128.load', 16 * k);
      if (affine) f.get(sa).op('f32x4.mul').get(sb).op('f32x4.add');
      f.set(v);
      f.get(sgn[k]).get(sgn[k]).op('i32x4.add').get(v).f32x4(0).op('f32x4.gt').tee(g).op('i32x4.sub').set(sgn[k]);
      f.get(nz[k]).get(nz[k]).op('i32x4.add').get(g).get(v).f32x4(0).op('f32x4.lt').op('v128.or').op('i32x4.sub').set(nz[k]);
    }
    f.get(cEnd).get(c).op('i32.gt_s').brIf(top);
  });
  /** One group of 4·groups pixels from p: count, then store each pixel's words in the grid (out, w: the next pixel's place and column). */
  const group = (groups: number) => {
    for (let k = 0; k < groups; k++) f.f32x4(0).set(sgn[k]).f32x4(0).set(nz[k]);
    f.get(c1).set(cEnd).get(x).get(p).i32(2).op('i32.shl').op('i32.add').get(cEnd).get(P).op('i32.mul').op('i32.add').set(ptr);
    f.get(scale).if(() => channels(groups, true), () => channels(groups, false));
    for (let k = 0; k < groups; k++) {
      // the lanes inside the image; any of them with a zero (or NaN) input marks it
      f.get(HW).get(p).op('i32.sub').i32(4 * k).op('i32.sub').op('i32x4.splat').i32x4(0, 1, 2, 3).op('i32x4.gt_s')
        .get(nz[k]).get(full).op('i32x4.eq').op('v128.andnot').get(zs).op('v128.or').set(zs);
      for (let l = 0; l < 4; l++) {
        const store = () => {
          f.get(out).get(sgn[k]).memLane('v128.store32_lane', 0, l).get(out).get(nz[k]).memLane('v128.store32_lane', 8, l);
          f.get(out).get(pix).op('i32.add').set(out);
          f.get(w).i32(1).op('i32.add').tee(w).get(W).op('i32.eq').if(() => { f.i32(0).set(w).get(out).get(skip).op('i32.add').set(out); });
        };
        if (groups === 4) store();
        else f.get(p).i32(l).op('i32.add').get(HW).op('i32.lt_s').if(store);
      }
    }
  };
  f.forUp(cw, 0, Cw, 1, () => {
    f.get(cw).i32(64).op('i32.mul').set(c0);
    for (const half of [0, 1]) {
      // channels [c, c1) = [c0 + 32·half, min(C, c0 + 32·half + 32)); full = the nonzero bits of a pixel without zeros
      f.get(c0).i32(32 * half).op('i32.add').tee(c).i32(32).op('i32.add').set(c1);
      f.get(c1).get(C).op('i32.gt_s').if(() => { f.get(C).set(c1); });
      f.get(c1).get(c).op('i32.sub').set(n);
      f.get(n).i32(0).op('i32.gt_s').if(() => {
        f.i32(-1).i32(1).get(n).op('i32.shl').i32(1).op('i32.sub').get(n).i32(32).op('i32.ge_s').op('select').op('i32x4.splat').set(full);
        f.get(dst).get(padT).get(Wp).op('i32.mul').get(padL).op('i32.add').get(pix).op('i32.mul').op('i32.add')
          .get(cw).i32(16).op('i32.mul').op('i32.add').i32(4 * half).op('i32.add').set(out);
        f.i32(0).set(w).i32(0).set(p);
        // groups of 16 while whole, then of 4 (the last reads at most 3 values past the plane, as a row of 4)
        f.block((done) => f.loop((top) => { f.get(p).i32(16).op('i32.add').get(HW).op('i32.gt_s').brIf(done); group(4); f.addTo(p, 16).br(top); }));
        f.block((done) => f.loop((top) => { f.get(p).get(HW).op('i32.ge_s').brIf(done); group(1); f.addTo(p, 4).br(top); }));
      });
    }
  });
  f.get(flag).if(() => { f.get(flag).get(zs).op('v128.any_true').mem('i32.store'); });
}

// ---- packRows: 4 channels per step through i32x4.bitmask into the 64-bit words

export function emitPackRows(f: FuncBuilder): void {
  const [x, K, rows, dst, Cw, scale, shift] = f.params;
  const r = f.local(), cw = f.local(), k = f.local(), kEnd = f.local(), rowAt = f.local(), out = f.local(), kByte = f.local(), sh = f.local();
  const s = f.local(I64), z = f.local(I64), mask = f.local();
  const v = f.local(V128), g = f.local(V128);
  f.forUp(r, 0, rows, 1, () => {
    f.get(x).get(r).get(K).op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(rowAt);
    f.get(dst).get(r).get(Cw).op('i32.mul').i32(16).op('i32.mul').op('i32.add').set(out);
    f.forUp(cw, 0, Cw, 1, () => {
      f.i64(0).set(s).i64(0).set(z);
      f.get(cw).i32(64).op('i32.mul').tee(k).i32(64).op('i32.add').set(kEnd);
      f.get(kEnd).get(K).op('i32.gt_s').if(() => { f.get(K).set(kEnd); });
      f.forUp(k, k, kEnd, 4, () => {
        f.get(k).i32(2).op('i32.shl').set(kByte);
        f.get(rowAt).get(kByte).op('i32.add').mem('v128.load').set(v);
        affine(f, v, scale, shift, () => f.get(kByte), false);
        // lanes past K hold other data: keep only the min(4, kEnd − k) valid bits
        f.get(kEnd).get(k).op('i32.sub').set(mask);
        f.get(mask).i32(4).op('i32.gt_s').if(() => { f.i32(4).set(mask); });
        f.i32(1).get(mask).op('i32.shl').i32(1).op('i32.sub').set(mask);
        f.get(k).i32(63).op('i32.and').set(sh);
        f.get(v).f32x4(0).op('f32x4.gt').tee(g).op('i32x4.bitmask').get(mask).op('i32.and').op('i64.extend_i32_u')
          .get(sh).op('i64.extend_i32_u').op('i64.shl').get(s).op('i64.or').set(s);
        f.get(g).get(v).f32x4(0).op('f32x4.lt').op('v128.or').op('i32x4.bitmask').get(mask).op('i32.and').op('i64.extend_i32_u')
          .get(sh).op('i64.extend_i32_u').op('i64.shl').get(z).op('i64.or').set(z);
      });
      f.get(out).get(s).mem('i64.store', 0).get(out).get(z).mem('i64.store', 8);
      f.addTo(out, 16);
    });
  });
}

// ---- conv: per output pixel, its window's words are first gathered (windowOffsets)
// into a contiguous buffer, then every tile of 4 output channels walks them by a loop
// of one word per iteration, not unrolled: TurboFan keeps every wasm load in program
// order but sinks the arithmetic to its use, so an unrolled window loads all its
// words before the first popcount and spills; one word per iteration bounds the live
// values to that word's loads and the accumulators, and the gathered window makes
// the walk two pointer increments. A window whose in-image inputs are all nonzero takes the
// fast path, two pixels at a time sharing the weight loads, without the nonzero
// words: its padded taps (zero words) then count as mismatches with every +1 weight
// bit, which the pixel's border class subtracts (corrX; ternary also corrN from the
// row's nonzero weights nW). Any other window takes the exact path with the nonzero words.

export function emitConv(f: FuncBuilder, v: XnorVariant): void {
  const [inp, oh0, oh1, OW, sh, wts, M, a, b, bias, nW, y, ms, ps, rowCls, colCls, valid, corrX, corrN, offs, win, lo, hi] = f.params;
  const pix = 16 * v.Cw, words = v.kh * v.kw * v.Cw, block = XNOR_TILE * 8 * (v.ternary ? 2 : 1), swPix = v.sw * pix;
  const oh = f.local(), ow = f.local(), ms4 = f.local(), ps4 = f.local(), mp4 = f.local(), rowBase = f.local(), rowY = f.local(), rc = f.local();
  const mt = f.local(), wp = f.local(), ap = f.local(), bp = f.local(), biasp = f.local(), np = f.local();
  const ym = [f.local(), f.local()], cls = [f.local(), f.local()], cx = [f.local(), f.local()], cn = [f.local(), f.local()];
  const q = f.local(), wq = f.local(), op = f.local(), offsEnd = f.local(), winEnd = f.local(), at0 = f.local();
  const winPix = 16 * words; // the second pixel's window
  const cnt = [f.local(I64), f.local(I64)], yb = [f.local(I64), f.local(I64)];
  const s = [f.local(I64), f.local(I64)], nz = f.local(I64), zz = f.local(I64), wv = f.local(I64);
  const X = [0, 1].map(() => Array.from({ length: XNOR_TILE }, () => f.local(I64)));
  const N = v.ternary ? Array.from({ length: XNOR_TILE }, () => f.local(I64)) : [];
  const Y = [0, 1].map(() => (v.ternary && v.asym ? Array.from({ length: XNOR_TILE }, () => f.local(I64)) : []));
  const vn = f.local(V128), vy = f.local(V128), lo4 = f.local(V128), hi4 = f.local(V128), hasLo = f.local(), hasHi = f.local();
  const add64 = (acc: Local, push: () => void) => { f.get(acc); push(); f.op('i64.popcnt').op('i64.add').set(acc); };
  f.get(offs).i32(4 * words).op('i32.add').set(offsEnd).get(win).i32(winPix).op('i32.add').set(winEnd);
  f.get(lo).op('f32x4.splat').set(lo4).get(hi).op('f32x4.splat').set(hi4);
  f.get(lo).f32(-Infinity).op('f32.ne').set(hasLo).get(hi).f32(Infinity).op('f32.ne').set(hasHi);
  f.get(ms).i32(4).op('i32.mul').set(ms4).get(ps).i32(4).op('i32.mul').set(ps4);
  f.get(M).i32(3).op('i32.add').i32(-4).op('i32.and').i32(4).op('i32.mul').set(mp4);

  /** word() once per word of the gathered window: q at its sign word (pixel 0), wq at its weight block. */
  const walk = (word: () => void) => {
    f.get(win).set(q).get(wp).set(wq);
    f.loop((top) => {
      word();
      f.addTo(wq, block).addTo(q, 16);
      f.get(q).get(winEnd).op('i32.ne').brIf(top);
    });
  };

  /** The i32x4 of four i64 counts (each < 2^31). */
  const lanes = (l: Local[]) => {
    f.get(l[0]).op('i32.wrap_i64').op('i32x4.splat');
    for (let j = 1; j < XNOR_TILE; j++) f.get(l[j]).op('i32.wrap_i64').lane('i32x4.replace_lane', j);
  };
  /**
   * The tile's four outputs of pixel p, as vectors: n = the nonzero pairs (binary: cnt;
   * ternary: nW − corrN, or counted), S = n − 2X (X less corrX on the fast path),
   * y = S·a (+ (2Y − n)·b) + bias, clamped; stored lane by lane (channels ms apart).
   */
  const epilogue = (fast: boolean, p: number) => {
    if (!v.ternary) f.get(cnt[p]).op('i32.wrap_i64').op('i32x4.splat');
    else if (fast) f.get(np).mem('v128.load').get(cn[p]).mem('v128.load').op('i32x4.sub');
    else lanes(N);
    f.tee(vn);
    lanes(X[p]);
    if (fast) f.get(cx[p]).mem('v128.load').op('i32x4.sub');
    f.i32(1).op('i32x4.shl').op('i32x4.sub').op('f32x4.convert_i32x4_s').get(ap).mem('v128.load').op('f32x4.mul');
    if (v.asym) {
      if (v.ternary) lanes(Y[p]);
      else f.get(yb[p]).op('i32.wrap_i64').op('i32x4.splat');
      f.i32(1).op('i32x4.shl').get(vn).op('i32x4.sub').op('f32x4.convert_i32x4_s').get(bp).mem('v128.load').op('f32x4.mul').op('f32x4.add');
    }
    f.get(biasp).mem('v128.load').op('f32x4.add').set(vy);
    // the clamp as pmax / pmin (v < lo ? lo : v; one maxps / minps each; f32x4.max / min lower to ~8 instructions for
    // their NaN and signed-zero rules): NaN passes, −0 stays −0 (the oracle's clamp); skipped when the bound is infinite
    f.get(hasLo).if(() => { f.get(vy).get(lo4).op('f32x4.pmax').set(vy); });
    f.get(hasHi).if(() => { f.get(vy).get(hi4).op('f32x4.pmin').set(vy); });
    f.get(ym[p]).set(q); // q is free after the walks: the output cursor, the next tile's start left in ym[p]
    for (let j = 0; j < XNOR_TILE; j++) {
      const store = () => { f.get(q).get(vy).memLane('v128.store32_lane', 0, j); };
      if (j === 0 || v.wholeTiles) store();
      else f.get(mt).i32(j).op('i32.add').get(M).op('i32.lt_s').if(store);
      f.get(q).get(ms4).op('i32.add').set(q);
    }
    f.get(q).set(ym[p]);
  };

  /** One tile of output channels for `px` pixels (2 only on the fast path). */
  const tile = (fast: boolean, px: number) => {
    const P = [0, 1].slice(0, px), packed = px === 2;
    // two pixels: one accumulator per row holds both counts (pixel 1's in the high 32 bits; a count is < 2^31):
    // 4 accumulators instead of 8 keep the walk's values in registers (8 spilled 3 of them, through memory each word)
    const acc = packed ? X[0] : null;
    for (const p of P) for (const l of [...X[p], ...Y[p]]) f.i64(0).set(l);
    for (const l of N) f.i64(0).set(l);
    /** acc += popcnt(pixel 0's word) + popcnt(pixel 1's word) << 32, each word from `word(p)`. */
    const add2 = (a: Local, word: (p: number) => void) => {
      f.get(a); word(0); f.op('i64.popcnt'); word(1); f.op('i64.popcnt').i64(32).op('i64.shl').op('i64.add').op('i64.add').set(a);
    };
    walk(() => {
      for (const p of P) f.get(q).mem('i64.load', p * winPix).set(s[p]);
      if (!fast) f.get(q).mem('i64.load', 8).set(nz);
      for (let j = 0; j < XNOR_TILE; j++) {
        f.get(wq).mem('i64.load', 8 * j).set(wv);
        if (!v.ternary) {
          if (acc) add2(acc[j], (p) => f.get(wv).get(s[p]).op('i64.xor'));
          else for (const p of P) add64(X[p][j], () => { f.get(wv).get(s[p]).op('i64.xor'); if (!fast) f.get(nz).op('i64.and'); });
          continue;
        }
        f.get(wq).mem('i64.load', 32 + 8 * j);
        if (!fast) f.get(nz).op('i64.and');
        f.set(zz);
        if (!fast) add64(N[j], () => f.get(zz));
        if (acc) add2(acc[j], (p) => f.get(wv).get(s[p]).op('i64.xor').get(zz).op('i64.and'));
        else for (const p of P) add64(X[p][j], () => f.get(wv).get(s[p]).op('i64.xor').get(zz).op('i64.and'));
        for (const p of P) if (v.asym) add64(Y[p][j], () => f.get(s[p]).get(zz).op('i64.and'));
      }
    });
    // pixel 1's counts; pixel 0's are the low halves the epilogue takes (i32.wrap_i64)
    if (acc) for (let j = 0; j < XNOR_TILE; j++) f.get(acc[j]).i64(32).op('i64.shr_u').set(X[1][j]);
    for (const p of P) epilogue(fast, p);
    f.addTo(wp, words * block).addTo(ap, 16).addTo(bp, 16).addTo(biasp, 16).addTo(np, 16);
    for (const p of P) f.addTo(cx[p], 16).addTo(cn[p], 16);
  };

  /** All tiles of the pixels from ow (px of them). */
  const tiles = (fast: boolean, px: number) => {
    f.get(wts).set(wp).get(a).set(ap).get(b).set(bp).get(bias).set(biasp).get(nW).set(np);
    for (let p = 0; p < px; p++) {
      f.get(cls[p]).get(mp4).op('i32.mul').tee(cx[p]).get(corrX).op('i32.add').set(cx[p]);
      f.get(cx[p]).get(corrN).op('i32.add').get(corrX).op('i32.sub').set(cn[p]);
    }
    f.forUp(mt, 0, M, XNOR_TILE, () => tile(fast, px));
  };
  /** Pixel ow + p: its window gathered, output, border class and counts (the nonzero inputs; asym binary: the +1 ones). */
  const at = (p: number) => {
    f.get(rowBase).get(ow).i32(p).op('i32.add').i32(swPix).op('i32.mul').op('i32.add').set(at0);
    f.get(rowY).get(ow).i32(p).op('i32.add').get(ps4).op('i32.mul').op('i32.add').set(ym[p]);
    f.get(rc).get(colCls).get(ow).i32(p).op('i32.add').i32(2).op('i32.shl').op('i32.add').mem('i32.load').op('i32.add').set(cls[p]);
    f.i64(0).set(cnt[p]).i64(0).set(yb[p]);
    f.get(win).i32(p * winPix).op('i32.add').set(q).get(offs).set(op);
    f.loop((top) => {
      f.get(q).get(at0).get(op).mem('i32.load').op('i32.add').mem('v128.load').mem('v128.store');
      add64(cnt[p], () => f.get(q).mem('i64.load', 8));
      if (v.asym && !v.ternary) add64(yb[p], () => f.get(q).mem('i64.load').get(q).mem('i64.load', 8).op('i64.and'));
      f.addTo(q, 16).addTo(op, 4);
      f.get(op).get(offsEnd).op('i32.ne').brIf(top);
    });
  };
  /** Whether pixel p's in-image inputs are all nonzero. */
  const fullAt = (p: number) => f.get(cnt[p]).op('i32.wrap_i64').get(valid).get(cls[p]).i32(2).op('i32.shl').op('i32.add').mem('i32.load').op('i32.eq');

  f.forUp(oh, oh0, oh1, 1, () => {
    f.get(oh).get(sh).op('i32.mul').i32(v.Wp * pix).op('i32.mul').get(inp).op('i32.add').set(rowBase);
    f.get(oh).get(OW).op('i32.mul').get(ps4).op('i32.mul').get(y).op('i32.add').set(rowY);
    f.get(rowCls).get(oh).i32(2).op('i32.shl').op('i32.add').mem('i32.load').set(rc);
    f.i32(0).set(ow);
    f.block((done) => f.loop((top) => {
      f.get(ow).get(OW).op('i32.ge_s').brIf(done);
      at(0);
      f.get(ow).i32(1).op('i32.add').get(OW).op('i32.lt_s').if(() => {
        at(1);
        fullAt(0); fullAt(1); f.op('i32.and').if(() => { tiles(true, 2); f.addTo(ow, 2).br(top); });
      });
      fullAt(0);
      f.if(() => tiles(true, 1), () => tiles(false, 1));
      f.addTo(ow, 1).br(top);
    }));
  });
}
