// Code generation for the sparse kernels (weights in CSR, src/kernels/csr.ts).
// WebAssembly SIMD has no gather, so each shape of work gets its own formulation:
//  - spmv  (batch 1, CSR): per output row, 4 nonzeros at a time: the 4 x values are
//    gathered with v128.load32_lane, the 4 weights are one v128 load (codes: 4 table
//    lanes), one f32x4 multiply-add; a horizontal sum at the row's end;
//  - spmvT (batch 1, CSC = CSR of Wᵀ): for each input i with x[i] ≠ 0 (ReLU outputs
//    and MNIST pixels are mostly 0) y[rows of column i] += w·x[i]: scalar scatter,
//    but the work shrinks with the input's zeros;
//  - spmm  (batch N and conv, CSR × dense B): per output row, each nonzero w(o,k)
//    adds w·B[k, j0:j0+16] into 4 f32x4 accumulators (no gather: the dense operand
//    is read along its rows). FC layers pass B = Xᵀ (transpose export) and store
//    the result transposed (lane stores into Y[n, o]); conv passes B = im2col and
//    stores rows (NCHW output directly).
// Measured (bench/sparse.ts --calibrate, 784→300 at 8%): spmv ~0.3 ns per nonzero
// + ~5 ns per row; spmvT ~0.5 ns per nonzero of the non-zero inputs, so it wins
// from ~1/3 zero inputs; spmm ~0.08 ns per multiply-add (dense GEMM: ~0.045).
// Every kernel adds the bias and clamps (relu / clip) in its epilogue.
// Entry k of a row lives at colIdx + k·isz (index) and vals + k·vsz (f32 value or
// uint8 code into the centroid table).
import { FuncBuilder, Local, ModuleBuilder, type I32Expr } from './emitter.js';
import { memoryImport } from './loader.js';
import { F32, I32, V128 } from './opcodes.js';

export interface SparseVariant {
  /** Weights are uint8 codes into an f32 centroid table (else f32 values). */
  codebook: boolean;
  /** Column indices are int32 (else uint16). */
  wideIndex: boolean;
  /** f32x4.relaxed_madd instead of mul + add. */
  fma: boolean;
  /** Import a shared memory. */
  shared: boolean;
}

/** Exported functions; all arguments are i32 byte offsets or counts unless noted. */
export const SPARSE_EXPORTS = {
  /** (rowPtr, colIdx, vals, table, x, y, bias, rows, lo: f32, hi: f32) */
  spmv: 'spmv',
  /** (colPtr, rowIdx, vals, table, x, y, bias, inDim, outDim, lo: f32, hi: f32) */
  spmvT: 'spmvT',
  /** (rowPtr, colIdx, vals, table, b, ldb, c, ldc, bias, rows, width, transposed, clampAt); ldb, ldc in elements */
  spmm: 'spmm',
  /** (src, rows, cols, dst): dst[c·rows + r] = src[r·cols + c] */
  transpose: 'transpose',
  /** (x, C, H, W, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl, dst) */
  im2col: 'im2col',
  /** (x, n) → how many of the n floats at x are ±0 (picks spmv or spmvT per call) */
  zeros: 'zeros',
} as const;

/**
 * Vectors (of 4 columns) per spmm register tile, widest first; the last must be 1.
 * Measured (100→300 with every weight stored, batch 32): 4 vectors run at 0.063 ns
 * per multiply-add, 8 at 0.11 (V8 spills part of the 8 accumulators), 6 at 0.08,
 * 1 at 0.14. Unrolling the nonzero loop by 2 or 4 did not help; nor did fused
 * multiply-add (relaxed SIMD): the loop is bound by its loads.
 */
export const SPMM_TILES = [4, 1] as const;

/** Every module variant (tests validate each; the runtime picks one per weight layout). */
export function sparseVariants(): SparseVariant[] {
  const out: SparseVariant[] = [];
  for (const codebook of [false, true]) for (const wideIndex of [false, true]) for (const fma of [false, true]) {
    for (const shared of [false, true]) out.push({ codebook, wideIndex, fma, shared });
  }
  return out;
}

export function sparseVariantKey(v: SparseVariant): string {
  return `sparse:${v.codebook ? 'u8' : 'f32'}:${v.wideIndex ? 'i32' : 'u16'}:${v.fma ? 'fma' : 'muladd'}:${v.shared ? 'shared' : 'private'}`;
}

export function sparseModule(v: SparseVariant): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(v.shared));
  const i32s = (n: number) => Array<typeof I32>(n).fill(I32);
  m.func(SPARSE_EXPORTS.spmv, [...i32s(8), F32, F32], [], (f) => emitSpmv(f, v));
  m.func(SPARSE_EXPORTS.spmvT, [...i32s(9), F32, F32], [], (f) => emitSpmvT(f, v));
  const tiles = SPMM_TILES.map((nv) => m.func(undefined, i32s(13), [], (f) => emitSpmmRows(f, v, nv)));
  m.func(SPARSE_EXPORTS.spmm, i32s(13), [], (f) => emitSpmmDriver(f, tiles));
  m.func(SPARSE_EXPORTS.transpose, i32s(4), [], emitTranspose);
  m.func(SPARSE_EXPORTS.im2col, i32s(15), [], emitIm2col);
  m.func(SPARSE_EXPORTS.zeros, i32s(2), [I32], emitZeros);
  return m.build();
}

// ---- shared pieces ------------------------------------------------------------

const indexBytes = (v: SparseVariant): number => (v.wideIndex ? 4 : 2);
const valueBytes = (v: SparseVariant): number => (v.codebook ? 1 : 4);

/** while (p < end) body — body must advance p. */
function whileBelow(f: FuncBuilder, p: Local, end: Local, body: () => void): void {
  f.get(p).get(end).op('i32.lt_u').if(() => {
    f.loop((top) => {
      body();
      f.get(p).get(end).op('i32.lt_u').brIf(top);
    });
  });
}

/** Pushes base + 4·index of entry `e` after pc (the byte address of x[col] or y[row]). */
function pushIndexed(f: FuncBuilder, v: SparseVariant, base: Local, pc: Local, e: number): void {
  f.get(base).get(pc).mem(v.wideIndex ? 'i32.load' : 'i32.load16_u', e * indexBytes(v)).i32(2).op('i32.shl').op('i32.add');
}

/** Loads the weight of entry `e` after pv with `instr` (f32.load, v128.load32_splat, ...). */
function loadWeight(f: FuncBuilder, v: SparseVariant, pv: Local, table: Local, e: number, instr: string): void {
  if (v.codebook) f.get(table).get(pv).mem('i32.load8_u', e).i32(2).op('i32.shl').op('i32.add').mem(instr);
  else f.get(pv).mem(instr, e * 4);
}

/** acc += a·b (f32x4). */
function madd(f: FuncBuilder, v: SparseVariant, acc: Local, a: () => void, b: () => void): void {
  if (v.fma) { a(); b(); f.get(acc).op('f32x4.relaxed_madd').set(acc); }
  else { f.get(acc); a(); b(); f.op('f32x4.mul').op('f32x4.add').set(acc); }
}

/** Sets pc, pv, pend for the entries rowPtr[r] .. rowPtr[r+1] (rp = &rowPtr[r]); leaves k1 - k0 in n. */
function rowRange(f: FuncBuilder, v: SparseVariant, rp: Local, colIdx: Local, vals: Local,
  pc: Local, pv: Local, pend: Local, n: Local): void {
  f.get(colIdx).get(rp).mem('i32.load').tee(n).i32(indexBytes(v)).op('i32.mul').op('i32.add').set(pc);
  f.get(vals).get(n).i32(valueBytes(v)).op('i32.mul').op('i32.add').set(pv);
  f.get(rp).mem('i32.load', 4).get(n).op('i32.sub').set(n);
  f.get(pc).get(n).i32(indexBytes(v)).op('i32.mul').op('i32.add').set(pend);
}

/** Gathers 4 f32 at the addresses pushed by lane(l) into dst. */
function gather4(f: FuncBuilder, dst: Local, lane: (l: number) => void): void {
  lane(0);
  f.mem('v128.load32_zero').set(dst);
  for (let l = 1; l < 4; l++) {
    lane(l);
    f.get(dst).memLane('v128.load32_lane', 0, l).set(dst);
  }
}

// ---- spmv: batch 1, CSR rows, 4-lane gathers -----------------------------------

function emitSpmv(f: FuncBuilder, v: SparseVariant): void {
  const [rowPtr, colIdx, vals, table, x, y, bias, rows, lo, hi] = f.params;
  const rp = f.local(), rend = f.local(), pc = f.local(), pv = f.local(), pend = f.local(), pend4 = f.local();
  const n = f.local(), yp = f.local(), bp = f.local();
  const acc = f.local(V128), xv = f.local(V128), wv = f.local(V128), s = f.local(F32);
  f.get(rowPtr).set(rp).get(y).set(yp).get(bias).set(bp);
  f.get(rowPtr).get(rows).i32(4).op('i32.mul').op('i32.add').set(rend);
  whileBelow(f, rp, rend, () => {
    rowRange(f, v, rp, colIdx, vals, pc, pv, pend, n);
    f.get(pend).get(n).i32(3).op('i32.and').i32(indexBytes(v)).op('i32.mul').op('i32.sub').set(pend4);
    f.f32x4(0).set(acc);
    whileBelow(f, pc, pend4, () => {
      gather4(f, xv, (l) => pushIndexed(f, v, x, pc, l));
      if (v.codebook) gather4(f, wv, (l) => f.get(table).get(pv).mem('i32.load8_u', l).i32(2).op('i32.shl').op('i32.add'));
      else f.get(pv).mem('v128.load').set(wv);
      madd(f, v, acc, () => f.get(xv), () => f.get(wv));
      f.addTo(pc, 4 * indexBytes(v)).addTo(pv, 4 * valueBytes(v));
    });
    // horizontal sum in a fixed order: (a0 + a2) + (a1 + a3)
    f.get(acc).get(acc).get(acc).shuffle32(2, 3, 0, 1).op('f32x4.add').set(acc);
    f.get(acc).lane('f32x4.extract_lane', 0).get(acc).lane('f32x4.extract_lane', 1).op('f32.add').set(s);
    whileBelow(f, pc, pend, () => {
      f.get(s);
      pushIndexed(f, v, x, pc, 0);
      f.mem('f32.load');
      loadWeight(f, v, pv, table, 0, 'f32.load');
      f.op('f32.mul').op('f32.add').set(s);
      f.addTo(pc, indexBytes(v)).addTo(pv, valueBytes(v));
    });
    f.get(bias).if(() => { f.get(s).get(bp).mem('f32.load').op('f32.add').set(s); });
    f.get(yp).get(s).get(lo).op('f32.max').get(hi).op('f32.min').mem('f32.store');
    f.addTo(rp, 4).addTo(yp, 4).addTo(bp, 4);
  });
}

// ---- spmvT: batch 1, CSC scatter, skips zero inputs -----------------------------

function emitSpmvT(f: FuncBuilder, v: SparseVariant): void {
  const [colPtr, rowIdx, vals, table, x, y, bias, inDim, outDim, lo, hi] = f.params;
  const cp = f.local(), xp = f.local(), xend = f.local(), pc = f.local(), pv = f.local(), pend = f.local(), pend2 = f.local();
  const n = f.local(), a = f.local(), yp = f.local(), vend = f.local();
  const xi = f.local(F32), lov = f.local(V128), hiv = f.local(V128);
  f.get(bias).if(() => { f.get(y).get(bias).get(outDim).i32(4).op('i32.mul').memoryCopy(); },
    () => { f.get(y).i32(0).get(outDim).i32(4).op('i32.mul').memoryFill(); });
  f.get(colPtr).set(cp).get(x).set(xp);
  f.get(x).get(inDim).i32(4).op('i32.mul').op('i32.add').set(xend);
  const scatter = (e: number): void => {
    pushIndexed(f, v, y, pc, e);
    f.tee(a).get(a).mem('f32.load');
    loadWeight(f, v, pv, table, e, 'f32.load');
    f.get(xi).op('f32.mul').op('f32.add').mem('f32.store');
  };
  whileBelow(f, xp, xend, () => {
    f.get(xp).mem('f32.load').tee(xi).f32(0).op('f32.ne').if(() => {
      rowRange(f, v, cp, rowIdx, vals, pc, pv, pend, n);
      f.get(pend).get(n).i32(1).op('i32.and').i32(indexBytes(v)).op('i32.mul').op('i32.sub').set(pend2);
      whileBelow(f, pc, pend2, () => {
        scatter(0);
        scatter(1);
        f.addTo(pc, 2 * indexBytes(v)).addTo(pv, 2 * valueBytes(v));
      });
      f.get(pc).get(pend).op('i32.lt_u').if(() => scatter(0));
    });
    f.addTo(xp, 4).addTo(cp, 4);
  });
  // epilogue: clamp y in place
  f.get(lo).op('f32x4.splat').set(lov).get(hi).op('f32x4.splat').set(hiv);
  f.get(y).set(yp);
  f.get(y).get(outDim).i32(-4).op('i32.and').i32(4).op('i32.mul').op('i32.add').set(vend);
  whileBelow(f, yp, vend, () => {
    f.get(yp).get(yp).mem('v128.load').clampTo(lov, hiv).mem('v128.store');
    f.addTo(yp, 16);
  });
  f.get(y).get(outDim).i32(4).op('i32.mul').op('i32.add').set(vend);
  whileBelow(f, yp, vend, () => {
    f.get(yp).get(yp).mem('f32.load').get(lo).op('f32.max').get(hi).op('f32.min').mem('f32.store');
    f.addTo(yp, 4);
  });
}

// ---- spmm: CSR × dense B, register tiles of nv f32x4 along B's rows ---------------

/**
 * Rows 0..rows-1 of C[:, 0:4·nv] from B[:, 0:4·nv] (b points at column j0).
 * Params: (rowPtr, colIdx, vals, table, b, ldbBytes, c, ldcBytes, bias, rows, transposed, clampAt, valid);
 * `valid` (< 4 only when nv = 1) is the number of columns of the last vector to store.
 */
function emitSpmmRows(f: FuncBuilder, v: SparseVariant, nv: number): void {
  const [rowPtr, colIdx, vals, table, b, ldb, c, ldc, bias, rows, transposed, clampAt, valid] = f.params;
  const rp = f.local(), rend = f.local(), pc = f.local(), pv = f.local(), pend = f.local(), n = f.local();
  const brow = f.local(), cp = f.local(), bp = f.local(), at = f.local(), step = f.local(), rowStep = f.local();
  const acc = Array.from({ length: nv }, () => f.local(V128));
  const w = f.local(V128), t = f.local(V128);
  f.get(rowPtr).set(rp).get(c).set(cp).get(bias).set(bp);
  f.get(rowPtr).get(rows).i32(4).op('i32.mul').op('i32.add').set(rend);
  // transposed: a tile row is a column of C (lanes ldc apart, rows 4 apart); else the reverse
  f.get(transposed).if(() => f.get(ldc), () => f.i32(4), I32).set(step);
  f.get(transposed).if(() => f.i32(4), () => f.get(ldc), I32).set(rowStep);
  whileBelow(f, rp, rend, () => {
    f.get(bias).if(() => { f.get(bp).mem('v128.load32_splat').set(w); }, () => { f.f32x4(0).set(w); });
    for (const x of acc) f.get(w).set(x);
    rowRange(f, v, rp, colIdx, vals, pc, pv, pend, n);
    whileBelow(f, pc, pend, () => {
      loadWeight(f, v, pv, table, 0, 'v128.load32_splat');
      f.set(w);
      f.get(b).get(pc).mem(v.wideIndex ? 'i32.load' : 'i32.load16_u').get(ldb).op('i32.mul').op('i32.add').set(brow);
      for (let j = 0; j < nv; j++) madd(f, v, acc[j], () => f.get(w), () => f.get(brow).mem('v128.load', 16 * j));
      f.addTo(pc, indexBytes(v)).addTo(pv, valueBytes(v));
    });
    f.get(clampAt).mem('v128.load32_splat').set(w).get(clampAt).mem('v128.load32_splat', 4).set(t);
    for (const x of acc) f.get(x).clampTo(w, t).set(x);
    storeTile(f, acc, { cp, step, transposed, valid, at });
    f.addTo(rp, 4).addTo(bp, 4);
    f.addTo(cp, rowStep);
  });
}

interface StoreArgs { cp: Local; step: Local; transposed: Local; valid: Local; at: Local }

/**
 * Stores one row of the tile: as a row of C (v128 stores), or transposed as one
 * column of C (lane stores `step` = ldc bytes apart). A partial last vector
 * (nv = 1, valid < 4) is stored lane by lane in either layout (`step` = 4 for rows).
 */
function storeTile(f: FuncBuilder, acc: Local[], s: StoreArgs): void {
  const { cp, step, transposed, valid, at } = s;
  const lanes = (x: Local, guarded: boolean): void => {
    for (let l = 0; l < 4; l++) {
      const put = () => { f.get(at).get(x).memLane('v128.store32_lane', 0, l); };
      if (guarded && l > 0) f.get(valid).i32(l).op('i32.gt_s').if(put);
      else put();
      f.addTo(at, step);
    }
  };
  const full = (): void => {
    f.get(transposed).if(() => {
      f.get(cp).set(at);
      for (const x of acc) lanes(x, false);
    }, () => {
      for (let j = 0; j < acc.length; j++) f.get(cp).get(acc[j]).mem('v128.store', 16 * j);
    });
  };
  if (acc.length > 1) { full(); return; }
  f.get(valid).i32(4).op('i32.ge_s').if(full, () => { f.get(cp).set(at); lanes(acc[0], true); });
}

/** Walks the columns in tiles of 4·SPMM_TILES[0] columns, ..., then of 4 (the last one partial). */
function emitSpmmDriver(f: FuncBuilder, tiles: number[]): void {
  const [rowPtr, colIdx, vals, table, b, ldb, c, ldc, bias, rows, width, transposed, clampAt] = f.params;
  const j = f.local(), ldbB = f.local(), ldcB = f.local(), left = f.local(), cStep = f.local();
  f.get(ldb).i32(4).op('i32.mul').set(ldbB).get(ldc).i32(4).op('i32.mul').set(ldcB);
  // C at column j: c + 4j (rows) or c + j·ldcBytes (transposed)
  f.get(transposed).if(() => f.get(ldcB), () => f.i32(4), I32).set(cStep);
  f.i32(0).set(j);
  SPMM_TILES.forEach((nv, i) => {
    const cols = 4 * nv, last = i === SPMM_TILES.length - 1;
    f.block((done) => {
      f.loop((top) => {
        f.get(width).get(j).op('i32.sub').tee(left).i32(last ? 1 : cols).op('i32.lt_s').brIf(done);
        f.get(rowPtr).get(colIdx).get(vals).get(table);
        f.get(b).get(j).i32(4).op('i32.mul').op('i32.add').get(ldbB);
        f.get(c).get(j).get(cStep).op('i32.mul').op('i32.add').get(ldcB);
        f.get(bias).get(rows).get(transposed).get(clampAt);
        // valid = min(left, 4): only the last vector of the last tile may be partial
        if (last) f.get(left).i32(4).get(left).i32(4).op('i32.lt_s').op('select');
        else f.i32(4);
        f.call(tiles[i]).addTo(j, cols).br(top);
      });
    });
  });
}

// ---- data movement ------------------------------------------------------------

/**
 * dst[c·rows + r] = src[r·cols + c]: X[N×in] → Xᵀ for the batched FC kernel.
 * 4×4 blocks go through registers (4 loads, 8 shuffles, 4 stores); the edges
 * are copied one value at a time. Params: (src, rows, cols, dst).
 */
function emitTranspose(f: FuncBuilder): void {
  const [src, rows, cols, dst] = f.params;
  const r = f.local(), c = f.local(), r4 = f.local(), c4 = f.local(), rb = f.local(), db = f.local(), p = f.local(), q = f.local();
  const a = Array.from({ length: 4 }, () => f.local(V128)), t = Array.from({ length: 4 }, () => f.local(V128));
  f.get(rows).i32(-4).op('i32.and').set(r4).get(cols).i32(-4).op('i32.and').set(c4);
  f.get(cols).i32(4).op('i32.mul').set(rb).get(rows).i32(4).op('i32.mul').set(db);
  const at = (base: Local, i: Local, n: Local, j: Local): void => {
    f.get(base).get(i).get(n).op('i32.mul').get(j).op('i32.add').i32(4).op('i32.mul').op('i32.add');
  };
  const scalar = (r0: I32Expr, r1: Local, c0: I32Expr, c1: Local): void => {
    f.forUp(r, r0, r1, 1, () => f.forUp(c, c0, c1, 1, () => {
      at(dst, c, rows, r);
      at(src, r, cols, c);
      f.mem('f32.load').mem('f32.store');
    }));
  };
  f.forUp(r, 0, r4, 4, () => {
    f.forUp(c, 0, c4, 4, () => {
      at(src, r, cols, c);
      f.set(p);
      for (let i = 0; i < 4; i++) { f.get(p).mem('v128.load').set(a[i]); if (i < 3) f.addTo(p, rb); }
      f.get(a[0]).get(a[1]).shuffle32(0, 4, 1, 5).set(t[0]).get(a[0]).get(a[1]).shuffle32(2, 6, 3, 7).set(t[1]);
      f.get(a[2]).get(a[3]).shuffle32(0, 4, 1, 5).set(t[2]).get(a[2]).get(a[3]).shuffle32(2, 6, 3, 7).set(t[3]);
      at(dst, c, rows, r);
      f.set(q);
      const cols4: [Local, Local, number, number][] = [[t[0], t[2], 0, 1], [t[0], t[2], 2, 3], [t[1], t[3], 0, 1], [t[1], t[3], 2, 3]];
      cols4.forEach(([x, y, l0, l1], i) => {
        f.get(q).get(x).get(y).shuffle32(l0, l1, l0 + 4, l1 + 4).mem('v128.store');
        if (i < 3) f.addTo(q, db);
      });
    });
    // the columns past the last whole block, for these 4 rows
    f.get(r).i32(4).op('i32.add').set(p);
    const rr = f.local();
    f.get(r).set(rr);
    scalar(rr, p, c4, cols);
    f.get(rr).set(r);
  });
  scalar(r4, rows, 0, cols);
}

/**
 * One group of one image unfolded to dst[(c·KH + kh)·KW + kw][oh·OW + ow] (zeros for
 * padding). Each output row is three runs: zeros, the valid span copied from x
 * (v128 at unit stride), zeros. memory.fill/copy are not used: V8 calls out of line
 * for them, which costs more than the 8..56 values of a typical row. Zero runs are
 * stored in whole vectors and may write up to 12 bytes past their end: into the
 * run that is written next, or into the 16 bytes of slack dst must have.
 */
function emitIm2col(f: FuncBuilder): void {
  const [x, C, H, W, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl, dst] = f.params;
  const c = f.local(), kh = f.local(), kw = f.local(), oh = f.local(), ih = f.local();
  const src = f.local(), lo = f.local(), hi = f.local(), off = f.local(), rowBytes = f.local(), swB = f.local();
  const p = f.local(), q = f.local(), end = f.local(), end4 = f.local(), zero = f.local(V128);
  f.get(OW).i32(4).op('i32.mul').set(rowBytes).get(sw).i32(4).op('i32.mul').set(swB);
  const zeros = (from: () => void, to: () => void): void => {
    from(); f.set(p); to(); f.set(end);
    whileBelow(f, p, end, () => { f.get(p).get(zero).mem('v128.store').addTo(p, 16); });
  };
  const ceilDiv = (a: () => void): void => { a(); f.get(sw).op('i32.add').i32(1).op('i32.sub').get(sw).op('i32.div_s'); };
  f.forUp(c, 0, C, 1, () => f.forUp(kh, 0, KH, 1, () => f.forUp(kw, 0, KW, 1, () => {
    // iw = ow·sw + off is inside [0, W) for ow in [lo, hi) = [ceil(-off/sw), ceil((W-off)/sw)) ∩ [0, OW]
    f.get(kw).get(dw).op('i32.mul').get(pl).op('i32.sub').set(off);
    f.i32(0).set(lo);
    f.get(off).i32(0).op('i32.lt_s').if(() => { ceilDiv(() => f.i32(0).get(off).op('i32.sub')); f.set(lo); });
    f.get(lo).get(OW).op('i32.gt_s').if(() => { f.get(OW).set(lo); });
    f.i32(0).set(hi);
    f.get(W).get(off).op('i32.gt_s').if(() => { ceilDiv(() => f.get(W).get(off).op('i32.sub')); f.set(hi); });
    f.get(hi).get(OW).op('i32.gt_s').if(() => { f.get(OW).set(hi); });
    f.get(hi).get(lo).op('i32.lt_s').if(() => { f.get(lo).set(hi); });
    f.forUp(oh, 0, OH, 1, () => {
      f.get(oh).get(sh).op('i32.mul').get(pt).op('i32.sub').get(kh).get(dh).op('i32.mul').op('i32.add').set(ih);
      f.get(ih).get(H).op('i32.lt_u').if(() => { // 0 <= ih < H
        zeros(() => f.get(dst), () => f.get(dst).get(lo).i32(4).op('i32.mul').op('i32.add'));
        // copy: q = dst + 4lo .. dst + 4hi from src = x + ((c·H + ih)·W + lo·sw + off)·4
        f.get(x).get(c).get(H).op('i32.mul').get(ih).op('i32.add').get(W).op('i32.mul').get(lo).get(sw).op('i32.mul').op('i32.add')
          .get(off).op('i32.add').i32(4).op('i32.mul').op('i32.add').set(src);
        f.get(dst).get(lo).i32(4).op('i32.mul').op('i32.add').set(q);
        f.get(dst).get(hi).i32(4).op('i32.mul').op('i32.add').set(end);
        f.get(sw).i32(1).op('i32.eq').if(() => {
          f.get(end).get(end).get(q).op('i32.sub').i32(15).op('i32.and').op('i32.sub').set(end4);
          whileBelow(f, q, end4, () => { f.get(q).get(src).mem('v128.load').mem('v128.store').addTo(q, 16).addTo(src, 16); });
        });
        whileBelow(f, q, end, () => { f.get(q).get(src).mem('f32.load').mem('f32.store').addTo(q, 4).addTo(src, swB); });
        zeros(() => f.get(dst).get(hi).i32(4).op('i32.mul').op('i32.add'), () => f.get(dst).get(rowBytes).op('i32.add'));
      }, () => zeros(() => f.get(dst), () => f.get(dst).get(rowBytes).op('i32.add')));
      f.addTo(dst, rowBytes);
    });
  })));
}

/** Counts the zeros among n floats: f32x4.eq gives -1 per zero lane, subtracted from a counter. */
function emitZeros(f: FuncBuilder): void {
  const [x, n] = f.params;
  const p = f.local(), vend = f.local(), end = f.local(), cnt = f.local(), acc = f.local(V128);
  f.get(x).set(p);
  f.get(x).get(n).i32(-4).op('i32.and').i32(4).op('i32.mul').op('i32.add').set(vend);
  f.get(x).get(n).i32(4).op('i32.mul').op('i32.add').set(end);
  f.f32x4(0).set(acc);
  whileBelow(f, p, vend, () => {
    f.get(acc).get(p).mem('v128.load').f32x4(0).op('f32x4.eq').op('i32x4.sub').set(acc);
    f.addTo(p, 16);
  });
  for (let l = 0; l < 4; l++) f.get(acc).lane('i32x4.extract_lane', l);
  f.ops('i32.add', 'i32.add', 'i32.add').set(cnt);
  whileBelow(f, p, end, () => {
    f.get(cnt).get(p).mem('f32.load').f32(0).op('f32.eq').op('i32.add').set(cnt);
    f.addTo(p, 4);
  });
  f.get(cnt);
}
