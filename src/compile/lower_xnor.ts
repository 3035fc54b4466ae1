// XNOR-Net layers: a Conv whose weight is stored binary or ternary (graph.formats)
// and whose input is Sign(x) runs on the xnor-popcount kernel (kernels/wasm/xnor.ts),
// which takes the sign of x itself while bit-packing it. The Sign node then becomes
// an alias of its input, but only when every reader of its output is such a conv:
// both lowerings ask the same question here, so they cannot disagree.
import { attrInt, type Node } from '../ir/graph.js';
import type { Window2d } from '../ir/window.js';
import { xnorGridBytes } from '../kernels/wasm/xnor.js';
import { fallback, type LowerCtx, type LowerResult } from './lower_ctx.js';
import type { ConvStep } from './plan_types.js';

/** Why `conv` does not run on the xnor kernel, or undefined when it does. */
export function xnorConvRefusal(conv: Node, ctx: LowerCtx): string | undefined {
  if (conv.op !== 'Conv') return `${conv.op} has no xnor kernel yet`;
  if (ctx.target === 'c') return 'the C backend has no xnor kernel yet';
  if (ctx.kernels === 'dense') return 'dense kernels asked for';
  const f = ctx.graph.formats.get(conv.inputs[1]);
  if (f?.kind !== 'binary' && f?.kind !== 'ternary') return 'the weight is not stored binary or ternary';
  if (f.axis !== 0) return `the weight's levels are along axis ${f.axis}, not its output channels`;
  if (ctx.producers.get(conv.inputs[0])?.op !== 'Sign') return 'the input is not Sign(x)';
  if (attrInt(conv, 'group', 1) !== 1) return 'grouped';
  const x = ctx.types.get(conv.inputs[0]);
  if (x?.dtype !== 'float32' || x.shape.length !== 4) return 'not a 2-D float32 convolution';
  return undefined;
}

/** Sign is free when all its readers are xnor convs (they binarize while packing). */
export function lowerSign(node: Node, ctx: LowerCtx): LowerResult {
  const y = node.outputs[0];
  if (ctx.graph.outputs.some((o) => o.name === y)) return fallback('Sign is a graph output');
  const readers = ctx.graph.nodes.filter((n) => n.inputs.includes(y));
  const why = readers.length ? readers.map((r) => xnorConvRefusal(r, ctx)).find((w) => w !== undefined) : 'no reader';
  return why === undefined ? { alias: true } : fallback(`Sign has no fast kernel (its reader: ${why})`);
}

/** The xnor form of a conv step lowerConv built: its kernel, reason and scratch (one image's packed padded grid). */
export function asXnorConv(step: ConvStep, win: Window2d): ConvStep {
  const kind = step.weight.format?.kind ?? 'binary';
  return {
    ...step,
    impl: 'xnor',
    kernel: 'xnor conv (popcount)',
    reason: `${kind} weights on Sign(x): 64 channels a word, xor + popcnt`,
    estNs: undefined,
    split: 1,
    layout: { split: 1, byImages: false, sets: 1, patches: 0, panels: 0, plane: 0 },
    scratch: xnorGridBytes(step.C, step.H, step.W, [win.padT, win.padL, win.padB, win.padR]),
  };
}
