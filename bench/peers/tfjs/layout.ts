// Layouts for the TF.js peer. ONNX activations are NCHW; tfjs-wasm convolutions and
// pools take NHWC only. The converter keeps 4-D activations in NHWC between spatial
// ops and switches back to the ONNX layout ('plain') only where an op needs ONNX's
// element order (Reshape, Flatten, Gemm, Softmax, graph outputs). Weights are
// transposed once at conversion; activations are transposed at run time (timed).
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '../../../src/ir/tensor.js';

export type Layout = 'nhwc' | 'plain';

/** ONNX axis of a 4-D NCHW tensor → the same axis in NHWC. */
export const NCHW_TO_NHWC_AXIS = [0, 3, 1, 2];

/** A 4-D NCHW activation in NHWC. A reshape (no data movement) when C is 1. */
export function nchwToNhwc(x: tf.Tensor): tf.Tensor {
  const [n, c, h, w] = x.shape;
  return c === 1 ? tf.reshape(x, [n, h, w, c]) : tf.transpose(x, [0, 2, 3, 1]);
}

/** A 4-D NHWC activation back in NCHW. A reshape when C is 1 or H×W is 1. */
export function nhwcToNchw(x: tf.Tensor): tf.Tensor {
  const [n, h, w, c] = x.shape;
  return c === 1 || h * w === 1 ? tf.reshape(x, [n, c, h, w]) : tf.transpose(x, [0, 3, 1, 2]);
}

/** A run-time value in the layout an op wants. */
export function asLayout(x: tf.Tensor, from: Layout, to: Layout): tf.Tensor {
  if (from === to) return x;
  return to === 'nhwc' ? nchwToNhwc(x) : nhwcToNchw(x);
}

/** An nnzip tensor as a tf tensor (float32; integer tensors become int32). */
export function toTf(t: Tensor): tf.Tensor {
  if (t.dtype === 'float32') return tf.tensor(t.data as Float32Array, t.shape, 'float32');
  return tf.tensor(Int32Array.from(t.data as ArrayLike<number | bigint>, Number), t.shape, 'int32');
}

/** A constant operand of an elementwise op in NHWC: rank padded to 4 (NumPy broadcasting), then transposed. */
export function constantNhwc(t: Tensor): tf.Tensor | undefined {
  if (t.shape.length > 4) return undefined;
  const shape = [...new Array<number>(4 - t.shape.length).fill(1), ...t.shape];
  return tf.tidy(() => tf.transpose(tf.reshape(toTf(t), shape), [0, 2, 3, 1]));
}

/** ONNX Conv weights [M, C/group, kH, kW] → TF.js conv2d filter [kH, kW, C, M] (group 1). */
export function oihwToHwio(w: Tensor<'float32'>): tf.Tensor {
  const [m, c, kh, kw] = w.shape;
  const out = new Float32Array(w.size);
  const src = w.data;
  for (let o = 0; o < m; o++)
    for (let i = 0; i < c; i++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((y * kw + x) * c + i) * m + o] = src[((o * c + i) * kh + y) * kw + x];
  return tf.tensor(out, [kh, kw, c, m], 'float32');
}

/** Depthwise ONNX weights [C·mult, 1, kH, kW] (group = C) → TF.js depthwise filter [kH, kW, C, mult]. */
export function depthwiseFilter(w: Tensor<'float32'>, channels: number): tf.Tensor {
  const [m, , kh, kw] = w.shape;
  const mult = m / channels;
  const out = new Float32Array(w.size);
  for (let o = 0; o < m; o++) {
    const c = Math.floor(o / mult);
    const k = o % mult;
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++) out[((y * kw + x) * channels + c) * mult + k] = w.data[(o * kh + y) * kw + x];
  }
  return tf.tensor(out, [kh, kw, channels, mult], 'float32');
}

/** Normalizes a possibly negative axis for a tensor of the given rank. */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
