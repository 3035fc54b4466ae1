// Binary-weight / float-activation layers in WebAssembly (BWN, TWN, TTQ): conv and
// fully connected layers whose weights are binary or ternary per output channel
// (ir/binary.ts SignRows) run as sums of table entries, not multiply-adds
// (addsub_codegen.ts). The weights live in the arena as their bits only (1 bit a
// weight, 2 when ternary) with the two levels per row. A conv runs per image:
// im2col (K rows padded with zeros to whole bytes of weight bits), then the sums; an
// FC transposes its inputs so that samples are the columns. The oracle is
// src/ir/ref/signed_sum.ts, bit for bit. Offsets API (convAt / fcAt, the runtime)
// and arrays API (conv / fc). A conv splits over a thread pool by columns (pixels):
// the caller unfolds each image, then each part sums its columns with tables of its
// own (the same sums, bit for bit); an FC runs on one thread.
import { fail } from '../../ir/errors.js';
import type { SignRows } from '../../ir/binary.js';
import { ADDSUB_GROUP, addsubRows } from '../../ir/ref/signed_sum.js';
import { WasmArena } from './arena.js';
import { ADDSUB_COLUMNS, ADDSUB_EXPORTS, addsubModule, addsubTableBytes, addsubVariantKey, ADDSUB_TILE, type AddSubVariant } from './addsub_codegen.js';
import { convSizes, type Conv2dParams } from './conv_params.js';
import { wasmFeatures } from './features.js';
import { im2colModule, type Im2colExports } from './im2col_codegen.js';
import { compileCached, instantiate } from './loader.js';
import type { PoolCall, ThreadPool } from './thread_pool.js';

export interface AddSubExports {
  sums(x: number, ldx: number, G2: number, P: number, wts: number, M: number, pos: number, neg: number, bias: number,
    y: number, ms: number, ps: number, table: number, lo: number, hi: number): void;
  transpose(x: number, rows: number, cols: number, dst: number, ld: number): void;
  clear(dst: number, bytes: number): void;
}

export interface AddSubLayerOptions {
  bias?: Float32Array;
  /** Fused activation [lo, hi]. */
  clamp?: readonly [number, number];
}

/** A layer's weight bits, levels and epilogue in the arena. */
export interface AddSubLayer {
  readonly M: number;
  /** Inputs per output (conv: C·kh·kw), and padded to whole bytes of weight bits (8·G2). */
  readonly K: number;
  readonly G2: number;
  readonly ternary: boolean;
  readonly params?: Conv2dParams;
  readonly wts: number;
  readonly pos: number;
  readonly neg: number;
  readonly bias: number;
  readonly lo: number;
  readonly hi: number;
}

/** Scratch bytes of a call on `cols` columns: the operand (8·G2 rows, a column tile of slack) and the tables, one set per part. */
export function addsubScratchBytes(K: number, cols: number, parts = 1): number {
  const Kp = addsubRows(K), px = ADDSUB_COLUMNS, ld = Math.ceil(cols / px) * px;
  return Kp * ld * 4 + 4 * px + parts * tablesBytes(K);
}

/** Bytes of one call's tables: 16 entries of px floats per group of 4 inputs. */
function tablesBytes(K: number): number {
  return (addsubRows(K) / ADDSUB_GROUP) * addsubTableBytes(ADDSUB_COLUMNS);
}

/**
 * Cost model, ns: per table (a group of 4 inputs for 4 columns), per lookup (one row, one
 * group, 4 columns), per row and 4 columns (the epilogue); a conv adds im2col as the f32
 * conv (IM2COL_NS). Fitted (relative least squares, 16 layers within ±11%) to the speed
 * ratios against im2col+GEMM / the dense GEMM measured in one run (`npm run repro -- binary
 * addsub`, LeNet-5 and VGG-S BWN layers at batch 1 and 16), scaled to those kernels' own
 * cost models, so that the estimates compare with theirs; the fit's call term was ≈ 0.
 */
export const ADDSUB_COST = { call: 0, table: 3.4, lookup: 0.345, quad: 0.22 };

/** Estimated ns of one call: M rows, K inputs, cols columns (pixels or samples); ternary rows look up two planes. */
export function addsubNs(M: number, K: number, cols: number, ternary = false): number {
  const groups = addsubRows(K) / ADDSUB_GROUP, quads = Math.ceil(cols / ADDSUB_COLUMNS), c = ADDSUB_COST;
  const rows = Math.ceil(M / ADDSUB_TILE) * ADDSUB_TILE;
  return c.call + quads * (groups * (c.table + rows * c.lookup * (ternary ? 2 : 1)) + rows * c.quad);
}

/** Weight bits: tiles of ADDSUB_TILE rows; per tile, per 8 inputs, one i32 per plane (+1 plane, then the −1 plane when ternary); byte j = row j. */
export function packAddSubWeights(trits: Uint8Array, M: number, K: number, ternary: boolean): Uint32Array {
  const G2 = addsubRows(K) / 8, planes = ternary ? 2 : 1, tiles = Math.ceil(M / ADDSUB_TILE);
  const out = new Uint32Array(tiles * G2 * planes);
  for (let m = 0; m < M; m++) {
    const tile = Math.floor(m / ADDSUB_TILE), j = m % ADDSUB_TILE;
    for (let k = 0; k < K; k++) {
      const t = trits[m * K + k];
      if (t === 0 || (t === 2 && !ternary)) continue;
      const word = (tile * G2 + Math.floor(k / 8)) * planes + (t === 2 ? 1 : 0);
      out[word] |= 1 << (8 * j + (k % 8));
    }
  }
  return out;
}

export class WasmAddSub {
  readonly arena: WasmArena;
  /** Convs split over it by columns (convRunner's parts); its threads get every module. */
  readonly threads?: ThreadPool;
  private readonly instances = new Map<string, AddSubExports>();
  private im2colExports?: Im2colExports;

  constructor(opts: { arena?: WasmArena; threads?: ThreadPool } = {}) {
    if (!wasmFeatures().simd) fail('wasm add/subtract: this engine has no WebAssembly SIMD; use a newer Node (>= 16.4) or browser');
    this.arena = opts.arena ?? opts.threads?.arena ?? new WasmArena({ maximumBytes: 1 << 30 });
    if (opts.threads && opts.threads.arena !== this.arena) fail('wasm add/subtract: the thread pool works on another arena; pass the same one');
    this.threads = opts.threads;
  }

  /** The module variant for this arena (its key names the module in the cache and in the thread pool). */
  private variant(ternary: boolean, contiguous: boolean): AddSubVariant {
    return { ternary, px: ADDSUB_COLUMNS, contiguous, shared: this.arena.shared };
  }

  kernelFor(ternary: boolean, contiguous: boolean): AddSubExports {
    const v = this.variant(ternary, contiguous), key = addsubVariantKey(v);
    let e = this.instances.get(key);
    if (!e) {
      const mod = compileCached(key, () => addsubModule(v));
      e = instantiate<AddSubExports>(mod, this.arena);
      this.instances.set(key, e);
      this.threads?.register(key, mod);
    }
    return e;
  }

  private get im2col(): Im2colExports {
    const shared = this.arena.shared;
    this.im2colExports ??= instantiate<Im2colExports>(compileCached(`im2col:${shared ? 'shared' : 'private'}`, () => im2colModule(shared)), this.arena);
    return this.im2colExports;
  }

  /** A layer of M rows of K weights (conv: [M, C, kh, kw] with `params`; fc: [M, K]). */
  prepare(w: SignRows, M: number, K: number, o: AddSubLayerOptions = {}, params?: Conv2dParams): AddSubLayer {
    const what = params ? 'add/subtract conv' : 'add/subtract fc';
    if (w.trits.length !== M * K) fail(`${what}: ${w.trits.length} weights, the layer needs ${M}·${K}`);
    if (w.pos.length !== M || w.neg.length !== M) fail(`${what}: levels for ${w.pos.length} rows, the layer has ${M}`);
    if (o.bias && o.bias.length !== M) fail(`${what}: bias has ${o.bias.length} values, needs ${M}`);
    if (params && (params.group ?? 1) !== 1) fail(`${what}: group=${params.group}; only ungrouped convs`);
    if (params && params.C * params.kh * params.kw !== K) fail(`${what}: K=${K} is not C·kh·kw`);
    const ternary = w.kind === 'ternary', [lo, hi] = o.clamp ?? [-Infinity, Infinity];
    return {
      M, K, G2: addsubRows(K) / 8, ternary, params, lo, hi,
      wts: this.put(packAddSubWeights(w.trits, M, K, ternary)), pos: this.put(w.pos), neg: this.put(w.neg),
      bias: this.put(o.bias ?? new Float32Array(M)),
    };
  }

  /** The sums on an operand at x ([8·G2 × ldx], rows past K zero): y at y + 4·(m·ms + p·ps); the tables at `table`. */
  private sums(l: AddSubLayer, x: number, ldx: number, P: number, y: number, ms: number, ps: number, table: number): void {
    this.kernelFor(l.ternary, ps === 1).sums(x, ldx, l.G2, P, l.wts, l.M, l.pos, l.neg, l.bias, y, ms, ps, table, l.lo, l.hi);
  }

  /** Scratch bytes of convAt on an H×W input. */
  convScratchBytes(l: AddSubLayer, H: number, W: number): number {
    return addsubScratchBytes(l.K, convSizes(l.params!, H, W, 'add/subtract conv').P);
  }

  /** y [N, M, OH, OW] at y (images outImageStride floats apart) from x [N, C, H, W] at x. */
  convAt(l: AddSubLayer, N: number, H: number, W: number, x: number, y: number, scratch: number, outImageStride?: number): void {
    this.convRunner(l, N, H, W, x, y, scratch, outImageStride)();
  }

  /**
   * convAt as a function to call again (the runtime binds it once): each image unfolded on
   * this thread, then its columns in `parts` contiguous ranges of whole column tiles, on the
   * pool when parts > 1 (each part with its own tables: scratch of addsubScratchBytes(K, P, parts)).
   */
  convRunner(l: AddSubLayer, N: number, H: number, W: number, x: number, y: number, scratch: number, outImageStride?: number, parts = 1): () => void {
    const p = l.params!, s = convSizes(p, H, W, 'add/subtract conv'), w = s.win, Kp = 8 * l.G2, os = outImageStride ?? l.M * s.P;
    const px = ADDSUB_COLUMNS, ic = this.im2col, tables = scratch + Kp * s.P * 4 + 4 * px, e = this.kernelFor(l.ternary, true);
    const key = addsubVariantKey(this.variant(l.ternary, true));
    const tiles = Math.ceil(s.P / px), n = this.threads ? Math.max(1, Math.min(parts, tiles)) : 1;
    const ranges = Array.from({ length: n }, (_, t) => [Math.floor((t * tiles) / n) * px, Math.min(s.P, Math.floor(((t + 1) * tiles) / n) * px)]);
    // the sums of columns c0..c1 of image i: the operand and its outputs offset by c0, the part's own tables
    const args = (i: number, [c0, c1]: number[], t: number): Parameters<AddSubExports['sums']> =>
      [scratch + c0 * 4, s.P, l.G2, c1 - c0, l.wts, l.M, l.pos, l.neg, l.bias, y + (i * os + c0) * 4, s.P, 1, tables + t * tablesBytes(l.K), l.lo, l.hi];
    const images = Array.from({ length: N }, (_, i) => ranges.map((r, t): PoolCall => ({ key, fn: ADDSUB_EXPORTS.sums, args: args(i, r, t) })));
    const unfold = (i: number) => ic.im2col(x + i * p.C * H * W * 4, p.C, H, W, w.kh, w.kw, w.padT, w.padL, w.sh, w.sw, w.dh, w.dw, s.OH, s.OW, scratch);
    return () => {
      e.clear(scratch + l.K * s.P * 4, (Kp - l.K) * s.P * 4 + 4 * px);
      for (let i = 0; i < N; i++) {
        unfold(i);
        if (n > 1) this.threads!.runDynamic(images[i]);
        else e.sums(...(images[i][0].args as Parameters<AddSubExports['sums']>));
      }
    };
  }

  /** Scratch bytes of fcAt. */
  fcScratchBytes(l: AddSubLayer, batch: number): number {
    return addsubScratchBytes(l.K, batch);
  }

  /** y [batch, M] at y from x [batch, K] at x. */
  fcAt(l: AddSubLayer, batch: number, x: number, y: number, scratch: number): void {
    const px = ADDSUB_COLUMNS, Kp = 8 * l.G2, ld = Math.ceil(batch / px) * px, e = this.kernelFor(l.ternary, false);
    e.clear(scratch, Kp * ld * 4 + 4 * px);
    e.transpose(x, batch, l.K, scratch, ld);
    this.sums(l, scratch, ld, batch, y, 1, l.M, scratch + Kp * ld * 4 + 4 * px);
  }

  /** The conv on arrays. */
  conv(l: AddSubLayer, N: number, H: number, W: number, x: Float32Array): Float32Array {
    const s = convSizes(l.params!, H, W, 'add/subtract conv'), nx = N * l.params!.C * H * W;
    if (x.length !== nx) fail(`add/subtract conv: x has ${x.length} values, [${N},${l.params!.C},${H},${W}] needs ${nx}`);
    return this.arena.onCopy(x, N * l.M * s.P, this.convScratchBytes(l, H, W), (xo, yo, sc) => this.convAt(l, N, H, W, xo, yo, sc));
  }

  /** The fully connected layer on arrays. */
  fc(l: AddSubLayer, batch: number, x: Float32Array): Float32Array {
    if (x.length !== batch * l.K) fail(`add/subtract fc: x has ${x.length} values, [${batch},${l.K}] needs ${batch * l.K}`);
    return this.arena.onCopy(x, batch * l.M, this.fcScratchBytes(l, batch), (xo, yo, sc) => this.fcAt(l, batch, xo, yo, sc));
  }

  private put(data: Float32Array | Uint32Array): number {
    const off = this.arena.alloc(Math.max(16, data.byteLength));
    new Uint8Array(this.arena.memory.buffer, off, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return off;
  }
}
