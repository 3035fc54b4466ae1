// The parameter object of the kernels' direct convolution APIs (dense, depthwise,
// sparse; NCHW, ONNX semantics), its checks (one clear error naming the option)
// and the sizes a conv has on an input.
// The window geometry itself is src/ir/window.ts.
import { fail } from '../../ir/errors.js';
import { checkWindow2d, outHW, type Window2d } from '../../ir/window.js';

export interface Conv2dParams {
  /** Input channels. */
  C: number;
  /** Output channels. */
  M: number;
  group?: number;
  kh: number;
  kw: number;
  /** [top, left, bottom, right] — ONNX `pads` order for 2-D: [x1_begin, x2_begin, x1_end, x2_end]. */
  pads?: readonly [number, number, number, number];
  strides?: readonly [number, number];
  dilations?: readonly [number, number];
}

export function checkConv(what: string, p: Conv2dParams): { group: number; Cg: number; Mg: number; win: Window2d } {
  const group = p.group ?? 1;
  if (!Number.isInteger(p.C) || p.C < 1 || !Number.isInteger(p.M) || p.M < 1) fail(`${what}: channels C=${p.C}, M=${p.M} must be positive integers`);
  if (!Number.isInteger(group) || group < 1) fail(`${what}: group=${group} must be a positive integer`);
  if (p.C % group !== 0) fail(`${what}: group=${group} does not divide ${p.C} input channels`);
  if (p.M % group !== 0) fail(`${what}: group=${group} does not divide ${p.M} output channels`);
  return { group, Cg: p.C / group, Mg: p.M / group, win: checkWindow2d(what, p) };
}

/** The sizes of one conv on an input: per-group channels, the window, output and im2col shapes. */
export interface ConvSizes {
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
export function convSizes(p: Conv2dParams, H: number, W: number, what: string): ConvSizes {
  const { group, Cg, Mg, win } = checkConv(what, p);
  if (!Number.isInteger(H) || H < 1 || !Number.isInteger(W) || W < 1) fail(`${what}: input size ${H}×${W} must be positive integers`);
  const [OH, OW] = outHW(what, H, W, win);
  return { group, Cg, Mg, win, OH, OW, K: Cg * win.kh * win.kw, P: OH * OW };
}
