// Binary layers in WebAssembly (XNOR-Net): conv and fully connected layers whose
// weights are binary or ternary (ir/binary.ts SignRows) and whose inputs are
// binarized by the sign (after an optional per-channel affine: a BatchNormalization
// before the Sign, fused). Per call: the input is bit-packed along its channels
// (packPlanes / packRows), then every output is popcounts and one float epilogue
// (xnor_codegen.ts). The oracle is src/ir/ref/binary_layer.ts, bit for bit.
// Two levels of API, as sparse.ts: offsets (convAt / fcAt, the runtime) and
// arrays (conv / fc, tests and callers outside the runtime).
import { fail } from '../../ir/errors.js';
import type { SignRows } from '../../ir/binary.js';
import { WasmArena } from './arena.js';
import { checkConv, convSizes, type Conv2dParams } from './conv_params.js';
import { wasmFeatures } from './features.js';
import { compileCached, instantiate } from './loader.js';
import type { PoolCall, ThreadPool } from './thread_pool.js';
import { windowOffsets, XNOR_TILE, xnorWindowBytes, xnorVariantKey, type XnorVariant } from './xnor_codegen.js';
import { hasFastPath } from './xnor_fast_codegen.js';
import { xnorModule } from './xnor_module.js';

export interface XnorExports {
  clear(dst: number, bytes: number): void;
  packPlanes(x: number, C: number, H: number, W: number, Wp: number, padT: number, padL: number, dst: number, Cw: number, scale: number, shift: number, flag: number): void;
  packRows(x: number, K: number, rows: number, dst: number, Cw: number, scale: number, shift: number): void;
  conv(inp: number, oh0: number, oh1: number, OW: number, sh: number, wts: number, M: number, a: number, b: number,
    bias: number, nW: number, y: number, ms: number, ps: number, rowCls: number, colCls: number, valid: number, corrX: number, corrN: number,
    offs: number, win: number, lo: number, hi: number, flag: number, bTab: number): void;
}

/** Per input channel before the sign: x·scale + shift (float32). */
export interface XnorInputAffine {
  scale: Float32Array;
  shift: Float32Array;
}

export interface XnorLayerOptions {
  bias?: Float32Array;
  /** Fused activation [lo, hi]. */
  clamp?: readonly [number, number];
  pre?: XnorInputAffine;
}

/** A binary layer's weights and epilogue in the arena; its modules are made per input width. */
export interface XnorLayer {
  readonly kind: 'conv' | 'fc';
  /** Input channels (conv C, fc K), words of 64 channels per pixel, output channels. */
  readonly C: number;
  readonly Cw: number;
  readonly M: number;
  readonly params?: Conv2dParams;
  /** The module's geometry but the grid width. */
  readonly shape: Omit<XnorVariant, 'Wp' | 'shared'>;
  readonly wts: number;
  readonly a: number;
  readonly b: number;
  readonly bias: number;
  /** Nonzero weights per row (int32; ternary). */
  readonly nW: number;
  readonly scale: number;
  readonly shift: number;
  readonly lo: number;
  readonly hi: number;
  /** Per row and tap: the channels with a +1 weight and with a nonzero one (the border corrections). */
  readonly tapPos: Int32Array;
  readonly tapNz: Int32Array;
  /** Border tables by input size (conv) or batch (fc). */
  readonly tables: Map<string, BorderTables>;
}

/** A conv's border classes on one input size, in the arena (xnor_codegen.ts emitConv). */
export interface BorderTables {
  rowCls: number;
  colCls: number;
  valid: number;
  corrX: number;
  corrN: number;
  /** The window's word offsets in the packed grid (windowOffsets). */
  offs: number;
  /** The fast path's S = B − 2·mismatches (xnor_fast_codegen.ts): i32 B = valid + 2·corrX per output channel (padded to whole tiles) and pixel; 0 without a fast path. */
  bTab: number;
}

/** A module's exports and its key in the thread pool. */
export interface XnorKernel {
  exports: XnorExports;
  key: string;
}

export interface WasmXnorOptions {
  arena?: WasmArena;
  threads?: ThreadPool;
}

/** Words of 64 channels. */
export const wordsFor = (C: number): number => Math.ceil(C / 64);

/** Packed grids convAt uses: one per thread when the threads take whole images (N ≥ parts), else one. */
export const convGrids = (N: number, parts: number): number => (parts > 1 && N >= parts ? parts : 1);

/** Bytes of one image's packed, padded input grid: 16 bytes a pixel per 64 channels. */
export function xnorGridBytes(C: number, H: number, W: number, pads: readonly number[] = [0, 0, 0, 0]): number {
  const [pt, pl, pb, pr] = pads;
  return (H + pt + pb) * (W + pl + pr) * 16 * wordsFor(C);
}

/** Bytes of a conv's scratch: its packed grids (convGrids), each with its 16-byte zero flag, and a window buffer per part (xnor_codegen.ts). */
export function xnorConvScratchBytes(C: number, H: number, W: number, kh: number, kw: number, pads: readonly number[], N: number, parts: number): number {
  return convGrids(N, parts) * (xnorGridBytes(C, H, W, pads) + 16) + Math.max(1, parts) * xnorWindowBytes({ kh, kw, Cw: wordsFor(C) });
}

/** Bytes of an fc's scratch: the packed rows and the window buffer. */
export const xnorFcScratchBytes = (K: number, batch: number): number => batch * 16 * wordsFor(K) + xnorWindowBytes({ kh: 1, kw: 1, Cw: wordsFor(K) });

/**
 * The weight bit-planes: tiles of XNOR_TILE rows; per tile, per tap, per 64-channel
 * word cw, the tile's sign words (bit = weight > 0), then its nonzero words when
 * ternary. trits are [M, C, taps] (ONNX [M, C, kh, kw] order).
 */
export function packWeightBits(trits: Uint8Array, M: number, C: number, taps: number, ternary: boolean): Uint32Array {
  const Cw = wordsFor(C), tiles = Math.ceil(M / XNOR_TILE), planes = ternary ? 2 : 1;
  const out = new Uint32Array(tiles * Cw * taps * planes * XNOR_TILE * 2);
  for (let m = 0; m < M; m++) {
    const tile = Math.floor(m / XNOR_TILE), j = m % XNOR_TILE;
    for (let c = 0; c < C; c++) {
      const cw = Math.floor(c / 64), bit = c % 64;
      for (let t = 0; t < taps; t++) {
        const tr = trits[(m * C + c) * taps + t];
        const block = ((tile * taps + t) * Cw + cw) * planes * XNOR_TILE;
        const word = (plane: number) => (block + plane * XNOR_TILE + j) * 2 + (bit >> 5);
        if (tr === 1) out[word(0)] |= 1 << (bit & 31);
        if (ternary && tr !== 0) out[word(1)] |= 1 << (bit & 31);
      }
    }
  }
  return out;
}

export class WasmXnor {
  readonly arena: WasmArena;
  readonly threads?: ThreadPool;
  private readonly instances = new Map<string, XnorExports>();

  constructor(opts: WasmXnorOptions = {}) {
    if (!wasmFeatures().simd) fail('wasm xnor: this engine has no WebAssembly SIMD; use a newer Node (>= 16.4) or browser');
    this.arena = opts.arena ?? opts.threads?.arena ?? new WasmArena({ maximumBytes: 1 << 30 });
    if (opts.threads && opts.threads.arena !== this.arena) fail('wasm xnor: the thread pool works on another arena; pass the same one');
    this.threads = opts.threads;
  }

  /** The layer's kernels for a packed grid Wp pixels wide (compiled once per process, instantiated once per arena). */
  kernelFor(l: XnorLayer, Wp: number): XnorKernel {
    const variant: XnorVariant = { ...l.shape, Wp, shared: this.arena.shared }, key = xnorVariantKey(variant);
    let e = this.instances.get(key);
    if (!e) {
      const mod = compileCached(key, () => xnorModule(variant));
      e = instantiate<XnorExports>(mod, this.arena);
      this.threads?.register(key, mod);
      this.instances.set(key, e);
    }
    return { exports: e, key };
  }

  /** The packed grid of a conv on an H×W input: its width and bytes. */
  grid(l: XnorLayer, H: number, W: number): { Wp: number; bytes: number } {
    const [, pl, , pr] = l.params?.pads ?? [0, 0, 0, 0];
    return { Wp: W + pl + pr, bytes: xnorGridBytes(l.C, H, W, l.params?.pads) };
  }

  private prepare(kind: 'conv' | 'fc', w: SignRows, M: number, C: number, kh: number, kw: number, o: XnorLayerOptions, params?: Conv2dParams): XnorLayer {
    const taps = kh * kw, what = `xnor ${kind}`;
    if (w.trits.length !== M * C * taps) fail(`${what}: ${w.trits.length} weights, the layer needs ${M}·${C}·${taps}`);
    if (w.a.length !== M || (w.b && w.b.length !== M)) fail(`${what}: scales for ${w.a.length} rows, the layer has ${M}`);
    if (o.bias && o.bias.length !== M) fail(`${what}: bias has ${o.bias.length} values, needs ${M}`);
    if (o.pre && (o.pre.scale.length !== C || o.pre.shift.length !== C)) fail(`${what}: the input affine needs ${C} scales and shifts`);
    const ternary = w.kind === 'ternary', asym = w.b !== null, Cw = wordsFor(C);
    const Mp = Math.ceil(M / XNOR_TILE) * XNOR_TILE;
    const padded = (v?: Float32Array | null) => { const p = new Float32Array(Mp); if (v) p.set(v); return p; };
    const nW = new Int32Array(Mp), tapPos = new Int32Array(M * taps), tapNz = new Int32Array(M * taps);
    for (let i = 0; i < w.trits.length; i++) {
      if (!w.trits[i]) continue;
      const m = Math.floor(i / (C * taps)), t = i % taps;
      nW[m]++;
      tapNz[m * taps + t]++;
      if (w.trits[i] === 1) tapPos[m * taps + t]++;
    }
    const [lo, hi] = o.clamp ?? [-Infinity, Infinity];
    const [dh, dw] = params?.dilations ?? [1, 1];
    return {
      kind, C, Cw, M, params, lo, hi, shape: { kh, kw, dh, dw, sw: params?.strides?.[1] ?? 1, Cw, ternary, asym, wholeTiles: M % XNOR_TILE === 0 }, tapPos, tapNz, tables: new Map(),
      wts: this.put(packWeightBits(w.trits, M, C, taps, ternary)),
      a: this.put(padded(w.a)), b: asym ? this.put(padded(w.b)) : 0, bias: this.put(padded(o.bias)), nW: this.put(nW),
      scale: o.pre ? this.put(o.pre.scale) : 0, shift: o.pre ? this.put(o.pre.shift) : 0,
    };
  }

  /** A conv layer (ungrouped; weights [M, C, kh, kw] as SignRows of M rows). */
  prepareConv(w: SignRows, params: Conv2dParams, o: XnorLayerOptions = {}): XnorLayer {
    if ((params.group ?? 1) !== 1) fail(`xnor conv: group=${params.group}; binary activations need an ungrouped conv`);
    checkConv('xnor conv', params);
    return this.prepare('conv', w, params.M, params.C, params.kh, params.kw, o, { ...params });
  }

  /** A fully connected layer: weights [M, K] (Gemm transB=1 layout). */
  prepareFc(w: SignRows, M: number, K: number, o: XnorLayerOptions = {}): XnorLayer {
    return this.prepare('fc', w, M, K, 1, 1, o);
  }

  /**
   * The border classes of a conv on an H×W input (rows and columns of the output
   * whose windows have the same padded taps share a class), or of an FC on a batch
   * (one class): made once per size, kept in the layer.
   */
  borderTables(l: XnorLayer, H: number, W: number): BorderTables {
    const key = `${H}x${W}`;
    let t = l.tables.get(key);
    if (t) return t;
    const { kh, kw } = l.shape, taps = kh * kw, Mp = Math.ceil(l.M / XNOR_TILE) * XNOR_TILE;
    const win = l.params ? convSizes(l.params, H, W, 'xnor conv') : undefined;
    const masks = (count: number, k: number, at: (o: number, i: number) => number, limit: number) =>
      Array.from({ length: count }, (_, o) => { let m = 0; for (let i = 0; i < k; i++) if (at(o, i) < 0 || at(o, i) >= limit) m |= 1 << i; return m; });
    const w = win?.win;
    const rows = w ? masks(win.OH, kh, (o, i) => o * w.sh - w.padT + i * w.dh, H) : new Array<number>(H).fill(0);
    const cols = w ? masks(win.OW, kw, (o, i) => o * w.sw - w.padL + i * w.dw, W) : [0];
    const rowKinds = [...new Set(rows)], colKinds = [...new Set(cols)], classes = rowKinds.length * colKinds.length;
    const valid = new Int32Array(classes), corrX = new Int32Array(classes * Mp), corrN = new Int32Array(classes * Mp);
    rowKinds.forEach((rm, r) => colKinds.forEach((cm, c) => {
      const k = r * colKinds.length + c;
      for (let t = 0; t < taps; t++) {
        const padded = (rm >> Math.floor(t / kw)) & 1 || (cm >> t % kw) & 1;
        if (!padded) { valid[k] += l.C; continue; }
        for (let m = 0; m < l.M; m++) { corrX[k * Mp + m] += l.tapPos[m * taps + t]; corrN[k * Mp + m] += l.tapNz[m * taps + t]; }
      }
    }));
    const rowCls = Int32Array.from(rows, (m) => rowKinds.indexOf(m) * colKinds.length), colCls = Int32Array.from(cols, (m) => colKinds.indexOf(m));
    // the fast path's B[m][pixel] = valid + 2·corrX of the pixel's class, laid out as the outputs (conv, binary symmetric)
    const fast = win && hasFastPath(l.shape), P = rows.length * cols.length, bTab = new Int32Array(fast ? Mp * P : 0);
    if (fast) {
      rowCls.forEach((r, oh) => {
        for (let m = 0; m < Mp; m++) for (let ow = 0; ow < cols.length; ow++) bTab[m * P + oh * cols.length + ow] = valid[r + colCls[ow]] + 2 * corrX[(r + colCls[ow]) * Mp + m];
      });
    }
    t = {
      rowCls: this.put(rowCls), colCls: this.put(colCls),
      valid: this.put(valid), corrX: this.put(corrX), corrN: this.put(corrN),
      offs: this.put(windowOffsets({ ...l.shape, Wp: w ? this.grid(l, H, W).Wp : 1 })),
      bTab: fast ? this.put(bTab) : 0,
    };
    l.tables.set(key, t);
    return t;
  }

  /** Scratch bytes of convAt (xnorConvScratchBytes). */
  convScratchBytes(l: XnorLayer, H: number, W: number, N = 1, parts = 1): number {
    return xnorConvScratchBytes(l.C, H, W, l.shape.kh, l.shape.kw, l.params?.pads ?? [0, 0, 0, 0], N, parts);
  }

  /**
   * The calls of convAt, in rounds run one after the other, each a list of calls per thread.
   * With at least as many images as parts, each thread packs and convolves whole images in
   * its own grid (one round); else, per image, the calling thread packs it (one round) and
   * the parts share its output rows (another).
   */
  convCalls(l: XnorLayer, N: number, H: number, W: number, x: number, y: number, scratch: number, parts = 1, outImageStride?: number): PoolCall[][][] {
    const p = l.params!, s = convSizes(p, H, W, 'xnor conv'), w = s.win, os = outImageStride ?? p.M * s.P;
    const { Wp, bytes } = this.grid(l, H, W), key = this.kernelFor(l, Wp).key, t = this.borderTables(l, H, W);
    const call = (fn: keyof XnorExports, ...args: number[]): PoolCall => ({ key, fn, args });
    // scratch: the grids, then their zero flags (16 bytes each), then a window buffer per part
    const grids = convGrids(N, parts), flag = (grid: number) => scratch + grids * bytes + 16 * ((grid - scratch) / bytes);
    const win = (part: number) => scratch + grids * (bytes + 16) + part * xnorWindowBytes(l.shape);
    const pack = (n: number, grid: number) => [call('clear', grid, bytes),
      call('packPlanes', x + n * l.C * H * W * 4, l.C, H, W, Wp, w.padT, w.padL, grid, l.Cw, l.scale, l.shift, flag(grid))];
    const conv = (n: number, grid: number, oh0: number, oh1: number, part: number) => call('conv', grid, oh0, oh1, s.OW, w.sh, l.wts, l.M, l.a, l.b, l.bias, l.nW,
      y + n * os * 4, s.P, 1, t.rowCls, t.colCls, t.valid, t.corrX, t.corrN, t.offs, win(part), l.lo, l.hi,
      flag(grid), t.bTab);
    if (parts <= 1 || N >= parts) {
      return [Array.from({ length: grids }, (_, i) => {
        const grid = scratch + i * bytes, calls: PoolCall[] = [];
        for (let n = i; n < N; n += grids) calls.push(...pack(n, grid), conv(n, grid, 0, s.OH, i));
        return calls;
      })];
    }
    const rounds: PoolCall[][][] = [];
    for (let n = 0; n < N; n++) {
      rounds.push([pack(n, scratch)]);
      rounds.push(Array.from({ length: parts }, (_, i) => [conv(n, scratch, Math.floor((i * s.OH) / parts), Math.floor(((i + 1) * s.OH) / parts), i)]));
    }
    return rounds;
  }

  /** A runner of convCalls' rounds: on the pool when a round has several parts, else on this thread. */
  runner(l: XnorLayer, Wp: number, rounds: PoolCall[][][]): () => void {
    const e = this.kernelFor(l, Wp).exports as unknown as Record<string, (...a: number[]) => void>;
    const steps = rounds.map((r) => (r.length > 1 ? () => this.threads!.run(r) : () => { for (const c of r[0]) e[c.fn](...c.args); }));
    return steps.length === 1 ? steps[0] : () => { for (const f of steps) f(); };
  }

  /** y [N, M, OH, OW] at byte offset y (images outImageStride floats apart) from x [N, C, H, W] at x; `parts` threads of the pool share it. */
  convAt(l: XnorLayer, N: number, H: number, W: number, x: number, y: number, scratch: number, outImageStride?: number, parts = 1): void {
    this.runner(l, this.grid(l, H, W).Wp, this.convCalls(l, N, H, W, x, y, scratch, this.threads ? parts : 1, outImageStride))();
  }

  /** Scratch bytes of fcAt (xnorFcScratchBytes). */
  fcScratchBytes(l: XnorLayer, batch: number): number {
    return xnorFcScratchBytes(l.C, batch);
  }

  /** y [batch, M] at y from x [batch, K] at x. */
  fcAt(l: XnorLayer, batch: number, x: number, y: number, scratch: number): void {
    const e = this.kernelFor(l, 1).exports, t = this.borderTables(l, batch, 1);
    e.packRows(x, l.C, batch, scratch, l.Cw, l.scale, l.shift);
    e.conv(scratch, 0, batch, 1, 1, l.wts, l.M, l.a, l.b, l.bias, l.nW, y, 1, l.M, t.rowCls, t.colCls, t.valid, t.corrX, t.corrN, t.offs, scratch + batch * 16 * l.Cw, l.lo, l.hi, 0, 0);
  }

  /** The conv on arrays (copied in and out). */
  conv(l: XnorLayer, N: number, H: number, W: number, x: Float32Array): Float32Array {
    const s = convSizes(l.params!, H, W, 'xnor conv');
    const nx = N * l.C * H * W, ny = N * l.M * s.P;
    if (x.length !== nx) fail(`xnor conv: x has ${x.length} values, [${N},${l.C},${H},${W}] needs ${nx}`);
    return this.arena.onCopy(x, ny, this.convScratchBytes(l, H, W), (xo, yo, sc) => this.convAt(l, N, H, W, xo, yo, sc));
  }

  /** The fully connected layer on arrays. */
  fc(l: XnorLayer, batch: number, x: Float32Array): Float32Array {
    if (x.length !== batch * l.C) fail(`xnor fc: x has ${x.length} values, [${batch},${l.C}] needs ${batch * l.C}`);
    return this.arena.onCopy(x, batch * l.M, this.fcScratchBytes(l, batch), (xo, yo, sc) => this.fcAt(l, batch, xo, yo, sc));
  }

  private put(data: Float32Array | Uint32Array | Int32Array): number {
    const off = this.arena.alloc(Math.max(16, data.byteLength));
    new Uint8Array(this.arena.memory.buffer, off, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return off;
  }
}
