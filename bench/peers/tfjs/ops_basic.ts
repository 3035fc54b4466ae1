// The TF.js op table, part 2: elementwise ops (layout-free, so NHWC values stay
// NHWC) and the shape ops that need ONNX's own element order ('plain').
import * as tf from '@tensorflow/tfjs';
import { attrFloat, attrInt, attrInts } from '../../../src/ir/graph.js';
import type { OpConverter, Step } from './converter.js';
import { NCHW_TO_NHWC_AXIS, asLayout, constantNhwc, normAxis, toTf, type Layout } from './layout.js';

type Unary = (x: tf.Tensor, alpha: number) => tf.Tensor;

const UNARY: Record<string, Unary> = {
  Relu: (x) => tf.relu(x),
  LeakyRelu: (x, alpha) => tf.leakyRelu(x, alpha),
  Sigmoid: (x) => tf.sigmoid(x),
  Tanh: (x) => tf.tanh(x),
  Identity: (x) => x,
  Dropout: (x) => x, // inference: the identity
};

function unary(f: Unary): OpConverter {
  return (cx) => {
    if (cx.node.op === 'Dropout' && cx.node.outputs[1]) cx.fail('the mask output is not supported by the TF.js converter');
    const alpha = attrFloat(cx.node, 'alpha', 0.01);
    return { layouts: [cx.layout(0)], run: ([x]) => [f(x!, alpha)] };
  };
}

/** Clip with constant bounds (inputs 1 and 2, or the older min/max attributes). */
const clip: OpConverter = (cx) => {
  const bound = (i: number, key: string, dflt: number) => {
    const t = cx.node.inputs[i] ? cx.needConstant(i, key) : undefined;
    return t ? Number(t.data[0]) : attrFloat(cx.node, key, dflt);
  };
  const [lo, hi] = [bound(1, 'min', -Infinity), bound(2, 'max', Infinity)];
  const f = lo === 0 && hi === 6 ? tf.relu6 : lo === 0 && hi === Infinity ? tf.relu : (x: tf.Tensor) => tf.clipByValue(x, lo, hi);
  return { layouts: [cx.layout(0)], run: ([x]) => [f(x!)] };
};

const BINARY: Record<string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
  Add: tf.add,
  Sub: tf.sub,
  Mul: tf.mul,
  Div: tf.div,
};

/** NHWC when every run-time operand is NHWC (constants are transposed once to match), else plain. */
function binary(f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): OpConverter {
  return (cx) => {
    const runtime = [0, 1].filter((i) => !cx.constant(i));
    if (runtime.length === 0) cx.fail('both operands are constant; fold constants first');
    const given = [cx.constant(0), cx.constant(1)];
    const nhwc = runtime.every((i) => cx.layout(i) === 'nhwc') && given.every((c) => !c || c.shape.length <= 4);
    const to: Layout = nhwc ? 'nhwc' : 'plain';
    const consts = given.map((c) => (c ? cx.keep(nhwc ? constantNhwc(c)! : toTf(c)) : undefined));
    const from = [cx.layout(0), cx.layout(1)];
    const operand = (xs: (tf.Tensor | undefined)[], i: number) => consts[i] ?? asLayout(xs[i]!, from[i], to);
    return { layouts: [to], run: (xs) => [f(operand(xs, 0), operand(xs, 1))] };
  };
}

const concat: OpConverter = (cx) => {
  const n = cx.node.inputs.length;
  const idx = [...Array(n).keys()];
  if (idx.some((i) => cx.constant(i))) cx.fail('constant inputs are not supported by the TF.js converter');
  const to: Layout = idx.every((i) => cx.layout(i) === 'nhwc') ? 'nhwc' : 'plain';
  const onnxAxis = attrInt(cx.node, 'axis', 1);
  const axis = to === 'nhwc' ? NCHW_TO_NHWC_AXIS[normAxis(onnxAxis, 4)] : onnxAxis;
  const from = idx.map((i) => cx.layout(i));
  return { layouts: [to], run: (xs) => [tf.concat(xs.map((x, i) => asLayout(x!, from[i], to)), axis)] };
};

const split: OpConverter = (cx) => {
  const from = cx.layout(0);
  const onnxAxis = attrInt(cx.node, 'axis', 0);
  const sizes = attrInts(cx.node, 'split', []);
  const parts = sizes.length ? sizes : cx.node.outputs.length;
  const axis = from === 'nhwc' ? NCHW_TO_NHWC_AXIS[normAxis(onnxAxis, 4)] : onnxAxis;
  return { layouts: cx.node.outputs.map(() => from), run: ([x]) => tf.split(x!, parts, axis) };
};

/** Ops on ONNX's element order: the input is brought back to plain layout first. */
function plain(f: (x: tf.Tensor) => tf.Tensor): (from: Layout) => Step {
  return (from) => ({ layouts: ['plain'], run: ([x]) => [f(asLayout(x!, from, 'plain'))] });
}

const reshape: OpConverter = (cx) => {
  const shape = Array.from(cx.needConstant(1, 'the shape').data as ArrayLike<number | bigint>, Number);
  const allowZero = attrInt(cx.node, 'allowzero', 0) === 1;
  return plain((x) => tf.reshape(x, shape.map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d))))(cx.layout(0));
};

const flatten: OpConverter = (cx) => {
  const axis = attrInt(cx.node, 'axis', 1);
  return plain((x) => {
    const a = normAxis(axis, x.rank);
    const lead = x.shape.slice(0, a).reduce((p, d) => p * d, 1);
    return tf.reshape(x, [lead, -1]);
  })(cx.layout(0));
};

const transpose: OpConverter = (cx) => {
  const perm = attrInts(cx.node, 'perm', []);
  return plain((x) => tf.transpose(x, perm.length ? perm : undefined))(cx.layout(0));
};

const squeeze: OpConverter = (cx) => {
  const axes = attrInts(cx.node, 'axes', []);
  return plain((x) => tf.squeeze(x, axes.length ? axes.map((a) => normAxis(a, x.rank)) : undefined))(cx.layout(0));
};

const unsqueeze: OpConverter = (cx) => {
  const axes = attrInts(cx.node, 'axes', []);
  return plain((x) => {
    const rank = x.rank + axes.length;
    const at = new Set(axes.map((a) => normAxis(a, rank)));
    const dims = [...x.shape];
    const shape = Array.from({ length: rank }, (_, i) => (at.has(i) ? 1 : dims.shift()!));
    return tf.reshape(x, shape);
  })(cx.layout(0));
};

/** Softmax along one axis (IR semantics, opset 13); TF.js normalizes the last axis only, so others are moved there. */
const softmax: OpConverter = (cx) => {
  const axis = attrInt(cx.node, 'axis', -1);
  return plain((x) => {
    const a = normAxis(axis, x.rank);
    if (a === x.rank - 1) return tf.softmax(x);
    const perm = [...Array(x.rank).keys()];
    [perm[a], perm[x.rank - 1]] = [perm[x.rank - 1], perm[a]];
    return tf.transpose(tf.softmax(tf.transpose(x, perm)), perm);
  })(cx.layout(0));
};

/** ReduceMean (IR form: axes attribute). Stays NHWC when dims are kept, with the axes renumbered. */
const reduceMean: OpConverter = (cx) => {
  const axes = attrInts(cx.node, 'axes', []);
  const keep = attrInt(cx.node, 'keepdims', 1) === 1;
  const noop = attrInt(cx.node, 'noop_with_empty_axes', 0) === 1;
  const from = cx.layout(0);
  if (axes.length === 0 && noop) return { layouts: [from], run: ([x]) => [x!] };
  if (from === 'nhwc' && keep) {
    const mapped = axes.length ? axes.map((a) => NCHW_TO_NHWC_AXIS[normAxis(a, 4)]) : undefined;
    return { layouts: ['nhwc'], run: ([x]) => [tf.mean(x!, mapped, true)] };
  }
  return plain((x) => tf.mean(x, axes.length ? axes.map((a) => normAxis(a, x.rank)) : undefined, keep))(from);
};

function table(): Record<string, OpConverter> {
  const t: Record<string, OpConverter> = {};
  for (const [op, f] of Object.entries(UNARY)) t[op] = unary(f);
  for (const [op, f] of Object.entries(BINARY)) t[op] = binary(f);
  return {
    ...t,
    Clip: clip,
    Concat: concat,
    Split: split,
    Reshape: reshape,
    Flatten: flatten,
    Transpose: transpose,
    Squeeze: squeeze,
    Unsqueeze: unsqueeze,
    Softmax: softmax,
    ReduceMean: reduceMean,
  };
}

export const BASIC_OPS: Readonly<Record<string, OpConverter>> = table();
