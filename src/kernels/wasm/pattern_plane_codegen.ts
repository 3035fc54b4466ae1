// The pattern conv's 'plane' layout (pads of 1 left and right, stride 1): each
// input channel padded into rows of pitch Q = W + 1 whose one zero column is both
// the right pad of a row and the left pad of the next, so the whole output plane
// is one flat run of f32x4 vectors (one junk column per row) and every tap is a
// constant offset (ky·Q + kx) from the output position. Stride 2: each channel in
// four phase planes (the padded image's even or odd rows × even or odd columns), each
// of pitch Q = OW + 1, so tap (ky, kx) is again a constant offset: in phase
// (ky mod 2, kx mod 2), ⌊ky/2⌋ rows and ⌊kx/2⌋ columns from the output position.
// Per filter: the plane's accumulators start at the bias in scratch memory; each kernel (or group of 2
// or 4 kernels of the same pattern) then streams over the plane, each vector taking
// the taps' products summed as a tree; a last pass clamps and stores the valid
// columns. Kernel-major order: a kernel's weights stay in registers for the whole
// plane and the accumulator's store between vectors keeps V8 from hoisting every
// load of a tile to the top (the spills that cap the 'rows' layout).
import type { FuncBuilder, Local, ModuleBuilder } from './emitter.js';
import { I32, V128 } from './opcodes.js';
import type { PatternGeometry, PatternModuleSpec } from './pattern_spec.js';
import { passKinds } from './pattern_pairs.js';
import { gcd } from '../../ir/winograd.js';

/** Taps of a mask as (row, column) pairs. */
export function tapsOf(mask: number): [number, number][] {
  const out: [number, number][] = [];
  for (let t = 0; t < 9; t++) if (mask & (1 << t)) out.push([Math.floor(t / 3), t % 3]);
  return out;
}

/** Row pitch of the plane layout (stride 1: W + 1). */
export const planePitch = (g: PatternGeometry): number => g.OW + 1;

/** Rows of one (phase) plane: the padded rows (stride 1), or the output rows and one more (stride 2). */
export const planeRows = (g: PatternGeometry): number => (g.S === 1 ? g.PH : g.OH + 1);

/** Floats of one (phase) plane of a channel (with slack for the last vector's over-read); a channel has S² of them. */
export function planeFloats(g: PatternGeometry): number {
  return planeRows(g) * planePitch(g) + 8;
}

/** Output vectors of a filter's plane: every position up to the last valid one. */
export function planeVectors(g: PatternGeometry): number {
  return Math.ceil(((g.OH - 1) * planePitch(g) + g.OW) / 4);
}

/** Bytes of the accumulator plane of one filter (with room for the vectors emitBand rounds a call up to). */
export function planeAccBytes(g: PatternGeometry): number {
  return planeVectors(g) * 16 + 128;
}

/**
 * Whether the plane layouts can run the geometry: stride 1 with one column of padding each side
 * (so OW = W), or stride 2 with pads of at most 1 above and left.
 */
export function planeFits(g: PatternGeometry): boolean {
  return g.S === 1 ? g.padL === 1 && g.PW === g.W + 2 : g.S === 2 && g.padL <= 1 && g.padT <= 1;
}

/** Locals and parameters the plane conv shares with the row setup of pattern_codegen.ts. */
export interface PlaneCtx {
  f: FuncBuilder;
  s: PatternModuleSpec;
  xpad: Local; acc: Local; clampAt: Local;
  yrow: Local; bias: Local; ip: Local; wp: Local; cp: Local; end: Local;
  /** The output rows the call runs. */
  band: Band;
  taps: [number, number][][];
}

/** One product of a pass: the input vector at byte `off` from `base` times the splat `w`. */
export interface PassTerm { base: Local; off: number; w: Local }

/** One accumulator plane of a pass (at `acc`) and the products added to it. */
export interface PassOut { acc: Local; terms: PassTerm[] }

/**
 * One pass over `n` vectors (emitBand's), variant.vecs at a time (constant offsets from the pointers,
 * which all step by 16 · vecs), then the plane's rest: each output's accumulator loaded, its
 * products summed as a tree and added, stored (`write`: the products' sum stored, the accumulator
 * not read; zeros without products). An input vector that several products read (outputs sharing
 * a channel) is loaded once per vector position.
 */
export function emitPass(f: FuncBuilder, s: PatternModuleSpec, t: Local, outs: PassOut[], xs: Local[], n: Local, write = false): void {
  const k = f.local(I32);
  const V = passStep(s);
  const key = (x: PassTerm) => `${x.base.index}:${x.off}`;
  const uses = new Map<string, number>();
  for (const o of outs) for (const x of o.terms) uses.set(key(x), (uses.get(key(x)) ?? 0) + 1);
  const shared = [...uses].filter(([, count]) => count > 1).map(([id]) => id);
  if (shared.length > xs.length) throw new Error(`pattern pass: ${shared.length} shared input vectors, ${xs.length} locals`);
  const vector = (v: number) => {
    const loaded = new Map<string, Local>();
    for (const o of outs) {
      for (const x of o.terms) {
        if (!shared.includes(key(x)) || loaded.has(key(x))) continue;
        const l = xs[loaded.size];
        f.get(x.base).mem('v128.load', x.off + 16 * v).set(l);
        loaded.set(key(x), l);
      }
    }
    for (const o of outs) {
      const load = (i: number) => {
        const x = o.terms[i], l = loaded.get(key(x));
        if (l) f.get(l); else f.get(x.base).mem('v128.load', x.off + 16 * v);
        f.get(x.w);
      };
      if (!o.terms.length) {
        if (!write) throw new Error('pattern pass: an output without products only stores zeros');
        f.f32x4(0).set(t);
      } else if (s.fma) {
        // a chain of fused multiply-adds into the accumulator (out-of-order execution overlaps the vectors)
        if (write) { load(0); f.op('f32x4.mul').set(t); } else f.get(o.acc).mem('v128.load', 16 * v).set(t);
        for (let i = write ? 1 : 0; i < o.terms.length; i++) { load(i); f.get(t).op('f32x4.relaxed_madd').set(t); }
      } else if (outs.length > 1) {
        // shared loads: the products added one by one need one register less than a tree, and V8
        // then keeps all 8 weights of a pair in registers (measured 3–12% faster; alone, no change)
        if (write) { load(0); f.op('f32x4.mul'); } else f.get(o.acc).mem('v128.load', 16 * v);
        for (let i = write ? 1 : 0; i < o.terms.length; i++) { load(i); f.op('f32x4.mul').op('f32x4.add'); }
        f.set(t);
      } else {
        if (!write) f.get(o.acc).mem('v128.load', 16 * v);
        tree(f, 0, o.terms.length, (i) => { load(i); f.op('f32x4.mul'); });
        if (!write) f.op('f32x4.add');
        f.set(t);
      }
      f.get(o.acc).get(t).mem('v128.store', 16 * v);
    }
  };
  const pointers = [...new Set([...outs.map((o) => o.acc), ...outs.flatMap((o) => o.terms.map((x) => x.base))])];
  f.get(n).set(k);
  // V vectors a step while V are left; then what is left is the plane's last nvec mod V (emitBand), unrolled
  f.get(k).i32(V).op('i32.ge_s').if(() => f.loop((top) => {
    for (let v = 0; v < V; v++) vector(v);
    for (const p of pointers) f.addTo(p, 16 * V);
    f.get(k).i32(V).op('i32.sub').tee(k).i32(V).op('i32.ge_s').brIf(top);
  }));
  const rest = planeVectors(s.geo) % V;
  if (rest) f.get(k).if(() => { for (let v = 0; v < rest; v++) vector(v); });
}

/** Byte offset of tap (ky, kx) from the output position in a channel's (phase) planes. */
export function tapBytes(g: PatternGeometry, [ky, kx]: [number, number]): number {
  const S = g.S, phase = (ky % S) * S + (kx % S);
  return (phase * planeFloats(g) + Math.floor(ky / S) * planePitch(g) + Math.floor(kx / S)) * 4;
}

/**
 * Fills a band's accumulators (`bytes` of them, a multiple of 16) with the bias, four vectors a
 * step: up to three past the band, inside planeAccBytes' slack.
 */
export function emitBiasFill(f: FuncBuilder, acc: Local, bias: Local, bytes: Local): void {
  const j = f.local(I32);
  f.forUp(j, 0, bytes, 64, () => {
    for (let v = 0; v < 4; v++) f.get(acc).get(j).op('i32.add').get(bias).mem('v128.store', 16 * v);
  });
}

/** The conv export's parameters (pattern_spec.ts PATTERN_EXPORTS.conv). */
export type ConvParams = Record<'xpad' | 'y' | 'r0' | 'r1' | 'rowOut' | 'rowBias' | 'rowIdx' | 'rowW' | 'stride' | 'index' | 'weights' | 'clampAt' | 'acc' | 'y0' | 'y1' | 'groups', Local>;

/** The output rows b0..b1 a conv call runs: the byte offset `vb` of their first vector in a plane (added to xpad), their vectors `n` and those vectors' `bytes`. */
export interface Band { b0: Local; b1: Local; vb: Local; n: Local; bytes: Local }

/**
 * The vectors a call of output rows y0..y1 runs (emitPass's loop count): from the one holding
 * row y0's first output, rounded down to a multiple of V (variant.vecs), to the plane's last
 * (y1 = OH) or to the one holding row y1 − 1's last output, rounded up to whole steps of V; so
 * only a call that ends the plane has a rest (nvec mod V vectors, unrolled as a static count:
 * a count known only at run time cost 4–7% on 7×7 planes). The extra vectors compute outputs
 * no row of the call stores (from padded rows it may not have written). A loop over bands around
 * the passes made V8 keep a pair's weights on the stack (10–40% slower): one band per call.
 */
export function emitBand(f: FuncBuilder, s: PatternModuleSpec, y0: Local, y1: Local, xpad: Local): Band {
  const g = s.geo, [vb, n, bytes] = Array.from({ length: 3 }, () => f.local(I32));
  const Q = planePitch(g), V = passStep(s), nvec = planeVectors(g);
  f.get(y0).i32(Q).op('i32.mul').i32(2).op('i32.shr_u').i32(V).op('i32.div_u').i32(V).op('i32.mul').set(vb);
  f.get(y1).i32(g.OH).op('i32.ge_s').if(() => { f.i32(nvec).get(vb).op('i32.sub').set(n); }, () => {
    f.get(y1).i32(1).op('i32.sub').i32(Q).op('i32.mul').i32(g.OW + 3).op('i32.add').i32(2).op('i32.shr_u').get(vb).op('i32.sub');
    f.i32(V - 1).op('i32.add').i32(V).op('i32.div_u').i32(V).op('i32.mul').set(n);
  });
  f.get(vb).i32(4).op('i32.shl').set(vb).get(n).i32(4).op('i32.shl').set(bytes);
  f.addTo(xpad, vb);
  return { b0: y0, b1: y1, vb, n, bytes };
}

/** Vectors per step of a pass. */
export function passStep(s: PatternModuleSpec): number {
  return Math.max(1, Math.min(s.variant.vecs, planeVectors(s.geo)));
}

/** Where a band's first output row is in its accumulators (from acc) and in the output plane (from yrow), into `src` and `dst`. */
export function emitBandRows(f: FuncBuilder, g: PatternGeometry, b: Band, acc: Local, yrow: Local, src: Local, dst: Local): void {
  f.get(acc).get(b.b0).i32(planePitch(g) * 4).op('i32.mul').op('i32.add').get(b.vb).op('i32.sub').set(src);
  f.get(yrow).get(b.b0).i32(g.OW * 4).op('i32.mul').op('i32.add').set(dst);
}

/** One filter's band of output rows: bias, the pattern groups, clamp and store. */
export function emitPlaneRow(c: PlaneCtx): void {
  const { f, s, band } = c;
  const g = s.geo, a = f.local(I32), U = s.variant.unroll, src = f.local(I32), dst = f.local(I32);
  const bs = Array.from({ length: U }, () => f.local(I32));
  const t = f.local(V128), ws = Array.from({ length: U }, () => Array.from({ length: 9 }, () => f.local(V128)));
  emitBiasFill(f, c.acc, c.bias, band.bytes);
  c.taps.forEach((taps, p) => {
    f.get(c.cp).mem('i32.load', 4 * p).i32(4).op('i32.mul').get(c.ip).op('i32.add').set(c.end);
    /** n kernels of pattern p in one pass over the band: the accumulator read and written once for all of them. */
    const kernels = (n: number) => {
      for (let q = 0; q < n; q++) {
        f.get(c.xpad).get(c.ip).mem('i32.load', 4 * q).op('i32.add').set(bs[q]);
        taps.forEach((_, k) => f.get(c.wp).mem('v128.load32_splat', 4 * (q * taps.length + k)).set(ws[q][k]));
      }
      f.get(c.acc).set(a);
      const terms = Array.from({ length: n }, (_, q) => taps.map((tap, k) => ({ base: bs[q], off: tapBytes(g, tap), w: ws[q][k] }))).flat();
      emitPass(f, s, t, [{ acc: a, terms }], [], band.n);
      f.addTo(c.ip, 4 * n).addTo(c.wp, 4 * n * taps.length);
    };
    // groups of U kernels while U are left, then pairs (U = 4), then single kernels
    for (const n of [4, 2].filter((n) => n <= U)) {
      f.block((done) => f.loop((top) => {
        f.get(c.ip).i32(4 * (n - 1)).op('i32.add').get(c.end).op('i32.ge_u').brIf(done);
        kernels(n);
        f.br(top);
      }));
    }
    f.get(c.ip).get(c.end).op('i32.lt_u').if(() => f.loop((top) => {
      kernels(1);
      f.get(c.ip).get(c.end).op('i32.lt_u').brIf(top);
    }));
  });
  emitBandRows(f, g, band, c.acc, c.yrow, src, dst);
  storePlane({ f, s, clampAt: c.clampAt }, t, src, dst, band);
}

/** How stored outputs are clamped: not at all, below only (the upper bound +∞: ReLU), or both. */
type Clamp = 'none' | 'lo' | 'both';

/**
 * Output vectors of one period of the flat store (storeFlat): the outputs repeat their row
 * crossings every lcm(OW, 4) of them; 0 where the flat store does not run (rows under 4 wide,
 * or a period of more than FLAT_PERIOD_MAX vectors, where the row store is as good).
 */
function flatPeriod(g: PatternGeometry): number {
  if (g.OW < 4) return 0;
  const vectors = g.OW / gcd(g.OW, 4);
  return vectors <= FLAT_PERIOD_MAX ? vectors : 0;
}

/** Vectors of the flat store's longest period (its code holds one period and the rest of one). */
const FLAT_PERIOD_MAX = 16;

/**
 * Bias (`bias`: added), clamp (`lo`, `hi`) and store of a band's outputs (the band's first row's
 * accumulators at src, pitch OW + 1; the output at dst, pitch OW): the whole plane (b0 = 0, b1 = OH)
 * as one run of output vectors when flatPeriod has one (whole-vector stores; a vector
 * crossing a row takes its lanes from two loads one float apart), else row by row.
 */
export function storePlane(c: Pick<PlaneCtx, 'f' | 's' | 'clampAt'>, t: Local, src: Local, dst: Local, band: Band, bias?: Local): void {
  const { f, s } = c;
  const g = s.geo, lo = f.local(V128), hi = f.local(V128);
  /** The output vector on the stack: plus the bias, clamped, into t. */
  const finish = (clamp: Clamp) => {
    if (bias) f.get(bias).op('f32x4.add');
    if (clamp !== 'none') f.get(lo).op('f32x4.pmax');
    if (clamp === 'both') f.get(hi).op('f32x4.pmin');
    f.set(t);
  };
  const store = (clamp: Clamp) => {
    if (!flatPeriod(g)) { storeRows(f, g, t, src, dst, band, () => finish(clamp)); return; }
    f.get(band.b0).op('i32.eqz').get(band.b1).i32(g.OH).op('i32.eq').op('i32.and')
      .if(() => storeFlat(f, g, t, src, dst, () => finish(clamp)), () => storeRows(f, g, t, src, dst, band, () => finish(clamp)));
  };
  // the bounds loaded here, not kept from the function's start: a long-lived vector would take a register from the passes
  f.get(c.clampAt).if(() => {
    f.get(c.clampAt).mem('v128.load32_splat', 0).set(lo).get(c.clampAt).mem('v128.load32_splat', 4).set(hi);
    f.get(c.clampAt).mem('f32.load', 4).f32(Infinity).op('f32.eq').if(() => store('lo'), () => store('both'));
  }, () => store('none'));
}

/** Stores the vector in t at dst + `at` bytes: its first `lanes` lanes (1–4). */
function storeLanes(f: FuncBuilder, t: Local, dst: Local, at: number, lanes: number): void {
  if (lanes === 4) { f.get(dst).get(t).mem('v128.store', at); return; }
  if (lanes >= 2) f.get(dst).get(t).memLane('v128.store64_lane', at, 0);
  if (lanes === 1) f.get(dst).get(t).memLane('v128.store32_lane', at, 0);
  if (lanes === 3) f.get(dst).get(t).memLane('v128.store32_lane', at + 8, 2);
}

/** Row by row: each row's OW outputs from its accumulators (src steps by the pitch OW + 1, dst by OW). */
function storeRows(f: FuncBuilder, g: PatternGeometry, t: Local, src: Local, dst: Local, band: Band, finish: () => void): void {
  const r = f.local(I32), vectors = Math.ceil(g.OW / 4);
  f.forUp(r, band.b0, band.b1, 1, () => {
    for (let v = 0; v < vectors; v++) {
      f.get(src).mem('v128.load', 16 * v);
      finish();
      storeLanes(f, t, dst, 16 * v, Math.min(4, g.OW - 4 * v));
    }
    f.addTo(src, planePitch(g) * 4).addTo(dst, g.OW * 4);
  });
}

/**
 * The whole plane as one run of OH·OW outputs, flatPeriod(g) vectors a step (then the rest, the
 * last vector's lanes stored one by one): output o's accumulator is o + ⌊o / OW⌋ floats from
 * src, so a vector within a row is one load, and one crossing into the next row at lane k takes
 * lanes k.. from the load one float further.
 */
function storeFlat(f: FuncBuilder, g: PatternGeometry, t: Local, src: Local, dst: Local, finish: () => void): void {
  const PV = flatPeriod(g), total = g.OH * g.OW, periods = Math.floor(total / (4 * PV)), left = total - periods * 4 * PV;
  const p = f.local(I32);
  /** Output vector v of a period (its outputs from 4v, 4v + lanes), relative to src and dst. */
  const vector = (v: number, lanes: number) => {
    const o = 4 * v, y = Math.floor(o / g.OW), k = (y + 1) * g.OW - o;
    f.get(src).mem('v128.load', 4 * (o + y));
    if (k < lanes) f.get(src).mem('v128.load', 4 * (o + y + 1)).shuffle32(...([0, 1, 2, 3].map((l) => (l < k ? l : 4 + l)) as [number, number, number, number]));
    finish();
    storeLanes(f, t, dst, 16 * v, lanes);
  };
  if (periods) {
    f.forUp(p, 0, periods, 1, () => {
      for (let v = 0; v < PV; v++) vector(v, 4);
      f.addTo(src, 4 * (4 * PV + (4 * PV) / g.OW)).addTo(dst, 16 * PV);
    });
  }
  for (let v = 0; 4 * v < left; v++) vector(v, Math.min(4, left - 4 * v));
}

/** Pushes the sum of terms [a, b) as a balanced tree of f32x4.add. */
export function tree(f: FuncBuilder, a: number, b: number, term: (t: number) => void): void {
  if (b - a === 1) { term(a); return; }
  const mid = (a + b) >> 1;
  tree(f, a, mid, term);
  tree(f, mid, b, term);
  f.op('f32x4.add');
}

/** The conv's parameters, for the 'pairs' layout (pattern_pairs.ts); `passFns` from pairsPassFunctions. */
export interface PairsCtx {
  f: FuncBuilder;
  s: PatternModuleSpec;
  p: ConvParams;
  passFns: PassFn[];
}

/** A function running a group's passes of one kind (pairsPassFunctions), and the weights each pass reads. */
export interface PassFn { index: number; weights: number }

/**
 * The 'pairs' layout's pass kinds (pattern_pairs.ts passKinds) as functions of their own,
 * (ip, end, wp, xpad, acc, n): the passes whose entries (3 i32: channel plane and two accumulators,
 * byte offsets from xpad and acc) run from ip to end, their weights from wp, over n vectors. Not
 * inlined into the conv: a conv function of all the pass loops (52 for 12 patterns' 40 pair kinds and
 * 12 lone kinds; 70 for 8 patterns with every kind in its init form too) passed V8's size limit for its
 * optimizing register allocator, whose fallback (`--turbo-use-mid-tier-regalloc-for-huge-functions`)
 * ran VGG-S's layers 20–34% slower.
 */
export function pairsPassFunctions(m: ModuleBuilder, s: PatternModuleSpec): PassFn[] {
  const taps = s.masks.map(tapsOf), g = s.geo;
  return passKinds(s.pairKinds ?? [], s.masks.length).map(({ patterns, write }) => ({
    weights: patterns.reduce((n, pat) => n + taps[pat].length, 0),
    index: m.func(undefined, Array(6).fill(I32), [], (f) => {
      const [ip, end, wp, xpad, acc, n] = f.params, base = f.local(I32), t = f.local(V128);
      const accs = [0, 1].slice(0, Math.max(1, patterns.length)).map(() => f.local(I32)), xs = Array.from({ length: 9 }, () => f.local(V128));
      f.loop((top) => {
        f.get(xpad).get(ip).mem('i32.load').op('i32.add').set(base);
        accs.forEach((a, i) => f.get(acc).get(ip).mem('i32.load', 4 + 4 * i).op('i32.add').set(a));
        let w = 0;
        const outs = accs.map((a, i) => ({
          acc: a,
          terms: (patterns.length ? taps[patterns[i]] : []).map((tap) => {
            const wl = f.local(V128);
            f.get(wp).mem('v128.load32_splat', 4 * w++).set(wl);
            return { base, off: tapBytes(g, tap), w: wl };
          }),
        }));
        emitPass(f, s, t, outs, xs, n, write);
        f.addTo(ip, 12).addTo(wp, 4 * w);
        f.get(ip).get(end).op('i32.lt_u').brIf(top);
      });
    }),
  }));
}

/**
 * 'pairs': the groups r0..r1 (of up to G rows, variant.rows; group g's first row at groups[g], its
 * end at groups[g + 1]), output rows y0..y1: the group's accumulators (one planeAccBytes per row at acc)
 * written by its init passes, then added to by the others, kind by kind (pattern pairs, then lone
 * kernels; counts per group and kind at stride, init kinds first; 3 i32 per pass at index from
 * rowIdx[group]; the weights at weights + rowW[group]), each kind's passes by its function
 * (pairsPassFunctions), then each row's bias, clamp and store.
 */
export function emitPairs(c: PairsCtx): void {
  const { f, s, p } = c;
  const g = s.geo, PA = planeAccBytes(g);
  const [gi, gr, ge, r, ip, wp, cp, end, count, a1, yrow, src, dst] = Array.from({ length: 13 }, () => f.local(I32));
  const bias = f.local(V128), t = f.local(V128);
  const band = emitBand(f, s, p.y0, p.y1, p.xpad);
  f.forUp(gi, p.r0, p.r1, 1, () => {
    f.get(p.groups).get(gi).i32(4).op('i32.mul').op('i32.add').set(end);
    f.get(end).mem('i32.load').set(gr).get(end).mem('i32.load', 4).set(ge);
    // this group's counts, first pass and first weight
    f.get(gi).i32(4).op('i32.mul').set(end);
    f.get(p.stride).get(end).i32(c.passFns.length).op('i32.mul').op('i32.add').set(cp);
    f.get(p.index).get(p.rowIdx).get(end).op('i32.add').mem('i32.load').op('i32.add').set(ip);
    f.get(p.weights).get(p.rowW).get(end).op('i32.add').mem('i32.load').op('i32.add').set(wp);
    c.passFns.forEach((fn, kind) => {
      // the group's `count` passes of this kind: entries ip..end, then the next kind's
      f.get(cp).mem('i32.load', 4 * kind).tee(count).if(() => {
        f.get(count).i32(12).op('i32.mul').get(ip).op('i32.add').set(end);
        f.get(ip).get(end).get(wp).get(p.xpad).get(p.acc).get(band.n).call(fn.index);
        f.get(end).set(ip);
        f.get(count).i32(4 * fn.weights).op('i32.mul').get(wp).op('i32.add').set(wp);
      });
    });
    // each row: its accumulators (a1), bias, clamp and store
    f.forUp(r, gr, ge, 1, () => {
      f.get(p.acc).get(r).get(gr).op('i32.sub').i32(PA).op('i32.mul').op('i32.add').set(a1);
      f.get(p.rowBias).get(r).i32(4).op('i32.mul').op('i32.add').mem('v128.load32_splat').set(bias);
      f.get(p.y).get(p.rowOut).get(r).i32(4).op('i32.mul').op('i32.add').mem('i32.load').op('i32.add').set(yrow);
      emitBandRows(f, g, band, a1, yrow, src, dst);
      storePlane({ f, s, clampAt: p.clampAt }, t, src, dst, band, bias);
    });
  });
}
