// Convolution and pooling geometry (ONNX semantics, NCHW): the normalised
// parameters, output sizes, and the checks that turn bad attributes into one
// clear error naming the option.
import { fail } from '../../ir/errors.js';

export interface Window2d {
  kh: number;
  kw: number;
  /** [top, left, bottom, right] — ONNX `pads` order for 2-D: [x1_begin, x2_begin, x1_end, x2_end]. */
  pads?: readonly [number, number, number, number];
  strides?: readonly [number, number];
  dilations?: readonly [number, number];
}

export interface Conv2dParams extends Window2d {
  /** Input channels. */
  C: number;
  /** Output channels. */
  M: number;
  group?: number;
}

/** Fully specified window: every field present. */
export interface Window2dFull {
  kh: number; kw: number; padT: number; padL: number; padB: number; padR: number;
  sh: number; sw: number; dh: number; dw: number;
}

export function fullWindow(what: string, w: Window2d): Window2dFull {
  const [padT, padL, padB, padR] = w.pads ?? [0, 0, 0, 0];
  const [sh, sw] = w.strides ?? [1, 1];
  const [dh, dw] = w.dilations ?? [1, 1];
  const check = (name: string, vals: number[], min: number): void => {
    for (const v of vals) if (!Number.isInteger(v) || v < min) fail(`${what}: ${name}=[${vals.join(',')}] must be integers >= ${min}`);
  };
  check('kernel_shape', [w.kh, w.kw], 1);
  check('pads', [padT, padL, padB, padR], 0);
  check('strides', [sh, sw], 1);
  check('dilations', [dh, dw], 1);
  return { kh: w.kh, kw: w.kw, padT, padL, padB, padR, sh, sw, dh, dw };
}

/** Output size along one axis; ceil mode as in ONNX pooling (the last window must start inside the padded input). */
export function outSize(inSize: number, k: number, padBegin: number, padEnd: number, stride: number, dilation: number, ceil = false): number {
  const span = dilation * (k - 1) + 1;
  const room = inSize + padBegin + padEnd - span;
  if (room < 0) return 0;
  let out = (ceil ? Math.ceil(room / stride) : Math.floor(room / stride)) + 1;
  if (ceil && (out - 1) * stride >= inSize + padBegin) out--;
  return out;
}

export function outHW(what: string, H: number, W: number, w: Window2dFull, ceil = false): [number, number] {
  const oh = outSize(H, w.kh, w.padT, w.padB, w.sh, w.dh, ceil);
  const ow = outSize(W, w.kw, w.padL, w.padR, w.sw, w.dw, ceil);
  if (oh < 1 || ow < 1) {
    fail(`${what}: a ${w.kh}×${w.kw} window (dilations ${w.dh},${w.dw}) does not fit the ${H}×${W} input with pads ${w.padT},${w.padL},${w.padB},${w.padR}`);
  }
  return [oh, ow];
}

export function checkConv(what: string, p: Conv2dParams): { group: number; Cg: number; Mg: number; win: Window2dFull } {
  const group = p.group ?? 1;
  if (!Number.isInteger(p.C) || p.C < 1 || !Number.isInteger(p.M) || p.M < 1) fail(`${what}: channels C=${p.C}, M=${p.M} must be positive integers`);
  if (!Number.isInteger(group) || group < 1) fail(`${what}: group=${group} must be a positive integer`);
  if (p.C % group !== 0) fail(`${what}: group=${group} does not divide ${p.C} input channels`);
  if (p.M % group !== 0) fail(`${what}: group=${group} does not divide ${p.M} output channels`);
  return { group, Cg: p.C / group, Mg: p.M / group, win: fullWindow(what, p) };
}
