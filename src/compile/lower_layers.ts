// Lowering of the layers with weights and windows: Conv, Gemm / MatMul, the pools.
// Each picks its kernel (geometry, then the cost model for compressed weights),
// sizes its scratch and decides how many threads share its work.
import { attrFloat, attrInt, type Node } from '../ir/graph.js';
import { tileName, type WinogradTile } from '../ir/winograd.js';
import { poolPadded } from '../kernels/wasm/pool.js';
import { nodeWindow2d } from '../ir/window.js';
import { intsFromInputOrAttr } from '../ir/util.js';
import { addsubKind, chooseConv, chooseFc, fcSplit, partsFor } from './cost.js';
import { addsubScratchBytes } from '../kernels/wasm/addsub.js';
import { convLayout, convScratchBytes, roundUp, SLACK } from './conv_layout.js';
import { patternCounts } from '../ir/pattern.js';
import { lowerQMaxPool } from './lower_int.js';
import { constF32, constOf, expectedZeros, fallback, product, stepBase, typeOf, type LowerCtx, type LowerResult } from './lower_ctx.js';
import type { ConvStep, FcStep, PlanWeight } from './plan_types.js';
import { asXnorConv, asXnorFc, xnorRefusal } from './lower_xnor.js';


function weightOf(ctx: LowerCtx, name: string, data: Float32Array): PlanWeight {
  return { name, data, format: ctx.graph.formats.get(name) };
}

export function lowerConv(node: Node, ctx: LowerCtx): LowerResult {
  const [xName, wName, bName] = node.inputs;
  const x = typeOf(ctx, xName);
  const w = constF32(ctx, wName);
  const bias = constF32(ctx, bName);
  if (x.dtype !== 'float32') return fallback(`input is ${x.dtype}; the fast kernels take float32`);
  if (!w) return fallback('the weight is not a float32 constant');
  if (bName && !bias) return fallback('the bias is not a float32 constant');
  if (x.shape.length !== 3 && x.shape.length !== 4) return fallback('only 1-D and 2-D convolutions have a fast kernel');
  const spatial = x.shape.slice(2);
  const { win, out } = nodeWindow2d(node, spatial, w.shape.slice(2));
  const [N, C] = x.shape;
  const [H, W] = spatial.length === 1 ? [1, spatial[0]] : spatial;
  const M = w.shape[0];
  const group = attrInt(node, 'group', 1);
  const [OH, OW] = out;
  const Cg = C / group, Mg = M / group, K = Cg * win.kh * win.kw, P = OH * OW;
  const weight = weightOf(ctx, wName, w.data);
  const d = chooseConv({ node: node.name, N, C, H, W, M, OH, OW, group, win, weight, kernels: ctx.kernels, winograd: ctx.winograd, patterns: ctx.patterns, target: ctx.target, threads: ctx.threads });
  const flops = 2 * N * P * (d.pattern ? patternCounts(d.pattern.format).weights : M * K);
  const step: ConvStep = {
    ...stepBase(node, convKernelName(d.impl, weight, d.tile), d.reason, [xName]),
    kind: 'conv', N, C, H, W, M, OH, OW, group, win, weight, bias: bias?.data, impl: d.impl, tile: d.tile, outImageStride: M * P,
    estNs: d.estNs, split: 1, layout: { split: 1, byImages: false, sets: 1, patches: 0, panels: 0, plane: 0 },
    pattern: d.pattern,
  };
  const parts = partsFor(flops, ctx.threads, ctx.splitFlops);
  if (xnorRefusal(node, ctx) === undefined) return { step: asXnorConv(step, win, parts) };
  // each image's columns split over the threads, each part with tables of its own
  if (d.impl === 'addsub') return { step: { ...step, split: parts, layout: { ...step.layout, split: parts }, scratch: addsubScratchBytes(K, P, parts) } };
  step.layout = convLayout(step, parts, ctx.threads, ctx.tile);
  step.split = step.layout.split;
  step.scratch = convScratchBytes(step.layout);
  return { step };
}

function convKernelName(impl: ConvStep['impl'], w: PlanWeight, tile?: WinogradTile): string {
  if (impl === 'csr') return w.format?.kind === 'codebook' ? 'sparse conv (csr, codebook)' : 'sparse conv (csr)';
  if (impl === 'winograd') return `conv winograd ${tileName(tile!)}`;
  if (impl === 'pattern') return 'pattern conv (FKW)';
  return { im2col: 'conv im2col+gemm', pointwise: 'conv 1×1 gemm', depthwise: 'conv depthwise', xnor: 'xnor conv (popcount)', addsub: 'conv add/subtract (±1/0 weights)' }[impl];
}

/** Gemm (A activation, B constant) and MatMul (A [..., M, K] activation, B [K, N] constant). */
export function lowerFc(node: Node, ctx: LowerCtx): LowerResult {
  const [aName, bName, cName] = node.inputs;
  const a = typeOf(ctx, aName);
  const b = constF32(ctx, bName);
  if (a.dtype !== 'float32') return fallback(`input is ${a.dtype}; the fast kernels take float32`);
  if (!b || b.shape.length !== 2) return fallback('B is not a 2-D float32 constant');
  const gemm = node.op === 'Gemm';
  if (!gemm && a.shape.length < 2) return fallback('a 1-D A has no fast kernel');
  const transA = gemm && attrInt(node, 'transA', 0) !== 0;
  const transB = gemm && attrInt(node, 'transB', 0) !== 0;
  const alpha = gemm ? attrFloat(node, 'alpha', 1) : 1;
  const beta = gemm ? attrFloat(node, 'beta', 1) : 1;
  const K = gemm ? (transA ? a.shape[0] : a.shape[1]) : a.shape[a.shape.length - 1];
  const M = gemm ? (transA ? a.shape[1] : a.shape[0]) : product(a.shape.slice(0, -1));
  const N = transB ? b.shape[0] : b.shape[1];
  const bias = cName ? fcBias(ctx, cName, M, N, beta) : undefined;
  if (bias === null) return fallback('C does not broadcast along the rows as a constant bias');
  // W in the [N×K] layout (one row per output): Gemm transB=1 stores it so; others are transposed once.
  let data = transB ? b.data : transpose(b.data, K, N);
  let derived = transB ? undefined : 'transposed to [N×K]';
  if (alpha !== 1) {
    data = data.map((v) => v * alpha);
    derived = `${derived ? `${derived}, ` : ''}scaled by alpha=${alpha}`;
  }
  const weight: PlanWeight = { ...weightOf(ctx, bName, data), derived };
  if (!transB) weight.format = transposeFormat(weight.format, K, N);
  const d = chooseFc(weight, N, K, M, ctx.kernels, expectedZeros(ctx, aName), transA ? undefined : addsubKind(weight, N, ctx.kernels, ctx.target));
  const sparse = d.impl === 'dense' || d.impl === 'addsub' ? undefined : fcSplit(weight, N, K, M, ctx.threads);
  const split = sparse ? sparse.parts : partsFor(2 * M * N * K, ctx.threads, ctx.splitFlops);
  const step: FcStep = {
    ...stepBase(node, fcKernelName(d.impl, weight), d.reason, [aName]),
    kind: 'fc', M, N, K, transA, weight, bias, impl: d.impl, estNs: d.estNs, split, splitBy: sparse?.by,
  };
  if (xnorRefusal(node, ctx) === undefined) return { step: asXnorFc(step) };
  if (d.impl === 'addsub') return { step: { ...step, split: 1, scratch: addsubScratchBytes(K, M) } };
  step.scratch = d.impl === 'dense' ? roundUp(M, ctx.tile.mr) * K * 4 + SLACK : M > 1 ? M * K * 4 + SLACK : 0;
  return { step };
}

function fcKernelName(impl: FcStep['impl'], w: PlanWeight): string {
  const cb = w.format?.kind === 'codebook' ? ', codebook' : '';
  if (impl === 'addsub') return 'fc add/subtract (±1/0 weights)';
  return impl === 'dense' ? 'gemm (packed weights)' : impl === 'sparse-auto' ? `sparse fc (csr/csc${cb})` : `sparse fc (${impl}${cb})`;
}

/** The per-column bias (N values, times beta) from Gemm's C, or null when C is not such a constant. */
function fcBias(ctx: LowerCtx, name: string, M: number, N: number, beta: number): Float32Array | undefined | null {
  const c = constF32(ctx, name);
  if (!c) return null;
  if (beta === 0) return undefined;
  const size = c.size;
  const rowLike = c.shape.length <= 1 || c.shape.slice(0, -1).every((d) => d === 1);
  if (size === 1) return new Float32Array(N).fill(c.data[0] * beta);
  if (size === N && rowLike && (c.shape.length === 0 || c.shape[c.shape.length - 1] === N)) {
    return beta === 1 ? c.data : c.data.map((v) => v * beta);
  }
  return M === 1 && size === N ? c.data.map((v) => v * beta) : null;
}

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** A format of a [K×N] weight as the [N×K] one (codebook indices are transposed with it). */
function transposeFormat(f: PlanWeight['format'], K: number, N: number): PlanWeight['format'] {
  if (f?.kind !== 'codebook') return f;
  const idx = new (f.indices.constructor as Uint8ArrayConstructor)(f.indices.length);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) idx[n * K + k] = f.indices[k * N + n];
  return { ...f, indices: idx };
}

export function lowerPool(node: Node, ctx: LowerCtx): LowerResult {
  const x = typeOf(ctx, node.inputs[0]);
  const max = node.op === 'MaxPool';
  if (max && (x.dtype === 'int8' || x.dtype === 'uint8')) return lowerQMaxPool(node, ctx);
  if (x.dtype !== 'float32') return fallback(`input is ${x.dtype}; the fast kernels take float32`);
  if (x.shape.length !== 3 && x.shape.length !== 4) return fallback('only 1-D and 2-D pooling has a fast kernel');
  if (max && node.outputs.length > 1 && node.outputs[1]) return fallback('the Indices output has no fast kernel');
  const kernel = (node.attrs.kernel_shape as number[] | undefined) ?? [];
  const ceil = attrInt(node, 'ceil_mode', 0) !== 0;
  const spatial = x.shape.slice(2);
  const { win, out } = nodeWindow2d(node, spatial, kernel);
  const countIncludePad = attrInt(node, 'count_include_pad', 0) !== 0;
  if (!max && (win.dh > 1 || win.dw > 1)) return fallback('AveragePool with dilations has no fast kernel');
  const [N, C] = x.shape;
  const [H, W] = spatial.length === 1 ? [1, spatial[0]] : spatial;
  const [OH, OW] = out;
  const split = partsFor(POOL_FLOPS * N * C * OH * OW * win.kh * win.kw, ctx.threads, ctx.splitFlops);
  const { PH, PW } = poolPadded({ H, W, OH, OW, win });
  const shape = `${win.kh}×${win.kw}/${win.sh}`;
  return {
    step: {
      ...stepBase(node, `${max ? 'max' : 'avg'} pool`, `${shape}${ceil ? ', ceil mode' : ''}, planes padded once`, [node.inputs[0]]),
      kind: 'pool', mode: max ? 'max' : 'avg', N, C, H, W, OH, OW, win, ceil, countIncludePad, outImageStride: C * OH * OW,
      split, scratch: split * (PH * PW * 4 + SLACK),
    },
  };
}

/**
 * A pool's window element weighs this many GEMM flops in the split rule (partsFor): ResNet-18's
 * 3×3/2 max pool over 64×112×112 (3.6 M window elements) takes 0.40 ms on one thread, what a
 * GEMM does with ~15 MFLOP.
 */
const POOL_FLOPS = 4;

/** GlobalAveragePool / GlobalMaxPool, and ReduceMean / ReduceMax over every spatial axis of an NC... input. */
export function lowerGlobalPool(node: Node, ctx: LowerCtx): LowerResult {
  const x = typeOf(ctx, node.inputs[0]);
  if (x.dtype !== 'float32' || x.shape.length < 3) return fallback('input is not a float32 [N, C, spatial...] tensor');
  if (node.op.startsWith('Reduce')) {
    const axes = intsFromInputOrAttr(node, node.inputs.map((n) => constOf(ctx, n)), 1, 'axes');
    const rank = x.shape.length;
    const norm = new Set((axes ?? []).map((a) => (a < 0 ? a + rank : a)));
    const spatial = x.shape.slice(2).map((_, i) => i + 2);
    if (norm.size !== spatial.length || !spatial.every((a) => norm.has(a))) return fallback('only a reduction over every spatial axis has a fast kernel');
  }
  const mode = node.op === 'GlobalMaxPool' || node.op === 'ReduceMax' ? 'max' : 'avg';
  const size = product(x.shape.slice(2));
  return {
    step: {
      ...stepBase(node, `global ${mode} pool`, `${size} values per plane`, [node.inputs[0]]),
      kind: 'globalpool', mode, planes: x.shape[0] * x.shape[1], size,
    },
  };
}
