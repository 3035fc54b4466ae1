// The plain reference for the sparse kernels: the oracle they are tested against.
// Fully connected Y[N×out] = X[N×in]·Wᵀ + b and convolution (im2col then W·col;
// parameters as the dense conv's, conv_params.ts)
// with W in CSR (src/kernels/csr.ts), f32 values or codebook codes,
// then the optional clamp (relu / clip). Accumulates in f64 so that the
// reference is the more exact side.
import { fail } from '../../ir/errors.js';
import { entryValue, type CsrMatrix } from '../csr.js';
import { im2col } from '../../ir/ref/im2col.js';
import { outHW, type Window2d } from '../../ir/window.js';
import { checkConv, type Conv2dParams } from './conv_params.js';
import { clampRange } from './gemm.js';

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

/** The sizes of one sparse conv: per-group channels, the window, output and im2col shapes. */
export interface SparseConvSizes {
  group: number;
  /** Input / output channels per group (rows of W per group = Mg). */
  Cg: number;
  Mg: number;
  win: Window2d;
  OH: number;
  OW: number;
  /** Depth of one group's im2col matrix: Cg·kh·kw (= columns of W). */
  K: number;
  /** Output pixels per image: OH·OW. */
  P: number;
}

/** Checks a conv's parameters against an H×W input (ONNX Conv semantics, as the dense conv). */
export function sparseConvSizes(p: Conv2dParams, H: number, W: number, what = 'sparse conv'): SparseConvSizes {
  const { group, Cg, Mg, win } = checkConv(what, p);
  if (!Number.isInteger(H) || H < 1 || !Number.isInteger(W) || W < 1) fail(`${what}: input size ${H}×${W} must be positive integers`);
  const [OH, OW] = outHW(what, H, W, win);
  return { group, Cg, Mg, win, OH, OW, K: Cg * win.kh * win.kw, P: OH * OW };
}

/** y[N×M×OH×OW] = conv(x[N×C×H×W], W) + bias, clamped; W is CSR [M × C/group·kh·kw] (OIHW flattened). */
export function sparseConvRef(w: CsrMatrix, p: Conv2dParams, N: number, H: number, W: number, x: Float32Array, y: Float32Array,
  o: SparseEpilogue = {}): void {
  const s = sparseConvSizes(p, H, W);
  if (w.rows !== p.M || w.cols !== s.K) fail(`sparse conv: weight is ${w.rows}×${w.cols}, the parameters need ${p.M}×${s.K}`);
  const [lo, hi] = epilogueRange(o);
  const col = new Float32Array(s.K * s.P);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < s.group; g++) {
      im2col(x, (n * p.C + g * s.Cg) * H * W, { C: s.Cg, H, W, OH: s.OH, OW: s.OW, win: s.win }, col, 0);
      for (let m = g * s.Mg; m < (g + 1) * s.Mg; m++) {
        const yOff = (n * p.M + m) * s.P;
        for (let q = 0; q < s.P; q++) {
          let acc = o.bias ? o.bias[m] : 0;
          for (let k = w.rowPtr[m]; k < w.rowPtr[m + 1]; k++) acc += entryValue(w, k) * col[w.colIdx[k] * s.P + q];
          y[yOff + q] = Math.min(Math.max(acc, lo), hi);
        }
      }
    }
  }
}
