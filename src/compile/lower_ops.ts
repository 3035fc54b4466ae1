// Lowering of the light ops: activations, broadcast arithmetic, Softmax, Concat,
// Quantize/DequantizeLinear and a standalone BatchNormalization. Anything they
// do not cover (other dtypes, non-constant parameters) falls back to the
// reference kernel with the reason recorded.
import { attrFloat, attrInt, type Node } from '../ir/graph.js';
import { quantAxis, QUANT_RANGES } from '../ir/quant.js';
import { DTYPE_BYTES, type DType } from '../ir/tensor.js';
import { broadcastStrides } from '../ir/util.js';
import { constF32, constOf, fallback, product, stepBase, typeOf, type LowerCtx, type LowerResult } from './lower_ctx.js';
import { QOPS_SCRATCH } from '../kernels/wasm/qops_codegen.js';
import type { ConcatPart, QuantParams } from './plan_types.js';

function floatInputs(ctx: LowerCtx, node: Node, count: number): string | undefined {
  for (const name of node.inputs.slice(0, count)) {
    const t = ctx.types.get(name);
    if (t && t.dtype !== 'float32') return `input "${name}" is ${t.dtype}; the fast kernels take float32`;
  }
  return undefined;
}

/** A scalar bound given as a constant input or (before opset 11) an attribute; null = not constant. */
function bound(ctx: LowerCtx, node: Node, i: number, attr: string, dflt: number): number | null {
  const name = node.inputs[i];
  if (name) {
    const t = constOf(ctx, name);
    return t && t.size === 1 ? Number(t.data[0]) : null;
  }
  const v = node.attrs[attr];
  return typeof v === 'number' ? v : dflt;
}

export function lowerClamp(node: Node, ctx: LowerCtx): LowerResult {
  const bad = floatInputs(ctx, node, 1);
  if (bad) return fallback(bad);
  const lo = node.op === 'Relu' ? 0 : bound(ctx, node, 1, 'min', -Infinity);
  const hi = node.op === 'Relu' ? Infinity : bound(ctx, node, 2, 'max', Infinity);
  if (lo === null || hi === null) return fallback('min / max are not constants');
  const n = product(typeOf(ctx, node.inputs[0]).shape);
  const what = node.op === 'Relu' ? 'relu' : `clip [${lo}, ${hi}]`;
  return { step: { ...stepBase(node, 'clamp (wasm)', what, [node.inputs[0]]), kind: 'clamp', n, lo, hi } };
}

export function lowerUnary(node: Node, ctx: LowerCtx): LowerResult {
  const bad = floatInputs(ctx, node, 1);
  if (bad) return fallback(bad);
  const fn = node.op as 'Sigmoid' | 'Tanh' | 'LeakyRelu';
  const n = product(typeOf(ctx, node.inputs[0]).shape);
  const alpha = Math.fround(attrFloat(node, 'alpha', 0.01));
  return { step: { ...stepBase(node, node.op.toLowerCase(), 'elementwise loop', [node.inputs[0]]), kind: 'unary', fn, n, alpha } };
}

export function lowerBinary(node: Node, ctx: LowerCtx): LowerResult {
  const bad = floatInputs(ctx, node, 2);
  if (bad) return fallback(bad);
  const [aName, bName] = node.inputs;
  const shape = typeOf(ctx, node.outputs[0]).shape;
  const a = { value: aName, strides: broadcastStrides(typeOf(ctx, aName).shape, shape) };
  const b = { value: bName, strides: broadcastStrides(typeOf(ctx, bName).shape, shape) };
  const same = a.strides.join() === b.strides.join();
  const fn = node.op as 'Add' | 'Sub' | 'Mul' | 'Div';
  return {
    step: { ...stepBase(node, fn.toLowerCase(), same ? 'same shapes' : 'broadcast', [aName, bName]), kind: 'binary', fn, shape, a, b },
  };
}

export function lowerSoftmax(node: Node, ctx: LowerCtx): LowerResult {
  const bad = floatInputs(ctx, node, 1);
  if (bad) return fallback(bad);
  const shape = typeOf(ctx, node.inputs[0]).shape;
  const rank = Math.max(shape.length, 1);
  let axis = attrInt(node, 'axis', -1);
  if (axis < 0) axis += rank;
  const D = shape.length === 0 ? 1 : shape[axis];
  const inner = product(shape.slice(axis + 1));
  const outer = product(shape) / Math.max(D * inner, 1);
  return { step: { ...stepBase(node, 'softmax', `axis ${axis}`, [node.inputs[0]]), kind: 'softmax', outer, D, inner } };
}

export function lowerConcat(node: Node, ctx: LowerCtx): LowerResult {
  const out = typeOf(ctx, node.outputs[0]);
  const rank = out.shape.length;
  let axis = attrInt(node, 'axis', 0);
  if (axis < 0) axis += rank;
  const inner = product(out.shape.slice(axis + 1));
  const parts: ConcatPart[] = [];
  let at = 0;
  for (const name of node.inputs) {
    const block = typeOf(ctx, name).shape[axis] * inner;
    parts.push({ value: name, block, at });
    at += block;
  }
  return {
    step: {
      ...stepBase(node, 'concat (copy)', `axis ${axis}`, [...node.inputs]),
      kind: 'concat', elemBytes: DTYPE_BYTES[out.dtype], outer: product(out.shape.slice(0, axis)), outBlock: out.shape[axis] * inner, parts,
    },
  };
}

/** Scale / zero point as the reference kernel reads them; a string says why they cannot be planned. */
function quantParams(ctx: LowerCtx, node: Node, shape: number[], qtype: DType): QuantParams | string {
  const scale = constF32(ctx, node.inputs[1]);
  const zero = constOf(ctx, node.inputs[2]);
  if (!scale) return 'the scale is not a float32 constant';
  if (node.inputs[2] && !zero) return 'the zero point is not a constant';
  if (attrInt(node, 'block_size', 0) !== 0) return 'blocked quantization has no fast kernel';
  const range = QUANT_RANGES[qtype];
  if (!range) return `quantized type ${qtype} has no fast kernel`;
  const q = quantAxis(shape, attrInt(node, 'axis', 1), scale, zero);
  return typeof q === 'string' ? q : { ...q, lo: range[0], hi: range[1] };
}

export function lowerQuant(node: Node, ctx: LowerCtx): LowerResult {
  const x = typeOf(ctx, node.inputs[0]);
  const quantize = node.op === 'QuantizeLinear';
  if (quantize && x.dtype !== 'float32') return fallback(`input is ${x.dtype}; QuantizeLinear takes float32`);
  const qtype = quantize ? typeOf(ctx, node.outputs[0]).dtype : x.dtype;
  const q = quantParams(ctx, node, x.shape, qtype);
  if (typeof q === 'string') return fallback(q);
  if (!quantize && qtype === 'int32' && q.zero.some((z) => z !== 0)) return fallback('an int32 input needs a zero point of 0');
  const kind = quantize ? 'quantize' : 'dequantize';
  const how = q.count === 1 ? 'per tensor' : `per axis (${q.count} scales)`;
  // 8-bit per tensor runs on the WebAssembly kernel, whose last partial vector goes through a scratch line
  return { step: { ...stepBase(node, kind, how, [node.inputs[0]]), kind, n: product(x.shape), q, scratch: QOPS_SCRATCH } };
}

export function lowerBatchNorm(node: Node, ctx: LowerCtx): LowerResult {
  const x = typeOf(ctx, node.inputs[0]);
  if (x.dtype !== 'float32' || x.shape.length < 2) return fallback('input is not a float32 tensor with channels');
  if (attrInt(node, 'training_mode', 0) !== 0 || node.outputs.length > 1) return fallback('training mode has no fast kernel');
  const C = x.shape[1];
  const params = node.inputs.slice(1, 5).map((n) => constF32(ctx, n));
  if (params.some((p) => !p || p.size !== C)) return fallback('scale, B, mean and var are not float32 constants of one per channel');
  const [gamma, beta, mean, variance] = params.map((p) => p!.data);
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const scale = new Float32Array(C), shift = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const k = gamma[c] / Math.sqrt(variance[c] + eps);
    scale[c] = k;
    shift[c] = beta[c] - mean[c] * k;
  }
  return {
    step: {
      ...stepBase(node, 'batchnorm affine', 'not folded: no conv before it', [node.inputs[0]]),
      kind: 'affine', outer: x.shape[0], C, inner: product(x.shape.slice(2)), scale, shift,
    },
  };
}
