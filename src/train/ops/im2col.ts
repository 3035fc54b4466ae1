// im2col / col2im of one image:
//   cols[(c·KH + kh)·KW + kw][oh·OW + ow] = x[c][oh·sh − pt + kh·dh][ow·sw − pl + kw·dw]  (0 outside)
// with P = OH·OW. The rows of one conv group are contiguous, so each group is one
// GEMM per image (M = out channels, K = C·KH·KW, N = P) writing NCHW directly.
import type { Window2d } from './window.js';

/** Per kernel row/column: the output range [lo, hi) whose input lies inside the image (computed once at build). */
export interface ColPlan {
  g: Window2d;
  ohLo: Int32Array; ohHi: Int32Array; // per kernel row
  owLo: Int32Array; owHi: Int32Array; // per kernel column
}

function ranges(k: number, d: number, pad: number, outLen: number, inLen: number, s: number): [Int32Array, Int32Array] {
  const lo = new Int32Array(k);
  const hi = new Int32Array(k);
  for (let i = 0; i < k; i++) {
    const offset = i * d - pad; // input index = o·s + offset
    lo[i] = Math.max(0, Math.ceil(-offset / s));
    hi[i] = Math.max(lo[i], Math.min(outLen, Math.floor((inLen - 1 - offset) / s) + 1));
  }
  return [lo, hi];
}

export function colPlan(g: Window2d, H: number, W: number): ColPlan {
  const [ohLo, ohHi] = ranges(g.kh, g.dh, g.pt, g.oh, H, g.sh);
  const [owLo, owHi] = ranges(g.kw, g.dw, g.pl, g.ow, W, g.sw);
  return { g, ohLo, ohHi, owLo, owHi };
}

/** cols[(c·KH + kh)·KW + kw][oh·OW + ow] (from colsOff) = x[c][ih][iw] of one image (from xOff), 0 in the padding. */
export function im2col(x: Float32Array, xOff: number, C: number, H: number, W: number, plan: ColPlan, cols: Float32Array, colsOff: number): void {
  const g = plan.g;
  const { kh: KH, kw: KW, oh: OH, ow: OW, sh, sw } = g;
  const P = OH * OW;
  for (let c = 0; c < C; c++) {
    const xb = xOff + c * H * W;
    for (let ki = 0; ki < KH; ki++) {
      const hOff = ki * g.dh - g.pt;
      const ohLo = plan.ohLo[ki], ohHi = plan.ohHi[ki];
      for (let kj = 0; kj < KW; kj++) {
        const wOff = kj * g.dw - g.pl;
        const owLo = plan.owLo[kj], owHi = plan.owHi[kj];
        const rb = colsOff + ((c * KH + ki) * KW + kj) * P;
        if (ohLo > 0) cols.fill(0, rb, rb + ohLo * OW);
        if (ohHi < OH) cols.fill(0, rb + ohHi * OW, rb + P);
        for (let oh = ohLo; oh < ohHi; oh++) {
          const dst = rb + oh * OW;
          const src = xb + (oh * sh + hOff) * W + wOff;
          for (let ow = 0; ow < owLo; ow++) cols[dst + ow] = 0;
          if (sw === 1) {
            for (let ow = owLo; ow < owHi; ow++) cols[dst + ow] = x[src + ow];
          } else {
            for (let ow = owLo; ow < owHi; ow++) cols[dst + ow] = x[src + ow * sw];
          }
          for (let ow = owHi; ow < OW; ow++) cols[dst + ow] = 0;
        }
      }
    }
  }
}

/** dx (one image, from dxOff) += col2im(cols): the adjoint of im2col. */
export function col2im(cols: Float32Array, colsOff: number, C: number, H: number, W: number, plan: ColPlan, dx: Float32Array, dxOff: number): void {
  const g = plan.g;
  const { kh: KH, kw: KW, ow: OW, sh, sw } = g;
  const P = g.oh * OW;
  for (let c = 0; c < C; c++) {
    const xb = dxOff + c * H * W;
    for (let ki = 0; ki < KH; ki++) {
      const hOff = ki * g.dh - g.pt;
      const ohLo = plan.ohLo[ki], ohHi = plan.ohHi[ki];
      for (let kj = 0; kj < KW; kj++) {
        const wOff = kj * g.dw - g.pl;
        const owLo = plan.owLo[kj], owHi = plan.owHi[kj];
        const rb = colsOff + ((c * KH + ki) * KW + kj) * P;
        for (let oh = ohLo; oh < ohHi; oh++) {
          const s = rb + oh * OW;
          const d = xb + (oh * sh + hOff) * W + wOff;
          if (sw === 1) {
            for (let ow = owLo; ow < owHi; ow++) dx[d + ow] += cols[s + ow];
          } else {
            for (let ow = owLo; ow < owHi; ow++) dx[d + ow * sw] += cols[s + ow];
          }
        }
      }
    }
  }
}
