// Pooling, the one reference: max (with the argmax the trainer's backward reads),
// average (count_include_pad, ceil-mode overhang never counted) and the global
// pools, forward and backward, on planes of H×W under a 2-D window (1-D pools
// run with a height of 1). The ONNX kernels (MaxPool with Indices, AveragePool,
// GlobalAveragePool, GlobalMaxPool) wrap them; the trainer runs them on its
// TypeScript backend; the WASM pools are tested against them.
import { type Node, attrInt } from '../graph.js';
import { Tensor } from '../tensor.js';
import { input, nodeFail, shapeStr } from '../util.js';
import { kernelAttr, nodeWindow2d, type Window2d } from '../window.js';
import { type FloatArray, type NumArray, floatInput, newFloat, type RefKernel } from './operands.js';

/** `planes` planes of H×W pooled to OH×OW. */
export interface Pool2dGeom { planes: number; H: number; W: number; OH: number; OW: number; win: Window2d }

/** Max over each window; arg[o] (optional) = flat index in x of the first maximum, −1 for a window wholly in the padding. */
export function maxPool2d(g: Pool2dGeom, x: NumArray, y: NumArray, arg?: Int32Array): void {
  const { planes, H, W, OH, OW, win } = g;
  const { kh: KH, kw: KW, sh, sw, dh, dw, padT, padL } = win;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - padT;
      for (let ow = 0; ow < OW; ow++, o++) {
        const w0 = ow * sw - padL;
        let best = -Infinity;
        let bi = -1;
        for (let ki = 0; ki < KH; ki++) {
          const ih = h0 + ki * dh;
          if (ih < 0 || ih >= H) continue;
          for (let kj = 0; kj < KW; kj++) {
            const iw = w0 + kj * dw;
            if (iw < 0 || iw >= W) continue;
            const v = x[base + ih * W + iw];
            if (v > best || bi < 0) { best = v; bi = base + ih * W + iw; }
          }
        }
        y[o] = best;
        if (arg) arg[o] = bi;
      }
    }
  }
}

/** dx[arg[o]] += dy[o]: the gradient of max pooling. */
export function maxPoolBack(dy: FloatArray, arg: Int32Array, dx: FloatArray): void {
  for (let o = 0; o < dy.length; o++) if (arg[o] >= 0) dx[arg[o]] += dy[o];
}

/**
 * Calls cell(o, i) for every output o and in-image input i of its window, then
 * done(o, count): the divisor counts the padding cells only with
 * count_include_pad, and never the ceil-mode overhang past the padded input.
 */
function avgWindows(g: Pool2dGeom, includePad: boolean, cell: (o: number, i: number) => void, done: (o: number, count: number) => void): void {
  const { planes, H, W, OH, OW, win } = g;
  const { kh: KH, kw: KW, sh, sw, dh, dw, padT, padL, padB, padR } = win;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - padT;
      for (let ow = 0; ow < OW; ow++, o++) {
        const w0 = ow * sw - padL;
        let valid = 0;
        let padded = 0;
        for (let ki = 0; ki < KH; ki++) {
          const ih = h0 + ki * dh;
          const hIn = ih >= 0 && ih < H;
          const hPad = ih >= -padT && ih < H + padB;
          for (let kj = 0; kj < KW; kj++) {
            const iw = w0 + kj * dw;
            if (hPad && iw >= -padL && iw < W + padR) padded++;
            if (!hIn || iw < 0 || iw >= W) continue;
            cell(o, base + ih * W + iw);
            valid++;
          }
        }
        done(o, includePad ? padded : valid);
      }
    }
  }
}

/** Average over each window (float64 sums). */
export function avgPool2d(g: Pool2dGeom, x: FloatArray, y: FloatArray, includePad: boolean): void {
  let sum = 0;
  avgWindows(g, includePad, (_, i) => { sum += x[i]; }, (o, n) => { y[o] = n > 0 ? sum / n : NaN; sum = 0; });
}

/** dx += the gradient of average pooling: each input cell gets dy/count of every window it is in. */
export function avgPoolBack(g: Pool2dGeom, dy: FloatArray, dx: FloatArray, includePad: boolean): void {
  const cells: number[] = [];
  avgWindows(g, includePad, (_, i) => { cells.push(i); }, (o, n) => {
    const v = n > 0 ? dy[o] / n : 0;
    for (const i of cells) dx[i] += v;
    cells.length = 0;
  });
}

/** y[p] = mean or max of plane p (`size` values each). */
export function globalPool(kind: 'avg' | 'max', x: FloatArray, y: FloatArray, planes: number, size: number): void {
  for (let p = 0; p < planes; p++) {
    let acc = kind === 'avg' ? 0 : -Infinity;
    for (let i = p * size; i < (p + 1) * size; i++) {
      const v = x[i];
      if (kind === 'avg') acc += v;
      else if (v > acc) acc = v;
    }
    y[p] = kind === 'avg' ? acc / size : acc;
  }
}

/** dx += dy[p]/size over plane p: the gradient of the global average. */
export function globalAvgPoolBack(dy: FloatArray, dx: FloatArray, planes: number, size: number): void {
  for (let p = 0; p < planes; p++) {
    const v = dy[p] / size;
    for (let i = p * size; i < (p + 1) * size; i++) dx[i] += v;
  }
}

/** The geometry of a 1-D or 2-D pool node on x. */
function poolGeom(node: Node, x: Tensor): Pool2dGeom {
  const rank = x.shape.length;
  if (rank !== 3 && rank !== 4) nodeFail(node, `input shape ${shapeStr(x.shape)} has rank ${rank}; only 1-D and 2-D pooling (rank 3 or 4) is supported`);
  const { win, out } = nodeWindow2d(node, x.shape.slice(2), kernelAttr(node, rank - 2));
  return { planes: x.shape[0] * x.shape[1], H: rank === 3 ? 1 : x.shape[2], W: x.shape[rank - 1], OH: out[0], OW: out[1], win };
}

function outShape(x: Tensor, g: Pool2dGeom): number[] {
  return x.shape.length === 3 ? [x.shape[0], x.shape[1], g.OW] : [x.shape[0], x.shape[1], g.OH, g.OW];
}

const maxPoolKernel: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'X');
  if (x.dtype === 'int64' || x.dtype === 'bool') nodeFail(node, `MaxPool does not take ${x.dtype} tensors`);
  const order = attrInt(node, 'storage_order', 0);
  if (order !== 0 && order !== 1) nodeFail(node, 'storage_order must be 0 or 1');
  const g = poolGeom(node, x);
  const y = new Tensor(x.dtype, outShape(x, g));
  if (node.outputs.length < 2 || node.outputs[1] === '') {
    maxPool2d(g, x.data as NumArray, y.data as NumArray);
    return [y];
  }
  const arg = new Int32Array(y.size);
  maxPool2d(g, x.data as NumArray, y.data as NumArray, arg);
  // Indices: flat in x, with each plane read row-major (storage_order 0) or column-major (1)
  const idx = new Tensor('int64', y.shape);
  const { H, W } = g;
  for (let o = 0; o < arg.length; o++) {
    const r = arg[o] % (H * W);
    idx.data[o] = BigInt(order === 1 && arg[o] >= 0 ? arg[o] - r + (r % W) * H + Math.floor(r / W) : arg[o]);
  }
  return [y, idx];
};

const avgPoolKernel: RefKernel = (node, inputs) => {
  const x = floatInput(node, inputs, 0, 'X');
  const g = poolGeom(node, x);
  const y = newFloat(x.dtype, outShape(x, g));
  avgPool2d(g, x.data, y.data, attrInt(node, 'count_include_pad', 0) !== 0);
  return [y];
};

/** Global pools reduce every axis after N and C to size 1. */
function globalPoolKernel(kind: 'avg' | 'max'): RefKernel {
  return (node, inputs) => {
    const x = floatInput(node, inputs, 0, 'X');
    if (x.shape.length < 3) nodeFail(node, `input shape ${shapeStr(x.shape)} needs N, C and at least one spatial axis`);
    const planes = x.shape[0] * x.shape[1];
    const y = newFloat(x.dtype, [x.shape[0], x.shape[1], ...x.shape.slice(2).map(() => 1)]);
    globalPool(kind, x.data, y.data, planes, x.size / Math.max(planes, 1));
    return [y];
  };
}

export const POOL_KERNELS: Record<string, RefKernel> = {
  MaxPool: maxPoolKernel,
  AveragePool: avgPoolKernel,
  GlobalAveragePool: globalPoolKernel('avg'),
  GlobalMaxPool: globalPoolKernel('max'),
};
