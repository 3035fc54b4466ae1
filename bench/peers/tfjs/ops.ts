// The TF.js op table, part 1: the layers with weights or windows (Conv, Gemm,
// MatMul, pools, BatchNormalization), all in NHWC where TF.js wants it.
// Part 2 (elementwise and shape ops) is in ops_basic.ts; TF_OPS joins both.
import * as tf from '@tensorflow/tfjs';
import { attrFloat, attrInt, attrInts, attrString } from '../../../src/ir/graph.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import type { ConvertContext, FusedActivation, OpConverter } from './converter.js';
import { BASIC_OPS } from './ops_basic.js';
import { asLayout, depthwiseFilter, oihwToHwio, toTf, type Layout } from './layout.js';

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

function pair(cx: ConvertContext, key: string, dflt: number): [number, number] {
  const v = attrInts(cx.node, key, [dflt, dflt]);
  if (v.length !== 2) cx.fail(`${key}=[${v.join(',')}]: only 2-D windows are supported`);
  return [v[0], v[1]];
}

/** ONNX auto_pad / pads [top, left, bottom, right] → a TF.js pad argument. */
function padOf(cx: ConvertContext): Pad {
  const auto = attrString(cx.node, 'auto_pad', 'NOTSET');
  if (auto === 'VALID') return 'valid';
  if (auto === 'SAME_UPPER') return 'same'; // TF's 'same' puts the odd pixel at the end too
  if (auto !== 'NOTSET') cx.fail(`auto_pad=${auto} is not supported by TF.js (use explicit pads)`);
  const [t, l, b, r] = attrInts(cx.node, 'pads', [0, 0, 0, 0]);
  if (t === l && l === b && b === r) return t === 0 ? 'valid' : t;
  return [[0, 0], [t, b], [l, r], [0, 0]];
}

function withActivation(y: tf.Tensor, act: FusedActivation): tf.Tensor {
  return act === 'relu' ? tf.relu(y) : act === 'relu6' ? tf.relu6(y) : y;
}

/** A constant bias times `scale`, made in its final shape (tfjs-wasm's fused matMul reads the shape the data was created with, not a reshape's). */
function biasOf(cx: ConvertContext, i: number, scale = 1, shape?: number[]): tf.Tensor | undefined {
  if (!cx.node.inputs[i]) return undefined;
  const b = cx.needConstant(i, 'the bias');
  const data = Float32Array.from(b.data as Float32Array, (v) => v * scale);
  return cx.keep(tf.tensor(data, shape ?? b.shape, 'float32'));
}

function floatWeights(cx: ConvertContext, i: number, rank: number): Tensor<'float32'> {
  const w = cx.needConstant(i, 'the weights');
  if (w.dtype !== 'float32' || w.shape.length !== rank) {
    cx.fail(`weights are ${w.dtype} [${w.shape.join(',')}]; the TF.js converter takes ${rank}-D float32 weights`);
  }
  return w as Tensor<'float32'>;
}

const conv: OpConverter = (cx) => {
  const w = floatWeights(cx, 1, 4);
  const [m, cPerGroup] = w.shape;
  const group = attrInt(cx.node, 'group', 1);
  const strides = pair(cx, 'strides', 1);
  const dilations = pair(cx, 'dilations', 1);
  if (Math.max(...strides) > 1 && Math.max(...dilations) > 1) cx.fail('strides and dilations both above 1; TF.js takes one or the other');
  const pad = padOf(cx);
  const bias = biasOf(cx, 2);
  const from = cx.layout(0);
  const activation = cx.activation;
  if (group === 1) {
    const filter = cx.keep(oihwToHwio(w));
    return {
      layouts: ['nhwc'],
      run: ([x]) => [tf.fused.conv2d({ x: asLayout(x!, from, 'nhwc') as tf.Tensor4D, filter: filter as tf.Tensor4D, strides, pad, dataFormat: 'NHWC', dilations, bias, activation })],
    };
  }
  if (cPerGroup !== 1 || m % group !== 0) {
    cx.fail(`group=${group} with ${cPerGroup} channels per group: only depthwise grouping (1 channel per group) is supported by TF.js`);
  }
  const filter = cx.keep(depthwiseFilter(w, group));
  // depthwise convolutions take no explicit padding in TF.js: pad first, then 'valid'
  const explicit = Array.isArray(pad) ? pad : undefined;
  return {
    layouts: ['nhwc'],
    run: ([x]) => {
      let xh = asLayout(x!, from, 'nhwc');
      if (explicit) xh = tf.pad(xh, explicit);
      const p = explicit ? 'valid' : (pad as 'valid' | 'same' | number);
      return [tf.fused.depthwiseConv2d({ x: xh as tf.Tensor4D, filter: filter as tf.Tensor4D, strides, pad: p, dataFormat: 'NHWC', dilations, bias, activation })];
    },
  };
};

/** B' of a Gemm as a [K, N] tensor with alpha folded in (transposed once, here). */
function gemmWeights(b: Tensor, transB: boolean, alpha: number): tf.Tensor {
  const [r, c] = b.shape;
  const src = b.data as Float32Array;
  if (!transB) return tf.tensor(Float32Array.from(src, (v) => v * alpha), [r, c], 'float32');
  const out = new Float32Array(src.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = src[i * c + j] * alpha;
  return tf.tensor(out, [c, r], 'float32');
}

/**
 * Y = alpha·A'·B' + beta·C. A constant B is stored as [K, N] (as a TF.js Dense kernel):
 * tfjs-backend-wasm 4.22's fused matMul with transposeB adds the bias to the first row
 * only, and takes rank-1 biases only; other biases are added after the product.
 */
const gemm: OpConverter = (cx) => {
  const transA = attrInt(cx.node, 'transA', 0) === 1;
  const transB = attrInt(cx.node, 'transB', 0) === 1;
  const alpha = attrFloat(cx.node, 'alpha', 1);
  const beta = attrFloat(cx.node, 'beta', 1);
  const bConst = cx.constant(1);
  const b = bConst ? cx.keep(gemmWeights(bConst, transB, alpha)) : undefined;
  const cConst = cx.constant(2);
  const cRuntime = !!cx.node.inputs[2] && !cConst;
  const n = b?.shape[1];
  const rowBias = !!cConst && cConst.size === n && cConst.shape.length <= 2 && cConst.shape[0] === (cConst.shape.length === 2 ? 1 : n);
  const bias = cConst ? biasOf(cx, 2, beta, rowBias ? [n!] : cConst.shape) : undefined;
  const [fromA, fromB] = [cx.layout(0), cx.layout(1)];
  const activation = cx.activation;
  return {
    layouts: ['plain'],
    run: ([x, y, c]) => {
      let a = asLayout(x!, fromA, 'plain') as tf.Tensor2D;
      if (transA) a = tf.transpose(a);
      if (b && (rowBias || !cConst) && !cRuntime) return [tf.fused.matMul({ a, b: b as tf.Tensor2D, bias, activation })];
      let out = tf.matMul(a, b ?? asLayout(y!, fromB, 'plain'), false, !b && transB);
      if (!b && alpha !== 1) out = tf.mul(out, alpha);
      if (bias) out = tf.add(out, bias);
      if (cRuntime) out = tf.add(out, beta === 1 ? c! : tf.mul(c!, beta));
      return [withActivation(out, activation)];
    },
  };
};

const matMul: OpConverter = (cx) => {
  const bConst = cx.constant(1);
  const b = bConst ? cx.keep(toTf(bConst)) : undefined;
  if (b && b.rank < 2) cx.fail(`B [${bConst!.shape.join(',')}] must be at least 2-D for TF.js matMul`);
  const [fromA, fromB] = [cx.layout(0), cx.layout(1)];
  const activation = cx.activation;
  return {
    layouts: ['plain'],
    run: ([x, y]) => [tf.fused.matMul({ a: asLayout(x!, fromA, 'plain'), b: b ?? asLayout(y!, fromB, 'plain'), activation })],
  };
};

/**
 * Extra end padding that makes floor rounding give ONNX's ceil_mode output size.
 * ONNX (like PyTorch) drops a last window that would start in the end padding.
 */
export function ceilExtra(size: number, k: number, s: number, begin: number, end: number): number {
  const span = size + begin + end - k;
  let out = Math.ceil(span / s) + 1;
  if ((out - 1) * s >= size + begin) out--;
  return Math.max(0, (out - 1) * s - span);
}

function pool(kind: 'max' | 'avg'): OpConverter {
  return (cx) => {
    const k = pair(cx, 'kernel_shape', 0);
    const strides = pair(cx, 'strides', 1);
    if (attrInts(cx.node, 'dilations', [1, 1]).some((d) => d !== 1)) cx.fail('dilated pooling is not supported by TF.js');
    if (cx.node.outputs[1]) cx.fail('the Indices output is not supported by TF.js');
    const pad = padOf(cx);
    const ceil = attrInt(cx.node, 'ceil_mode', 0) === 1;
    if (kind === 'avg' && attrInt(cx.node, 'count_include_pad', 0) === 1 && (ceil || pad !== 'valid')) {
      cx.fail('count_include_pad=1 with padding: TF.js average pools leave the padding out of the count');
    }
    const from = cx.layout(0);
    const op = kind === 'max' ? tf.maxPool : tf.avgPool;
    return {
      layouts: ['nhwc'],
      run: ([x]) => {
        const xh = asLayout(x!, from, 'nhwc') as tf.Tensor4D;
        if (!ceil || pad === 'same') return [op(xh, k, strides, pad)];
        const p = pad === 'valid' ? 0 : pad;
        const [t, b, l, r] = typeof p === 'number' ? [p, p, p, p] : [p[1][0], p[1][1], p[2][0], p[2][1]];
        const eh = ceilExtra(xh.shape[1], k[0], strides[0], t, b);
        const ew = ceilExtra(xh.shape[2], k[1], strides[1], l, r);
        const full: Pad = [[0, 0], [t, b + eh], [l, r + ew], [0, 0]];
        return [op(xh, k, strides, full)];
      },
    };
  };
}

function globalPool(kind: 'mean' | 'max'): OpConverter {
  return (cx) => {
    const from = cx.layout(0);
    const reduce = kind === 'mean' ? tf.mean : tf.max;
    return { layouts: ['nhwc'], run: ([x]) => [reduce(asLayout(x!, from, 'nhwc'), [1, 2], true)] };
  };
}

/** Inference BatchNormalization folded to y = x·s + t, s and t computed once. */
const batchNorm: OpConverter = (cx) => {
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => cx.needConstant(i, ['scale', 'B', 'mean', 'var'][i - 1]).data as Float32Array);
  const eps = attrFloat(cx.node, 'epsilon', 1e-5);
  const s = gamma.map((g, c) => g / Math.sqrt(variance[c] + eps));
  const t = beta.map((b, c) => b - mean[c] * s[c]);
  const [scale, shift] = [cx.keep(tf.tensor1d(s)), cx.keep(tf.tensor1d(t))];
  const layout: Layout = cx.layout(0);
  return {
    layouts: [layout],
    run: ([x]) => {
      if (layout === 'nhwc') return [tf.add(tf.mul(x!, scale), shift)];
      const shape = [-1, ...new Array<number>(x!.rank - 2).fill(1)]; // channels on axis 1
      return [tf.add(tf.mul(x!, tf.reshape(scale, shape)), tf.reshape(shift, shape))];
    },
  };
};

const LAYER_OPS: Record<string, OpConverter> = {
  Conv: conv,
  Gemm: gemm,
  MatMul: matMul,
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: globalPool('mean'),
  GlobalMaxPool: globalPool('max'),
  BatchNormalization: batchNorm,
};

function join(...tables: Record<string, OpConverter>[]): Record<string, OpConverter> {
  const out: Record<string, OpConverter> = {};
  for (const t of tables) {
    for (const [op, f] of Object.entries(t)) {
      if (out[op]) throw new Error(`TF.js op table: ${op} registered twice`);
      out[op] = f;
    }
  }
  return out;
}

/** Every IR op the TF.js peer runs. */
export const TF_OPS: Readonly<Record<string, OpConverter>> = join(LAYER_OPS, BASIC_OPS);
