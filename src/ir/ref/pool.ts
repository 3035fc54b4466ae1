// MaxPool (with optional Indices), AveragePool (count_include_pad), 1-D and 2-D,
// pads / auto_pad, strides, dilations, ceil_mode; GlobalAveragePool, GlobalMaxPool (any rank).
import { type Node, attrInt, attrInts } from '../graph.js';
import { Tensor } from '../tensor.js';
import type { RefKernel } from './index.js';
import { NumArray, FloatArray, floatInput, newFloat } from './operands.js';
import { nodeFail, input, shapeStr } from '../util.js';
import { forwardWindow } from './window.js';

/** Pool geometry lifted to 2-D (1-D pools run with height 1). */
interface PoolGeom {
  planes: number; H: number; W: number; OH: number; OW: number;
  KH: number; KW: number; sh: number; sw: number; dh: number; dw: number;
  pt: number; pl: number; pb: number; pr: number;
}

function poolGeom(node: Node, x: Tensor): PoolGeom {
  const rank = x.shape.length;
  if (rank !== 3 && rank !== 4) nodeFail(node, `input shape ${shapeStr(x.shape)} has rank ${rank}; only 1-D and 2-D pooling (rank 3 or 4) is supported`);
  const sp = rank - 2;
  const kernel = attrInts(node, 'kernel_shape', []);
  if (kernel.length !== sp) nodeFail(node, `kernel_shape=[${kernel.join(',')}] must have ${sp} values (one per spatial axis)`);
  if (kernel.some((k) => !Number.isInteger(k) || k < 1)) nodeFail(node, `kernel_shape=[${kernel.join(',')}] must be positive integers`);
  const win = forwardWindow(node, x.shape.slice(2), kernel, { ceil: attrInt(node, 'ceil_mode', 0) !== 0 });
  const at = (a: number[], i: number, dflt: number) => (sp === 1 ? (i === 0 ? dflt : a[0]) : a[i]);
  return {
    planes: x.shape[0] * x.shape[1],
    H: sp === 1 ? 1 : x.shape[2], W: x.shape[rank - 1],
    OH: at(win.out, 0, 1), OW: at(win.out, 1, 1),
    KH: at(kernel, 0, 1), KW: at(kernel, 1, 1),
    sh: at(win.strides, 0, 1), sw: at(win.strides, 1, 1),
    dh: at(win.dilations, 0, 1), dw: at(win.dilations, 1, 1),
    pt: at(win.padBegin, 0, 0), pl: at(win.padBegin, 1, 0),
    pb: at(win.padEnd, 0, 0), pr: at(win.padEnd, 1, 0),
  };
}

function outShape(x: Tensor, g: PoolGeom): number[] {
  return x.shape.length === 3 ? [x.shape[0], x.shape[1], g.OW] : [x.shape[0], x.shape[1], g.OH, g.OW];
}

/** Max over each window; `idx` (optional) gets the flat input index of the max (row- or column-major plane). */
function maxPool(g: PoolGeom, x: NumArray, y: NumArray, idx: BigInt64Array | undefined, colMajor: boolean): void {
  const { planes, H, W, OH, OW, KH, KW, sh, sw, dh, dw, pt, pl } = g;
  for (let p = 0; p < planes; p++) {
    const xOff = p * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - pt;
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * sw - pl;
        let best = -Infinity;
        let bh = -1;
        let bw = -1;
        for (let kh = 0; kh < KH; kh++) {
          const ih = h0 + kh * dh;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = w0 + kw * dw;
            if (iw < 0 || iw >= W) continue;
            const v = x[xOff + ih * W + iw];
            if (v > best || bh < 0) { best = v; bh = ih; bw = iw; }
          }
        }
        const o = (p * OH + oh) * OW + ow;
        y[o] = best;
        if (idx) idx[o] = BigInt(xOff + (colMajor ? bw * H + bh : bh * W + bw));
      }
    }
  }
}

/** Average over each window; the divisor counts padding cells only with count_include_pad (never the ceil_mode overhang). */
function avgPool(g: PoolGeom, x: FloatArray, y: FloatArray, includePad: boolean): void {
  const { planes, H, W, OH, OW, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr } = g;
  for (let p = 0; p < planes; p++) {
    const xOff = p * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - pt;
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * sw - pl;
        let sum = 0;
        let valid = 0;
        let padded = 0;
        for (let kh = 0; kh < KH; kh++) {
          const ih = h0 + kh * dh;
          const hIn = ih >= 0 && ih < H;
          const hPad = ih >= -pt && ih < H + pb;
          for (let kw = 0; kw < KW; kw++) {
            const iw = w0 + kw * dw;
            if (hPad && iw >= -pl && iw < W + pr) padded++;
            if (!hIn || iw < 0 || iw >= W) continue;
            sum += x[xOff + ih * W + iw];
            valid++;
          }
        }
        const div = includePad ? padded : valid;
        y[(p * OH + oh) * OW + ow] = div > 0 ? sum / div : NaN;
      }
    }
  }
}

const maxPoolKernel: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'X');
  if (x.dtype === 'int64' || x.dtype === 'bool') nodeFail(node, `MaxPool does not take ${x.dtype} tensors`);
  if (attrInt(node, 'storage_order', 0) !== 0 && attrInt(node, 'storage_order', 0) !== 1) nodeFail(node, 'storage_order must be 0 or 1');
  const g = poolGeom(node, x);
  const y = new Tensor(x.dtype, outShape(x, g));
  const wantIdx = node.outputs.length > 1 && node.outputs[1] !== '';
  const idx = wantIdx ? new Tensor('int64', y.shape) : undefined;
  maxPool(g, x.data as NumArray, y.data as NumArray, idx?.data, attrInt(node, 'storage_order', 0) === 1);
  return idx ? [y, idx] : [y];
};

const avgPoolKernel: RefKernel = (node, inputs) => {
  const x = floatInput(node, inputs, 0, 'X');
  const g = poolGeom(node, x);
  const y = newFloat(x.dtype, outShape(x, g));
  avgPool(g, x.data, y.data, attrInt(node, 'count_include_pad', 0) !== 0);
  return [y];
};

/** Global pools reduce every axis after N and C to size 1. */
function globalPool(kind: 'avg' | 'max'): RefKernel {
  return (node, inputs) => {
    const x = floatInput(node, inputs, 0, 'X');
    if (x.shape.length < 3) nodeFail(node, `input shape ${shapeStr(x.shape)} needs N, C and at least one spatial axis`);
    const planes = x.shape[0] * x.shape[1];
    const size = x.size / Math.max(planes, 1);
    const y = newFloat(x.dtype, [x.shape[0], x.shape[1], ...x.shape.slice(2).map(() => 1)]);
    for (let p = 0; p < planes; p++) {
      let acc = kind === 'avg' ? 0 : -Infinity;
      for (let i = p * size; i < (p + 1) * size; i++) {
        const v = x.data[i];
        if (kind === 'avg') acc += v;
        else if (v > acc) acc = v;
      }
      y.data[p] = kind === 'avg' ? acc / size : acc;
    }
    return [y];
  };
}

export const POOL_KERNELS: Record<string, RefKernel> = {
  MaxPool: maxPoolKernel,
  AveragePool: avgPoolKernel,
  GlobalAveragePool: globalPool('avg'),
  GlobalMaxPool: globalPool('max'),
};
