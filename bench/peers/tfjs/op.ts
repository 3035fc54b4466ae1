// TF.js on its wasm backend running one op of bench/op.ts (MatMul, or Conv in its
// native NHWC layout), as a contender for bench/gemm.ts and bench/conv.ts: the op
// alone, inputs prepared once, the result disposed unread, no layout change timed.
import * as tf from '@tensorflow/tfjs';
import { contender, type Contender } from '../../harness.js';
import { opData, type OpTask } from '../../op.js';
import { tfjsWasmThreads } from './backend.js';

export async function tfjsOpContender(t: OpTask, threads: number): Promise<Contender> {
  const real = await tfjsWasmThreads(threads);
  const d = opData(t);
  let op: () => void;
  if (t.kind === 'matmul') {
    const a = tf.tensor2d(d.x, [t.M, t.K]), b = tf.tensor2d(d.w, [t.K, t.N]);
    op = () => tf.matMul(a, b).dispose();
  } else {
    const x = tf.transpose(tf.tensor4d(d.x, d.xDims as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D;
    const w = tf.transpose(tf.tensor4d(d.w, d.wDims as [number, number, number, number]), [2, 3, 1, 0]) as tf.Tensor4D;
    op = () => tf.conv2d(x, w, t.stride, t.pad).dispose();
  }
  return contender('tfjs-wasm', op, { threads: real });
}
