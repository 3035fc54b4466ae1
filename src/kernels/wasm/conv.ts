// 2-D convolution (NCHW, ONNX Conv semantics: pads, strides, dilations, groups),
// with bias and a fused relu/clip. The kernel is chosen from the geometry:
//   depthwise  group = C = M           → direct SIMD kernel (depthwise.ts)
//   pointwise  1×1, stride 1, no pads  → the input planes are already B: pack + GEMM
//   general                            → im2col, pack, GEMM
// Weights are packed once (as the GEMM's A operand: M rows, K = C/group·kh·kw).
import { fail } from '../../ir/errors.js';
import { isPointwise, outHW, type Window2d } from '../../ir/window.js';
import { checkConv, type Conv2dParams } from './conv_params.js';
import { WasmDepthwise } from './depthwise.js';
import { gemmArgs, gemmNs, type GemmArgs, type WasmGemm } from './gemm.js';
import { IM2COL_EXPORTS, im2colModule, type Im2colExports } from './im2col_codegen.js';
import { compileCached, instantiate } from './loader.js';
import { CHUNKS_PER_THREAD, type PoolCall } from './thread_pool.js';

const IM2COL_KEY = (shared: boolean): string => `im2col:${shared ? 'shared' : 'private'}`;

/** One step of a convolution: a plain kernel call, or a GEMM (which may split over threads). */
interface Step { call?: PoolCall; gemm?: GemmArgs }

interface ConvBuffers { patches: number; col: number; scratch: number }

export type ConvKernel = 'depthwise' | 'pointwise' | 'im2col';

export interface WasmConvOptions {
  bias?: Float32Array;
  /** Fused activation: [lo, hi] (relu = [0, Infinity]). */
  clamp?: readonly [number, number];
  /** Force a kernel (tests, the auto-tuner); default: chosen from the geometry. */
  kernel?: ConvKernel;
}

/** ns per value the im2col pass writes (0.22 measured on the reference machine: 32 channels, 20×20, 3×3). */
export const IM2COL_NS = 0.25;

/** Estimated ns of one image and group of the dense conv: im2col (unless 1×1), then the GEMM (packing included in its fit). */
export function denseConvNs(kernel: ConvKernel, Mg: number, K: number, P: number): number {
  return gemmNs(Mg, P, K) + (kernel === 'im2col' ? IM2COL_NS * K * P : 0);
}

/** The dense kernel a conv's geometry runs (the compiler's choice too). */
export function denseConvKernel(C: number, M: number, group: number, win: Window2d): ConvKernel {
  if (group > 1 && group === C && group === M) return 'depthwise';
  return isPointwise(win) ? 'pointwise' : 'im2col';
}

export class WasmConv2d {
  readonly kernel: ConvKernel;
  readonly group: number;
  private readonly Cg: number;
  private readonly Mg: number;
  private readonly win: Window2d;
  private readonly packedW: number[] = []; // per group, byte offsets in the arena
  private readonly biasAt: number;
  private readonly im2col?: Im2colExports;
  private readonly depthwise?: WasmDepthwise;

  constructor(readonly gemm: WasmGemm, readonly params: Conv2dParams, weights: Float32Array, readonly opts: WasmConvOptions = {}) {
    const what = 'conv';
    const { group, Cg, Mg, win } = checkConv(what, params);
    this.group = group; this.Cg = Cg; this.Mg = Mg; this.win = win;
    const K = Cg * win.kh * win.kw;
    if (weights.length !== params.M * K) fail(`${what}: weights have ${weights.length} values, [${params.M},${Cg},${win.kh},${win.kw}] needs ${params.M * K}`);
    if (opts.bias && opts.bias.length !== params.M) fail(`${what}: bias has ${opts.bias.length} values, needs M=${params.M}`);
    const natural = denseConvKernel(params.C, params.M, group, win);
    this.kernel = opts.kernel ?? natural;
    if (this.kernel === 'depthwise' && !(group === params.C && group === params.M)) fail(`${what}: the depthwise kernel needs group = C = M`);
    if (this.kernel === 'pointwise' && natural === 'im2col') fail(`${what}: the pointwise kernel needs a 1×1 stride-1 unpadded window`);
    const ar = gemm.arena;
    if (this.kernel === 'depthwise') {
      this.biasAt = 0;
      this.depthwise = new WasmDepthwise(ar, { C: params.C, win }, weights, opts.bias, opts.clamp, gemm.threads);
      return;
    }
    this.biasAt = opts.bias ? ar.allocF32(params.M) : 0;
    if (opts.bias) ar.f32(this.biasAt, params.M).set(opts.bias);
    for (let g = 0; g < group; g++) this.packedW.push(ar.alloc(gemm.packedASize(Mg, K)));
    const wAt = ar.allocF32(weights.length); // unpacked copy, dropped once packed
    ar.f32(wAt, weights.length).set(weights);
    for (let g = 0; g < group; g++) gemm.packA(wAt + g * Mg * K * 4, K, false, Mg, K, this.packedW[g]);
    ar.reset(wAt);
    if (this.kernel === 'im2col') {
      const shared = gemm.variant.shared;
      const mod = compileCached(IM2COL_KEY(shared), () => im2colModule(shared));
      this.im2col = instantiate<Im2colExports>(mod, ar);
      gemm.threads?.register(IM2COL_KEY(shared), mod);
    }
  }

  outShape(N: number, H: number, W: number): [number, number, number, number] {
    const [OH, OW] = outHW('conv', H, W, this.win);
    return [N, this.params.M, OH, OW];
  }

  /** y = conv(x) on byte offsets in the arena: x [N, C, H, W], y [N, M, OH, OW]. */
  run(N: number, H: number, W: number, x: number, y: number): void {
    if (this.depthwise) { this.depthwise.run(N, H, W, x, y); return; }
    const [, , OH, OW] = this.outShape(N, H, W);
    const pool = this.gemm.threads;
    // a batch is cut into chunks of images taken dynamically by the threads; one image is split inside (stepHere)
    const chunks = pool && pool.size > 1 && N > 1 ? Math.min(N, CHUNKS_PER_THREAD * pool.size) : 1;
    const ar = this.gemm.arena, mark = ar.used;
    try {
      const bufs = Array.from({ length: chunks }, () => this.buffers(OH * OW));
      if (chunks === 1) {
        for (let n = 0; n < N; n++) this.image(n, H, W, OH, OW, x, y, bufs[0], (s) => this.stepHere(s));
        return;
      }
      pool!.runDynamic(bufs.map((b, t) => {
        const calls: PoolCall[] = [];
        for (let n = Math.floor((t * N) / chunks); n < Math.floor(((t + 1) * N) / chunks); n++) {
          this.image(n, H, W, OH, OW, x, y, b, (s) => calls.push(s.gemm ? this.gemm.callWithScratch(s.gemm, b.scratch) : s.call!));
        }
        return calls;
      }));
    } finally {
      ar.reset(mark);
    }
  }

  /** Buffers of one chunk of work: the patch matrix (im2col), its packed panels, the GEMM's scratch. */
  private buffers(P: number): ConvBuffers {
    const K = this.Cg * this.win.kh * this.win.kw, ar = this.gemm.arena;
    return {
      patches: this.im2col ? ar.allocF32(K * P) : 0, col: ar.alloc(this.gemm.packedBSize(K, P)), scratch: ar.alloc(this.gemm.scratchBytes()),
    };
  }

  /** The steps for image n: per group, im2col → pack → GEMM (with bias and clamp). */
  private image(n: number, H: number, W: number, OH: number, OW: number, x: number, y: number,
    b: ConvBuffers, emit: (s: Step) => void): void {
    const { Cg, Mg, win, gemm } = this;
    const K = Cg * win.kh * win.kw, P = OH * OW;
    for (let g = 0; g < this.group; g++) {
      const xg = x + ((n * this.params.C + g * Cg) * H * W) * 4;
      if (this.im2col) {
        emit({ call: { key: IM2COL_KEY(gemm.variant.shared), fn: IM2COL_EXPORTS.im2col,
          args: [xg, Cg, H, W, win.kh, win.kw, win.padT, win.padL, win.sh, win.sw, win.dh, win.dw, OH, OW, b.patches] } });
      }
      emit({ call: gemm.packBCall(this.im2col ? b.patches : xg, P, false, K, P, b.col) }); // 1×1 input planes are already [K, P]
      const yg = y + ((n * this.params.M + g * Mg) * P) * 4;
      emit({ gemm: gemmArgs(Mg, P, K, this.packedW[g], b.col, yg, {
        bias: this.biasAt ? this.biasAt + g * Mg * 4 : 0, biasPer: 'row', clamp: this.opts.clamp as [number, number] | undefined,
      }) });
    }
  }

  /** Runs a step on this thread (the GEMM may still split over the pool). */
  private stepHere(s: Step): void {
    if (s.gemm) { this.gemm.gemmWith(s.gemm); return; }
    const c = s.call!;
    const pool = this.gemm.threads;
    if (pool && pool.size > 1) { pool.runDynamic(splitStep(c, this.win, this.gemm.variant.nr, 2 * pool.size)); return; }
    const f = c.fn === IM2COL_EXPORTS.im2col ? this.im2col!.im2col : this.gemm.exports.packB;
    (f as (...a: readonly number[]) => void)(...c.args);
  }

  /** y = conv(x) on arrays (copied in and out of the arena). */
  conv(N: number, H: number, W: number, x: Float32Array): Float32Array {
    const shape = this.outShape(N, H, W);
    const inSize = N * this.params.C * H * W, outSize = shape[0] * shape[1] * shape[2] * shape[3];
    if (x.length !== inSize) fail(`conv: input has ${x.length} values, [${N},${this.params.C},${H},${W}] needs ${inSize}`);
    return this.gemm.arena.onCopy(x, outSize, 0, (xAt, yAt) => this.run(N, H, W, xAt, yAt));
  }
}

/**
 * One image's im2col or pack split into independent parts (for the threads): im2col
 * by input channels (each writes its own rows of the patch matrix), packB by
 * whole NR-column panels (each writes its own panels).
 */
export function splitStep(c: PoolCall, win: Window2d, nr: number, parts: number): PoolCall[] {
  const a = c.args;
  if (c.fn === IM2COL_EXPORTS.im2col) {
    const [x, C, H, W, , , , , , , , , OH, OW, dst] = a;
    const rowsPerChannel = win.kh * win.kw * OH * OW;
    return ranges(C, 1, parts).map(([c0, c1]) => ({
      ...c, args: [x + c0 * H * W * 4, c1 - c0, ...a.slice(2, 14), dst + c0 * rowsPerChannel * 4],
    }));
  }
  const [b, ldb, iCont, N, K, dst] = a; // packB over columns (iCont = 1: B row-major)
  if (iCont !== 1) return [c];
  return ranges(N, nr, parts).map(([j0, j1]) => ({ ...c, args: [b + j0 * 4, ldb, iCont, j1 - j0, K, dst + j0 * K * 4] }));
}

/** [start, end) ranges over 0..n in whole units of `unit`, at most `parts` of them, none empty. */
function ranges(n: number, unit: number, parts: number): [number, number][] {
  const units = Math.ceil(n / unit), out: [number, number][] = [];
  for (let t = 0; t < parts; t++) {
    const u0 = Math.floor((t * units) / parts), u1 = Math.floor(((t + 1) * units) / parts);
    if (u1 > u0) out.push([u0 * unit, Math.min(n, u1 * unit)]);
  }
  return out;
}
