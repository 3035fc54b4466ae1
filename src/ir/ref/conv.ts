// Conv (im2col + GEMM, float64 accumulation) and ConvTranspose (scatter form),
// 1-D and 2-D, NCHW, with pads / auto_pad, strides, dilations, groups, optional bias.
// 1-D is run as 2-D with a height of 1.
import { type Node, attrInts } from '../graph.js';
import type { Tensor } from '../tensor.js';
import { nodeFail, shapeStr } from '../util.js';
import { groupOf, isPointwise, nodeWindow2d, transposeWindow, validRange, window2d, windowOf, type Window2d } from '../window.js';
import { accumulate } from './gemm_ref.js';
import { im2col } from './im2col.js';
import { type FloatArray, floatInput, newFloat, type RefKernel } from './operands.js';

/** A 2-D conv: input N×C×H×W, M output channels of OH×OW, the window and the group count (1-D runs with a height of 1). */
export interface Conv2dGeom {
  N: number; C: number; H: number; W: number;
  M: number; OH: number; OW: number;
  win: Window2d;
  group: number;
}

// Output columns per block: keeps a block of the im2col matrix in cache.
const COL_BLOCK = 256;

function checkOperands(node: Node, x: Tensor, w: Tensor, b: Tensor | undefined, biasLen: (w: Tensor) => number): void {
  const rank = x.shape.length;
  if (rank !== 3 && rank !== 4) nodeFail(node, `input shape ${shapeStr(x.shape)} has rank ${rank}; only 1-D and 2-D ${node.op} (rank 3 or 4) are supported`);
  if (w.shape.length !== rank) nodeFail(node, `weight shape ${shapeStr(w.shape)} must have the input's rank ${rank}`);
  if (w.dtype !== x.dtype) nodeFail(node, `weight is ${w.dtype} but the input is ${x.dtype}`);
  const ks = attrInts(node, 'kernel_shape', w.shape.slice(2));
  if (ks.join(',') !== w.shape.slice(2).join(',')) nodeFail(node, `kernel_shape=[${ks.join(',')}] disagrees with weight shape ${shapeStr(w.shape)}`);
  if (b && (b.shape.length !== 1 || b.shape[0] !== biasLen(w) || b.dtype !== x.dtype)) {
    nodeFail(node, `bias must be ${x.dtype} [${biasLen(w)}], got ${b.dtype} ${shapeStr(b.shape)}`);
  }
}

/** The 2-D problem of a 1-D or 2-D node (1-D lifted to a height of 1). */
function geom(x: Tensor, M: number, win: Window2d, out: [number, number], group: number): Conv2dGeom {
  const rank = x.shape.length;
  return { N: x.shape[0], C: x.shape[1], H: rank === 3 ? 1 : x.shape[2], W: x.shape[rank - 1], M, OH: out[0], OW: out[1], win, group };
}

/** y = conv(x, w) + bias on NCHW arrays: im2col, then W·cols accumulated in float64. */
export function conv2d(g: Conv2dGeom, x: FloatArray, w: FloatArray, bias: FloatArray | undefined, y: FloatArray): void {
  const { N, C, H, W, M, OH, OW, group, win } = g;
  const cg = C / group;
  const mg = M / group;
  const P = OH * OW;
  const K = cg * win.kh * win.kw;
  // A 1×1 unit-stride unpadded conv reads the input as its own im2col matrix.
  const direct = isPointwise(win);
  const col = direct ? x : x instanceof Float64Array ? new Float64Array(K * P) : new Float32Array(K * P);
  const acc = new Float64Array(4 * Math.min(P, COL_BLOCK));
  for (let n = 0; n < N; n++) {
    for (let gi = 0; gi < group; gi++) {
      const xOff = (n * C + gi * cg) * H * W;
      if (!direct) im2col(x, xOff, { C: cg, H, W, OH, OW, win }, col, 0);
      const src = direct ? xOff : 0;
      for (let j0 = 0; j0 < P; j0 += COL_BLOCK) {
        const jn = Math.min(COL_BLOCK, P - j0);
        // Four output channels at a time share each im2col value.
        for (let m0 = 0; m0 < mg; m0 += 4) {
          const rows = Math.min(4, mg - m0);
          const oc0 = gi * mg + m0;
          for (let r = 0; r < rows; r++) acc.fill(bias ? bias[oc0 + r] : 0, r * jn, (r + 1) * jn);
          accumulate(acc, rows, jn, w, oc0 * K, K, col, src + j0, P);
          for (let r = 0; r < rows; r++) {
            const yOff = (n * M + oc0 + r) * P + j0;
            for (let j = 0; j < jn; j++) y[yOff + j] = acc[r * jn + j];
          }
        }
      }
    }
  }
}

const conv: RefKernel = (node, inputs) => {
  const x = floatInput(node, inputs, 0, 'X');
  const w = floatInput(node, inputs, 1, 'W');
  const b = inputs[2];
  checkOperands(node, x, w, b, (wt) => wt.shape[0]);
  const M = w.shape[0];
  const group = groupOf(node, x.shape[1], M);
  if (w.shape[1] * group !== x.shape[1]) {
    nodeFail(node, `weight shape ${shapeStr(w.shape)} with group=${group} expects ${w.shape[1] * group} input channels, input ${shapeStr(x.shape)} has ${x.shape[1]}`);
  }
  const { win, out } = nodeWindow2d(node, x.shape.slice(2), w.shape.slice(2));
  const y = newFloat(x.dtype, [x.shape[0], M, ...out.slice(x.shape.length === 3 ? 1 : 0)]);
  conv2d(geom(x, M, win, out, group), x.data, w.data, b?.data as FloatArray | undefined, y.data);
  return [y];
};

/** ConvTranspose: every input pixel scatters weight·x into the output (float64 accumulator per group). */
function convTranspose2d(g: Conv2dGeom, x: FloatArray, w: FloatArray, bias: FloatArray | undefined, y: FloatArray): void {
  const { N, C, H, W, M, OH, OW, group } = g;
  const { kh: KH, kw: KW, sh, sw, dh, dw, padT: pt, padL: pl } = g.win;
  const cg = C / group;
  const mg = M / group;
  const P = OH * OW;
  const acc = new Float64Array(mg * P);
  for (let n = 0; n < N; n++) {
    for (let gi = 0; gi < group; gi++) {
      acc.fill(0);
      for (let c = 0; c < cg; c++) {
        const xc = (n * C + gi * cg + c) * H * W;
        for (let m = 0; m < mg; m++) {
          const wOff = ((gi * cg + c) * mg + m) * KH * KW;
          for (let kh = 0; kh < KH; kh++) {
            for (let kw = 0; kw < KW; kw++) {
              const wv = w[wOff + kh * KW + kw];
              if (wv === 0) continue;
              const off = kw * dw - pl;
              const [lo, hi] = validRange(off, sw, OW, W);
              for (let ih = 0; ih < H; ih++) {
                const oh = ih * sh - pt + kh * dh;
                if (oh < 0 || oh >= OH) continue;
                const a = m * P + oh * OW + off;
                const xr = xc + ih * W;
                for (let iw = lo; iw < hi; iw++) acc[a + iw * sw] += wv * x[xr + iw];
              }
            }
          }
        }
      }
      for (let m = 0; m < mg; m++) {
        const oc = gi * mg + m;
        const bv = bias ? bias[oc] : 0;
        const yOff = (n * M + oc) * P;
        for (let j = 0; j < P; j++) y[yOff + j] = acc[m * P + j] + bv;
      }
    }
  }
}

const convTranspose: RefKernel = (node, inputs) => {
  const x = floatInput(node, inputs, 0, 'X');
  const w = floatInput(node, inputs, 1, 'W');
  const b = inputs[2];
  const group0 = typeof node.attrs.group === 'number' ? node.attrs.group : 1;
  checkOperands(node, x, w, b, (wt) => wt.shape[1] * group0);
  if (w.shape[0] !== x.shape[1]) nodeFail(node, `weight shape ${shapeStr(w.shape)} expects ${w.shape[0]} input channels, input ${shapeStr(x.shape)} has ${x.shape[1]}`);
  const M = w.shape[1] * group0;
  const group = groupOf(node, x.shape[1], M);
  const spatial = x.shape.slice(2);
  const w0 = windowOf(node, spatial.length, w.shape.slice(2));
  const { pads, out } = transposeWindow(node, spatial, w0);
  const y = newFloat(x.dtype, [x.shape[0], M, ...out]);
  const out2d: [number, number] = out.length === 1 ? [1, out[0]] : [out[0], out[1]];
  convTranspose2d(geom(x, M, window2d(w0, pads), out2d, group), x.data, w.data, b?.data as FloatArray | undefined, y.data);
  return [y];
};

export const CONV_KERNELS: Record<string, RefKernel> = {
  Conv: conv,
  ConvTranspose: convTranspose,
};
