// Code generation for the add/subtract kernels: binary or ternary weights (BWN, TWN,
// TTQ) on float inputs, without a multiplication per weight. The operand is a
// [Kp × ldx] float matrix (a conv's patches, an FC's transposed inputs) whose K rows
// form groups of 4; for px columns (pixels) at a time the kernel first builds, per
// group, a table of the 16 sums of the group's selected inputs (entry n = the inputs
// of the set bits of n, added in ascending order: 11 additions), then every output row
// adds one table entry per group, indexed by the row's 4 weight bits: one load and one
// f32x4.add stand for 16 multiply-adds (4 inputs × 4 pixels), the table's cost shared
// by all the rows. Binary rows sum the +1 inputs (P) and take Q = Σx − P; ternary
// rows sum a second plane (the −1 weights) for Q. Epilogue: y = pos·P − neg·Q + bias,
// clamped. The oracle is ir/ref/signed_sum.ts, in the same order.
//
// Weights: tiles of ADDSUB_TILE rows; per tile, per pair of groups (8 inputs), one i32
// per plane whose byte j holds row j's bits (low nibble: the first group); binary: the
// +1 plane; ternary: the +1 plane then the −1 plane. Table: per group 16 entries of px floats.
import { FuncBuilder, Local, ModuleBuilder } from './emitter.js';
import { memoryImport } from './loader.js';
import { F32, I32, V128, type ValType } from './opcodes.js';

/** Output rows per register tile (bytes of one weight word). */
export const ADDSUB_TILE = 4;
/** Bytes of one group's table (16 entries of px floats). */
export const addsubTableBytes = (px: number): number => 16 * 4 * px;

/** Columns per table entry: 4 (px = 8, two f32x4 an entry, measured 10–15% slower on VGG-S's layers: twice the accumulators and table). */
export const ADDSUB_COLUMNS = 4;

export interface AddSubVariant {
  ternary: boolean;
  /** Columns per table entry (4 or 8: one or two f32x4). */
  px: 4 | 8;
  /** Outputs of a row are contiguous (conv: ps = 1): whole v128 stores. */
  contiguous: boolean;
  shared: boolean;
}

export const ADDSUB_EXPORTS = {
  /**
   * (x, ldx, G2, P, wts, M, pos, neg, bias, y, ms, ps, table, lo: f32, hi: f32): y at y + 4·(m·ms + p·ps)
   * for rows m < M, columns p < P of x (ldx floats a row, 8·G2 rows, those past K zero);
   * pos, neg, bias (f32) per row; table = G2·2·addsubTableBytes(px) of scratch. Columns are
   * read px at a time: up to px − 1 past P must be readable.
   */
  sums: 'sums',
  /** (x, rows, cols, dst, ld): dst[c·ld + r] = x[r·cols + c]. */
  transpose: 'transpose',
  /** (dst, bytes): zeroes. */
  clear: 'clear',
} as const;

export function addsubVariantKey(v: AddSubVariant): string {
  return `addsub:${v.ternary ? 'ternary' : 'binary'}:px${v.px}:${v.contiguous ? 'contiguous' : 'strided'}:${v.shared ? 'shared' : 'private'}`;
}

export function addsubModule(v: AddSubVariant): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(v.shared));
  const i32s = (n: number): ValType[] => Array<ValType>(n).fill(I32);
  m.func(ADDSUB_EXPORTS.sums, [...i32s(13), F32, F32], [], (f) => emitSums(f, v));
  m.func(ADDSUB_EXPORTS.transpose, i32s(5), [], emitTranspose);
  m.func(ADDSUB_EXPORTS.clear, i32s(2), [], (f) => { f.get(f.params[0]).i32(0).get(f.params[1]).memoryFill(); });
  return m.build();
}

function emitTranspose(f: FuncBuilder): void {
  const [x, rows, cols, dst, ld] = f.params;
  const r = f.local(), c = f.local();
  f.forUp(r, 0, rows, 1, () => f.forUp(c, 0, cols, 1, () => {
    f.get(dst).get(c).get(ld).op('i32.mul').get(r).op('i32.add').i32(2).op('i32.shl').op('i32.add');
    f.get(x).get(r).get(cols).op('i32.mul').get(c).op('i32.add').i32(2).op('i32.shl').op('i32.add').mem('f32.load');
    f.mem('f32.store');
  }));
}

/** The tables of px columns: per group, entry n = Σ of the inputs of n's bits (ascending); binary: tot = Σ of entry 15. */
function emitTables(f: FuncBuilder, px: number, src: Local, ld4: Local, groups: Local, table: Local, tot: Local[]): void {
  const g = f.local(), tb = f.local(), s = f.local(), halves = px / 4, entry = 4 * px;
  const e = Array.from({ length: 16 }, () => Array.from({ length: halves }, () => f.local(V128)));
  f.get(src).set(s).get(table).set(tb);
  for (const t of tot) f.f32x4(0).set(t);
  f.forUp(g, 0, groups, 1, () => {
    for (let i = 0; i < 4; i++) {
      for (let h = 0; h < halves; h++) {
        f.get(s);
        for (let k = 0; k < i; k++) f.get(ld4).op('i32.add');
        f.mem('v128.load', 16 * h).set(e[1 << i][h]);
      }
    }
    for (let n = 3; n < 16; n++) {
      const hb = 1 << (31 - Math.clz32(n));
      if (n !== hb) for (let h = 0; h < halves; h++) f.get(e[n ^ hb][h]).get(e[hb][h]).op('f32x4.add').set(e[n][h]);
    }
    for (let h = 0; h < halves; h++) f.get(tb).f32x4(0).mem('v128.store', 16 * h);
    for (let n = 1; n < 16; n++) for (let h = 0; h < halves; h++) f.get(tb).get(e[n][h]).mem('v128.store', entry * n + 16 * h);
    tot.forEach((t, h) => { f.get(t).get(e[15][h]).op('f32x4.add').set(t); });
    f.get(ld4).i32(2).op('i32.shl').get(s).op('i32.add').set(s);
    f.addTo(tb, addsubTableBytes(px));
  });
}

function emitSums(f: FuncBuilder, v: AddSubVariant): void {
  const [x, ldx, G2, P, wts, M, pos, neg, bias, y, ms, ps, table, lo, hi] = f.params;
  const planes = v.ternary ? 2 : 1, px = v.px, halves = px / 4, entry = 4 * px, tableBytes = addsubTableBytes(px);
  const p0 = f.local(), src = f.local(), ld4 = f.local(), groups = f.local(), mt = f.local(), wq = f.local(), tp = f.local(), tEnd = f.local();
  const w = f.local(), out = f.local(), row = f.local(), hasLo = f.local(), hasHi = f.local(), col = f.local();
  const tot = v.ternary ? [] : Array.from({ length: halves }, () => f.local(V128));
  const lo4 = f.local(V128), hi4 = f.local(V128), vy = f.local(V128), vp = f.local(V128), vn = f.local(V128), vb = f.local(V128);
  const acc = () => Array.from({ length: ADDSUB_TILE }, () => Array.from({ length: halves }, () => f.local(V128)));
  const Pacc = acc(), Qacc = v.ternary ? acc() : [];
  f.get(ldx).i32(2).op('i32.shl').set(ld4).get(G2).i32(1).op('i32.shl').set(groups);
  f.get(lo).op('f32x4.splat').set(lo4).get(hi).op('f32x4.splat').set(hi4);
  f.get(lo).f32(-Infinity).op('f32.ne').set(hasLo).get(hi).f32(Infinity).op('f32.ne').set(hasHi);
  f.get(table).get(G2).i32(2 * tableBytes).op('i32.mul').op('i32.add').set(tEnd);

  /** a[j] += the entry of row j's nibble: byte j of w, low (first group) or high nibble (the second group's table). */
  const lookups = (a: Local[][]) => {
    const scale = Math.log2(entry), mask = 15 << scale;
    for (let j = 0; j < ADDSUB_TILE; j++) {
      for (const high of [false, true]) {
        const shift = 8 * j + (high ? 4 : 0) - scale; // the nibble × entry bytes
        f.get(tp).get(w);
        if (shift > 0) f.i32(shift).op('i32.shr_u');
        else if (shift < 0) f.i32(-shift).op('i32.shl');
        f.i32(mask).op('i32.and').op('i32.add').set(row);
        for (let h = 0; h < halves; h++) f.get(a[j][h]).get(row).mem('v128.load', (high ? tableBytes : 0) + 16 * h).op('f32x4.add').set(a[j][h]);
      }
    }
  };

  const splat = (arr: Local) => { f.get(arr).get(row).i32(2).op('i32.shl').op('i32.add').mem('v128.load32_splat'); };
  /** Row mt + j: y = pos·P − neg·Q + bias, clamped, px columns from p0 (only those < P stored). */
  const epilogue = (j: number) => {
    f.get(mt).i32(j).op('i32.add').set(row);
    splat(pos); f.set(vp); splat(neg); f.set(vn); splat(bias); f.set(vb);
    for (let h = 0; h < halves; h++) {
      f.get(vp).get(Pacc[j][h]).op('f32x4.mul').get(vn);
      if (v.ternary) f.get(Qacc[j][h]);
      else f.get(tot[h]).get(Pacc[j][h]).op('f32x4.sub');
      f.op('f32x4.mul').op('f32x4.sub').get(vb).op('f32x4.add').set(vy);
      // pmax / pmin: one maxps / minps each (binary_layer.ts clampOut)
      f.get(hasLo).if(() => { f.get(vy).get(lo4).op('f32x4.pmax').set(vy); });
      f.get(hasHi).if(() => { f.get(vy).get(hi4).op('f32x4.pmin').set(vy); });
      f.get(p0).i32(4 * h).op('i32.add').set(col);
      f.get(y).get(row).get(ms).op('i32.mul').get(col).get(ps).op('i32.mul').op('i32.add').i32(2).op('i32.shl').op('i32.add').set(out);
      const lanes = () => {
        for (let l = 0; l < 4; l++) {
          f.get(col).i32(l).op('i32.add').get(P).op('i32.lt_s').if(() => { f.get(out).get(vy).memLane('v128.store32_lane', 0, l); });
          f.get(out).get(ps).i32(2).op('i32.shl').op('i32.add').set(out);
        }
      };
      if (v.contiguous) f.get(col).i32(4).op('i32.add').get(P).op('i32.le_s').if(() => { f.get(out).get(vy).mem('v128.store'); }, lanes);
      else lanes();
    }
  };

  f.forUp(p0, 0, P, px, () => {
    f.get(x).get(p0).i32(2).op('i32.shl').op('i32.add').set(src);
    emitTables(f, px, src, ld4, groups, table, tot);
    f.get(wts).set(wq);
    f.forUp(mt, 0, M, ADDSUB_TILE, () => {
      for (const a of [...Pacc, ...Qacc]) for (const l of a) f.f32x4(0).set(l);
      f.get(table).set(tp);
      f.loop((top) => {
        f.get(wq).mem('i32.load').set(w);
        lookups(Pacc);
        if (v.ternary) { f.get(wq).mem('i32.load', 4).set(w); lookups(Qacc); }
        f.addTo(wq, 4 * planes).addTo(tp, 2 * tableBytes);
        f.get(tp).get(tEnd).op('i32.ne').brIf(top);
      });
      for (let j = 0; j < ADDSUB_TILE; j++) {
        if (j === 0) epilogue(j);
        else f.get(mt).i32(j).op('i32.add').get(M).op('i32.lt_s').if(() => epilogue(j));
      }
    });
  });
}
