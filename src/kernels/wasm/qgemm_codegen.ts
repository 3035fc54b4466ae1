// Code generation for the integer GEMM: C[M×N] = requant(A[M×K]·B[K×N] + bias) on
// int8 operands with int32 accumulators. The inner product is i32x4.dot_i16x8_s:
// each i32 lane adds a(k)·b(k) + a(k+1)·b(k+1), so K is walked in pairs and both
// operands are packed pair-wise (zero-padded to whole panels and an even K):
//   A: panels of MR rows, panel p at pa + p·kp·MR·4; pair q of row i at [q·MR + i]
//      as two i16 (a(i,2q), a(i,2q+1)), read with one v128.load32_splat;
//   B: panels of NR columns, panel p at pb + p·kp·NR·4; pair q of column j at
//      bytes [q·NR + j]·4 as two i16 (b(2q,j), b(2q+1,j)), four columns by one v128.load.
// Both operands are widened to i16 when packed (B's weights once at plan time, an
// activation panel per call), so the loop is loads, dot and add only: widening i8 B in
// the loop (v128.load8x8_s) cost 2 of its 18 vector ops and ~10% of the loop's time.
// kp = ceil(K/2). Only A's padding must be zero (B's odd-K pad meets A's zero).
// The epilogue adds an int32 bias, requantizes (i64 products, one rounding shift,
// ir/quant.ts requantizeValue; `requantized`), adds the output zero point, clamps (a fused ReLU
// is a clamp at the zero point) and narrows to int8 / uint8 / int16, or stores
// the int32 accumulators as they are (MatMulInteger, ConvInteger).
import { FuncBuilder, Local, ModuleBuilder } from './emitter.js';
import { panelLoop } from './gemm_codegen.js';
import { emitPackConv, storePairs } from './qgemm_pack_codegen.js';
import { memoryImport } from './loader.js';
import { I32, V128, type ValType } from './opcodes.js';

export interface QGemmVariant {
  /** Rows of the register tile. */
  mr: number;
  /** Columns of the register tile (a multiple of 4). */
  nr: number;
  /** K-pair steps per loop iteration. */
  unroll: number;
  shared: boolean;
}

/** Output element types: the code stored in the epilogue block. */
export const QOUT = { int8: 0, uint8: 1, int16: 2, int32: 3 } as const;
export type QOutType = keyof typeof QOUT;
export const QOUT_BYTES: Record<QOutType, number> = { int8: 1, uint8: 1, int16: 2, int32: 4 };

/**
 * The epilogue block (EPILOGUE_BYTES at `ep`), fixed per layer: i32 fields at these
 * byte offsets. perRow: bias and multipliers run along the rows of C (a conv's
 * output channels) instead of the columns (a fully connected layer's outputs).
 */
export const EP = { shift: 0, zero: 4, lo: 8, hi: 12, out: 16, perRow: 20 } as const;
export const EPILOGUE_BYTES = 32;

export const QGEMM_EXPORTS = {
  /** (src, lda, rows, K, dst, xor): packs A (row-major int8, or uint8 with xor = 1) as i16 pairs. */
  packA: 'packA',
  /** (src, ldb, cols, K, dst, xor): packs B (row-major K×N int8, or uint8 with xor = 1) as interleaved i16 pairs. */
  packB: 'packB',
  /** (pa, pb, c, ldc, M, N, K, bias, mult, ep, scratch); ldc in elements; bias / mult = 0 for none. */
  gemm: 'gemm',
  /** (x, C, H, W, kh, kw, sh, sw, dh, dw, OW, P0, cols, dst, xor): B packed from a conv's unpadded input (qgemm_pack_codegen.ts). */
  packConv: 'packConv',
} as const;

/** Scratch bytes per thread: one edge tile of int32. */
export function qgemmScratchBytes(v: Pick<QGemmVariant, 'mr' | 'nr'>): number {
  return v.mr * v.nr * 4;
}

const KERNEL_PARAMS: ValType[] = [I32, I32, I32, I32, I32, I32, I32, I32];

export function qgemmModule(v: QGemmVariant): Uint8Array {
  if (v.nr % 4 !== 0 || v.nr < 4 || v.mr < 1 || v.unroll < 1) throw new Error(`qgemm variant ${JSON.stringify(v)} is invalid`);
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(v.shared));
  m.func(QGEMM_EXPORTS.packA, [I32, I32, I32, I32, I32, I32], [], (f) => emitPackA(f, v.mr));
  m.func(QGEMM_EXPORTS.packB, [I32, I32, I32, I32, I32, I32], [], (f) => emitPackB(f, v.nr));
  m.func(QGEMM_EXPORTS.packConv, Array<ValType>(15).fill(I32), [], (f) => emitPackConv(f, v.nr));
  addQGemmFuncs(m, v, false, QGEMM_EXPORTS.gemm);
  return m.build();
}

/**
 * The micro-kernels and the driver into a module; returns the driver's index. b16: B is not
 * in panels but a matrix of i16 pairs (pair q of column j at pb + q·ldb + 4j, ldb in bytes, the
 * driver's last parameter): the integer Winograd conv's transformed inputs (qwinograd_codegen.ts).
 */
export function addQGemmFuncs(m: ModuleBuilder, v: QGemmVariant, b16: boolean, exportName?: string): number {
  const extra: ValType[] = b16 ? [I32] : [];
  const kernels: number[] = [];
  for (let r = 1; r <= v.mr; r++) kernels[r] = m.func(undefined, [...KERNEL_PARAMS, ...extra], [], (f) => emitMicroKernel(f, v, r, b16));
  return m.func(exportName, [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, ...extra], [], (f) => emitDriver(f, v, kernels, b16));
}

/** An i8 vector of 0x80 when `xor` is set (uint8 → int8 as x − 128), else of zeros. */
function xorMask(f: FuncBuilder, xor: Local): Local {
  const mask = f.local(V128);
  f.get(xor).if(() => { f.i32(0x80).op('i8x16.splat').set(mask); });
  return mask;
}

/**
 * A (rows × K, row stride lda bytes) into panels of `mr` rows of i16 pairs; the
 * destination is zeroed first (the padding rows and the odd-K pad stay 0). With mr a
 * multiple of 4, four rows at a time: eight values of each (one 8-byte load, sign-extended),
 * their pairs transposed so that each pair index is one 16-byte store (twice as fast as row
 * by row: A is an fc's activations, packed per call). Other rows: one row at a time, four lane stores.
 */
function emitPackA(f: FuncBuilder, mr: number): void {
  const [src, lda, rows, K, dst, xor] = f.params;
  const kp = f.local(), i = f.local(), row = f.local(), k = f.local(), s = f.local(), d = f.local(), full = f.local(), x = f.local(V128), quads = f.local();
  const r = Array.from({ length: 4 }, () => f.local(V128)), t = Array.from({ length: 4 }, () => f.local(V128));
  const mask = xorMask(f, xor);
  f.get(K).i32(1).op('i32.add').i32(1).op('i32.shr_u').set(kp);
  // dst: ceil(rows/mr)·mr·kp·4 bytes of zeros
  f.get(dst).i32(0).get(rows).i32(mr - 1).op('i32.add').i32(mr).op('i32.div_u').i32(mr * 4).op('i32.mul').get(kp).op('i32.mul').memoryFill();
  f.get(K).get(K).i32(7).op('i32.and').op('i32.sub').set(full); // K rounded down to 8
  /** s, d = the row's first value and its pair 0 (dst + (row / mr)·mr·kp·4 + (row % mr)·4). */
  const rowStart = (row: Local): void => {
    f.get(dst).get(row).i32(mr).op('i32.div_u').i32(mr * 4).op('i32.mul').get(kp).op('i32.mul').op('i32.add')
      .get(row).i32(mr).op('i32.rem_u').i32(4).op('i32.mul').op('i32.add').set(d);
    f.get(src).get(row).get(lda).op('i32.mul').op('i32.add').set(s);
  };
  /** Values full .. K − 1 of a row, one at a time: the low or high i16 of its pair. */
  const rowTail = (row: Local): void => {
    rowStart(row);
    f.forUp(k, full, K, 1, () => {
      f.get(d).get(k).i32(1).op('i32.shr_u').i32(mr * 4).op('i32.mul').op('i32.add').get(k).i32(1).op('i32.and').i32(2).op('i32.mul').op('i32.add');
      f.get(s).get(k).op('i32.add').mem('i32.load8_u').get(xor).i32(7).op('i32.shl').op('i32.xor').op('i32.extend8_s').mem('i32.store16');
    });
  };
  f.i32(0).set(quads);
  if (mr % 4 === 0) {
    f.get(rows).get(rows).i32(3).op('i32.and').op('i32.sub').set(quads);
    f.forUp(i, 0, quads, 4, () => {
      rowStart(i);
      f.forUp(k, 0, full, 8, () => {
        r.forEach((v, l) => {
          f.get(s); if (l > 0) f.get(lda).i32(l).op('i32.mul').op('i32.add');
          f.mem('v128.load64_zero').get(mask).op('v128.xor').op('i16x8.extend_low_i8x16_s').set(v);
        });
        // rows' pairs (32-bit lanes) transposed: out q = [r0 q, r1 q, r2 q, r3 q]
        f.get(r[0]).get(r[1]).shuffle32(0, 4, 1, 5).set(t[0]).get(r[2]).get(r[3]).shuffle32(0, 4, 1, 5).set(t[1]);
        f.get(r[0]).get(r[1]).shuffle32(2, 6, 3, 7).set(t[2]).get(r[2]).get(r[3]).shuffle32(2, 6, 3, 7).set(t[3]);
        f.get(d).get(t[0]).get(t[1]).shuffle32(0, 1, 4, 5).mem('v128.store');
        f.get(d).get(t[0]).get(t[1]).shuffle32(2, 3, 6, 7).mem('v128.store', mr * 4);
        f.get(d).get(t[2]).get(t[3]).shuffle32(0, 1, 4, 5).mem('v128.store', 2 * mr * 4);
        f.get(d).get(t[2]).get(t[3]).shuffle32(2, 3, 6, 7).mem('v128.store', 3 * mr * 4);
        f.addTo(s, 8).addTo(d, 4 * mr * 4);
      });
      f.forUp(row, i, () => { f.get(i).i32(4).op('i32.add'); }, 1, () => rowTail(row));
    });
  }
  f.forUp(i, quads, rows, 1, () => {
    rowStart(i);
    f.forUp(k, 0, full, 8, () => {
      f.get(s).mem('v128.load64_zero').get(mask).op('v128.xor').op('i16x8.extend_low_i8x16_s').set(x);
      for (let l = 0; l < 4; l++) f.get(d).get(x).memLane('v128.store32_lane', l * mr * 4, l);
      f.addTo(s, 8).addTo(d, 4 * mr * 4);
    });
    rowTail(i);
  });
}

/**
 * B (K × cols, row stride ldb bytes) into panels of `nr` columns of interleaved i16
 * pairs: rows 2q and 2q+1 of eight (or four) columns loaded and shuffled together.
 * The last, partial panel is copied value by value (zeros past the last column).
 */
function emitPackB(f: FuncBuilder, nr: number): void {
  const [src, ldb, cols, K, dst, xor] = f.params;
  const kp = f.local(), j = f.local(), q = f.local(), r0 = f.local(), d = f.local(), full = f.local(), pairs = f.local();
  const v0 = f.local(V128), v1 = f.local(V128);
  const mask = xorMask(f, xor);
  f.get(K).i32(1).op('i32.add').i32(1).op('i32.shr_u').set(kp);
  f.get(K).i32(1).op('i32.shr_u').set(pairs); // whole pairs
  f.get(cols).get(cols).i32(nr).op('i32.rem_u').op('i32.sub').set(full);
  const interleave = (width: 8 | 4, at: number, lastOdd: boolean): void => {
    const load = width === 8 ? 'v128.load64_zero' : 'v128.load32_zero';
    f.get(r0).mem(load, at).get(mask).op('v128.xor').set(v0);
    if (lastOdd) f.i32(0).op('i8x16.splat').set(v1);
    else f.get(r0).get(ldb).op('i32.add').mem(load, at).get(mask).op('v128.xor').set(v1);
    storePairs(f, d, v0, v1, width, at);
  };
  const panel = (lastOdd: boolean): void => {
    for (let at = 0; at + 8 <= nr; at += 8) interleave(8, at, lastOdd);
    if (nr % 8) interleave(4, nr - 4, lastOdd);
  };
  f.forUp(j, 0, full, nr, () => {
    f.get(dst).get(j).get(kp).op('i32.mul').i32(4).op('i32.mul').op('i32.add').set(d);
    f.forUp(q, 0, pairs, 1, () => {
      f.get(src).get(q).i32(2).op('i32.mul').get(ldb).op('i32.mul').op('i32.add').get(j).op('i32.add').set(r0);
      panel(false);
      f.addTo(d, nr * 4);
    });
    f.get(K).i32(1).op('i32.and').if(() => {
      f.get(src).get(pairs).i32(2).op('i32.mul').get(ldb).op('i32.mul').op('i32.add').get(j).op('i32.add').set(r0);
      panel(true);
    });
  });
  // the partial panel, value by value: row k, column j at byte (k/2)·nr·4 + (j − full)·4 + (k & 1)·2 of the panel
  f.get(full).get(cols).op('i32.lt_s').if(() => {
    f.get(dst).get(full).get(kp).op('i32.mul').i32(4).op('i32.mul').op('i32.add').set(d);
    f.get(d).i32(0).get(kp).i32(nr * 4).op('i32.mul').memoryFill();
    f.forUp(q, 0, K, 1, () => { // q: the row k
      f.forUp(j, full, cols, 1, () => {
        f.get(d).get(q).i32(1).op('i32.shr_u').i32(nr * 4).op('i32.mul').op('i32.add')
          .get(j).get(full).op('i32.sub').i32(4).op('i32.mul').op('i32.add').get(q).i32(1).op('i32.and').i32(2).op('i32.mul').op('i32.add');
        f.get(src).get(q).get(ldb).op('i32.mul').op('i32.add').get(j).op('i32.add').mem('i32.load8_u')
          .get(xor).i32(7).op('i32.shl').op('i32.xor').op('i32.extend8_s').mem('i32.store16');
      });
    });
  });
}

/**
 * The rows×NR micro-kernel over all of K (rows ≤ MR; packed A keeps its MR stride).
 * Params: (pa, pb, kp, c, ldcBytes, bias, mult, ep): bias / mult already offset to
 * this tile's first channel (0 = none; no mult = store the int32 accumulators).
 */
function emitMicroKernel(f: FuncBuilder, v: QGemmVariant, rows: number, b16: boolean): void {
  const [pa, pb, kp, c, ldc, bias, mult, ep, ldb] = f.params;
  const nv = v.nr / 4;
  const acc: Local[][] = [];
  for (let i = 0; i < rows; i++) acc.push(Array.from({ length: nv }, () => f.local(V128)));
  const bv = Array.from({ length: nv }, () => f.local(V128));
  const a = f.local(V128), end = f.local();
  const step = (u: number): void => {
    for (let j = 0; j < nv; j++) f.get(pb).mem('v128.load', (b16 ? 0 : u * v.nr * 4) + 16 * j).set(bv[j]);
    for (let i = 0; i < rows; i++) {
      f.get(pa).mem('v128.load32_splat', (u * v.mr + i) * 4).set(a);
      for (let j = 0; j < nv; j++) f.get(acc[i][j]).get(a).get(bv[j]).op('i32x4.dot_i16x8_s').op('i32x4.add').set(acc[i][j]);
    }
  };
  if (b16) {
    // B rows ldb bytes apart: A walks to its end, B follows
    f.get(pa).get(kp).i32(v.mr * 4).op('i32.mul').op('i32.add').set(end);
    f.get(pa).get(end).op('i32.lt_u').if(() => f.loop((top) => {
      step(0);
      f.addTo(pa, v.mr * 4).addTo(pb, ldb);
      f.get(pa).get(end).op('i32.lt_u').brIf(top);
    }));
  } else {
    panelLoop(f, { pa, pb, end, count: kp, unroll: v.unroll, aStep: v.mr * 4, bStep: v.nr * 4 }, step);
  }
  const perChannel = (ptr: Local, apply: (x: Local, t: Local) => void): void => {
    const t = f.local(V128);
    f.get(ep).mem('i32.load', EP.perRow).if(() => {
      for (let i = 0; i < rows; i++) {
        f.get(ptr).mem('v128.load32_splat', 4 * i).set(t);
        for (let j = 0; j < nv; j++) apply(acc[i][j], t);
      }
    }, () => {
      for (let j = 0; j < nv; j++) {
        f.get(ptr).mem('v128.load', 16 * j).set(t);
        for (let i = 0; i < rows; i++) apply(acc[i][j], t);
      }
    });
  };
  f.get(bias).if(() => perChannel(bias, (x, t) => { f.get(x).get(t).op('i32x4.add').set(x); }));
  f.get(mult).if(() => emitRequant(f, mult, ep, perChannel));
  emitStore(f, v, acc, c, ldc, ep);
}

/** The epilogue block's requantization constants in locals (`requantized`'s registers); high = shift − 32. */
export interface RequantRegs { shift: Local; high: Local; rnd: Local; zero: Local; lo: Local; hi: Local }

export function loadRequantRegs(f: FuncBuilder, ep: Local): RequantRegs {
  const r = { shift: f.local(), high: f.local(), rnd: f.local(V128), zero: f.local(V128), lo: f.local(V128), hi: f.local(V128) };
  f.get(ep).mem('i32.load', EP.shift).set(r.shift);
  f.get(r.shift).i32(32).op('i32.sub').set(r.high);
  f.i32(1).op('i64.extend_i32_u').get(r.shift).i32(1).op('i32.sub').op('i64.extend_i32_u').op('i64.shl').op('i64x2.splat').set(r.rnd);
  f.get(ep).mem('v128.load32_splat', EP.zero).set(r.zero);
  f.get(ep).mem('v128.load32_splat', EP.lo).set(r.lo);
  f.get(ep).mem('v128.load32_splat', EP.hi).set(r.hi);
  return r;
}

/** One lane-wise requantization of x by m: what `requantized` hands its body. */
export type RequantLanes = (x: Local, m: Local) => void;

/**
 * Emits `body` twice, under one test of the shift, each copy given its requantization:
 * x = clamp(((x·m + 2^(shift−1)) >> shift) + zero, lo, hi) lane by lane with 64-bit products
 * (ir/quant.ts requantizeValue). shift ≥ 32 (the usual case): the high words of the 64-bit
 * sums, shifted by shift − 32 in i32 lanes — floor(floor(P / 2^32) / 2^(shift−32)) =
 * floor(P / 2^shift), the same integers without i64x2.shr_s (emulated on x64, the costly
 * part); below 32, the 64-bit shift.
 */
export function requantized(f: FuncBuilder, r: RequantRegs, body: (requant: RequantLanes) => void): void {
  const sums = (x: Local, m: Local, then: () => void): void => {
    for (const which of ['low', 'high']) { f.get(x).get(m).op(`i64x2.extmul_${which}_i32x4_s`).get(r.rnd).op('i64x2.add'); then(); }
  };
  const finish = (x: Local): void => { f.get(r.zero).op('i32x4.add').get(r.lo).op('i32x4.max_s').get(r.hi).op('i32x4.min_s').set(x); };
  f.get(r.shift).i32(32).op('i32.ge_u').if(() => body((x, m) => {
    sums(x, m, () => undefined);
    f.shuffle([4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31]).get(r.high).op('i32x4.shr_s');
    finish(x);
  }), () => body((x, m) => {
    sums(x, m, () => { f.get(r.shift).op('i64x2.shr_s'); });
    f.shuffle([0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]);
    finish(x);
  }));
}

function emitRequant(f: FuncBuilder, mult: Local, ep: Local, perChannel: (ptr: Local, apply: (x: Local, t: Local) => void) => void): void {
  requantized(f, loadRequantRegs(f, ep), (requant) => perChannel(mult, requant));
}

/** Stores the tile's rows in the epilogue's output type (narrowing saturates, the clamp already bounded the values). */
function emitStore(f: FuncBuilder, v: QGemmVariant, acc: Local[][], c: Local, ldc: Local, ep: Local): void {
  const nv = v.nr / 4, row = f.local(), kind = f.local(), t = f.local(V128);
  f.get(ep).mem('i32.load', EP.out).set(kind);
  const eachRow = (body: (r: Local[]) => void): void => {
    f.get(c).set(row);
    acc.forEach((r, i) => {
      body(r);
      if (i < acc.length - 1) f.addTo(row, ldc);
    });
  };
  const bytes = (narrow8: string): void => eachRow((r) => {
    for (let j = 0; j < nv; j += 2) {
      const pair = j + 1 < nv;
      f.get(row).get(r[j]).get(pair ? r[j + 1] : r[j]).op('i16x8.narrow_i32x4_s').set(t);
      f.get(t).get(t).op(narrow8);
      f.memLane(pair ? 'v128.store64_lane' : 'v128.store32_lane', 4 * j, 0);
    }
  });
  f.get(kind).i32(QOUT.int32).op('i32.eq').if(() => eachRow((r) => {
    for (let j = 0; j < nv; j++) f.get(row).get(r[j]).mem('v128.store', 16 * j);
  }), () => {
    f.get(kind).i32(QOUT.int16).op('i32.eq').if(() => eachRow((r) => {
      for (let j = 0; j < nv; j += 2) {
        if (j + 1 < nv) f.get(row).get(r[j]).get(r[j + 1]).op('i16x8.narrow_i32x4_s').mem('v128.store', 8 * j);
        else f.get(row).get(r[j]).get(r[j]).op('i16x8.narrow_i32x4_s').memLane('v128.store64_lane', 8 * j, 0);
      }
    }), () => {
      f.get(kind).i32(QOUT.uint8).op('i32.eq').if(() => bytes('i8x16.narrow_i16x8_u'), () => bytes('i8x16.narrow_i16x8_s'));
    });
  });
}

/**
 * The driver: NR-column panels of B (a kp×NR panel stays in L1), MR-row panels of
 * A; full tiles store into C, right-edge tiles into scratch, then their valid columns are copied.
 * Params: (pa, pb, c, ldc, M, N, K, bias, mult, ep, scratch).
 */
function emitDriver(f: FuncBuilder, v: QGemmVariant, kernels: number[], b16: boolean): void {
  const [pa, pb, c, ldc, M, N, K, bias, mult, ep, scratch, ldb] = f.params;
  const kp = f.local(), eb = f.local(), ldcB = f.local(), jp = f.local(), ip = f.local(), pbp = f.local(), pap = f.local();
  const mrv = f.local(), nrv = f.local(), ct = f.local(), bt = f.local(), mt = f.local(), perRow = f.local(), i = f.local(), ch = f.local();
  f.get(K).i32(1).op('i32.add').i32(1).op('i32.shr_u').set(kp);
  // element bytes: int32 4, int16 2, else 1
  f.get(ep).mem('i32.load', EP.out).set(eb);
  f.get(eb).i32(QOUT.int32).op('i32.eq').if(() => { f.i32(4).set(eb); }, () => {
    f.get(eb).i32(QOUT.int16).op('i32.eq').if(() => { f.i32(2).set(eb); }, () => { f.i32(1).set(eb); });
  });
  f.get(ldc).get(eb).op('i32.mul').set(ldcB);
  f.get(ep).mem('i32.load', EP.perRow).set(perRow);
  f.forUp(jp, 0, N, v.nr, () => {
    if (b16) f.get(pb).get(jp).i32(4).op('i32.mul').op('i32.add').set(pbp);
    else f.get(pb).get(jp).get(kp).op('i32.mul').i32(4).op('i32.mul').op('i32.add').set(pbp);
    f.get(N).get(jp).op('i32.sub').set(nrv);
    f.forUp(ip, 0, M, v.mr, () => {
      f.get(pa).get(ip).get(kp).op('i32.mul').i32(4).op('i32.mul').op('i32.add').set(pap);
      f.get(M).get(ip).op('i32.sub').set(mrv);
      f.get(mrv).i32(v.mr).op('i32.gt_s').if(() => { f.i32(v.mr).set(mrv); });
      f.get(c).get(ip).get(ldcB).op('i32.mul').op('i32.add').get(jp).get(eb).op('i32.mul').op('i32.add').set(ct);
      f.get(perRow).if(() => { f.get(ip); }, () => { f.get(jp); }, I32);
      f.i32(4).op('i32.mul').set(ch); // this tile's first channel, in bytes
      f.get(bias).if(() => { f.get(bias).get(ch).op('i32.add'); }, () => { f.i32(0); }, I32);
      f.set(bt);
      f.get(mult).if(() => { f.get(mult).get(ch).op('i32.add'); }, () => { f.i32(0); }, I32);
      f.set(mt);
      const call = (dst: Local, ld: () => void): void => callRows(f, kernels, mrv, () => {
        f.get(pap).get(pbp).get(kp).get(dst); ld(); f.get(bt).get(mt).get(ep);
        if (b16) f.get(ldb);
      });
      f.get(nrv).i32(v.nr).op('i32.ge_s').if(() => call(ct, () => f.get(ldcB)), () => {
        call(scratch, () => f.i32(v.nr).get(eb).op('i32.mul'));
        f.forUp(i, 0, mrv, 1, () => {
          f.get(ct).get(i).get(ldcB).op('i32.mul').op('i32.add');
          f.get(scratch).get(i).i32(v.nr).op('i32.mul').get(eb).op('i32.mul').op('i32.add');
          f.get(nrv).get(eb).op('i32.mul').memoryCopy();
        });
      });
    });
  });
}

/** Calls kernels[rows] for a run-time row count 1..MR. */
function callRows(f: FuncBuilder, kernels: number[], rows: Local, pushArgs: () => void): void {
  const mr = kernels.length - 1;
  const chain = (r: number): void => {
    if (r === mr) { pushArgs(); f.call(kernels[r]); return; }
    f.get(rows).i32(r).op('i32.eq').if(() => { pushArgs(); f.call(kernels[r]); }, () => chain(r + 1));
  };
  chain(1);
}
