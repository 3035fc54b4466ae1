// Dense convolution on the packed GEMM: per image and group, im2col (unless 1×1)
// → pack the patches as B panels → GEMM against the weights packed once as A
// panels, bias per row and the fused clamp in the epilogue; the output may go
// to a concat's slice (image stride). Large outputs run in chunks of output rows
// (layout.rows) whose patches and panels stay in L2. With threads: chunks of whole images
// taken dynamically (each its own patches and panels), or each thread a band of output rows of each image.
import type { ConvStep } from '../../compile/plan_types.js';
import { gemmArgs, type GemmArgs, type WasmGemm } from '../../kernels/wasm/gemm.js';
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

/**
 * The calls that make output rows r0..r1 of image n, group g: the im2col of the rows they read
 * (the window moved down by giving a smaller, possibly negative, top pad), the packing and the
 * GEMM into those rows' columns of the output. `gemmCall` gives the GEMM its scratch.
 */
function rowCalls(s: ConvStep, env: BindEnv, packed: Packed, ic: Kernel<Im2colExports> | undefined, geo: Geometry,
  part: { n: number; g: number; r0: number; r1: number; patches: number; panels: number }, gemmCall: (g: GemmArgs) => PoolCall): PoolCall[] {
  const gemm = env.kernels.gemm, w = s.win, { x, y, Cg, Mg, K, P, HW, C, os } = geo, { n, g, r0, r1 } = part;
  const rows = r1 - r0, Pt = rows * s.OW, j0 = r0 * s.OW;
  const xg = x + (n * C + g * Cg) * HW * 4, yg = y + (n * os + g * Mg * P) * 4;
  const calls: PoolCall[] = [];
  let src = xg + j0 * 4, ldb = P; // 1×1: the rows' pixels are the input's
  if (ic) {
    const args = [xg, Cg, s.H, s.W, w.kh, w.kw, w.padT - r0 * w.sh, w.padL, w.sh, w.sw, w.dh, w.dw, rows, s.OW, part.patches];
    calls.push({ key: ic.key, fn: IM2COL_EXPORTS.im2col, args });
    src = part.patches;
    ldb = Pt;
  }
  calls.push(gemm.packBCall(src, ldb, false, K, Pt, part.panels));
  calls.push(gemmCall(gemmArgs(Mg, Pt, K, packed.w[g], part.panels, yg + j0 * 4, { ...epilogue(s, packed.bias, g, Mg), ldc: P })));
  return calls;
}

/** The calls of every group's rows r0..r1 of images n0..n1, in chunks of the layout's rows, on one scratch set. */
function setCalls(s: ConvStep, env: BindEnv, packed: Packed, ic: Kernel<Im2colExports> | undefined, geo: Geometry,
  images: [number, number], rows: [number, number], set: number, gemmCall: (g: GemmArgs) => PoolCall): PoolCall[] {
  const l = s.layout, step = l.rows ?? s.OH, patches = scratchAt(env, s) + set * (l.patches + l.panels), panels = patches + l.patches;
  const calls: PoolCall[] = [];
  for (let n = images[0]; n < images[1]; n++) {
    for (let g = 0; g < geo.G; g++) {
      for (let r0 = rows[0]; r0 < rows[1]; r0 += step) {
        calls.push(...rowCalls(s, env, packed, ic, geo, { n, g, r0, r1: Math.min(r0 + step, rows[1]), patches, panels }, gemmCall));
      }
    }
  }
  return calls;
}

export function bindGemmConv(s: ConvStep, env: BindEnv): StepExecutor {
  const k = env.kernels, gemm = k.gemm;
  const packed = prepared(env, s, 'packed', () => packWeights(gemm, s, (d) => k.upload(d)));
  const ic = s.impl === 'im2col' ? k.im2col() : undefined;
  const geo = geometry(s, env);
  if (s.split > 1 && env.pool) return s.layout.byImages ? byImages(s, env, packed, ic, geo) : byRows(s, env, packed, ic, geo);
  // one thread: the same calls, each bound to its export
  const exportsOf: Record<string, Record<string, (...a: number[]) => void>> = { [gemm.key]: gemm.exports as never, ...(ic ? { [ic.key]: ic.exports as never } : {}) };
  const calls = setCalls(s, env, packed, ic, geo, [0, s.N], [0, s.OH], 0, (g) => gemm.callWithScratch(g, k.gemmScratch))
    .map((c) => ({ f: exportsOf[c.key][c.fn], args: c.args }));
  return { run: () => { for (const c of calls) c.f(...c.args); } };
}

function epilogue(s: ConvStep, bias: number, g: number, Mg: number) {
  return { bias: bias ? bias + g * Mg * 4 : 0, biasPer: 'row' as const, clamp: s.clamp };
}

/** Chunks of whole images taken dynamically by the threads, each with its own patches, panels and GEMM scratch. */
function byImages(s: ConvStep, env: BindEnv, packed: Packed, ic: Kernel<Im2colExports> | undefined, geo: Geometry): StepExecutor {
  const gemm = env.kernels.gemm;
  return { run: imageChunkRunner(env.pool!, s.N, s.layout.sets, (n0, n1, t) => setCalls(s, env, packed, ic, geo, [n0, n1], [0, s.OH], t, (g) => gemm.chunkCall(g, t))) };
}

/** Each thread a band of output rows of every image, with its own scratch set. */
function byRows(s: ConvStep, env: BindEnv, packed: Packed, ic: Kernel<Im2colExports> | undefined, geo: Geometry): StepExecutor {
  const gemm = env.kernels.gemm;
  const parts = Array.from({ length: s.split }, (_, t) => setCalls(s, env, packed, ic, geo, [0, s.N], share(s.OH, s.split, t), t, (g) => gemm.call(g, t)));
  return { run: poolRunner(env.pool!, parts) };
}
