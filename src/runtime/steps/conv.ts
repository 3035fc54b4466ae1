// Dense convolution on the packed GEMM: per image and group, im2col (unless 1×1)
// → pack the patches as B panels → GEMM against the weights packed once as A
// panels, bias per row and the fused clamp in the epilogue; the output may go
// to a concat's slice (image stride). With threads: chunks of whole images taken
// dynamically (each its own patches and panels), or each thread a band of output rows of each image.
import type { ConvStep } from '../../compile/plan_types.js';
import { gemmArgs, type WasmGemm } from '../../kernels/wasm/gemm.js';
import { BIAS } from '../../kernels/wasm/gemm_codegen.js';
import { IM2COL_EXPORTS } from '../../kernels/wasm/im2col_codegen.js';
import { share, type PoolCall } from '../../kernels/wasm/thread_pool.js';
import type { Im2colExports, Kernel } from '../kernel_set.js';
import { at, imageChunkRunner, poolRunner, prepared, scratchAt, type BindEnv, type StepExecutor } from './env.js';

interface Packed { w: number[]; bias: number }

/** Weights as A panels, one packed matrix per group (the unpacked copy is dropped). */
function packWeights(gemm: WasmGemm, s: ConvStep, upload: (d: Float32Array) => number): Packed {
  const ar = gemm.arena, G = s.group, Mg = s.M / G, K = (s.C / G) * s.win.kh * s.win.kw;
  const w = Array.from({ length: G }, () => ar.alloc(gemm.packedASize(Mg, K)));
  const bias = s.bias ? upload(s.bias) : 0;
  const mark = ar.used;
  const tmp = ar.allocF32(s.weight.data.length);
  ar.f32(tmp, s.weight.data.length).set(s.weight.data);
  for (let g = 0; g < G; g++) gemm.packA(tmp + g * Mg * K * 4, K, false, Mg, K, w[g]);
  ar.reset(mark);
  return { w, bias };
}

interface Geometry {
  x: number; y: number; G: number; Cg: number; Mg: number; K: number; P: number; HW: number; C: number; os: number;
}

function geometry(s: ConvStep, env: BindEnv): Geometry {
  const G = s.group, Cg = s.C / G;
  return {
    x: at(env, s.inputs[0]), y: at(env, s.outputs[0]), G, Cg, Mg: s.M / G, K: Cg * s.win.kh * s.win.kw,
    P: s.OH * s.OW, HW: s.H * s.W, C: s.C, os: s.outImageStride,
  };
}

function im2colArgs(s: ConvStep, xg: number, Cg: number, dst: number): number[] {
  const w = s.win;
  return [xg, Cg, s.H, s.W, w.kh, w.kw, w.padT, w.padL, w.sh, w.sw, w.dh, w.dw, s.OH, s.OW, dst];
}

export function bindGemmConv(s: ConvStep, env: BindEnv): StepExecutor {
  const k = env.kernels, gemm = k.gemm;
  const packed = prepared(env, s, 'packed', () => packWeights(gemm, s, (d) => k.upload(d)));
  const ic = s.impl === 'im2col' ? k.im2col() : undefined;
  const geo = geometry(s, env);
  if (s.split > 1 && env.pool) return s.layout.byImages ? byImages(s, env, packed, ic, geo) : byRows(s, env, packed, ic, geo);
  const e = gemm.exports, im = ic?.exports, gs = k.gemmScratch, w = s.win;
  const { x, y, G, Cg, Mg, K, P, HW, C, os } = geo;
  const patches = scratchAt(env, s), panels = patches + s.layout.patches;
  const bias = packed.bias, mode = bias ? BIAS.row : BIAS.none;
  const [clamp, lo, hi] = s.clamp ? [1, s.clamp[0], s.clamp[1]] : [0, -Infinity, Infinity];
  const { N, H, W, OH, OW } = s;
  return {
    run: () => {
      for (let n = 0; n < N; n++) {
        for (let g = 0; g < G; g++) {
          let src = x + (n * C + g * Cg) * HW * 4;
          if (im) {
            im.im2col(src, Cg, H, W, w.kh, w.kw, w.padT, w.padL, w.sh, w.sw, w.dh, w.dw, OH, OW, patches);
            src = patches;
          }
          e.packB(src, P, 1, P, K, panels);
          e.gemm(packed.w[g], panels, y + (n * os + g * Mg * P) * 4, P, Mg, P, K, bias && bias + g * Mg * 4, mode, 0, clamp, lo, hi, gs);
        }
      }
    },
  };
}

function epilogue(s: ConvStep, bias: number, g: number, Mg: number) {
  return { bias: bias ? bias + g * Mg * 4 : 0, biasPer: 'row' as const, clamp: s.clamp };
}

/** Chunks of whole images taken dynamically by the threads, each with its own patches, panels and GEMM scratch. */
function byImages(s: ConvStep, env: BindEnv, packed: Packed, ic: Kernel<Im2colExports> | undefined, geo: Geometry): StepExecutor {
  const gemm = env.kernels.gemm, { x, y, G, Cg, Mg, K, P, HW, C, os } = geo;
  const layout = s.layout;
  return { run: imageChunkRunner(env.pool!, s.N, layout.sets, (n0, n1, t) => {
    const patches = scratchAt(env, s) + t * (layout.patches + layout.panels), panels = patches + layout.patches;
    const calls: PoolCall[] = [];
    for (let n = n0; n < n1; n++) {
      for (let g = 0; g < G; g++) {
        let src = x + (n * C + g * Cg) * HW * 4;
        if (ic) {
          calls.push({ key: ic.key, fn: IM2COL_EXPORTS.im2col, args: im2colArgs(s, src, Cg, patches) });
          src = patches;
        }
        calls.push(gemm.packBCall(src, P, false, K, P, panels));
        calls.push(gemm.chunkCall(gemmArgs(Mg, P, K, packed.w[g], panels, y + (n * os + g * Mg * P) * 4, epilogue(s, packed.bias, g, Mg)), t));
      }
    }
    return calls;
  }) };
}

/**
 * Each thread a band of output rows of every image: its own im2col of the rows the
 * band reads (the window moved down by giving a smaller, possibly negative, top pad),
 * its own packing and GEMM, written into the band's columns of the output.
 */
function byRows(s: ConvStep, env: BindEnv, packed: Packed, ic: Kernel<Im2colExports> | undefined, geo: Geometry): StepExecutor {
  const gemm = env.kernels.gemm, w = s.win, { x, y, G, Cg, Mg, K, P, HW, C, os } = geo;
  const layout = s.layout;
  const parts: PoolCall[][] = [];
  for (let t = 0; t < s.split; t++) {
    const [r0, r1] = share(s.OH, s.split, t);
    const patches = scratchAt(env, s) + t * (layout.patches + layout.panels), panels = patches + layout.patches;
    const rows = r1 - r0, Pt = rows * s.OW, j0 = r0 * s.OW;
    const padT = w.padT - r0 * w.sh; // the band's top: negative = starts inside the image (im2col computes rows from it)
    const calls: PoolCall[] = [];
    for (let n = 0; n < s.N && rows > 0; n++) {
      for (let g = 0; g < G; g++) {
        const xg = x + (n * C + g * Cg) * HW * 4, yg = y + (n * os + g * Mg * P) * 4;
        let src = xg + j0 * 4, ldb = P; // 1×1: the band's pixels are the input's
        if (ic) {
          const args = [xg, Cg, s.H, s.W, w.kh, w.kw, padT, w.padL, w.sh, w.sw, w.dh, w.dw, rows, s.OW, patches];
          calls.push({ key: ic.key, fn: IM2COL_EXPORTS.im2col, args });
          src = patches;
          ldb = Pt;
        }
        calls.push(gemm.packBCall(src, ldb, false, K, Pt, panels));
        calls.push(gemm.call(gemmArgs(Mg, Pt, K, packed.w[g], panels, yg + j0 * 4, { ...epilogue(s, packed.bias, g, Mg), ldc: P }), t));
      }
    }
    parts.push(calls);
  }
  return { run: poolRunner(env.pool!, parts) };
}
