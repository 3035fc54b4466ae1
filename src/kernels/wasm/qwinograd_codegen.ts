// Code generation for the integer Winograd conv F(m×m, 3×3) (ir/winograd.ts integerWinograd):
//   input   per pair of input channels: the chunk's input rows copied into two bands padded
//           with the input zero point, then per 4 tiles of both channels (i16 lanes: tile,
//           channel) Bᵀ d B on the int8 values (uint8 read as x − 128), exact in int16,
//           stored as they are in α² matrices of i16 channel pairs [C/2 × ldv tiles] (the
//           GEMM's B); a group past a tile row's end writes into the next row's columns,
//           rewritten by the next row's groups;
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
  /** (x, C, H, W, padT, padL, r0, Rt, tilesW, band, Wb, v, ldv, vStride, pad, xor): one image, per tile row */
  input: 'input',
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
  m.func(QWINOGRAD_EXPORTS.input, Array<typeof I32>(16).fill(I32), [], (f) => emitInputRows(f, v.m));
  m.func(QWINOGRAD_EXPORTS.gemms, Array<typeof I32>(14).fill(I32), [], (f) => emitGemms(f, gemm));
  for (const pool of [false, true]) {
    m.func(pool ? QWINOGRAD_EXPORTS.outputPool : QWINOGRAD_EXPORTS.output, Array<typeof I32>(14).fill(I32), [], (f) => emitOutput(f, v.m, pool));
    m.func(pool ? QWINOGRAD_EXPORTS.outputTilesPool : QWINOGRAD_EXPORTS.outputTiles, Array<typeof I32>(16).fill(I32), [], (f) => emitOutputTiles(f, v.m, pool));
  }
  return m.build();
}

/** The input transform's constants and α² input vectors, made once per function. */
interface InputCtx {
  m: IntWinogradTile; alpha: number; BT: number[][];
  at: (c: number) => Local; d: Local[][]; mask: Local; l0: Local; l1: Local; row0: Local; row1: Local; ptr: Local;
}

function inputCtx(f: FuncBuilder, m: IntWinogradTile): InputCtx {
  const { alpha, BT } = integerWinograd(m);
  const at = constants(f);
  splatAll(f, 'i16x8', BT.flat(), at);
  const c = { m, alpha, BT, at, d: Array.from({ length: alpha }, () => Array.from({ length: alpha }, () => f.local(V128))),
    mask: f.local(V128), l0: f.local(V128), l1: f.local(V128), row0: f.local(), row1: f.local(), ptr: f.local() };
  f.i32(0x80).op('i8x16.splat').set(c.mask);
  return c;
}

/**
 * Bᵀ d B of 4 tiles of two channels at once, i16 lane 2k + h = tile k of channel h, which is
 * the GEMM's B layout (channel pairs interleaved), so each of the α² vectors is stored as it
 * is, from `dst` on, vStride apart. Tile k's column b of input row a is byte m·k + b of the row
 * a·stride after base0 / base1 (uint8 read as x − 128: `unsigned`).
 */
function transformPairs(f: FuncBuilder, c: InputCtx, base0: Local, base1: Local, stride: Local, dst: Local, vStride: Local, unsigned: boolean): void {
  const { m, alpha, d, l0, l1, row0, row1 } = c;
  // 16 bytes from `from` cover columns b of the 4 tiles while 3m + b − from < 16
  const span = 16 - 3 * m;
  f.get(base0).set(row0);
  f.get(base1).set(row1);
  for (let a = 0; a < alpha; a++) {
    if (a > 0) { f.addTo(row0, stride); f.addTo(row1, stride); }
    for (let from = 0; from < alpha; from += span) {
      for (const [row, l] of [[row0, l0], [row1, l1]]) {
        f.get(row).mem('v128.load', from);
        if (unsigned) f.get(c.mask).op('v128.xor');
        f.set(l);
      }
      for (let b = from; b < Math.min(alpha, from + span); b++) {
        const pick = Array.from({ length: 16 }, (_, j) => (j < 8 ? m * (j >> 1) + b - from + 16 * (j & 1) : 0));
        f.get(l0).get(l1).shuffle(pick).op('i16x8.extend_low_i8x16_s').set(d[a][b]);
      }
    }
  }
  const V = sandwich(f, 'i16x8', c.BT, d, c.at);
  f.get(dst).set(c.ptr);
  V.flat().forEach((vp, p) => {
    if (p > 0) f.addTo(c.ptr, vStride);
    f.get(c.ptr).get(vp).mem('v128.store');
  });
}

/** Tile rows (wide images): per tile row, 4 tiles of it per group; a band of Rt·m + 2 rows, Wb bytes each. */
function emitInputRows(f: FuncBuilder, m: IntWinogradTile): void {
  const [x, C, H, W, padT, padL, r0, Rt, tilesW, band, Wb, v, ldv, vStride, pad, xor] = f.params;
  const c = inputCtx(f, m);
  const rowsB = f.local(), bandBytes = f.local(), c2 = f.local(), i = f.local(), y = f.local(), r = f.local(), tc = f.local(), base0 = f.local(), base1 = f.local(), dst = f.local();
  f.get(Rt).i32(m).op('i32.mul').i32(2).op('i32.add').set(rowsB);
  f.get(rowsB).get(Wb).op('i32.mul').set(bandBytes);
  const body = (unsigned: boolean) => f.forUp(c2, 0, C, 2, () => {
    // each channel's band: padded, then input row y (where it exists) into band row i
    for (let h = 0; h < 2; h++) {
      f.get(c2).i32(h).op('i32.add').get(C).op('i32.lt_s').if(() => {
        f.get(band).get(bandBytes).i32(h).op('i32.mul').op('i32.add').get(pad).get(bandBytes).memoryFill();
        f.forUp(i, 0, rowsB, 1, () => {
          f.get(r0).i32(m).op('i32.mul').get(padT).op('i32.sub').get(i).op('i32.add').set(y);
          f.get(y).get(H).op('i32.lt_u').if(() => {
            f.get(band).get(bandBytes).i32(h).op('i32.mul').op('i32.add').get(i).get(Wb).op('i32.mul').op('i32.add').get(padL).op('i32.add');
            f.get(x).get(c2).i32(h).op('i32.add').get(H).op('i32.mul').get(W).op('i32.mul').op('i32.add').get(y).get(W).op('i32.mul').op('i32.add');
            f.get(W).memoryCopy();
          });
        });
      });
    }
    f.forUp(r, 0, Rt, 1, () => {
      f.forUp(tc, 0, tilesW, 4, () => {
        f.get(band).get(r).i32(m).op('i32.mul').get(Wb).op('i32.mul').op('i32.add').get(tc).i32(m).op('i32.mul').op('i32.add').tee(base0)
          .get(bandBytes).op('i32.add').set(base1);
        // tiles tc.. of row r at pair c2/2
        f.get(v).get(c2).i32(1).op('i32.shr_u').get(ldv).op('i32.mul').get(r).get(tilesW).op('i32.mul').op('i32.add').get(tc).op('i32.add')
          .i32(4).op('i32.mul').op('i32.add').set(dst);
        transformPairs(f, c, base0, base1, Wb, dst, vStride, unsigned);
      });
    });
  });
  f.get(xor).if(() => body(true), () => body(false));
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
