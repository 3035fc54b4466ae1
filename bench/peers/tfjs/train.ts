// TF.js as a training peer (bench/train.ts): the nnzip graph read off as a chain of
// layers in TF.js's layout (NHWC), trained on one of its backends through its ops
// API (tf.fused ops under optimizer.minimize) or its layers API (tf.sequential +
// trainOnBatch), with plain SGD with momentum and softmax cross-entropy.
import * as tf from '@tensorflow/tfjs';
import { NnzipError } from '../../../src/ir/errors.js';
import type { Graph } from '../../../src/ir/graph.js';
import { useTfBackend, type TfBackend } from './backend.js';

export type Sgd = { lr: number; momentum: number };

/** 'ops': tf.fused ops under optimizer.minimize; 'layers': tf.sequential + trainOnBatch. */
export type TfApi = 'ops' | 'layers';

type Layer =
  | { kind: 'conv'; filter: Float32Array; shape: [number, number, number, number]; bias: Float32Array; relu: boolean }
  | { kind: 'dense'; kernel: Float32Array; shape: [number, number]; bias: Float32Array; relu: boolean }
  | { kind: 'pool'; size: number }
  | { kind: 'flatten' };

function unsupported(node: { name: string; op: string }, why: string): never {
  throw new NnzipError(`bench/train: node "${node.name}" (${node.op}): ${why}; the TF.js training peer handles chains of Conv (stride 1, no padding), MaxPool, Reshape (flatten), Gemm (transB=1) and Relu`);
}

/** nnzip's conv weight [O,I,KH,KW] as TF.js's filter [KH,KW,I,O]. */
function convFilter(src: Float32Array, [O, I, KH, KW]: readonly number[]): Float32Array {
  const f = new Float32Array(src.length);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let k = 0; k < KH * KW; k++) f[(k * I + i) * O + o] = src[(o * I + i) * KH * KW + k];
  return f;
}

/**
 * nnzip's Linear weight [out,in] as TF.js's kernel [in,out]. After a flatten of [C,H,W]
 * TF.js orders features (h,w,c), nnzip (c,h,w): the rows are permuted to match.
 */
function denseKernel(src: Float32Array, [out, inp]: readonly number[], chw: readonly number[] | null): Float32Array {
  const k = new Float32Array(src.length);
  const [C, HW] = chw ? [chw[0], chw[1] * chw[2]] : [inp, 1];
  for (let c = 0; c < C; c++) for (let p = 0; p < HW; p++) {
    const row = p * C + c;
    for (let o = 0; o < out; o++) k[row * out + o] = src[o * inp + c * HW + p];
  }
  return k;
}

/** The graph as a chain of layers in TF.js's layout (NHWC activations). */
export function tfLayers(graph: Graph): Layer[] {
  const init = (name: string) => graph.initializers.get(name)?.data as Float32Array;
  let [C, H, W] = graph.inputs[0].shape.slice(1) as number[];
  if (C !== 1) throw new NnzipError(`bench/train: input "${graph.inputs[0].name}" has ${C} channels; the TF.js peer feeds NCHW images as NHWC, which only holds for 1 channel`);
  let chw: number[] | null = null; // the [C,H,W] of the last flatten, until a dense layer uses it
  const layers: Layer[] = [];
  for (const node of graph.nodes) {
    const w = graph.initializers.get(node.inputs[1] ?? '');
    const last = layers.at(-1);
    if (node.op === 'Conv') {
      const [O, , KH, KW] = w!.shape;
      if ((node.attrs.strides as number[]).some((s) => s !== 1) || (node.attrs.pads as number[]).some((p) => p !== 0)) unsupported(node, 'strides or pads are not 1 and 0');
      layers.push({ kind: 'conv', filter: convFilter(w!.data as Float32Array, w!.shape), shape: [KH, KW, w!.shape[1], O], bias: init(node.inputs[2]), relu: false });
      [C, H, W] = [O, H - KH + 1, W - KW + 1];
    } else if (node.op === 'MaxPool') {
      const k = (node.attrs.kernel_shape as number[])[0];
      layers.push({ kind: 'pool', size: k });
      [H, W] = [Math.floor(H / k), Math.floor(W / k)];
    } else if (node.op === 'Reshape') {
      if (last?.kind !== 'flatten') layers.push({ kind: 'flatten' });
      chw ??= [C, H, W];
    } else if (node.op === 'Gemm') {
      if (node.attrs.transB !== 1 || node.attrs.transA) unsupported(node, 'only transA=0, transB=1 (PyTorch Linear) is handled');
      const kernel = denseKernel(w!.data as Float32Array, w!.shape, chw);
      layers.push({ kind: 'dense', kernel, shape: [w!.shape[1], w!.shape[0]], bias: init(node.inputs[2]), relu: false });
      chw = null;
    } else if (node.op === 'Relu') {
      if (last?.kind !== 'conv' && last?.kind !== 'dense') unsupported(node, 'Relu must follow a Conv or Gemm');
      last.relu = true;
    } else unsupported(node, 'op not handled');
  }
  return layers;
}

/** TF.js's training step on one of its backends, through one of its two APIs. */
export interface TfTrainer {
  readonly name: string;
  readonly backend: TfBackend;
  /** One SGD step on `batch` samples (NCHW floats, one-hot labels), on this trainer's backend; the loss before the update. */
  step(images: Float32Array, onehot: Float32Array, batch: number): number | Promise<number>;
  /** Mean loss on `batch` samples, no update. */
  loss(images: Float32Array, onehot: Float32Array, batch: number): number;
  dispose(): void;
}

const act = (relu: boolean) => (relu ? 'relu' : 'linear');
const ce = (ys: tf.Tensor, logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(ys, logits) as tf.Scalar;
const inputs = (images: Float32Array, onehot: Float32Array, n: number) =>
  [tf.tensor4d(images.subarray(0, n * 784), [n, 28, 28, 1]), tf.tensor2d(onehot.subarray(0, n * 10), [n, 10])] as const;

function opsTrainer(layers: Layer[], backend: TfBackend, sgd: Sgd): TfTrainer {
  const v = (data: Float32Array, shape: number[]) => tf.variable(tf.tensor(data, shape));
  const vars = layers.map((l) => (l.kind === 'conv' ? [v(l.filter, l.shape), v(l.bias, [l.bias.length])] : l.kind === 'dense' ? [v(l.kernel, l.shape), v(l.bias, [l.bias.length])] : []));
  const opt = tf.train.momentum(sgd.lr, sgd.momentum);
  const forward = (x: tf.Tensor): tf.Tensor => {
    layers.forEach((l, i) => {
      const [w, b] = vars[i];
      if (l.kind === 'conv') x = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'valid', bias: b, activation: act(l.relu) });
      else if (l.kind === 'dense') x = tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b, activation: act(l.relu) });
      else if (l.kind === 'pool') x = tf.maxPool(x as tf.Tensor4D, l.size, l.size, 'valid');
      else x = tf.reshape(x, [x.shape[0], -1]);
    });
    return x;
  };
  return {
    name: `tfjs-${backend}`, backend,
    step(images, onehot, n) {
      const cost = tf.tidy(() => {
        const [xs, ys] = inputs(images, onehot, n);
        return opt.minimize(() => ce(ys, forward(xs)), true, vars.flat())!;
      });
      const value = cost.dataSync()[0];
      cost.dispose();
      return value;
    },
    loss: (images, onehot, n) => tf.tidy(() => { const [xs, ys] = inputs(images, onehot, n); return ce(ys, forward(xs)); }).dataSync()[0],
    dispose() { tf.dispose(vars.flat()); opt.dispose(); },
  };
}

function layersTrainer(layers: Layer[], backend: TfBackend, sgd: Sgd): TfTrainer {
  const model = tf.sequential();
  const first = { inputShape: [28, 28, 1] };
  const weights: tf.Tensor[] = [];
  layers.forEach((l, i) => {
    const opts = i === 0 ? first : {};
    if (l.kind === 'conv') model.add(tf.layers.conv2d({ ...opts, filters: l.shape[3], kernelSize: [l.shape[0], l.shape[1]], activation: act(l.relu) }));
    else if (l.kind === 'dense') model.add(tf.layers.dense({ ...opts, units: l.shape[1], activation: act(l.relu) }));
    else if (l.kind === 'pool') model.add(tf.layers.maxPooling2d({ ...opts, poolSize: l.size }));
    else model.add(tf.layers.flatten(opts));
    if (l.kind === 'conv' || l.kind === 'dense') weights.push(tf.tensor(l.kind === 'conv' ? l.filter : l.kernel, l.shape), tf.tensor1d(l.bias));
  });
  model.setWeights(weights);
  tf.dispose(weights);
  model.compile({ optimizer: tf.train.momentum(sgd.lr, sgd.momentum), loss: ce });
  return {
    name: `tfjs-${backend} layers`, backend,
    async step(images, onehot, n) {
      const [xs, ys] = inputs(images, onehot, n);
      const value = (await model.trainOnBatch(xs, ys)) as number;
      tf.dispose([xs, ys]);
      return value;
    },
    loss: (images, onehot, n) => tf.tidy(() => { const [xs, ys] = inputs(images, onehot, n); return ce(ys, model.predict(xs) as tf.Tensor); }).dataSync()[0],
    dispose() { model.dispose(); },
  };
}

/** A TF.js trainer of `graph`'s architecture and initial weights, on `backend` (made active). */
export async function createTfTrainer(graph: Graph, backend: TfBackend, api: TfApi = 'ops', sgd: Sgd = { lr: 0.01, momentum: 0.9 }): Promise<TfTrainer> {
  await useTfBackend(backend);
  tf.enableProdMode(); // TF.js's documented speed switch: no debug checks on every op
  const layers = tfLayers(graph);
  const t = api === 'ops' ? opsTrainer(layers, backend, sgd) : layersTrainer(layers, backend, sgd);
  // trainers on different backends take turns in one process: a step first makes its own backend active
  const step: TfTrainer['step'] = (images, onehot, n) => (tf.getBackend() === backend ? t.step(images, onehot, n) : useTfBackend(backend).then(() => t.step(images, onehot, n)));
  return { ...t, step };
}

