// Code generation for the integer Winograd conv F(m×m, 3×3) (ir/winograd.ts integerWinograd):
//   input   per pair of input channels: the chunk's input rows copied into two bands padded
//           with the input zero point, then per 8 tiles (i16 lanes) Bᵀ d B on the int8 values
//           (uint8 read as x − 128), exact in int16, written as α² matrices of i16 channel
//           pairs [C/2 × ldv tiles] (the GEMM's B, i16 pairs). Wide images: 8 tiles of a tile
//           row (`input`); small ones (a tile row of 2–4 tiles would leave most lanes empty):
//           8 slots of strips holding the tile rows of all the chunk's images (`inputSlots`);
//   gemms   α² integer GEMMs U''_p [M × C] · V_p, int32 out (qgemm_codegen.ts, b16 driver);
//   output  per output channel and 4 tiles (i32 lanes) of a tile row (`output`), or of the
//           chunk's tiles across rows and images when rows are short (`outputTiles`):
//           Aᵀ'' M A'' (mod 2^32), × odd⁻¹, + 2^e·bias, the layer's requantization with its
//           shift + e and the fused clamp (qgemm_codegen.ts requantized), narrowed to 8 bits
//           and stored NCHW; `outputPool` / `outputTilesPool` with a 2×2 stride-2 max pool.
// All arithmetic is on integers, wrapping mod 2^16 / 2^32 only where the final value fits:
// the result equals the direct integer conv bit for bit (the planner checks the bound).
import { type IntWinogradTile, integerWinograd } from '../../ir/winograd.js';
import { FuncBuilder, Local, ModuleBuilder } from './emitter.js';
import { memoryImport } from './loader.js';
import { I32, V128 } from './opcodes.js';
import { addQGemmFuncs, type QGemmVariant } from './qgemm_codegen.js';
import { emitOutput, emitOutputTiles } from './qwinograd_output_codegen.js';
import { constants, sandwich, splatAll } from './qwinograd_sums_codegen.js';

export interface QWinogradVariant {
  m: IntWinogradTile;
  /** The GEMM's register tile. */
  mr: number;
  nr: number;
  shared: boolean;
}

export function qwinogradVariantKey(v: QWinogradVariant): string {
  return `qwinograd:m${v.m}:mr${v.mr}:nr${v.nr}:${v.shared ? 'shared' : 'private'}`;
}

export const QWINOGRAD_EXPORTS = {
  /** (x, C, H, W, padT, padL, r0, Rt, tilesW, band, Wb, tmp, v, ldv, vStride, pad, xor): one image, per tile row */
  input: 'input',
  /** (x, C, H, W, padT, padL, r0, Rt, tilesW, band, strip, tmp, v, ldv, vStride, pad, xor, images, masks): images, by slots */
  inputSlots: 'inputSlots',
  /** (pa, aStride, pb, vStride, ldv, c, mStride, ldm, M, N, K, ep, scratch, count) */
  gemms: 'gemms',
  /** (src, mStride, ldm, M, y, OH, OW, tilesW, r0, Rt, bias, mult, ep, stage): one image, per tile row */
  output: 'output',
  /** (src, mStride, ldm, M, y, OH, OW, tilesW, r0, Rt, bias, mult, ep, stage, images, imageStride): images, 4 tiles at a time */
  outputTiles: 'outputTiles',
  /** output and outputTiles with a fused 2×2 stride-2 max pool (OH, OW: the pooled size) */
  outputPool: 'outputPool',
  outputTilesPool: 'outputTilesPool',
} as const;

export function qwinogradModule(v: QWinogradVariant): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(v.shared));
  const gemm = addQGemmFuncs(m, { mr: v.mr, nr: v.nr, unroll: 1, shared: v.shared } satisfies QGemmVariant, true);
  m.func(QWINOGRAD_EXPORTS.input, Array<typeof I32>(17).fill(I32), [], (f) => emitInputRows(f, v.m));
  m.func(QWINOGRAD_EXPORTS.inputSlots, Array<typeof I32>(19).fill(I32), [], (f) => emitInputSlots(f, v.m));
  m.func(QWINOGRAD_EXPORTS.gemms, Array<typeof I32>(14).fill(I32), [], (f) => emitGemms(f, gemm));
  for (const pool of [false, true]) {
    m.func(pool ? QWINOGRAD_EXPORTS.outputPool : QWINOGRAD_EXPORTS.output, Array<typeof I32>(14).fill(I32), [], (f) => emitOutput(f, v.m, pool));
    m.func(pool ? QWINOGRAD_EXPORTS.outputTilesPool : QWINOGRAD_EXPORTS.outputTiles, Array<typeof I32>(16).fill(I32), [], (f) => emitOutputTiles(f, v.m, pool));
  }
  return m.build();
}

/** What both input transforms share: locals and constants made once per function. */
interface InputCtx {
  m: IntWinogradTile; alpha: number; a2: number; BT: number[][];
  at: (c: number) => Local; d: Local[][]; mask: Local; lo: Local; hi: Local; row: Local; tmp: Local;
}

function inputCtx(f: FuncBuilder, m: IntWinogradTile, tmp: Local, xor: Local): InputCtx {
  const { alpha, BT } = integerWinograd(m);
  const at = constants(f);
  splatAll(f, 'i16x8', BT.flat(), at);
  const c = { m, alpha, a2: alpha * alpha, BT, at, tmp, d: Array.from({ length: alpha }, () => Array.from({ length: alpha }, () => f.local(V128))),
    mask: f.local(V128), lo: f.local(V128), hi: f.local(V128), row: f.local() };
  f.get(xor).if(() => { f.i32(0x80).op('i8x16.splat').set(c.mask); });
  return c;
}

/**
 * Bᵀ d B of 8 tiles of one channel into tmp (half h): lane j of d[a][b] = byte m·j + b of the
 * row a·stride after `base`, sign-extended to i16 (uint8 read as x − 128).
 */
function transform8(f: FuncBuilder, c: InputCtx, base: Local, stride: Local, h: number): void {
  const { m, alpha, a2, d, lo, hi, row } = c;
  const pick = Array.from({ length: 16 }, (_, j) => (j < 8 ? m * j : 0));
  for (let a = 0; a < alpha; a++) {
    // the row's bytes from `from` on (32 of them) cover columns b = from.. of the 8 tiles while m·7 + b − from < 32
    for (let from = 0; from < alpha; from += 32 - 7 * m) {
      f.get(base).get(stride).i32(a).op('i32.mul').op('i32.add').set(row);
      f.get(row).mem('v128.load', from).get(c.mask).op('v128.xor').set(lo);
      f.get(row).mem('v128.load', from + 16).get(c.mask).op('v128.xor').set(hi);
      for (let b = from; b < Math.min(alpha, from + 32 - 7 * m); b++) {
        f.get(lo).get(hi).shuffle(pick.map((p, j) => (j < 8 ? p + b - from : 0))).op('i16x8.extend_low_i8x16_s').set(d[a][b]);
      }
    }
  }
  const V = sandwich(f, 'i16x8', c.BT, d, c.at);
  V.flat().forEach((vp, p) => { f.get(c.tmp).get(vp).mem('v128.store', (h * a2 + p) * 16); });
}

/**
 * The two channels in tmp interleaved as i16 pairs, 8 tiles from `dst` in each of the α²
 * matrices; with `swz`, tiles 0–3 and 4–7 each compacted by a swizzle, 4–7 stored nA bytes after.
 */
function storePairs(f: FuncBuilder, c: InputCtx, dst: Local, vStride: Local, swz?: { mA: Local; mB: Local; nA: Local }): void {
  const { lo, hi, a2 } = c;
  for (let p = 0; p < a2; p++) {
    f.get(c.tmp).mem('v128.load', p * 16).set(lo);
    f.get(c.tmp).mem('v128.load', (a2 + p) * 16).set(hi);
    f.get(dst).get(lo).get(hi).shuffle([0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23]);
    if (swz) f.get(swz.mA).op('i8x16.swizzle');
    f.mem('v128.store');
    f.get(dst);
    if (swz) f.get(swz.nA).op('i32.add');
    f.get(lo).get(hi).shuffle([8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31]);
    if (swz) f.get(swz.mB).op('i8x16.swizzle').mem('v128.store');
    else f.mem('v128.store', 16);
    f.get(dst).get(vStride).op('i32.add').set(dst);
  }
}

/** Pads the two channels' bands, then loopRows(h, copy) copies input row y (where it exists) of channel c2 + h. */
function fillBands(f: FuncBuilder, c2: Local, C: Local, H: Local, W: Local, band: Local, bandBytes: Local, pad: Local,
  loopRows: (h: number, copy: (dst: () => void, srcPlane: () => void, y: Local) => void) => void): void {
  for (let h = 0; h < 2; h++) {
    f.get(c2).i32(h).op('i32.add').get(C).op('i32.lt_s').if(() => {
      f.get(band).get(bandBytes).i32(h).op('i32.mul').op('i32.add').get(pad).get(bandBytes).memoryFill();
      loopRows(h, (dst, srcPlane, y) => {
        f.get(y).get(H).op('i32.lt_u').if(() => {
          dst();
          srcPlane(); f.get(y).get(W).op('i32.mul').op('i32.add');
          f.get(W).memoryCopy();
        });
      });
    });
  }
}

/** Tile rows (wide images): per tile row, 8 tiles of it per group; a band of Rt·m + 2 rows, Wb bytes each. */
function emitInputRows(f: FuncBuilder, m: IntWinogradTile): void {
  const [x, C, H, W, padT, padL, r0, Rt, tilesW, band, Wb, tmp, v, ldv, vStride, pad, xor] = f.params;
  const c = inputCtx(f, m, tmp, xor);
  const rowsB = f.local(), bandBytes = f.local(), c2 = f.local(), i = f.local(), y = f.local(), r = f.local(), tc = f.local(), base = f.local(), dst = f.local();
  f.get(Rt).i32(m).op('i32.mul').i32(2).op('i32.add').set(rowsB);
  f.get(rowsB).get(Wb).op('i32.mul').set(bandBytes);
  f.forUp(c2, 0, C, 2, () => {
    fillBands(f, c2, C, H, W, band, bandBytes, pad, (h, copy) => f.forUp(i, 0, rowsB, 1, () => {
      f.get(r0).i32(m).op('i32.mul').get(padT).op('i32.sub').get(i).op('i32.add').set(y);
      copy(() => { f.get(band).get(bandBytes).i32(h).op('i32.mul').op('i32.add').get(i).get(Wb).op('i32.mul').op('i32.add').get(padL).op('i32.add'); },
        () => { f.get(x).get(c2).i32(h).op('i32.add').get(H).op('i32.mul').get(W).op('i32.mul').op('i32.add'); }, y);
    }));
    f.forUp(r, 0, Rt, 1, () => {
      f.forUp(tc, 0, tilesW, 8, () => {
        for (let h = 0; h < 2; h++) {
          f.get(band).get(bandBytes).i32(h).op('i32.mul').op('i32.add').get(r).i32(m).op('i32.mul').get(Wb).op('i32.mul').op('i32.add')
            .get(tc).i32(m).op('i32.mul').op('i32.add').set(base);
          transform8(f, c, base, Wb, h);
        }
        // channel pairs interleaved: tiles tc.. of row r at pair c2/2
        f.get(v).get(c2).i32(1).op('i32.shr_u').get(ldv).op('i32.mul').get(r).get(tilesW).op('i32.mul').op('i32.add').get(tc).op('i32.add')
          .i32(4).op('i32.mul').op('i32.add').set(dst);
        storePairs(f, c, dst, vStride);
      });
    });
  });
}

/**
 * The compaction table (at `masks`, 48 bytes per entry): for a group of 8 slots starting at
 * slot st of a row of `slots` (st < slots), i8x16.swizzle masks moving the valid ones among
 * slots 0–3 and 4–7 (4-byte channel pairs) to the front, then the two counts (i32).
 */
function emitSlotMasks(f: FuncBuilder, masks: Local, slots: Local, tilesW: Local): void {
  const st = f.local(), e = f.local(), j = f.local(), k = f.local(), b = f.local(), half = f.local();
  f.forUp(st, 0, slots, 1, () => {
    f.get(masks).get(st).i32(48).op('i32.mul').op('i32.add').set(e);
    f.get(e).i32(0x80).i32(32).memoryFill();
    f.forUp(half, 0, 2, 1, () => {
      f.i32(0).set(k);
      f.forUp(j, 0, 4, 1, () => {
        // slot st + 4·half + j of the row pattern: valid when its column is below tilesW
        f.get(st).get(half).i32(4).op('i32.mul').op('i32.add').get(j).op('i32.add').get(slots).op('i32.rem_u').get(tilesW).op('i32.lt_u').if(() => {
          f.forUp(b, 0, 4, 1, () => {
            f.get(e).get(half).i32(16).op('i32.mul').op('i32.add').get(k).i32(4).op('i32.mul').op('i32.add').get(b).op('i32.add')
              .get(j).i32(4).op('i32.mul').get(b).op('i32.add').mem('i32.store8');
          });
          f.addTo(k, 1);
        });
      });
      f.get(e).get(half).i32(4).op('i32.mul').op('i32.add').get(k).mem('i32.store', 32);
    });
  });
}

/**
 * Slots (small images): α strips per channel, strip a holding row a of every tile row of the
 * chunk's images one after the other, tilesW + 1 slots of m bytes each (the last one the row's
 * right edge), so that 8 consecutive slots span rows and images; the edge slots are dropped
 * when storing (emitSlotMasks).
 */
function emitInputSlots(f: FuncBuilder, m: IntWinogradTile): void {
  const [x, C, H, W, padT, padL, r0, Rt, tilesW, band, strip, tmp, v, ldv, vStride, pad, xor, images, masks] = f.params;
  const c = inputCtx(f, m, tmp, xor);
  const slots = f.local(), seg = f.local(), R = f.local(), bandBytes = f.local(), c2 = f.local(), rr = f.local(), y = f.local(), s0 = f.local(), a = f.local();
  const base = f.local(), dst = f.local(), col = f.local(), e = f.local(), nA = f.local(), src = f.local(), total = f.local();
  const mA = f.local(V128), mB = f.local(V128);
  f.get(tilesW).i32(1).op('i32.add').set(slots);
  f.get(slots).i32(m).op('i32.mul').set(seg);
  f.get(images).get(Rt).op('i32.mul').set(R);
  f.get(R).get(slots).op('i32.mul').set(total);
  f.get(strip).i32(c.alpha).op('i32.mul').set(bandBytes);
  emitSlotMasks(f, masks, slots, tilesW);
  f.forUp(c2, 0, C, 2, () => {
    // segment rr (image rr / Rt, tile row rr % Rt) of strip a = input row (r0 + rr % Rt)·m − padT + a
    fillBands(f, c2, C, H, W, band, bandBytes, pad, (h, copy) => f.forUp(rr, 0, R, 1, () => {
      f.get(x).get(rr).get(Rt).op('i32.div_u').get(C).op('i32.mul').get(c2).op('i32.add').i32(h).op('i32.add').get(H).op('i32.mul').get(W).op('i32.mul').op('i32.add').set(src);
      f.forUp(a, 0, c.alpha, 1, () => {
        f.get(r0).get(rr).get(Rt).op('i32.rem_u').op('i32.add').i32(m).op('i32.mul').get(padT).op('i32.sub').get(a).op('i32.add').set(y);
        copy(() => { f.get(band).get(bandBytes).i32(h).op('i32.mul').op('i32.add').get(a).get(strip).op('i32.mul').op('i32.add').get(rr).get(seg).op('i32.mul').op('i32.add').get(padL).op('i32.add'); },
          () => { f.get(src); }, y);
      });
    }));
    f.i32(0).set(col);
    f.forUp(s0, 0, total, 8, () => {
      for (let h = 0; h < 2; h++) {
        f.get(band).get(bandBytes).i32(h).op('i32.mul').op('i32.add').get(s0).i32(m).op('i32.mul').op('i32.add').set(base);
        transform8(f, c, base, strip, h);
      }
      // channel pairs interleaved, the edge slots dropped: columns col.. of pair c2/2
      f.get(masks).get(s0).get(slots).op('i32.rem_u').i32(48).op('i32.mul').op('i32.add').set(e);
      f.get(e).mem('v128.load').set(mA);
      f.get(e).mem('v128.load', 16).set(mB);
      f.get(e).mem('i32.load', 32).i32(4).op('i32.mul').set(nA);
      f.get(v).get(c2).i32(1).op('i32.shr_u').get(ldv).op('i32.mul').get(col).op('i32.add').i32(4).op('i32.mul').op('i32.add').set(dst);
      storePairs(f, c, dst, vStride, { mA, mB, nA });
      f.get(col).get(e).mem('i32.load', 32).op('i32.add').get(e).mem('i32.load', 36).op('i32.add').set(col);
    });
  });
}

/** count GEMMs at strided operands, int32 out (the ep block says so). */
function emitGemms(f: FuncBuilder, gemm: number): void {
  const [pa, aStride, pb, vStride, ldv, c, mStride, ldm, M, N, K, ep, scratch, count] = f.params;
  const p = f.local();
  f.forUp(p, 0, count, 1, () => {
    f.get(pa).get(pb).get(c).get(ldm).get(M).get(N).get(K).i32(0).i32(0).get(ep).get(scratch).get(ldv).i32(4).op('i32.mul').call(gemm);
    f.addTo(pa, aStride).addTo(pb, vStride).addTo(c, mStride);
  });
}
