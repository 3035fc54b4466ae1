// Integer steps: the lowerings of the QOperator ops (QLinearConv, QLinearMatMul,
// ConvInteger, MatMulInteger) and the step constructors the QDQ fusion
// (fuse_int.ts) shares with them. Activations are int8 or uint8 NCHW; a conv runs
// im2col8 (padded with the input's zero point) and the integer GEMM per image and
// group, its weights packed once as A panels, or (3×3, stride 1, when estimated
// faster: chooseQConv) the integer Winograd F(2,3) / F(4,3), bit for bit the same;
// an fc packs the activations as A and its weights once as B panels.
import { attrInt, type Node } from '../ir/graph.js';
import { nodeWindow2d, isPointwise, type Window2d } from '../ir/window.js';
import type { Tensor } from '../ir/tensor.js';
import { INT_WINOGRAD_TILES, tileName, winogradApplies, type IntWinogradTile } from '../ir/winograd.js';
import { denseConvNs } from '../kernels/wasm/conv.js';
import { DEFAULT_QGEMM_TILE, packsFromImage, qgemmPackedASize, qgemmPackedBSize, type QInType } from '../kernels/wasm/qgemm.js';
import { qgemmScratchBytes } from '../kernels/wasm/qgemm_codegen.js';
import { qwinogradChunkRows, qwinogradLayout, qwinogradNs, qwinogradRefusal } from '../kernels/wasm/qwinograd.js';
import { winogradNs } from '../kernels/wasm/winograd.js';
import { formatUs, partsFor } from './cost.js';
import { convScratchBytes, imageChunks, roundUp, SLACK } from './conv_layout.js';
import { describeIntLayer, intLayer, type IntLayerSpec } from './int_layer.js';
import { constOf, fallback, product, stepBase, typeOf, type LowerCtx, type LowerResult } from './lower_ctx.js';
import type { ConvLayout, ConvStep, IntLayer, PlanStep, PlanTarget, QConvStep, QFcStep, WinogradMode } from './plan_types.js';

type Base = Pick<PlanStep, 'name' | 'op' | 'nodes' | 'inputs' | 'outputs'>;


export function qfcStep(base: Base, M: number, N: number, K: number, layer: IntLayer, threads: number, splitFlops: number): QFcStep {
  return {
    ...base, kind: 'qfc', M, N, K, layer, kernel: 'qgemm int8 (i32x4.dot_i16x8_s)', reason: describeIntLayer(layer),
    split: partsFor(2 * M * N * K, threads, splitFlops * 2), scratch: qgemmPackedASize(M, K) + SLACK, scratchAt: 0,
  };
}

export interface ConvGeometry {
  N: number; C: number; H: number; W: number; M: number; OH: number; OW: number;
  group: number;
  win: Window2d;
  outImageStride: number;
}

/**
 * Threads take whole images when there are enough — chunks of images taken dynamically, one patch
 * matrix and panel set per chunk, so that a worker that wakes late leaves its chunks to the others —
 * else bands of output rows of each image (one set per band). On an integer Winograd tile:
 * chunks of tile rows round-robin, one scratch set per thread.
 */
export function qconvStep(base: Base, g: ConvGeometry, layer: IntLayer, threads: number, splitFlops: number, choice?: QConvChoice): QConvStep {
  if (choice?.tile) return qwinogradStep(base, g, layer, threads, choice);
  const K = (g.C / g.group) * g.win.kh * g.win.kw;
  let split = partsFor(2 * g.N * g.M * K * g.OH * g.OW, threads, splitFlops * 2);
  const byImages = g.N >= split;
  if (!byImages) split = Math.min(split, g.OH);
  const P = (byImages ? g.OH : Math.ceil(g.OH / split)) * g.OW; // pixels one set holds
  const direct = isPointwise(g.win), fused = packsFromImage(g.win);
  const patches = direct || fused ? 0 : roundUp(K * P + SLACK, 64), panels = roundUp(qgemmPackedBSize(K, P) + SLACK, 64);
  const chunked = { split, byImages, patches, panels, plane: 0 };
  const layout: ConvLayout = { ...chunked, sets: imageChunks(g.N, chunked) };
  const kernel = direct ? 'qconv 1×1 int8 gemm' : fused ? 'qconv int8 gemm, patches packed from the image' : 'qconv int8 im2col+gemm';
  const { N, C, H, W, M, OH, OW, group, win, outImageStride } = g;
  return {
    ...base, N, C, H, W, M, OH, OW, group, win, outImageStride, kind: 'qconv', layer, layout, kernel, reason: describeIntLayer(layer) + (choice ? `; ${choice.reason}` : ''),
    split, scratch: convScratchBytes(layout), scratchAt: 0,
  };
}

/**
 * Per scratch set of an im2col integer conv with a max pool fused (compile/fuse.ts): the conv's
 * output of one image (8-bit, M planes), then the pool kernel's row buffer.
 */
export function qconvPoolBuffers(s: Pick<QConvStep, 'M' | 'OH' | 'OW'>): { image: number; rowbuf: number } {
  return { image: roundUp(s.M * s.OH * s.OW + SLACK, 64), rowbuf: roundUp(s.OW + SLACK, 64) };
}

function qwinogradStep(base: Base, g: ConvGeometry, layer: IntLayer, threads: number, choice: QConvChoice): QConvStep {
  const m = choice.tile!, rowsPerChunk = qwinogradChunkRows(g, m, threads);
  const l = qwinogradLayout(g, m, rowsPerChunk, qgemmScratchBytes(DEFAULT_QGEMM_TILE));
  const sets = Math.max(1, Math.min(threads, l.chunks));
  const layout: ConvLayout = { split: sets, byImages: false, sets, patches: 0, panels: 0, plane: 0, winograd: { rowsPerChunk, byChannels: false, setBytes: l.setBytes } };
  const { N, C, H, W, M, OH, OW, group, win, outImageStride } = g;
  return {
    ...base, N, C, H, W, M, OH, OW, group, win, outImageStride, kind: 'qconv', layer, tile: m, layout, kernel: `qconv int8 winograd ${tileName(m)}`, reason: `${describeIntLayer(layer)}; ${choice.reason}`,
    split: sets, scratch: sets * l.setBytes, scratchAt: 0,
  };
}
/**
 * The int8 im2col conv's time as a fraction of the f32 im2col estimate (kernels/wasm/conv.ts):
 * the GEMM runs 1.65× the f32 one at 256³, but im2col8, packing and narrow tiles leave 1.25×
 * on VGG-S's convs (1.25 ms measured at batch 1 vs 1.51 ms estimated f32, one thread, quiet machine).
 */
export const QCONV_OF_F32_IM2COL = 0.8;
/** ns per element to dequantize a conv's input and quantize its output when it runs in float. */
const QDQ_NS = 0.5;

/** An integer conv's kernel: im2col + GEMM, or an integer Winograd tile; its estimate and why. */
export interface QConvChoice {
  tile?: IntWinogradTile;
  label: string;
  estNs: number;
  reason: string;
}

/**
 * The integer kernel estimated fastest for a conv on its layer's constants: int8 im2col, or
 * the integer Winograd F(2,3) / F(4,3) (WASM target, 3×3 stride 1, Winograd not 'off', the
 * sums' bound leaving room for the transforms' 2^e, kernels/wasm/qwinograd.ts qwinogradRefusal).
 */
export function chooseQConv(s: ConvGeometry, layer: IntLayer, target: PlanTarget, mode: WinogradMode = 'auto'): QConvChoice {
  const K = (s.C / s.group) * s.win.kh * s.win.kw;
  const cands: QConvChoice[] = [{ label: 'int8 im2col', estNs: QCONV_OF_F32_IM2COL * s.N * s.group * denseConvNs('im2col', s.M / s.group, K, s.OH * s.OW), reason: '' }];
  const refused: string[] = [];
  if (target === 'wasm' && mode !== 'off' && winogradApplies(s.win, s.group)) {
    for (const m of INT_WINOGRAD_TILES) {
      if (typeof mode === 'number' && mode !== m) continue;
      const why = qwinogradRefusal(m, layer.bound, layer.epilogue?.shift ?? 0, layer.epilogue?.out ?? 'int32');
      if (why) refused.push(`int8 ${tileName(m)}: ${why}`);
      else cands.push({ tile: m, label: `int8 Winograd ${tileName(m)}`, estNs: qwinogradNs(s, m), reason: '' });
    }
  }
  cands.sort((a, b) => a.estNs - b.estNs);
  const forced = mode !== 'auto' && cands.find((c) => c.tile) ? cands.find((c) => c.tile)! : undefined;
  const best = forced ?? cands[0];
  const others = cands.filter((c) => c !== best).map((c) => `${c.label} ${formatUs(c.estNs)}`);
  const why = `${best.label}${forced ? ` (winograd: ${JSON.stringify(mode)})` : ''}, est ${formatUs(best.estNs)}${others.length ? ` vs ${others.join(', ')}` : ''}`;
  return { ...best, reason: [why, ...refused].join('; ') };
}

/**
 * Why a QDQ conv the float planner put on Winograd stays float (dequantize → Winograd →
 * quantize), or undefined when the best integer kernel (`int8`, chooseQConv's) is estimated
 * at least as fast. `winograd: 'off'` keeps every such conv integer.
 */
export function floatWinogradWins(s: ConvStep, int8: QConvChoice): string | undefined {
  if (s.impl !== 'winograd' || s.tile === undefined) return undefined;
  const float = winogradNs(s, s.tile) + QDQ_NS * s.N * (s.C * s.H * s.W + s.M * s.OH * s.OW);
  if (float >= int8.estNs) return undefined;
  return `float Winograd ${tileName(s.tile)} between dequantize and quantize, est ${formatUs(float)} vs ${int8.label} ${formatUs(int8.estNs)}`;
}

/** A constant scalar (scale or zero point), or undefined. */
function scalar(ctx: LowerCtx, name: string | undefined, dflt?: number): number | undefined {
  if (!name) return dflt;
  const t = constOf(ctx, name);
  return t && t.size === 1 ? Number(t.data[0]) : undefined;
}

function numbers(t: Tensor): number[] {
  return Array.from(t.data as ArrayLike<number>, Number);
}

const isQ8 = (d: string): d is QInType => d === 'int8' || d === 'uint8';

/** QLinearConv and ConvInteger: x activation, everything else constant. */
export function lowerQConv(node: Node, ctx: LowerCtx): LowerResult {
  const linear = node.op === 'QLinearConv';
  const [xName, wName] = linear ? [node.inputs[0], node.inputs[3]] : [node.inputs[0], node.inputs[1]];
  const x = typeOf(ctx, xName), w = constOf(ctx, wName);
  if (!isQ8(x.dtype) || x.shape.length !== 4) return fallback('only 2-D convs of int8 / uint8 have an integer kernel');
  if (!w || !isQ8(w.dtype)) return fallback('the weight is not an int8 / uint8 constant');
  const spec = linear ? qlinearSpec(ctx, node, [0, 1, 2], [4, 5], [6, 7], node.inputs[8]) : integerSpec(ctx, node, 2, 3);
  if (typeof spec === 'string') return fallback(spec);
  const [N, C, H, W] = x.shape, M = w.shape[0];
  const { win, out } = nodeWindow2d(node, [H, W], w.shape.slice(2));
  const layer = intLayer({ ...spec, input: { ...spec.input, dtype: x.dtype }, weight: { ...spec.weight, q: numbers(w) }, channels: M, K: product(w.shape.slice(1)) });
  if (typeof layer === 'string') return fallback(layer);
  const geo = { N, C, H, W, M, OH: out[0], OW: out[1], group: attrInt(node, 'group', 1), win, outImageStride: M * out[0] * out[1] };
  return { step: qconvStep(stepBase(node, '', '', [xName]), geo, layer, ctx.threads, ctx.splitFlops, chooseQConv(geo, layer, ctx.target, ctx.winograd)) };
}

/** QLinearMatMul and MatMulInteger: A activation [M, K], B constant [K, N] (per-column parameters). */
export function lowerQMatMul(node: Node, ctx: LowerCtx): LowerResult {
  const linear = node.op === 'QLinearMatMul';
  const [aName, bName] = linear ? [node.inputs[0], node.inputs[3]] : [node.inputs[0], node.inputs[1]];
  const a = typeOf(ctx, aName), b = constOf(ctx, bName);
  if (!isQ8(a.dtype) || a.shape.length < 2) return fallback('A is not an int8 / uint8 matrix');
  if (!b || !isQ8(b.dtype) || b.shape.length !== 2) return fallback('B is not a 2-D int8 / uint8 constant');
  const spec = linear ? qlinearSpec(ctx, node, [0, 1, 2], [4, 5], [6, 7]) : integerSpec(ctx, node, 2, 3);
  if (typeof spec === 'string') return fallback(spec);
  const [K, N] = b.shape, M = product(a.shape.slice(0, -1));
  const bt = numbers(b), q = new Array<number>(N * K);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) q[n * K + k] = bt[k * N + n]; // [N×K]: one row per output
  const layer = intLayer({ ...spec, input: { ...spec.input, dtype: a.dtype }, weight: { ...spec.weight, q }, channels: N, K });
  if (typeof layer === 'string') return fallback(layer);
  return { step: qfcStep(stepBase(node, '', '', [aName]), M, N, K, layer, ctx.threads, ctx.splitFlops) };
}

type Spec = Omit<IntLayerSpec, 'channels' | 'K' | 'weight' | 'input'> & { input: Omit<IntLayerSpec['input'], 'dtype'>; weight: Omit<IntLayerSpec['weight'], 'q'> };

/** The QLinear ops' constant scales and zero points: [x, x_scale, x_zero], [w_scale, w_zero], [y_scale, y_zero], bias. */
function qlinearSpec(ctx: LowerCtx, node: Node, xs: number[], ws: number[], ys: number[], bias?: string): Spec | string {
  const sx = scalar(ctx, node.inputs[xs[1]]), zx = scalar(ctx, node.inputs[xs[2]], 0);
  const sy = scalar(ctx, node.inputs[ys[0]]), zy = scalar(ctx, node.inputs[ys[1]], 0);
  const sw = constOf(ctx, node.inputs[ws[0]]), zw = node.inputs[ws[1]] ? constOf(ctx, node.inputs[ws[1]]) : undefined;
  if (sx === undefined || zx === undefined || sy === undefined || zy === undefined || !sw || (node.inputs[ws[1]] && !zw)) {
    return 'the scales and zero points are not constants (a per-row input scale has no integer kernel)';
  }
  const yType = typeOf(ctx, node.outputs[0]).dtype;
  if (yType !== 'int8' && yType !== 'uint8') return `the output is ${yType}`;
  const b = bias ? constOf(ctx, bias) : undefined;
  if (bias && !b) return 'the bias is not a constant';
  return {
    input: { scale: sx, zero: zx }, weight: { scale: numbers(sw), zero: zw ? numbers(zw) : [0] },
    bias: b && { int: numbers(b) }, output: { dtype: yType, scale: sy, zero: zy },
  };
}

/** ConvInteger / MatMulInteger: zero points only, int32 out. */
function integerSpec(ctx: LowerCtx, node: Node, xz: number, wz: number): Spec | string {
  const zx = scalar(ctx, node.inputs[xz], 0);
  const zw = node.inputs[wz] ? constOf(ctx, node.inputs[wz]) : undefined;
  if (zx === undefined || (node.inputs[wz] && !zw)) return 'the zero points are not constants (a per-row A zero point has no integer kernel)';
  return { input: { scale: 1, zero: zx }, weight: { scale: [1], zero: zw ? numbers(zw) : [0] } };
}

/** MaxPool of int8 / uint8 (opset 12): the integer max pool. */
export function lowerQMaxPool(node: Node, ctx: LowerCtx): LowerResult {
  const x = typeOf(ctx, node.inputs[0]);
  if (x.shape.length !== 4 || (node.outputs.length > 1 && node.outputs[1])) return fallback('only 2-D integer max pooling without Indices has a fast kernel');
  const [N, C, H, W] = x.shape;
  const { win, out } = nodeWindow2d(node, [H, W], (node.attrs.kernel_shape as number[] | undefined) ?? []);
  const [OH, OW] = out;
  return {
    step: {
      ...stepBase(node, `max pool ${x.dtype}`, 'separable, exact on the integers', [node.inputs[0]]), scratch: W + 64,
      kind: 'qpool', mode: 'max', dtype: x.dtype as QInType, N, C, H, W, OH, OW, win, countIncludePad: false, outImageStride: C * OH * OW,
    },
  };
}
