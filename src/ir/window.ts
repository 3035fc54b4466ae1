// Sliding-window geometry of Conv, ConvTranspose and the pools: the one
// definition of kernel, strides, dilations, pads (explicit or auto_pad) and
// output sizes, as ONNX defines them. Shape inference, the reference kernels,
// the compiler, the trainer and the WASM kernels' parameter checks all use it,
// so they agree on every size.
import { fail } from './errors.js';
import { attrInt, attrInts, attrString, type Node } from './graph.js';
import { nodeFail, shapeStr } from './util.js';

const AUTO_PADS = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] as const;

/** A window as a node's attributes give it (any number of spatial dims), checked. */
export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Explicit pads [begin..., end...] (zeros when auto_pad decides them). */
  pads: number[];
  autoPad: (typeof AUTO_PADS)[number];
  ceilMode: boolean;
}

/**
 * A 1-D or 2-D window resolved for the kernels: flat fields, explicit pads
 * (auto_pad applied), 1-D lifted to a height of 1. pads are [top, left, bottom,
 * right], the ONNX `pads` order for 2-D.
 */
export interface Window2d {
  kh: number; kw: number;
  sh: number; sw: number;
  dh: number; dw: number;
  padT: number; padL: number; padB: number; padR: number;
}

/** `${name}=[...] must be integers ≥ min`, or undefined when they are. */
function badInts(name: string, vals: readonly number[], min: number): string | undefined {
  return vals.every((v) => Number.isInteger(v) && v >= min) ? undefined : `${name}=[${vals.join(',')}] must be integers ≥ ${min}`;
}

/** Reads and checks the window attributes of a node with `rank` spatial dims. */
export function windowOf(node: Node, rank: number, kernel: number[]): Window {
  const listAttr = (key: string, len: number, dflt: number): number[] => {
    const v = attrInts(node, key);
    if (v === undefined) return new Array<number>(len).fill(dflt);
    if (v.length !== len) nodeFail(node, `${key} has ${v.length} values, expected ${len} for ${rank} spatial dims`);
    return v;
  };
  const w: Window = {
    kernel,
    strides: listAttr('strides', rank, 1),
    dilations: listAttr('dilations', rank, 1),
    pads: listAttr('pads', 2 * rank, 0),
    autoPad: attrString(node, 'auto_pad', 'NOTSET') as Window['autoPad'],
    ceilMode: attrInt(node, 'ceil_mode', 0) === 1,
  };
  if (!AUTO_PADS.includes(w.autoPad)) nodeFail(node, `auto_pad="${w.autoPad}" is not one of ${AUTO_PADS.join(', ')}`);
  const bad = badInts('kernel_shape', w.kernel, 1) ?? badInts('strides', w.strides, 1) ?? badInts('dilations', w.dilations, 1) ?? badInts('pads', w.pads, 0);
  if (bad) nodeFail(node, bad);
  return w;
}

/** The kernel_shape attribute (required by pools; Conv takes it from the weight). */
export function kernelAttr(node: Node, rank: number): number[] {
  const k = attrInts(node, 'kernel_shape');
  if (!k) nodeFail(node, `kernel_shape attribute is required (${rank} values, one per spatial axis)`);
  if (k.length !== rank) nodeFail(node, `kernel_shape=[${k.join(',')}] must have ${rank} values (one per spatial axis)`);
  return k;
}

/**
 * Output size along one axis of a forward window with explicit pads; < 1 when the
 * window does not fit the padded input. ceil mode rounds up, but a last window
 * that would start inside the end padding is dropped (as PyTorch and onnxruntime do).
 */
export function outSize(inSize: number, k: number, padBegin: number, padEnd: number, stride: number, dilation: number, ceil = false): number {
  const room = inSize + padBegin + padEnd - (dilation * (k - 1) + 1);
  if (room < 0) return 0;
  let out = (ceil ? Math.ceil(room / stride) : Math.floor(room / stride)) + 1;
  if (ceil && (out - 1) * stride >= inSize + padBegin) out--;
  return out;
}

/** Output spatial sizes of a forward window (Conv, pools). */
export function windowOutput(node: Node, spatial: readonly number[], w: Window): number[] {
  const pads = resolvePads(node, spatial, w);
  const rank = spatial.length;
  return spatial.map((inSize, i) => {
    const out = outSize(inSize, w.kernel[i], pads[i], pads[i + rank], w.strides[i], w.dilations[i], w.ceilMode);
    if (out < 1) {
      const span = (w.kernel[i] - 1) * w.dilations[i] + 1;
      nodeFail(node, `spatial dim ${i} of size ${inSize} is too small for a window of ${span} (stride ${w.strides[i]}, pads ${shapeStr(pads)}): the window does not fit the padded input`);
    }
    return out;
  });
}

/** Explicit [begin..., end...] pads for a forward window, resolving auto_pad. */
export function resolvePads(node: Node, spatial: readonly number[], w: Window): number[] {
  if (w.autoPad === 'NOTSET') return [...w.pads];
  const rank = spatial.length;
  const pads = new Array<number>(2 * rank).fill(0);
  if (w.autoPad === 'VALID') return pads;
  for (let i = 0; i < rank; i++) {
    const out = Math.ceil(spatial[i] / w.strides[i]);
    const span = (w.kernel[i] - 1) * w.dilations[i] + 1;
    const total = Math.max(0, (out - 1) * w.strides[i] + span - spatial[i]);
    const small = Math.floor(total / 2);
    // SAME_UPPER puts the extra pad at the end, SAME_LOWER at the beginning
    pads[i] = w.autoPad === 'SAME_UPPER' ? small : total - small;
    pads[i + rank] = total - pads[i];
  }
  return pads;
}

/**
 * ConvTranspose: output = stride·(in−1) + output_padding + span − pads, or
 * output_shape (auto_pad SAME: in·stride) with the pads that give it (the extra
 * pad at the end for SAME_UPPER, at the beginning otherwise).
 */
export function transposeWindow(node: Node, spatial: readonly number[], w: Window): { pads: number[]; out: number[] } {
  const rank = spatial.length;
  const outPad = attrInts(node, 'output_padding', new Array<number>(rank).fill(0));
  if (outPad.length !== rank) nodeFail(node, `output_padding has ${outPad.length} values, expected ${rank}`);
  outPad.forEach((p, i) => {
    if (p < 0 || (p >= w.strides[i] && p >= w.dilations[i])) nodeFail(node, `output_padding ${shapeStr(outPad)} must be smaller than the stride or the dilation`);
  });
  let given = attrInts(node, 'output_shape', []);
  if (given.length === rank + 2) given = given.slice(2);
  if (given.length !== 0 && given.length !== rank) nodeFail(node, `output_shape ${shapeStr(given)} must have ${rank} spatial values`);
  if (given.length === 0 && (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER')) given = spatial.map((d, i) => d * w.strides[i]);
  const pads = w.autoPad === 'NOTSET' && given.length === 0 ? [...w.pads] : new Array<number>(2 * rank).fill(0);
  const out = spatial.map((inSize, i) => {
    const full = w.strides[i] * (inSize - 1) + outPad[i] + (w.kernel[i] - 1) * w.dilations[i] + 1;
    if (!given.length) return full - pads[i] - pads[i + rank];
    const total = full - given[i];
    const small = Math.floor(total / 2);
    pads[i] = w.autoPad === 'SAME_UPPER' ? small : total - small;
    pads[i + rank] = total - pads[i];
    return given[i];
  });
  out.forEach((o, i) => { if (o < 1) nodeFail(node, `output size ${o} on spatial dim ${i} is not positive; check pads ${shapeStr(w.pads)} and output_shape`); });
  return { pads, out };
}

/** The 2-D form of a 1-D or 2-D window with explicit pads [begin..., end...]. */
export function window2d(w: Window, pads: readonly number[]): Window2d {
  const [k, s, d] = [w.kernel, w.strides, w.dilations];
  if (k.length === 1) return { kh: 1, kw: k[0], sh: 1, sw: s[0], dh: 1, dw: d[0], padT: 0, padL: pads[0], padB: 0, padR: pads[1] };
  if (k.length !== 2) throw new Error(`window2d: a ${k.length}-D window has no 2-D form`);
  return { kh: k[0], kw: k[1], sh: s[0], sw: s[1], dh: d[0], dw: d[1], padT: pads[0], padL: pads[1], padB: pads[2], padR: pads[3] };
}

/** The resolved 2-D window of a 1-D or 2-D Conv / pool node on an input of `spatial` size, and its [OH, OW]. */
export function nodeWindow2d(node: Node, spatial: readonly number[], kernel: number[]): { win: Window2d; out: [number, number] } {
  const w = windowOf(node, spatial.length, kernel);
  const out = windowOutput(node, spatial, w);
  return { win: window2d(w, resolvePads(node, spatial, w)), out: out.length === 1 ? [1, out[0]] : [out[0], out[1]] };
}

/** A 2-D window from the kernels' parameter objects (ONNX attribute names; pads 0, strides and dilations 1 by default), checked. */
export function checkWindow2d(what: string, p: { kh: number; kw: number; pads?: readonly number[]; strides?: readonly number[]; dilations?: readonly number[] }): Window2d {
  const [padT, padL, padB, padR] = p.pads ?? [0, 0, 0, 0];
  const [sh, sw] = p.strides ?? [1, 1];
  const [dh, dw] = p.dilations ?? [1, 1];
  const bad = badInts('kernel_shape', [p.kh, p.kw], 1) ?? badInts('pads', [padT, padL, padB, padR], 0)
    ?? badInts('strides', [sh, sw], 1) ?? badInts('dilations', [dh, dw], 1);
  if (bad) fail(`${what}: ${bad}`);
  return { kh: p.kh, kw: p.kw, padT, padL, padB, padR, sh, sw, dh, dw };
}

/** [OH, OW] of a 2-D window on an H×W input; a window that does not fit is bad input. */
export function outHW(what: string, H: number, W: number, w: Window2d, ceil = false): [number, number] {
  const oh = outSize(H, w.kh, w.padT, w.padB, w.sh, w.dh, ceil);
  const ow = outSize(W, w.kw, w.padL, w.padR, w.sw, w.dw, ceil);
  if (oh < 1 || ow < 1) {
    fail(`${what}: a ${w.kh}×${w.kw} window (dilations ${w.dh},${w.dw}) does not fit the ${H}×${W} input with pads ${w.padT},${w.padL},${w.padB},${w.padR}`);
  }
  return [oh, ow];
}

/** 1×1, stride 1, unpadded: the input planes are already the GEMM's operand. */
export function isPointwise(w: Window2d): boolean {
  return w.kh === 1 && w.kw === 1 && w.sh === 1 && w.sw === 1 && w.padT + w.padL + w.padB + w.padR === 0;
}

/** [lo, hi): the t in [0, count) whose position t·stride + offset lies in [0, limit). */
export function validRange(offset: number, stride: number, limit: number, count: number): [number, number] {
  const lo = Math.min(count, Math.max(0, Math.ceil(-offset / stride)));
  const hi = Math.max(lo, Math.min(count, Math.floor((limit - 1 - offset) / stride) + 1));
  return [lo, hi];
}

/** group attribute, checked against the channel counts. */
export function groupOf(node: Node, inChannels: number, outChannels: number): number {
  const group = attrInt(node, 'group', 1);
  if (!Number.isInteger(group) || group < 1) nodeFail(node, `group=${group} must be a positive integer`);
  if (inChannels % group !== 0) nodeFail(node, `group=${group} does not divide ${inChannels} input channels`);
  if (outChannels % group !== 0) nodeFail(node, `group=${group} does not divide ${outChannels} output channels`);
  return group;
}
