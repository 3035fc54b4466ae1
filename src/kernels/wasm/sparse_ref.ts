// The plain reference for the sparse kernels: the oracle they are tested against.
// Fully connected Y[N×out] = X[N×in]·Wᵀ + b and convolution (im2col then W·col)
// with W in CSR (src/kernels/sparse_format.ts), f32 values or codebook codes,
// then the optional clamp (relu / clip). Accumulates in f64 so that the
// reference is the more exact side.
import { fail } from '../../ir/errors.js';
import { entryValue, type CsrMatrix } from '../sparse_format.js';
import { clampRange } from './gemm_ref.js';

/** Epilogue of every sparse kernel: per-output bias, then relu / clip. */
export interface SparseEpilogue {
  /** One value per output row (FC: out; conv: Cout). */
  bias?: Float32Array;
  relu?: boolean;
  clip?: [min: number, max: number];
}

/** The clamp bounds the epilogue asks for ([-inf, inf] = none). */
export function epilogueRange(o: SparseEpilogue): [number, number] {
  return clampRange(o) ?? [-Infinity, Infinity];
}

/** y[n·out + o] = clamp(bias[o] + Σ_i W[o,i]·x[n·in + i]) for n < batch. */
export function sparseFcRef(w: CsrMatrix, batch: number, x: Float32Array, y: Float32Array, o: SparseEpilogue = {}): void {
  const [lo, hi] = epilogueRange(o);
  for (let n = 0; n < batch; n++) {
    for (let r = 0; r < w.rows; r++) {
      let s = o.bias ? o.bias[r] : 0;
      for (let k = w.rowPtr[r]; k < w.rowPtr[r + 1]; k++) s += entryValue(w, k) * x[n * w.cols + w.colIdx[k]];
      y[n * w.rows + r] = Math.min(Math.max(s, lo), hi);
    }
  }
}

/** A 2-D convolution's shape: NCHW input, OIHW weight (Cout × C/group × KH × KW). */
export interface ConvGeometry {
  C: number; H: number; W: number;
  Cout: number; KH: number; KW: number;
  /** [sh, sw], [dh, dw], [top, left, bottom, right] as in ONNX Conv. */
  strides: [number, number];
  dilations: [number, number];
  pads: [number, number, number, number];
  group: number;
}

/** The derived sizes of a geometry, checked. */
export interface ConvSizes {
  OH: number; OW: number;
  /** Input channels per group. */
  cg: number;
  /** Output channels per group (rows of W per group). */
  mg: number;
  /** Depth of one group's im2col matrix: cg·KH·KW (= columns of W). */
  K: number;
  /** Output pixels per image: OH·OW. */
  P: number;
}

export function convSizes(g: ConvGeometry, where = 'sparse conv'): ConvSizes {
  const ints: [string, number][] = [['C', g.C], ['H', g.H], ['W', g.W], ['Cout', g.Cout], ['KH', g.KH], ['KW', g.KW],
    ['group', g.group], ['stride', g.strides[0]], ['stride', g.strides[1]], ['dilation', g.dilations[0]], ['dilation', g.dilations[1]]];
  for (const [k, v] of ints) if (!Number.isInteger(v) || v < 1) fail(`${where}: ${k}=${v} must be an integer >= 1`);
  for (const p of g.pads) if (!Number.isInteger(p) || p < 0) fail(`${where}: pads=[${g.pads.join(',')}] must be integers >= 0`);
  if (g.C % g.group || g.Cout % g.group) fail(`${where}: group=${g.group} does not divide C=${g.C} and Cout=${g.Cout}`);
  const [sh, sw] = g.strides, [dh, dw] = g.dilations, [pt, pl, pb, pr] = g.pads;
  const OH = Math.floor((g.H + pt + pb - dh * (g.KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((g.W + pl + pr - dw * (g.KW - 1) - 1) / sw) + 1;
  if (OH < 1 || OW < 1) fail(`${where}: the ${g.KH}×${g.KW} kernel (dilated) does not fit the padded ${g.H}×${g.W} input`);
  const cg = g.C / g.group;
  return { OH, OW, cg, mg: g.Cout / g.group, K: cg * g.KH * g.KW, P: OH * OW };
}

/** One group of one image unfolded: col[(c·KH + kh)·KW + kw][oh·OW + ow], zeros for padding. */
export function im2colRef(g: ConvGeometry, x: Float32Array, xOff: number, col: Float32Array): void {
  const { OH, OW, cg, P } = convSizes(g);
  let row = 0;
  for (let c = 0; c < cg; c++) {
    for (let kh = 0; kh < g.KH; kh++) {
      for (let kw = 0; kw < g.KW; kw++, row++) {
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * g.strides[0] - g.pads[0] + kh * g.dilations[0];
          for (let ow = 0; ow < OW; ow++) {
            const iw = ow * g.strides[1] - g.pads[1] + kw * g.dilations[1];
            const inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
            col[row * P + oh * OW + ow] = inside ? x[xOff + (c * g.H + ih) * g.W + iw] : 0;
          }
        }
      }
    }
  }
}

/** y[N×Cout×OH×OW] = conv(x[N×C×H×W], W) + bias, clamped; W is CSR [Cout × cg·KH·KW]. */
export function sparseConvRef(w: CsrMatrix, g: ConvGeometry, batch: number, x: Float32Array, y: Float32Array,
  o: SparseEpilogue = {}): void {
  const s = convSizes(g);
  if (w.rows !== g.Cout || w.cols !== s.K) fail(`sparse conv: weight is ${w.rows}×${w.cols}, the geometry needs ${g.Cout}×${s.K}`);
  const [lo, hi] = epilogueRange(o);
  const col = new Float32Array(s.K * s.P);
  for (let n = 0; n < batch; n++) {
    for (let grp = 0; grp < g.group; grp++) {
      im2colRef(g, x, (n * g.C + grp * s.cg) * g.H * g.W, col);
      for (let m = grp * s.mg; m < (grp + 1) * s.mg; m++) {
        const yOff = (n * g.Cout + m) * s.P;
        for (let p = 0; p < s.P; p++) {
          let acc = o.bias ? o.bias[m] : 0;
          for (let k = w.rowPtr[m]; k < w.rowPtr[m + 1]; k++) acc += entryValue(w, k) * col[w.colIdx[k] * s.P + p];
          y[yOff + p] = Math.min(Math.max(acc, lo), hi);
        }
      }
    }
  }
}
