// The integer Winograd conv's output transform (qwinograd_codegen.ts): per output channel and
// 4 tiles (i32 lanes) of a tile row (`output`), or of the chunk's tiles across rows and images
// when rows are short (`outputTiles`): Aᵀ'' M A'' (mod 2^32), × odd⁻¹, + 2^e·bias, the layer's
// requantization with its shift + e and the fused clamp (qgemm_codegen.ts requantized),
// narrowed to 8 bits and stored NCHW. With a fused 2×2 stride-2 max pool (`pool`), each
// tile's 2×2 blocks are reduced to their maxima first (the tiles start at even offsets, so a
// window never spans two): after × odd⁻¹ the lanes hold the true 2^e·Σ (the planner's bound),
// and bias, requantization and clamp are monotonic (multipliers > 0), so requantizing the
// maximum is the maximum of the requantized values, on a quarter of the lanes.
import { type IntWinogradTile, integerWinograd } from '../../ir/winograd.js';
import { FuncBuilder, Local } from './emitter.js';
import { V128 } from './opcodes.js';
import { EP, loadRequantRegs, QOUT, requantized } from './qgemm_codegen.js';
import { constants, sandwich, splatAll } from './qwinograd_sums_codegen.js';

/** What both output transforms share: constants, requantization registers, the α² product vectors. */
interface OutputCtx {
  m: IntWinogradTile;
  /** Output columns (and rows) per tile: m, or m / 2 pooled. */
  w: number; pool: boolean; t: ReturnType<typeof integerWinograd>; at: (c: number) => Local; inv: Local; regs: ReturnType<typeof loadRequantRegs>;
  unsigned: Local; s: Local; bv: Local; mv: Local; n8: Local; n16a: Local; n16b: Local; Mv: Local[][];
}

function outputCtx(f: FuncBuilder, m: IntWinogradTile, pool: boolean, ep: Local): OutputCtx {
  const t = integerWinograd(m), at = constants(f);
  splatAll(f, 'i32x4', t.AT.flat(), at);
  const c: OutputCtx = {
    m, w: pool ? m / 2 : m, pool, t, at, inv: f.local(V128), regs: loadRequantRegs(f, ep), unsigned: f.local(), s: f.local(),
    bv: f.local(V128), mv: f.local(V128), n8: f.local(V128), n16a: f.local(V128), n16b: f.local(V128),
    Mv: Array.from({ length: t.alpha }, () => Array.from({ length: t.alpha }, () => f.local(V128))),
  };
  f.i32(t.oddInv).op('i32x4.splat').set(c.inv);
  f.get(ep).mem('i32.load', EP.out).i32(QOUT.uint8).op('i32.eq').set(c.unsigned);
  return c;
}

/** Channel o's bias and multiplier splatted. */
function channelConstants(f: FuncBuilder, c: OutputCtx, o: Local, bias: Local, mult: Local): void {
  f.get(bias).get(o).i32(4).op('i32.mul').op('i32.add').mem('v128.load32_splat').set(c.bv);
  f.get(mult).get(o).i32(4).op('i32.mul').op('i32.add').mem('v128.load32_splat').set(c.mv);
}

/**
 * 4 tiles' products from c.s (α² matrices mStride apart) → Aᵀ M A, ×odd⁻¹, (pooled: the
 * maxima of 2×2 blocks), + bias, requantized and clamped: Y[i][j], i, j < c.w (i32 lanes = tiles).
 */
function transform4(f: FuncBuilder, c: OutputCtx, mStride: Local): Local[][] {
  const { alpha } = c.t;
  for (let a = 0; a < alpha; a++) {
    for (let b = 0; b < alpha; b++) {
      f.get(c.s).mem('v128.load').set(c.Mv[a][b]);
      f.get(c.s).get(mStride).op('i32.add').set(c.s);
    }
  }
  const Y = sandwich(f, 'i32x4', c.t.AT, c.Mv, c.at);
  if (c.t.odd !== 1) for (const yv of Y.flat()) f.get(yv).get(c.inv).op('i32x4.mul').set(yv);
  const half = Array.from({ length: c.w }, (_, i) => i);
  const out = c.pool ? half.map((i) => half.map((j) => {
    const [a, b] = [Y[2 * i], Y[2 * i + 1]];
    f.get(a[2 * j]).get(a[2 * j + 1]).op('i32x4.max_s').get(b[2 * j]).get(b[2 * j + 1]).op('i32x4.max_s').op('i32x4.max_s').set(a[2 * j]);
    return a[2 * j];
  })) : Y;
  requantized(f, c.regs, (requant) => {
    for (const yv of out.flat()) {
      f.get(yv).get(c.bv).op('i32x4.add').set(yv);
      requant(yv, c.mv);
    }
  });
  return out;
}

/** c.n8 = output row i of the 4 tiles as bytes: tile k's w columns at k·w. */
function narrowRow(f: FuncBuilder, c: OutputCtx, Yi: Local[]): void {
  const { w, n16a, n16b, n8 } = c;
  // the narrowed row holds column j of tile k at 4j + k
  const order = Array.from({ length: 16 }, (_, e) => (e < 4 * w ? (e % w) * 4 + Math.floor(e / w) : 0));
  f.get(Yi[0]).get(Yi[Math.min(1, w - 1)]).op('i16x8.narrow_i32x4_s').set(n16a);
  if (w === 4) f.get(Yi[2]).get(Yi[3]).op('i16x8.narrow_i32x4_s').set(n16b);
  const n16 = w === 4 ? n16b : n16a;
  f.get(c.unsigned).if(() => { f.get(n16a).get(n16).op('i8x16.narrow_i16x8_u').set(n8); }, () => { f.get(n16a).get(n16).op('i8x16.narrow_i16x8_s').set(n8); });
  if (w > 1) f.get(n8).get(n8).shuffle(order).set(n8);
}

/** Stores the first `bytes` (4, 8 or 16) of v at the address on the stack. */
function storeBytes(f: FuncBuilder, v: Local, bytes: number): void {
  if (bytes === 16) f.get(v).mem('v128.store');
  else f.get(v).memLane(bytes === 8 ? 'v128.store64_lane' : 'v128.store32_lane', 0, 0);
}

/** Stores byte lane k·w.. (w bytes: 1, 2 or 4) of v at the address on the stack. */
function storeTileRow(f: FuncBuilder, v: Local, w: number, k: number): void {
  const op = { 1: 'v128.store8_lane', 2: 'v128.store16_lane', 4: 'v128.store32_lane' }[w]!;
  f.get(v).memLane(op, 0, k);
}

/**
 * Wide images: per output channel, 4 tiles of a tile row at a time, each output row one store.
 * OH, OW: the output's (pooled) size.
 */
export function emitOutput(f: FuncBuilder, m: IntWinogradTile, pool: boolean): void {
  const [src, mStride, ldm, M, y, OH, OW, tilesW, r0, Rt, bias, mult, ep, stage] = f.params;
  const c = outputCtx(f, m, pool, ep), w = c.w;
  const o = f.local(), r = f.local(), tc = f.local(), row = f.local(), dst = f.local(), valid = f.local();
  f.forUp(o, 0, M, 1, () => {
    channelConstants(f, c, o, bias, mult);
    f.forUp(r, 0, Rt, 1, () => {
      f.forUp(tc, 0, tilesW, 4, () => {
        f.get(src).get(o).get(ldm).op('i32.mul').get(r).get(tilesW).op('i32.mul').op('i32.add').get(tc).op('i32.add').i32(4).op('i32.mul').op('i32.add').set(c.s);
        const Y = transform4(f, c, mStride);
        f.get(OW).get(tc).i32(w).op('i32.mul').op('i32.sub').set(valid);
        for (let i = 0; i < w; i++) {
          f.get(r0).get(r).op('i32.add').i32(w).op('i32.mul').i32(i).op('i32.add').set(row);
          f.get(row).get(OH).op('i32.lt_s').if(() => {
            narrowRow(f, c, Y[i]);
            f.get(y).get(o).get(OH).op('i32.mul').get(row).op('i32.add').get(OW).op('i32.mul').op('i32.add').get(tc).i32(w).op('i32.mul').op('i32.add').set(dst);
            f.get(valid).i32(4 * w).op('i32.ge_s').if(() => {
              f.get(dst);
              storeBytes(f, c.n8, 4 * w);
            }, () => {
              f.get(stage).get(c.n8).mem('v128.store');
              f.get(dst).get(stage).get(valid).memoryCopy();
            });
          });
        }
      });
    });
  });
}

/**
 * Small images (a tile row of 1–3 tiles): 4 consecutive tiles of the chunk at a time, across
 * tile rows and images, each tile's rows stored on their own (w bytes, fewer at the right edge).
 * OH, OW: the output's (pooled) size.
 */
export function emitOutputTiles(f: FuncBuilder, m: IntWinogradTile, pool: boolean): void {
  const [src, mStride, ldm, M, y, OH, OW, tilesW, r0, Rt, bias, mult, ep, stage, images, imageStride] = f.params;
  const c = outputCtx(f, m, pool, ep), w = c.w;
  const o = f.local(), t0 = f.local(), T = f.local(), perImage = f.local(), t = f.local(), rem = f.local(), plane = f.local(), dst = f.local();
  const at = Array.from({ length: 4 }, () => f.local()), row0 = Array.from({ length: 4 }, () => f.local()), valid = Array.from({ length: 4 }, () => f.local());
  f.get(Rt).get(tilesW).op('i32.mul').set(perImage);
  f.get(images).get(perImage).op('i32.mul').set(T);
  f.get(OH).get(OW).op('i32.mul').set(plane);
  f.forUp(t0, 0, T, 4, () => {
    // lane k = tile t0 + k: its first output byte (channel 0), first output row, columns to store (0: no tile)
    for (let k = 0; k < 4; k++) {
      f.get(t0).i32(k).op('i32.add').tee(t).get(T).op('i32.lt_u').if(() => {
        f.get(t).get(perImage).op('i32.rem_u').set(rem);
        f.get(r0).get(rem).get(tilesW).op('i32.div_u').op('i32.add').i32(w).op('i32.mul').set(row0[k]);
        f.get(OW).get(rem).get(tilesW).op('i32.rem_u').i32(w).op('i32.mul').tee(dst).op('i32.sub').set(valid[k]);
        f.get(valid[k]).i32(w).op('i32.gt_s').if(() => { f.i32(w).set(valid[k]); });
        f.get(y).get(t).get(perImage).op('i32.div_u').get(imageStride).op('i32.mul').op('i32.add').get(row0[k]).get(OW).op('i32.mul').op('i32.add').get(dst).op('i32.add').set(at[k]);
      }, () => { f.i32(0).set(valid[k]); });
    }
    f.forUp(o, 0, M, 1, () => {
      channelConstants(f, c, o, bias, mult);
      f.get(src).get(o).get(ldm).op('i32.mul').get(t0).op('i32.add').i32(4).op('i32.mul').op('i32.add').set(c.s);
      const Y = transform4(f, c, mStride);
      for (let i = 0; i < w; i++) {
        narrowRow(f, c, Y[i]);
        f.get(stage).get(c.n8).mem('v128.store');
        for (let k = 0; k < 4; k++) {
          f.get(valid[k]).i32(0).op('i32.gt_s').get(row0[k]).i32(i).op('i32.add').get(OH).op('i32.lt_s').op('i32.and').if(() => {
            f.get(at[k]).get(o).get(plane).op('i32.mul').op('i32.add').i32(i).get(OW).op('i32.mul').op('i32.add').set(dst);
            f.get(valid[k]).i32(w).op('i32.eq').if(() => {
              f.get(dst);
              storeTileRow(f, c.n8, w, k);
            }, () => { f.get(dst).get(stage).i32(k * w).op('i32.add').get(valid[k]).memoryCopy(); });
          });
        }
      }
    });
  });
}
