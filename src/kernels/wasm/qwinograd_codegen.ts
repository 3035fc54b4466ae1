// Code generation for the integer Winograd conv F(m×m, 3×3) (ir/winograd.ts integerWinograd):
//   input   per pair of input channels: the chunk's input rows copied into two bands
//           padded with the input zero point, then per 8 tiles of a tile row (i16 lanes)
//           Bᵀ d B on the int8 values (uint8 read as x − 128), exact in int16, written as
//           α² matrices of i16 channel pairs [C/2 × ldv tiles] (the GEMM's B, i16 pairs);
//   gemms   α² integer GEMMs U''_p [M × C] · V_p, int32 out (qgemm_codegen.ts, b16 driver);
//   output  per output channel and 4 tiles of a tile row (i32 lanes): Aᵀ'' M A'' (mod 2^32),
//           × odd⁻¹, + 2^e·bias, the layer's requantization with its shift + e and the fused
//           clamp (qgemm_codegen.ts requantLanes), narrowed to 8 bits and stored NCHW.
// All arithmetic is on integers, wrapping mod 2^16 / 2^32 only where the final value fits:
// the result equals the direct integer conv bit for bit (the planner checks the bound).
import { type IntWinogradTile, integerWinograd } from '../../ir/winograd.js';
import { FuncBuilder, Local, ModuleBuilder } from './emitter.js';
import { memoryImport } from './loader.js';
import { I32, V128 } from './opcodes.js';
import { addQGemmFuncs, EP, loadRequantRegs, QOUT, requantLanes, type QGemmVariant } from './qgemm_codegen.js';

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
  /** (x, C, H, W, padT, padL, r0, Rt, tilesW, band, Wb, tmp, v, ldv, vStride, pad, xor) */
  input: 'input',
  /** (pa, aStride, pb, vStride, ldv, c, mStride, ldm, M, N, K, ep, scratch, count) */
  gemms: 'gemms',
  /** (src, mStride, ldm, M, y, OH, OW, tilesW, r0, Rt, bias, mult, ep, stage) */
  output: 'output',
} as const;

export function qwinogradModule(v: QWinogradVariant): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(v.shared));
  const gemm = addQGemmFuncs(m, { mr: v.mr, nr: v.nr, unroll: 1, shared: v.shared } satisfies QGemmVariant, true);
  m.func(QWINOGRAD_EXPORTS.input, Array<typeof I32>(17).fill(I32), [], (f) => emitInput(f, v.m));
  m.func(QWINOGRAD_EXPORTS.gemms, Array<typeof I32>(14).fill(I32), [], (f) => emitGemms(f, gemm));
  m.func(QWINOGRAD_EXPORTS.output, Array<typeof I32>(14).fill(I32), [], (f) => emitOutput(f, v.m));
  return m.build();
}

type Lanes = 'i16x8' | 'i32x4';

/** Splatted constants, made once per function. */
function constants(f: FuncBuilder): (c: number) => Local {
  const made = new Map<number, Local>();
  return (c) => {
    let l = made.get(c);
    if (!l) {
      l = f.local(V128);
      made.set(c, l);
    }
    return l;
  };
}

const isPow2 = (c: number): boolean => (c & (c - 1)) === 0;

/** Splats of the coefficients that are not powers of two (those are shifts), at the function's start. */
function splatAll(f: FuncBuilder, lanes: Lanes, coefs: number[], at: (c: number) => Local): void {
  for (const c of new Set(coefs.map(Math.abs).filter((c) => !isPow2(c)))) f.i32(c).op(`${lanes}.splat`).set(at(c));
}

/** dst = Σ coef_k · term_k (integer coefficients; at least one non-zero); powers of two as shifts (i32x4.mul is slow on x64). */
function combine(f: FuncBuilder, lanes: Lanes, coefs: number[], terms: Local[], at: (c: number) => Local, dst: Local): void {
  let first = true;
  coefs.forEach((c, k) => {
    if (c === 0) return;
    f.get(terms[k]);
    const a = Math.abs(c);
    if (a > 1 && isPow2(a)) f.i32(Math.log2(a)).op(`${lanes}.shl`);
    else if (a > 1) f.get(at(a)).op(`${lanes}.mul`);
    if (first && c < 0) f.op(`${lanes}.neg`);
    else if (!first) f.op(c < 0 ? `${lanes}.sub` : `${lanes}.add`);
    first = false;
  });
  f.set(dst);
}

/** out[i][j] = Σ_a Σ_b L[i][a] x[a][b] L[j][b] (L: rows × α), through rows of L·x. */
function sandwich(f: FuncBuilder, lanes: Lanes, L: number[][], x: Local[][], at: (c: number) => Local): Local[][] {
  const t = L.map((row) => x[0].map((_, b) => {
    const d = f.local(V128);
    combine(f, lanes, row, x.map((r) => r[b]), at, d);
    return d;
  }));
  return L.map((_, i) => L.map((rowJ) => {
    const d = f.local(V128);
    combine(f, lanes, rowJ, t[i], at, d);
    return d;
  }));
}

function emitInput(f: FuncBuilder, m: IntWinogradTile): void {
  const [x, C, H, W, padT, padL, r0, Rt, tilesW, band, Wb, tmp, v, ldv, vStride, pad, xor] = f.params;
  const { alpha, BT } = integerWinograd(m), a2 = alpha * alpha;
  const at = constants(f);
  splatAll(f, 'i16x8', BT.flat(), at);
  const rowsB = f.local(), bandBytes = f.local(), c2 = f.local(), i = f.local(), y = f.local(), r = f.local(), tc = f.local();
  const base = f.local(), row = f.local(), dst = f.local(), mask = f.local(V128), lo = f.local(V128), hi = f.local(V128);
  f.get(xor).if(() => { f.i32(0x80).op('i8x16.splat').set(mask); });
  f.get(Rt).i32(m).op('i32.mul').i32(2).op('i32.add').set(rowsB);
  f.get(rowsB).get(Wb).op('i32.mul').set(bandBytes);
  const d = Array.from({ length: alpha }, () => Array.from({ length: alpha }, () => f.local(V128)));
  // lane j of d[a][b] = band[row a][column m·j + b] of tile j, sign-extended to i16
  const pick = Array.from({ length: 16 }, (_, j) => (j < 8 ? m * j : 0));
  f.forUp(c2, 0, C, 2, () => {
    for (let h = 0; h < 2; h++) {
      f.get(c2).i32(h).op('i32.add').get(C).op('i32.lt_s').if(() => {
        f.get(band).get(bandBytes).i32(h).op('i32.mul').op('i32.add').get(pad).get(bandBytes).memoryFill();
        f.forUp(i, 0, rowsB, 1, () => {
          f.get(r0).i32(m).op('i32.mul').get(padT).op('i32.sub').get(i).op('i32.add').set(y);
          f.get(y).i32(0).op('i32.ge_s').get(y).get(H).op('i32.lt_s').op('i32.and').if(() => {
            f.get(band).get(bandBytes).i32(h).op('i32.mul').op('i32.add').get(i).get(Wb).op('i32.mul').op('i32.add').get(padL).op('i32.add');
            f.get(x).get(c2).i32(h).op('i32.add').get(H).op('i32.mul').get(y).op('i32.add').get(W).op('i32.mul').op('i32.add');
            f.get(W).memoryCopy();
          });
        });
      });
    }
    f.forUp(r, 0, Rt, 1, () => {
      f.forUp(tc, 0, tilesW, 8, () => {
        for (let h = 0; h < 2; h++) {
          f.get(band).get(bandBytes).i32(h).op('i32.mul').op('i32.add').get(r).i32(m).op('i32.mul').get(Wb).op('i32.mul').op('i32.add')
            .get(tc).i32(m).op('i32.mul').op('i32.add').set(base);
          for (let a = 0; a < alpha; a++) {
            // the row's bytes from `from` on (32 of them) cover columns b = from.. of the 8 tiles while m·7 + b − from < 32
            for (let from = 0; from < alpha; from += 32 - 7 * m) {
              f.get(base).get(Wb).i32(a).op('i32.mul').op('i32.add').set(row);
              f.get(row).mem('v128.load', from).get(mask).op('v128.xor').set(lo);
              f.get(row).mem('v128.load', from + 16).get(mask).op('v128.xor').set(hi);
              for (let b = from; b < Math.min(alpha, from + 32 - 7 * m); b++) {
                f.get(lo).get(hi).shuffle(pick.map((p, j) => (j < 8 ? p + b - from : 0))).op('i16x8.extend_low_i8x16_s').set(d[a][b]);
              }
            }
          }
          const V = sandwich(f, 'i16x8', BT, d, at);
          V.flat().forEach((vp, p) => { f.get(tmp).get(vp).mem('v128.store', (h * a2 + p) * 16); });
        }
        // channel pairs interleaved: tiles tc.. of row r at pair c2/2
        f.get(v).get(c2).i32(1).op('i32.shr_u').get(ldv).op('i32.mul').get(r).get(tilesW).op('i32.mul').op('i32.add').get(tc).op('i32.add')
          .i32(4).op('i32.mul').op('i32.add').set(dst);
        for (let p = 0; p < a2; p++) {
          f.get(tmp).mem('v128.load', p * 16).set(lo);
          f.get(tmp).mem('v128.load', (a2 + p) * 16).set(hi);
          f.get(dst).get(lo).get(hi).shuffle([0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23]).mem('v128.store');
          f.get(dst).get(lo).get(hi).shuffle([8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31]).mem('v128.store', 16);
          f.get(dst).get(vStride).op('i32.add').set(dst);
        }
      });
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

function emitOutput(f: FuncBuilder, m: IntWinogradTile): void {
  const [src, mStride, ldm, M, y, OH, OW, tilesW, r0, Rt, bias, mult, ep, stage] = f.params;
  const w = integerWinograd(m), alpha = w.alpha;
  const at = constants(f);
  splatAll(f, 'i32x4', w.AT.flat(), at);
  const inv = f.local(V128);
  f.i32(w.oddInv).op('i32x4.splat').set(inv);
  const regs = loadRequantRegs(f, ep);
  const o = f.local(), r = f.local(), tc = f.local(), row = f.local(), s = f.local(), dst = f.local(), valid = f.local(), unsigned = f.local();
  const bv = f.local(V128), mv = f.local(V128), n8 = f.local(V128), n16a = f.local(V128), n16b = f.local(V128);
  f.get(ep).mem('i32.load', EP.out).i32(QOUT.uint8).op('i32.eq').set(unsigned);
  const Mv = Array.from({ length: alpha }, () => Array.from({ length: alpha }, () => f.local(V128)));
  // byte k·m + j of a row = tile k, column j; the narrowed row holds column j of tile k at 4j + k
  const order = Array.from({ length: 16 }, (_, e) => (e < 4 * m ? (e % m) * 4 + Math.floor(e / m) : 0));
  f.forUp(o, 0, M, 1, () => {
    f.get(bias).get(o).i32(4).op('i32.mul').op('i32.add').mem('v128.load32_splat').set(bv);
    f.get(mult).get(o).i32(4).op('i32.mul').op('i32.add').mem('v128.load32_splat').set(mv);
    f.forUp(r, 0, Rt, 1, () => {
      f.forUp(tc, 0, tilesW, 4, () => {
        f.get(src).get(o).get(ldm).op('i32.mul').get(r).get(tilesW).op('i32.mul').op('i32.add').get(tc).op('i32.add').i32(4).op('i32.mul').op('i32.add').set(s);
        for (let a = 0; a < alpha; a++) {
          for (let b = 0; b < alpha; b++) {
            f.get(s).mem('v128.load').set(Mv[a][b]);
            f.get(s).get(mStride).op('i32.add').set(s);
          }
        }
        const Y = sandwich(f, 'i32x4', w.AT, Mv, at);
        for (const yv of Y.flat()) {
          if (w.odd !== 1) f.get(yv).get(inv).op('i32x4.mul').set(yv);
          f.get(yv).get(bv).op('i32x4.add').set(yv);
          requantLanes(f, yv, mv, regs);
        }
        f.get(OW).get(tc).i32(m).op('i32.mul').op('i32.sub').set(valid);
        for (let i = 0; i < m; i++) {
          f.get(r0).get(r).op('i32.add').i32(m).op('i32.mul').i32(i).op('i32.add').set(row);
          f.get(row).get(OH).op('i32.lt_s').if(() => {
            const Yi = Y[i];
            f.get(Yi[0]).get(Yi[1]).op('i16x8.narrow_i32x4_s').set(n16a);
            if (m === 4) f.get(Yi[2]).get(Yi[3]).op('i16x8.narrow_i32x4_s').set(n16b);
            const n16 = m === 4 ? n16b : n16a;
            f.get(unsigned).if(() => { f.get(n16a).get(n16).op('i8x16.narrow_i16x8_u').set(n8); }, () => { f.get(n16a).get(n16).op('i8x16.narrow_i16x8_s').set(n8); });
            f.get(n8).get(n8).shuffle(order).set(n8);
            f.get(y).get(o).get(OH).op('i32.mul').get(row).op('i32.add').get(OW).op('i32.mul').op('i32.add').get(tc).i32(m).op('i32.mul').op('i32.add').set(dst);
            f.get(valid).i32(4 * m).op('i32.ge_s').if(() => {
              if (m === 4) f.get(dst).get(n8).mem('v128.store');
              else f.get(dst).get(n8).memLane('v128.store64_lane', 0, 0);
            }, () => {
              f.get(stage).get(n8).mem('v128.store');
              f.get(dst).get(stage).get(valid).memoryCopy();
            });
          });
        }
      });
    });
  });
}
