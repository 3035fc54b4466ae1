// im2col and its adjoint col2im, for one image (C planes of H×W) under a 2-D window:
//   cols[(c·KH + kh)·KW + kw][oh·OW + ow] = x[c][oh·sh − padT + kh·dh][ow·sw − padL + kw·dw]  (`pad` outside:
//   0, or a quantized input's zero point)
// K = C·KH·KW rows in the order of ONNX weights [M, C, KH, KW], P = OH·OW columns,
// so a conv group is one GEMM per image. The reference conv, the sparse conv's
// reference and the trainer's TypeScript backend all use these; the WASM twins
// (kernels/wasm/im2col_codegen.ts) are tested against them.
import { validRange, type Window2d } from '../window.js';
import type { FloatArray, NumArray } from './operands.js';

/** The patches of one image: C planes of H×W under a window with OH×OW outputs (C·kh·kw rows of OH·OW). */
export interface Patches { C: number; H: number; W: number; OH: number; OW: number; win: Window2d }

/** cols (from colsOff) = im2col of the image at xOff; `pad` in the padding. */
export function im2col(x: NumArray, xOff: number, p: Patches, cols: NumArray, colsOff: number, pad = 0): void {
  const { C, H, W, OH, OW, win } = p;
  const { kh: KH, kw: KW, sh, sw } = win;
  const P = OH * OW;
  for (let c = 0; c < C; c++) {
    const xb = xOff + c * H * W;
    for (let ki = 0; ki < KH; ki++) {
      const hOff = ki * win.dh - win.padT;
      const [ohLo, ohHi] = validRange(hOff, sh, H, OH);
      for (let kj = 0; kj < KW; kj++) {
        const wOff = kj * win.dw - win.padL;
        const [owLo, owHi] = validRange(wOff, sw, W, OW);
        const rb = colsOff + ((c * KH + ki) * KW + kj) * P;
        cols.fill(pad, rb, rb + ohLo * OW);
        cols.fill(pad, rb + ohHi * OW, rb + P);
        for (let oh = ohLo; oh < ohHi; oh++) {
          const dst = rb + oh * OW;
          const src = xb + (oh * sh + hOff) * W + wOff;
          cols.fill(pad, dst, dst + owLo);
          if (sw === 1) for (let ow = owLo; ow < owHi; ow++) cols[dst + ow] = x[src + ow];
          else for (let ow = owLo; ow < owHi; ow++) cols[dst + ow] = x[src + ow * sw];
          cols.fill(pad, dst + owHi, dst + OW);
        }
      }
    }
  }
}

/** dx (the image at dxOff) += col2im(cols from colsOff): the adjoint of im2col. */
export function col2im(cols: FloatArray, colsOff: number, p: Patches, dx: FloatArray, dxOff: number): void {
  const { C, H, W, OH, OW, win } = p;
  const { kh: KH, kw: KW, sh, sw } = win;
  const P = OH * OW;
  for (let c = 0; c < C; c++) {
    const xb = dxOff + c * H * W;
    for (let ki = 0; ki < KH; ki++) {
      const hOff = ki * win.dh - win.padT;
      const [ohLo, ohHi] = validRange(hOff, sh, H, OH);
      for (let kj = 0; kj < KW; kj++) {
        const wOff = kj * win.dw - win.padL;
        const [owLo, owHi] = validRange(wOff, sw, W, OW);
        const rb = colsOff + ((c * KH + ki) * KW + kj) * P;
        for (let oh = ohLo; oh < ohHi; oh++) {
          const s = rb + oh * OW;
          const d = xb + (oh * sh + hOff) * W + wOff;
          if (sw === 1) for (let ow = owLo; ow < owHi; ow++) dx[d + ow] += cols[s + ow];
          else for (let ow = owLo; ow < owHi; ow++) dx[d + ow * sw] += cols[s + ow];
        }
      }
    }
  }
}
