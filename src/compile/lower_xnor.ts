// XNOR-Net layers: a Conv, Gemm or MatMul whose weight is stored binary or ternary
// (graph.formats) along its output channels and whose input is Sign(x) runs on the
// xnor-popcount kernel (kernels/wasm/xnor.ts), which takes the sign of x itself while
// bit-packing it. The Sign node then becomes an alias of its input, but only when
// every reader of its output is such a layer: both lowerings ask the same question
// here, so they cannot disagree.
import { outputAxis } from '../ir/binary.js';
import { attrInt, type Node } from '../ir/graph.js';
import type { Window2d } from '../ir/window.js';
import { convGrids, xnorConvScratchBytes, xnorFcScratchBytes } from '../kernels/wasm/xnor.js';
import { fallback, type LowerCtx, type LowerResult } from './lower_ctx.js';
import type { ConvStep, FcStep } from './plan_types.js';

/** Why `node` does not run on the xnor kernel, or undefined when it does. */
export function xnorRefusal(node: Node, ctx: LowerCtx): string | undefined {
  if (node.op !== 'Conv' && node.op !== 'Gemm' && node.op !== 'MatMul') return `${node.op} has no xnor kernel`;
  if (ctx.target === 'c') return 'the C backend has no xnor kernel yet';
  if (ctx.kernels === 'dense') return 'dense kernels asked for';
  const f = ctx.graph.formats.get(node.inputs[1]);
  if (f?.kind !== 'binary' && f?.kind !== 'ternary') return 'the weight is not stored binary or ternary';
  if (f.axis !== outputAxis(node)) return `the weight's levels are along axis ${f.axis}, not its output channels`;
  if (ctx.producers.get(node.inputs[0])?.op !== 'Sign') return 'the input is not Sign(x)';
  const x = ctx.types.get(node.inputs[0]);
  if (node.op === 'Conv') {
    if (attrInt(node, 'group', 1) !== 1) return 'grouped';
    if (x?.dtype !== 'float32' || x.shape.length !== 4) return 'not a 2-D float32 convolution';
    return undefined;
  }
  if (node.op === 'Gemm' && attrInt(node, 'transA', 0) !== 0) return 'transA';
  if (x?.dtype !== 'float32' || x.shape.length < 2) return 'not a float32 matrix input';
  return undefined;
}

/** Sign is free when all its readers are xnor layers (they binarize while packing). */
export function lowerSign(node: Node, ctx: LowerCtx): LowerResult {
  const y = node.outputs[0];
  if (ctx.graph.outputs.some((o) => o.name === y)) return fallback('Sign is a graph output');
  const readers = ctx.graph.nodes.filter((n) => n.inputs.includes(y));
  const why = readers.length ? readers.map((r) => xnorRefusal(r, ctx)).find((w) => w !== undefined) : 'no reader';
  return why === undefined ? { alias: true } : fallback(`Sign has no fast kernel (its reader: ${why})`);
}

/** The xnor form of a conv step lowerConv built: its kernel, reason, split (parts threads) and scratch (packed padded grids with their zero flags, window buffers, xnor.ts). */
export function asXnorConv(step: ConvStep, win: Window2d, parts: number): ConvStep {
  const kind = step.weight.format?.kind ?? 'binary';
  return {
    ...step,
    impl: 'xnor',
    kernel: 'xnor conv (popcount)',
    reason: `${kind} weights on Sign(x): 64 channels a word, xor + popcnt`,
    estNs: undefined,
    split: parts,
    layout: { split: parts, byImages: step.N >= parts, sets: convGrids(step.N, parts), patches: 0, panels: 0, plane: 0 },
    scratch: xnorConvScratchBytes(step.C, step.H, step.W, win.kh, win.kw, [win.padT, win.padL, win.padB, win.padR], step.N, parts),
  };
}

/** The xnor form of an fc step lowerFc built: one packed row (16 bytes per 64 inputs) per sample and the window buffer in its scratch. */
export function asXnorFc(step: FcStep): FcStep {
  const kind = step.weight.format?.kind ?? 'binary';
  return {
    ...step,
    impl: 'xnor',
    kernel: 'xnor fc (popcount)',
    reason: `${kind} weights on Sign(x): 64 inputs a word, xor + popcnt`,
    estNs: undefined,
    split: 1,
    splitBy: undefined,
    scratch: xnorFcScratchBytes(step.K, step.M),
  };
}
