// Code generation for the Winograd transforms F(m×m, 3×3), m = 2, 4, 6 (matrices:
// kernels/winograd.ts). Every vector holds one value of four consecutive tiles
// (lanes = tiles), so the transformed input is stored straight into the GEMM's
// packed B panels (a panel row holds NR consecutive tiles) and the GEMM's output
// rows (one per output channel, tiles along the row) are read back four tiles at once.
//
//  input:  per input channel, the chunk's tile rows are copied into zero-padded bands
//          (α rows each, so tiles, padding and partial edges read alike); per group of
//          4 tiles, each tile row is gathered by a 4×4 transpose, transformed (· B),
//          then the columns (Bᵀ ·), and the α² results stored into α² packed B matrices.
//  output: per group of 4 tiles and output channel, the α² GEMM results are transformed
//          (Aᵀ · A), bias added, clamped, and written to the tiles' NCHW outputs; a group
//          cut by the right or bottom edge writes lane by lane.
// A 1-D transform is emitted as sums of products with constants; columns whose
// coefficients agree up to sign are added and subtracted once (x1 ± x2), and rows that
// agree up to sign share their even and odd halves (E ± O), as the hand-written
// transforms of ncnn and NNPACK do.
import { winogradMatrices, type WinogradTile } from '../../ir/winograd.js';
import { FuncBuilder, Local, ModuleBuilder } from './emitter.js';
import { memoryImport } from './loader.js';
import { F32, I32, V128, type ValType } from './opcodes.js';

export interface WinogradVariant {
  m: WinogradTile;
  /** Columns of the GEMM's B panels (its register tile's NR, a multiple of 4). */
  nr: number;
  shared: boolean;
}

export const WINOGRAD_EXPORTS = {
  /** (x, H, W, C, padT, padL, tilesH, tilesW, R0, Rt, pbuf, Wp, hbuf, dst, pStride) */
  input: 'input',
  /** (src, pStride, ldm, M, y, imageStride, OH, OW, tilesH, tilesW, R0, count, bias, lo: f32, hi: f32, hbuf) */
  output: 'output',
} as const;

export function winogradVariantKey(v: WinogradVariant): string {
  return `winograd:F${v.m}:nr${v.nr}:${v.shared ? 'shared' : 'private'}`;
}

/** Bytes of the transforms' scratch: α² vectors (input), α·m + m² vectors (output). */
export function winogradHbufBytes(m: WinogradTile): number {
  const a = m + 2;
  return 16 * Math.max(a * a, a * m + m * m);
}

export function winogradModule(v: WinogradVariant): Uint8Array {
  if (v.nr % 4 !== 0 || v.nr < 4) throw new Error(`winograd variant ${JSON.stringify(v)}: nr must be a multiple of 4`);
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(v.shared));
  m.func(WINOGRAD_EXPORTS.input, Array<ValType>(15).fill(I32), [], (f) => emitInput(f, v));
  const out: ValType[] = [...Array<ValType>(13).fill(I32), F32, F32, I32];
  m.func(WINOGRAD_EXPORTS.output, out, [], (f) => emitOutput(f, v));
  return m.build();
}

// ---- 1-D transforms: y = T·x, x and y vectors of v128 -----------------------------

interface Term { x: number; c: number }
/** An input of the sums: an original x_a, or x_a ± x_b. */
interface Virtual { a: number; b?: number; sub?: boolean }
type Output = { i: number; terms: Term[] } | { i: number; i2: number; even: Term[]; odd: Term[] };

/** Equal up to the rounding of the matrices' inversion (their entries are emitted as f32). */
const same = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a));

/** Columns a < b with T[i][b] = ±T[i][a] in every row (and zero together) are summed and subtracted once. */
function pairColumns(T: number[][]): { virt: Virtual[]; rows: Term[][] } {
  const cols = T[0].length, mate = new Map<number, number>();
  for (let a = 0; a < cols; a++) {
    if (mate.has(a) || T.every((r) => r[a] === 0)) continue;
    for (let b = a + 1; b < cols && !mate.has(a); b++) {
      if (!mate.has(b) && T.every((r) => same(Math.abs(r[a]), Math.abs(r[b])))) { mate.set(a, b); mate.set(b, a); }
    }
  }
  const virt: Virtual[] = [], index = new Map<string, number>();
  const use = (v: Virtual): number => {
    const key = `${v.a},${v.b},${v.sub}`;
    if (!index.has(key)) { index.set(key, virt.length); virt.push(v); }
    return index.get(key)!;
  };
  const rows = T.map((r) => {
    const terms: Term[] = [];
    for (let a = 0; a < cols; a++) {
      if (r[a] === 0) continue;
      const b = mate.get(a);
      if (b === undefined) terms.push({ x: use({ a }), c: r[a] });
      else if (b > a) terms.push({ x: use({ a, b, sub: !same(r[b], r[a]) }), c: r[a] });
    }
    return terms;
  });
  return { virt, rows };
}

/** Rows that agree up to the sign of some terms share them: y_i = E + O, y_i2 = E − O. */
function pairRows(rows: Term[][]): Output[] {
  const done = new Set<number>(), out: Output[] = [];
  const coef = (terms: Term[], x: number) => terms.find((t) => t.x === x)?.c ?? 0;
  const agree = (b: Term[], t: Term, sign: number) => same(coef(b, t.x), sign * t.c);
  for (let i = 0; i < rows.length; i++) {
    if (done.has(i)) continue;
    done.add(i);
    let paired = false;
    for (let i2 = i + 1; i2 < rows.length && !paired; i2++) {
      const a = rows[i], b = rows[i2];
      if (done.has(i2) || a.length !== b.length || !a.every((t) => agree(b, t, 1) || agree(b, t, -1))) continue;
      const even = a.filter((t) => agree(b, t, 1)), odd = a.filter((t) => agree(b, t, -1));
      if (even.length && odd.length) { out.push({ i, i2, even, odd }); done.add(i2); paired = true; }
    }
    if (!paired) out.push({ i, terms: rows[i] });
  }
  return out;
}

/** Pushes Σ c·x (one f32x4): +1 and −1 need no multiply. */
function pushSum(f: FuncBuilder, terms: Term[], xs: Local[]): void {
  if (terms.length === 0) { f.f32x4(0); return; }
  const first = terms.find((t) => t.c === 1) ?? terms.find((t) => t.c !== -1) ?? terms[0];
  f.get(xs[first.x]);
  if (first.c === -1) f.op('f32x4.neg');
  else if (first.c !== 1) f.f32x4(first.c).op('f32x4.mul');
  for (const t of terms) {
    if (t === first) continue;
    f.get(xs[t.x]);
    if (t.c === 1) f.op('f32x4.add');
    else if (t.c === -1) f.op('f32x4.sub');
    else f.f32x4(t.c).op('f32x4.mul').op('f32x4.add');
  }
}

/** Locals a 1-D transform of T needs (virtual inputs, E and O). */
class Transform1D {
  private readonly virt: Virtual[];
  private readonly outs: Output[];
  private readonly vx: Local[];
  private readonly e: Local;
  private readonly o: Local;

  constructor(f: FuncBuilder, T: number[][]) {
    const { virt, rows } = pairColumns(T);
    this.virt = virt;
    this.outs = pairRows(rows);
    this.vx = virt.map(() => f.local(V128));
    this.e = f.local(V128);
    this.o = f.local(V128);
  }

  /** y = T·x, each y_i handed to store(i, push) (push leaves y_i on the stack). */
  emit(f: FuncBuilder, x: Local[], store: (i: number, push: () => void) => void): void {
    this.virt.forEach((v, k) => {
      f.get(x[v.a]);
      if (v.b !== undefined) f.get(x[v.b]).op(v.sub ? 'f32x4.sub' : 'f32x4.add');
      f.set(this.vx[k]);
    });
    for (const o of this.outs) {
      if ('terms' in o) { store(o.i, () => pushSum(f, o.terms, this.vx)); continue; }
      pushSum(f, o.even, this.vx); f.set(this.e);
      pushSum(f, o.odd, this.vx); f.set(this.o);
      store(o.i, () => f.get(this.e).get(this.o).op('f32x4.add'));
      store(o.i2, () => f.get(this.e).get(this.o).op('f32x4.sub'));
    }
  }
}

/** Transposes four vectors (rows) into `out` (columns); only the first out.length columns are made. */
function transpose4(f: FuncBuilder, u: Local[], t: Local[], out: Local[]): void {
  const lo = out.length > 0, hi = out.length > 2;
  if (lo) { f.get(u[0]).get(u[1]).shuffle32(0, 4, 1, 5).set(t[0]); f.get(u[2]).get(u[3]).shuffle32(0, 4, 1, 5).set(t[1]); }
  if (hi) { f.get(u[0]).get(u[1]).shuffle32(2, 6, 3, 7).set(t[2]); f.get(u[2]).get(u[3]).shuffle32(2, 6, 3, 7).set(t[3]); }
  const pick = [[0, 1, 4, 5], [2, 3, 6, 7]] as const;
  out.forEach((o, j) => {
    const [a, b] = j < 2 ? [t[0], t[1]] : [t[2], t[3]];
    const [p, q, r, s] = pick[j % 2];
    f.get(a).get(b).shuffle32(p, q, r, s).set(o);
  });
}

/** Steps a (image, tile row, tile column) counter to the next tile in row-major order. */
function nextTile(f: FuncBuilder, n: Local | undefined, th: Local, tw: Local, tilesH: Local | undefined, tilesW: Local): void {
  f.addTo(tw, 1);
  f.get(tw).get(tilesW).op('i32.eq').if(() => {
    f.i32(0).set(tw).addTo(th, 1);
    if (n && tilesH) f.get(th).get(tilesH).op('i32.eq').if(() => { f.i32(0).set(th).addTo(n, 1); });
  });
}

// ---- input transform ----------------------------------------------------------------

/** Copies W floats from src to dst (byte offsets): vectors, then single floats. */
function copyRow(f: FuncBuilder, src: Local, dst: Local, W: Local, i: Local): void {
  f.i32(0).set(i);
  f.block((done) => f.loop((top) => {
    f.get(i).i32(4).op('i32.add').get(W).op('i32.gt_s').brIf(done);
    f.get(dst).get(src).mem('v128.load').mem('v128.store');
    f.addTo(dst, 16).addTo(src, 16).addTo(i, 4).br(top);
  }));
  f.block((done) => f.loop((top) => {
    f.get(i).get(W).op('i32.ge_s').brIf(done);
    f.get(dst).get(src).mem('f32.load').mem('f32.store');
    f.addTo(dst, 4).addTo(src, 4).addTo(i, 1).br(top);
  }));
}

/** Steps a (image, tile row) counter to the next tile row. */
function nextRow(f: FuncBuilder, n: Local, th: Local, tilesH: Local): void {
  f.addTo(th, 1);
  f.get(th).get(tilesH).op('i32.eq').if(() => { f.i32(0).set(th).addTo(n, 1); });
}

/** Padded width of a band row: the tiles' columns and 2 more, and room for the last tile's whole-vector loads. */
export function bandWidth(m: WinogradTile, tilesW: number): number {
  return Math.max(tilesW * m + 2, (tilesW - 1) * m + 4 * Math.ceil((m + 2) / 4));
}

function emitInput(f: FuncBuilder, v: WinogradVariant): void {
  const [x, H, W, C, padT, padL, tilesH, tilesW, R0, Rt, pbuf, Wp, hbuf, dst, pStride] = f.params;
  const { m, alpha } = winogradMatrices(v.m);
  const c = f.local(), k = f.local(), r = f.local(), n = f.local(), th = f.local(), tw = f.local(), iy = f.local();
  const src = f.local(), row = f.local(), i = f.local(), n0 = f.local(), th0 = f.local(), count = f.local();
  const t = f.local(), jt = f.local(), pg = f.local(), bandBytes = f.local(), rowOff = f.local();
  const base = [0, 1, 2, 3].map(() => f.local());
  f.get(Rt).get(tilesW).op('i32.mul').set(count);
  f.i32(alpha * 4).get(Wp).op('i32.mul').set(bandBytes); // a tile row's band: α padded rows
  f.get(pbuf).i32(0).get(bandBytes).get(Rt).op('i32.mul').memoryFill(); // padding stays zero for every channel
  f.get(R0).get(tilesH).op('i32.div_u').set(n0).get(R0).get(tilesH).op('i32.rem_u').set(th0);
  const group = inputGroup(f, v, { Wp, hbuf, pStride, base, rowOff, pg });
  f.forUp(c, 0, C, 1, () => {
    // the chunk's bands of channel c: input rows th·m − padT + r (r < α) at column padL
    f.get(n0).set(n).get(th0).set(th);
    f.forUp(k, 0, Rt, 1, () => {
      f.forUp(r, 0, alpha, 1, () => {
        f.get(th).i32(m).op('i32.mul').get(r).op('i32.add').get(padT).op('i32.sub').tee(iy).get(H).op('i32.lt_u').if(() => {
          f.get(n).get(C).op('i32.mul').get(c).op('i32.add').get(H).op('i32.mul').get(iy).op('i32.add').get(W).op('i32.mul')
            .i32(4).op('i32.mul').get(x).op('i32.add').set(src);
          f.get(r).get(Wp).op('i32.mul').get(padL).op('i32.add').i32(4).op('i32.mul')
            .get(k).get(bandBytes).op('i32.mul').op('i32.add').get(pbuf).op('i32.add').set(row);
          copyRow(f, src, row, W, i);
        });
      });
      nextRow(f, n, th, tilesH);
    });
    // groups of 4 tiles: lane l reads band k at column tw·m (a lane past the end repeats lane 0)
    f.i32(0).set(k).i32(0).set(tw).i32(0).set(jt);
    f.get(dst).get(c).i32(v.nr * 4).op('i32.mul').op('i32.add').set(pg);
    f.forUp(t, 0, count, 4, () => {
      base.forEach((b, l) => {
        f.get(pbuf).get(k).get(bandBytes).op('i32.mul').op('i32.add').get(tw).i32(m * 4).op('i32.mul').op('i32.add');
        if (l > 0) f.get(base[0]).get(t).i32(l).op('i32.add').get(count).op('i32.lt_s').op('select');
        f.set(b);
        f.addTo(tw, 1);
        f.get(tw).get(tilesW).op('i32.eq').if(() => { f.i32(0).set(tw).addTo(k, 1); });
      });
      group();
      // the next 4 columns of the panel, or the next panel
      f.addTo(jt, 4).addTo(pg, 16);
      f.get(jt).i32(v.nr).op('i32.eq').if(() => {
        f.i32(0).set(jt);
        f.get(pg).get(C).i32(v.nr * 4).op('i32.mul').op('i32.add').i32(v.nr * 4).op('i32.sub').set(pg);
      });
    });
  });
}

/**
 * The code of one group of 4 tiles: per input row, gather (4×4 transposes) and
 * transform (· B) into hbuf; per column, transform (Bᵀ ·) and store position
 * p = a·α + b at pg + p·pStride.
 */
function inputGroup(f: FuncBuilder, v: WinogradVariant, l: { Wp: Local; hbuf: Local; pStride: Local; base: Local[]; rowOff: Local; pg: Local }): () => void {
  const { alpha, BT } = winogradMatrices(v.m);
  const u = [0, 1, 2, 3].map(() => f.local(V128)), tt = [0, 1, 2, 3].map(() => f.local(V128));
  const d = Array.from({ length: alpha }, () => f.local(V128));
  const tr = new Transform1D(f, BT);
  const quads = Math.ceil(alpha / 4);
  return () => {
    f.i32(0).set(l.rowOff);
    for (let r = 0; r < alpha; r++) {
      for (let q = 0; q < quads; q++) {
        l.base.forEach((b, lane) => { f.get(b).get(l.rowOff).op('i32.add').mem('v128.load', 16 * q).set(u[lane]); });
        transpose4(f, u, tt, d.slice(4 * q, Math.min(alpha, 4 * q + 4)));
      }
      tr.emit(f, d, (j, push) => { f.get(l.hbuf); push(); f.mem('v128.store', (r * alpha + j) * 16); });
      if (r < alpha - 1) f.get(l.rowOff).get(l.Wp).i32(4).op('i32.mul').op('i32.add').set(l.rowOff);
    }
    for (let b = 0; b < alpha; b++) {
      for (let a = 0; a < alpha; a++) f.get(l.hbuf).mem('v128.load', (a * alpha + b) * 16).set(d[a]);
      tr.emit(f, d, (a, push) => {
        f.get(l.pg).i32(a * alpha + b).get(l.pStride).op('i32.mul').op('i32.add');
        push();
        f.mem('v128.store');
      });
    }
  };
}

// ---- output transform ---------------------------------------------------------------

interface OutLanes { ob: Local[]; vr: Local[]; vc: Local[] }

function emitOutput(f: FuncBuilder, v: WinogradVariant): void {
  const [src, pStride, ldm, M, y, imageStride, OH, OW, tilesH, tilesW, R0, count, bias, lo, hi, hbuf] = f.params;
  const { m } = winogradMatrices(v.m);
  const n = f.local(), th = f.local(), tw = f.local(), t = f.local(), mo = f.local(), q = f.local(), full = f.local();
  const plane = f.local(), planeBytes = f.local(), rowBytes = f.local();
  const lanes: OutLanes = { ob: [], vr: [], vc: [] };
  for (let i = 0; i < 4; i++) { lanes.ob.push(f.local()); lanes.vr.push(f.local()); lanes.vc.push(f.local()); }
  const lov = f.local(V128), hiv = f.local(V128), biasv = f.local(V128);
  f.get(R0).get(tilesH).op('i32.div_u').set(n).get(R0).get(tilesH).op('i32.rem_u').set(th);
  f.get(lo).op('f32x4.splat').set(lov).get(hi).op('f32x4.splat').set(hiv);
  f.get(OW).i32(4).op('i32.mul').set(rowBytes);
  f.get(OH).get(rowBytes).op('i32.mul').set(planeBytes);
  const channel = outputChannel(f, v, lanes, { src: q, pStride, hbuf, biasv, lov, hiv, plane, rowBytes, full });
  f.forUp(t, 0, count, 4, () => {
    outputLanes(f, m, lanes, { n, th, tw, t, count, y, imageStride, OH, OW, tilesH, tilesW });
    f.i32(1).set(full);
    for (let i = 0; i < 4; i++) {
      f.get(full).get(lanes.vr[i]).i32(m).op('i32.eq').op('i32.and').get(lanes.vc[i]).i32(m).op('i32.eq').op('i32.and').set(full);
    }
    f.i32(0).set(plane);
    f.get(src).get(t).i32(4).op('i32.mul').op('i32.add').set(q);
    f.forUp(mo, 0, M, 1, () => {
      f.get(bias).if(() => {
        f.get(bias).get(mo).i32(4).op('i32.mul').op('i32.add').mem('v128.load32_splat');
      }, () => { f.f32x4(0); }, V128);
      f.set(biasv);
      channel();
      f.addTo(plane, planeBytes);
      f.get(q).get(ldm).i32(4).op('i32.mul').op('i32.add').set(q);
    });
  });
}

/** Lane l's output address (tile's top-left in channel 0) and valid rows / columns; the counter moves 4 tiles on. */
function outputLanes(f: FuncBuilder, m: number, lanes: OutLanes, p: Record<string, Local>): void {
  for (let l = 0; l < 4; l++) {
    f.get(p.n).get(p.imageStride).op('i32.mul').get(p.th).i32(m).op('i32.mul').get(p.OW).op('i32.mul').op('i32.add')
      .get(p.tw).i32(m).op('i32.mul').op('i32.add').i32(4).op('i32.mul').get(p.y).op('i32.add').set(lanes.ob[l]);
    const fit = (size: Local, at: Local, into: Local) => {
      f.get(size).get(at).i32(m).op('i32.mul').op('i32.sub').set(into);
      f.get(into).i32(m).op('i32.gt_s').if(() => { f.i32(m).set(into); });
    };
    fit(p.OH, p.th, lanes.vr[l]);
    fit(p.OW, p.tw, lanes.vc[l]);
    f.get(p.t).i32(l).op('i32.add').get(p.count).op('i32.ge_s').if(() => { f.i32(0).set(lanes.vr[l]); });
    nextTile(f, p.n, p.th, p.tw, p.tilesH, p.tilesW);
  }
}

/**
 * One output channel of a group: the α² results (at src + p·pStride) transformed
 * (· A, then Aᵀ ·) into hbuf with bias and clamp, then stored: whole rows of the 4
 * tiles (transposes) when all are inside the output, else value by value.
 */
function outputChannel(f: FuncBuilder, v: WinogradVariant, lanes: OutLanes, l: Record<string, Local>): () => void {
  const { m, alpha, AT } = winogradMatrices(v.m);
  const x = Array.from({ length: alpha }, () => f.local(V128));
  const u = [0, 1, 2, 3].map(() => f.local(V128)), tt = [0, 1, 2, 3].map(() => f.local(V128));
  const ptr = f.local(), rowOff = f.local();
  const tr = new Transform1D(f, AT);
  const yAt = alpha * m * 16;
  const store = () => {
    f.i32(0).set(rowOff);
    for (let oy = 0; oy < m; oy++) {
      for (let ox = 0; ox < m; ox++) f.get(l.hbuf).mem('v128.load', yAt + (oy * m + ox) * 16).set(x[ox]);
      const at = (lane: number) => f.get(lanes.ob[lane]).get(l.plane).op('i32.add').get(rowOff).op('i32.add');
      for (let q = 0; q + 4 <= m; q += 4) {
        transpose4(f, x.slice(q, q + 4), tt, u);
        u.forEach((r, lane) => { at(lane); f.get(r).mem('v128.store', 4 * q); });
      }
      if (m % 4 === 2) {
        const [a, b] = [x[m - 2], x[m - 1]];
        f.get(a).get(b).shuffle32(0, 4, 1, 5).set(u[0]).get(a).get(b).shuffle32(2, 6, 3, 7).set(u[1]);
        for (let lane = 0; lane < 4; lane++) { at(lane); f.get(u[lane >> 1]).memLane('v128.store64_lane', 4 * (m - 2), lane & 1); }
      }
      if (oy < m - 1) f.addTo(rowOff, l.rowBytes);
    }
  };
  const storeEdge = () => {
    for (let lane = 0; lane < 4; lane++) {
      for (let oy = 0; oy < m; oy++) {
        f.get(lanes.vr[lane]).i32(oy).op('i32.gt_s').if(() => {
          for (let ox = 0; ox < m; ox++) {
            f.get(lanes.vc[lane]).i32(ox).op('i32.gt_s').if(() => {
              f.get(lanes.ob[lane]).get(l.plane).op('i32.add').get(l.rowBytes).i32(oy).op('i32.mul').op('i32.add');
              f.get(l.hbuf).mem('f32.load', yAt + ((oy * m + ox) * 4 + lane) * 4).mem('f32.store', 4 * ox);
            });
          }
        });
      }
    }
  };
  return () => {
    f.get(l.src).set(ptr);
    for (let a = 0; a < alpha; a++) {
      for (let b = 0; b < alpha; b++) { f.get(ptr).mem('v128.load').set(x[b]); f.addTo(ptr, l.pStride); }
      tr.emit(f, x, (ox, push) => { f.get(l.hbuf); push(); f.mem('v128.store', (a * m + ox) * 16); });
    }
    for (let ox = 0; ox < m; ox++) {
      for (let a = 0; a < alpha; a++) f.get(l.hbuf).mem('v128.load', (a * m + ox) * 16).set(x[a]);
      tr.emit(f, x, (oy, push) => {
        f.get(l.hbuf);
        push();
        f.get(l.biasv).op('f32x4.add').clampTo(l.lov, l.hiv).mem('v128.store', yAt + (oy * m + ox) * 16);
      });
    }
    f.get(l.full).if(store, storeEdge);
  };
}
