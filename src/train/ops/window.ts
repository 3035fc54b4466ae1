// Sliding-window geometry shared by Conv and the pools: kernel, strides,
// dilations, pads (explicit or auto_pad) and the output size, as ONNX defines them.
import { attrInts, attrString, attrInt, type Node } from '../../ir/graph.js';
import { fail } from '../../ir/errors.js';
import { where } from './types.js';

export interface Window2d {
  kh: number; kw: number;
  sh: number; sw: number;
  dh: number; dw: number;
  pt: number; pl: number; pb: number; pr: number;
  oh: number; ow: number;
}

/** Pads for one axis: [begin, end]. */
function axisPads(node: Node, autoPad: string, inSize: number, k: number, s: number, d: number, begin: number, end: number): [number, number] {
  if (autoPad === 'NOTSET') return [begin, end];
  if (autoPad === 'VALID') return [0, 0];
  const out = Math.ceil(inSize / s);
  const total = Math.max(0, (out - 1) * s + (k - 1) * d + 1 - inSize);
  const small = Math.floor(total / 2);
  if (autoPad === 'SAME_UPPER') return [small, total - small];
  if (autoPad === 'SAME_LOWER') return [total - small, small];
  fail(`${where(node)}: auto_pad=${autoPad} is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
}

function outSize(inSize: number, k: number, s: number, d: number, p0: number, p1: number, ceil: boolean): number {
  const span = inSize + p0 + p1 - ((k - 1) * d + 1);
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // ceil_mode: the last window must start inside the input or its begin padding (as PyTorch/ONNX).
  if (ceil && (out - 1) * s >= inSize + p0) out--;
  return out;
}

export function window2d(node: Node, inH: number, inW: number, kh: number, kw: number): Window2d {
  const strides = attrInts(node, 'strides', [1, 1]);
  const dil = attrInts(node, 'dilations', [1, 1]);
  const pads = attrInts(node, 'pads', [0, 0, 0, 0]);
  if (strides.length !== 2 || dil.length !== 2 || pads.length !== 4) {
    fail(`${where(node)}: only 2-D windows are supported (strides ${strides.length}, dilations ${dil.length}, pads ${pads.length} values); use NCHW inputs`);
  }
  if (strides.some((v) => v < 1) || dil.some((v) => v < 1) || pads.some((v) => v < 0)) {
    fail(`${where(node)}: strides and dilations must be ≥ 1 and pads ≥ 0 (got strides ${strides}, dilations ${dil}, pads ${pads})`);
  }
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  const [pt, pb] = axisPads(node, autoPad, inH, kh, strides[0], dil[0], pads[0], pads[2]);
  const [pl, pr] = axisPads(node, autoPad, inW, kw, strides[1], dil[1], pads[1], pads[3]);
  const oh = outSize(inH, kh, strides[0], dil[0], pt, pb, ceil);
  const ow = outSize(inW, kw, strides[1], dil[1], pl, pr, ceil);
  if (oh < 1 || ow < 1) {
    fail(`${where(node)}: a ${kh}×${kw} window does not fit the ${inH}×${inW} input (output would be ${oh}×${ow}); check kernel, pads and the input size`);
  }
  return { kh, kw, sh: strides[0], sw: strides[1], dh: dil[0], dw: dil[1], pt, pl, pb, pr, oh, ow };
}
