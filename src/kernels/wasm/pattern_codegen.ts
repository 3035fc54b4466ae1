// Pattern-pruned 3×3 convolution (PatDNN §5), generated per layer: the input is
// copied once into zero-padded planes of a fixed pitch, so every tap of every
// pattern is a v128.load at a constant offset from the kernel's channel plane.
// The output is computed in tiles of R rows × V f32x4 vectors held in registers:
// per filter (row of the FKW arrays, in FKR order) and tile, the accumulators
// start at the bias, then each pattern's kernels run as one straight-line block
// (its taps × R × V multiply-adds), the pattern's kernels back to back (the FKW
// stride array says how many), then the clamp and the stores (the last vector of
// a row stores only the lanes inside the output).
// Variants (the auto-tuner's space, compile/pattern_tune.ts):
//   storage  'fkw': one channel index per kernel, taps from the pattern (code);
//            'csr': one offset per weight (the ablation without FKW)
//   rows, vecs  the tile;  lre  each input vector loaded once per tile and used
//            by every tap (and tile row) that reads it;  order  filters outside
//            tiles or tiles outside filters;  unroll  kernels per loop iteration.
// The plane and pairs layouts (kernel-major passes over a flat plane; the pairs
// layout two filters' kernels per pass) are in pattern_plane_codegen.ts.
import { FuncBuilder, type Local, ModuleBuilder } from './emitter.js';
import { memoryImport } from './loader.js';
import { I32, V128 } from './opcodes.js';
import { emitPad } from './pattern_pad_codegen.js';
import { type ConvParams, emitBand, emitPairs, emitPlaneRow, pairsPassFunctions, type PassFn, tapsOf, tree } from './pattern_plane_codegen.js';
import { PATTERN_EXPORTS, type PatternGeometry, type PatternModuleSpec, type PatternVariant } from './pattern_spec.js';

export function patternModule(s: PatternModuleSpec): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(s.shared));
  m.func(PATTERN_EXPORTS.pad, Array(6).fill(I32), [], (f) => emitPad(f, s));
  const passFns = s.variant.layout === 'pairs' ? pairsPassFunctions(m, s) : [];
  m.func(PATTERN_EXPORTS.conv, Array(16).fill(I32), [], (f) => new ConvEmitter(f, s, passFns).emit());
  m.func(PATTERN_EXPORTS.touch, [I32, I32], [I32], (f) => emitTouch(f));
  return m.build();
}

/** (at, bytes): reads one word of every 64-byte line of at..at + bytes (returns their or, so that none is dropped). */
function emitTouch(f: FuncBuilder): void {
  const [at, bytes] = f.params, end = f.local(I32), acc = f.local(I32);
  f.get(at).get(bytes).op('i32.add').set(end);
  f.get(at).get(end).op('i32.lt_u').if(() => f.loop((next) => {
    f.get(acc).get(at).mem('i32.load').op('i32.or').set(acc);
    f.addTo(at, 64).get(at).get(end).op('i32.lt_u').brIf(next);
  }));
  f.get(acc);
}

class ConvEmitter {
  private readonly g: PatternGeometry;
  private readonly v: PatternVariant;
  private readonly p: ConvParams;
  private readonly r: Local; private readonly ip: Local; private readonly wp: Local; private readonly end: Local;
  private readonly base: Local; private readonly tileX: Local; private readonly tileY: Local; private readonly yrow: Local;
  private readonly ip0: Local; private readonly wp0: Local; private readonly cp: Local; private readonly t: Local;
  private readonly bias: Local; private readonly lo: Local; private readonly hi: Local; private readonly x: Local;
  private readonly acc: Local[][];
  private readonly w: Local[];
  /** Input vectors of one tile column (LRE): at most (rows + 2) × 3. */
  private readonly xs: Local[];

  constructor(private readonly f: FuncBuilder, private readonly s: PatternModuleSpec, private readonly passFns: PassFn[]) {
    this.g = s.geo;
    this.v = s.variant;
    const [xpad, y, r0, r1, rowOut, rowBias, rowIdx, rowW, stride, index, weights, clampAt, acc, y0, y1, groups] = f.params;
    this.p = { xpad, y, r0, r1, rowOut, rowBias, rowIdx, rowW, stride, index, weights, clampAt, acc, y0, y1, groups };
    [this.r, this.ip, this.wp, this.end, this.base, this.tileX, this.tileY, this.yrow, this.ip0, this.wp0, this.cp, this.t] =
      Array.from({ length: 12 }, () => f.local(I32));
    [this.bias, this.lo, this.hi, this.x] = Array.from({ length: 4 }, () => f.local(V128));
    this.acc = Array.from({ length: this.v.rows }, () => Array.from({ length: this.v.vecs }, () => f.local(V128)));
    this.w = Array.from({ length: 9 }, () => f.local(V128));
    this.xs = Array.from({ length: (this.v.rows + 2) * 3 }, () => f.local(V128));
  }

  emit(): void {
    const { f, p } = this;
    if (this.v.layout === 'pairs') {
      emitPairs({ f, s: this.s, p, passFns: this.passFns });
      return;
    }
    if (this.v.layout === 'plane') {
      const c = {
        f, s: this.s, xpad: p.xpad, acc: p.acc, clampAt: p.clampAt, yrow: this.yrow, bias: this.bias, ip: this.ip, wp: this.wp, cp: this.cp,
        end: this.end, taps: this.s.masks.map(tapsOf), band: emitBand(f, this.s, p.y0, p.y1, p.xpad),
      };
      f.forUp(this.r, p.r0, p.r1, 1, () => { this.rowSetup(); f.get(this.ip0).set(this.ip).get(this.wp0).set(this.wp); emitPlaneRow(c); });
      return;
    }
    // row tiles: the clamp bounds in registers for the whole call (the plane layouts load them at each store)
    f.get(p.clampAt).if(() => {
      f.get(p.clampAt).mem('v128.load32_splat', 0).set(this.lo).get(p.clampAt).mem('v128.load32_splat', 4).set(this.hi);
    });
    if (this.v.order === 'filter') {
      f.forUp(this.r, p.r0, p.r1, 1, () => { this.rowSetup(); this.tiles(this.body); });
    } else {
      this.tiles((rows, vecs, lanes) => f.forUp(this.r, p.r0, p.r1, 1, () => { this.rowSetup(); this.body(rows, vecs, lanes); }));
    }
  }

  /** Per row: output plane, bias, where its kernels and weights start. */
  private rowSetup(): void {
    const { f, p, r } = this;
    f.get(r).i32(4).op('i32.mul').set(this.t);
    f.get(p.y).get(p.rowOut).get(this.t).op('i32.add').mem('i32.load').op('i32.add').set(this.yrow);
    f.get(p.rowBias).get(this.t).op('i32.add').mem('v128.load32_splat').set(this.bias);
    f.get(p.index).get(p.rowIdx).get(this.t).op('i32.add').mem('i32.load').op('i32.add').set(this.ip0);
    f.get(p.weights).get(p.rowW).get(this.t).op('i32.add').mem('i32.load').op('i32.add').set(this.wp0);
    const K = this.v.storage === 'fkw' ? this.s.masks.length : 1;
    f.get(p.stride).get(r).i32(4 * K).op('i32.mul').op('i32.add').set(this.cp);
  }

  /**
   * The tiles of the output: whole R-row tiles then the remaining rows; within
   * them, whole V-vector chunks then the last chunk (whose last vector may be
   * partial). tileX / tileY: the tile's byte offset in a padded input plane / the output plane.
   */
  private tiles(each: (rows: number, vecs: number, lanes: number) => void): void {
    const { f, g, v } = this;
    const vtot = Math.ceil(g.OW / 4), chunks = Math.ceil(vtot / v.vecs), lastVecs = vtot - (chunks - 1) * v.vecs;
    const lastLanes = g.OW - 4 * (vtot - 1);
    const rowTiles = Math.floor(g.OH / v.rows), tailRows = g.OH % v.rows;
    const chunk = f.local(I32), tile = f.local(I32);
    const at = (chunkBytes: () => void) => {
      f.get(tile).i32(v.rows * g.OW * 4).op('i32.mul');
      chunkBytes();
      f.op('i32.add').set(this.tileY);
      f.get(tile).i32(v.rows * g.PW * 4).op('i32.mul');
      chunkBytes();
      f.op('i32.add').set(this.tileX);
    };
    const rowKind = (rows: number) => {
      if (chunks > 1) {
        f.forUp(chunk, 0, chunks - 1, 1, () => {
          at(() => f.get(chunk).i32(16 * v.vecs).op('i32.mul'));
          each(rows, v.vecs, 4);
        });
      }
      at(() => f.i32(16 * v.vecs * (chunks - 1)));
      each(rows, lastVecs, lastLanes);
    };
    if (rowTiles > 0) f.forUp(tile, 0, rowTiles, 1, () => rowKind(v.rows));
    if (tailRows > 0) {
      f.i32(rowTiles).set(tile);
      rowKind(tailRows);
    }
  }

  /** One tile of one row: accumulators from the bias, every pattern's kernels, clamp, store. */
  private body = (rows: number, vecs: number, lanes: number): void => {
    const { f } = this;
    for (let r = 0; r < rows; r++) for (let c = 0; c < vecs; c++) f.get(this.bias).set(this.acc[r][c]);
    f.get(this.ip0).set(this.ip).get(this.wp0).set(this.wp);
    if (this.v.storage === 'csr') this.csrKernels(rows, vecs);
    else this.s.masks.forEach((mask, p) => this.patternKernels(p, tapsOf(mask), rows, vecs));
    this.store(rows, vecs, lanes);
  };

  /** The kernels of pattern p of this row: count from the stride array, then the block `unroll` kernels at a time. */
  private patternKernels(p: number, taps: [number, number][], rows: number, vecs: number): void {
    const { f } = this;
    const step = this.v.unroll;
    f.get(this.cp).mem('i32.load', 4 * p).i32(4).op('i32.mul').get(this.ip).op('i32.add').set(this.end);
    if (step === 2) {
      // pairs while two are left, then the odd one
      f.block((done) => {
        f.loop((top) => {
          f.get(this.ip).i32(4).op('i32.add').get(this.end).op('i32.ge_u').brIf(done);
          this.kernel(taps, rows, vecs);
          this.kernel(taps, rows, vecs);
          f.br(top);
        });
      });
    }
    f.get(this.ip).get(this.end).op('i32.lt_u').if(() => {
      f.loop((top) => {
        this.kernel(taps, rows, vecs);
        f.get(this.ip).get(this.end).op('i32.lt_u').brIf(top);
      });
    });
  }

  /**
   * One kernel: its channel plane, its tap weights, then per output vector the
   * taps' products summed as a balanced tree and added to the accumulator once
   * (a chain of one add per kernel, not one per tap: small tiles stay throughput-bound).
   * With LRE each input vector is loaded once for all the tile's rows that read it.
   */
  private kernel(taps: [number, number][], rows: number, vecs: number): void {
    const { f, g } = this;
    f.get(this.p.xpad).get(this.ip).mem('i32.load').op('i32.add').get(this.tileX).op('i32.add').set(this.base);
    taps.forEach((_, t) => f.get(this.wp).mem('v128.load32_splat', 4 * t).set(this.w[t]));
    const at = (i: number, kx: number, c: number) => (i * g.PW + kx + 4 * c) * 4;
    for (let c = 0; c < vecs; c++) {
      const loaded = new Map<string, Local>();
      if (this.v.lre) {
        // the distinct (input row, column) vectors this column of the tile reads
        let n = 0;
        for (let i = 0; i < rows + 2; i++) {
          for (let kx = 0; kx < 3; kx++) {
            if (!taps.some(([ky, x]) => x === kx && i - ky >= 0 && i - ky < rows)) continue;
            const l = this.xs[n++];
            f.get(this.base).mem('v128.load', at(i, kx, c)).set(l);
            loaded.set(`${i},${kx}`, l);
          }
        }
      }
      for (let r = 0; r < rows; r++) {
        const operands = (t: number) => {
          const [ky, kx] = taps[t];
          const l = loaded.get(`${r + ky},${kx}`);
          if (l) f.get(l);
          else f.get(this.base).mem('v128.load', at(r + ky, kx, c));
          f.get(this.w[t]);
        };
        if (this.s.fma) {
          for (let t = 0; t < taps.length; t++) { operands(t); f.get(this.acc[r][c]).op('f32x4.relaxed_madd').set(this.acc[r][c]); }
          continue;
        }
        f.get(this.acc[r][c]);
        tree(f, 0, taps.length, (t) => { operands(t); f.op('f32x4.mul'); });
        f.op('f32x4.add').set(this.acc[r][c]);
      }
    }
    f.addTo(this.ip, 4).addTo(this.wp, 4 * taps.length);
  }

  /** acc += w · x. */
  private madd(acc: Local, w: Local, x: () => void): void {
    const { f } = this;
    if (this.s.fma) {
      x();
      f.get(w).get(acc).op('f32x4.relaxed_madd').set(acc);
      return;
    }
    f.get(acc).get(w);
    x();
    f.op('f32x4.mul').op('f32x4.add').set(acc);
  }

  /** 'csr' storage: every weight carries its own offset (channel plane + tap); one multiply-add pass per weight. */
  private csrKernels(rows: number, vecs: number): void {
    const { f, g } = this;
    f.get(this.cp).mem('i32.load').i32(4).op('i32.mul').get(this.ip).op('i32.add').set(this.end);
    f.get(this.ip).get(this.end).op('i32.lt_u').if(() => {
      f.loop((top) => {
        f.get(this.p.xpad).get(this.ip).mem('i32.load').op('i32.add').get(this.tileX).op('i32.add').set(this.base);
        f.get(this.wp).mem('v128.load32_splat').set(this.w[0]);
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < vecs; c++) this.madd(this.acc[r][c], this.w[0], () => f.get(this.base).mem('v128.load', (r * g.PW + 4 * c) * 4));
        }
        f.addTo(this.ip, 4).addTo(this.wp, 4);
        f.get(this.ip).get(this.end).op('i32.lt_u').brIf(top);
      });
    });
  }

  /** Clamp (when asked; FuncBuilder.clampTo) and store the tile; the last vector of a row keeps only `lanes` lanes. */
  private store(rows: number, vecs: number, lanes: number): void {
    const { f, g } = this;
    f.get(this.p.clampAt).if(() => {
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < vecs; c++) f.get(this.acc[r][c]).clampTo(this.lo, this.hi).set(this.acc[r][c]);
      }
    });
    f.get(this.yrow).get(this.tileY).op('i32.add').set(this.base);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < vecs; c++) {
        const off = (r * g.OW + 4 * c) * 4;
        const partial = c === vecs - 1 ? lanes : 4;
        if (partial === 4) { f.get(this.base).get(this.acc[r][c]).mem('v128.store', off); continue; }
        if (partial >= 2) f.get(this.base).get(this.acc[r][c]).memLane('v128.store64_lane', off, 0);
        if (partial === 1) f.get(this.base).get(this.acc[r][c]).memLane('v128.store32_lane', off, 0);
        if (partial === 3) f.get(this.base).get(this.acc[r][c]).memLane('v128.store32_lane', off + 8, 2);
      }
    }
  }
}
