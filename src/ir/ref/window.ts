// Sliding-window geometry shared by Conv, ConvTranspose and the pools:
// strides, dilations, pads (explicit or auto_pad) and output sizes, per spatial axis.
import { type Node, attrInts, attrString, attrInt } from '../graph.js';
import { nodeFail } from '../util.js';

export interface Window {
  strides: number[];
  dilations: number[];
  padBegin: number[];
  padEnd: number[];
  out: number[];
}

const AUTO_PADS = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'];

/** Per-axis positive integers from an attribute (strides, dilations), default 1. */
export function spatialInts(node: Node, key: string, rank: number, dflt: number): number[] {
  const v = attrInts(node, key, new Array(rank).fill(dflt));
  if (v.length !== rank) nodeFail(node, `${key} has ${v.length} values but the op has ${rank} spatial axes`);
  if (v.some((x) => !Number.isInteger(x) || x < 1)) nodeFail(node, `${key}=[${v.join(',')}] must be positive integers`);
  return v;
}

export function autoPad(node: Node): string {
  const mode = attrString(node, 'auto_pad', 'NOTSET');
  if (!AUTO_PADS.includes(mode)) nodeFail(node, `auto_pad="${mode}" is not one of ${AUTO_PADS.join(', ')}`);
  return mode;
}

/** Explicit pads [b1..bn, e1..en], default 0. */
export function explicitPads(node: Node, rank: number): [number[], number[]] {
  const pads = attrInts(node, 'pads', new Array(2 * rank).fill(0));
  if (pads.length !== 2 * rank) nodeFail(node, `pads has ${pads.length} values; expected ${2 * rank} (begin and end per spatial axis)`);
  if (pads.some((p) => !Number.isInteger(p) || p < 0)) nodeFail(node, `pads=[${pads.join(',')}] must be non-negative integers`);
  return [pads.slice(0, rank), pads.slice(rank)];
}

/**
 * Geometry of a forward sliding window (Conv, MaxPool, AveragePool).
 * ceil_mode (pools only) rounds the output size up, but a last window that
 * would start inside the end padding is dropped (as PyTorch and onnxruntime do).
 */
export function forwardWindow(node: Node, inSize: number[], kernel: number[], opts: { ceil?: boolean } = {}): Window {
  const rank = inSize.length;
  const strides = spatialInts(node, 'strides', rank, 1);
  const dilations = spatialInts(node, 'dilations', rank, 1);
  const mode = autoPad(node);
  const [padBegin, padEnd] = mode === 'NOTSET' ? explicitPads(node, rank) : [new Array(rank).fill(0), new Array(rank).fill(0)];
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const span = (kernel[i] - 1) * dilations[i] + 1;
    if (mode === 'SAME_UPPER' || mode === 'SAME_LOWER') {
      out[i] = Math.ceil(inSize[i] / strides[i]);
      const total = Math.max(0, (out[i] - 1) * strides[i] + span - inSize[i]);
      const small = Math.floor(total / 2);
      padBegin[i] = mode === 'SAME_UPPER' ? small : total - small;
      padEnd[i] = total - padBegin[i];
      continue;
    }
    const room = inSize[i] + padBegin[i] + padEnd[i] - span;
    if (room < 0) {
      nodeFail(node, `kernel extent ${span} on spatial axis ${i} is larger than the padded input (${inSize[i] + padBegin[i] + padEnd[i]})`);
    }
    out[i] = (opts.ceil ? Math.ceil(room / strides[i]) : Math.floor(room / strides[i])) + 1;
    if (opts.ceil && (out[i] - 1) * strides[i] >= inSize[i] + padBegin[i]) out[i]--;
  }
  return { strides, dilations, padBegin, padEnd, out };
}

/**
 * Geometry of ConvTranspose: output = stride·(in−1) + output_padding + span − pads,
 * or pads derived from output_shape / auto_pad SAME (the extra pad goes at the end
 * for SAME_UPPER, at the beginning otherwise).
 */
export function transposeWindow(node: Node, inSize: number[], kernel: number[]): Window {
  const rank = inSize.length;
  const strides = spatialInts(node, 'strides', rank, 1);
  const dilations = spatialInts(node, 'dilations', rank, 1);
  const outPad = attrInts(node, 'output_padding', new Array(rank).fill(0));
  if (outPad.length !== rank) nodeFail(node, `output_padding has ${outPad.length} values; expected ${rank}`);
  const mode = autoPad(node);
  let outShape = attrInts(node, 'output_shape', []);
  if (outShape.length === rank + 2) outShape = outShape.slice(2);
  if (outShape.length !== 0 && outShape.length !== rank) nodeFail(node, `output_shape has ${outShape.length} values; expected ${rank}`);
  if (outShape.length === 0 && (mode === 'SAME_UPPER' || mode === 'SAME_LOWER')) outShape = inSize.map((d, i) => d * strides[i]);
  const [padBegin, padEnd] = mode === 'NOTSET' && outShape.length === 0 ? explicitPads(node, rank) : [new Array(rank).fill(0), new Array(rank).fill(0)];
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const full = strides[i] * (inSize[i] - 1) + outPad[i] + (kernel[i] - 1) * dilations[i] + 1;
    if (outShape.length) {
      const total = full - outShape[i];
      const small = Math.floor(total / 2);
      // As the spec states: the smaller half first only for SAME_UPPER.
      padBegin[i] = mode === 'SAME_UPPER' ? small : total - small;
      padEnd[i] = total - padBegin[i];
      out[i] = outShape[i];
    } else {
      out[i] = full - padBegin[i] - padEnd[i];
    }
    if (out[i] < 1) nodeFail(node, `output size ${out[i]} on spatial axis ${i} is not positive; check pads and output_shape`);
  }
  return { strides, dilations, padBegin, padEnd, out };
}

/** group attribute, checked against the channel counts. */
export function groupOf(node: Node, inChannels: number, outChannels: number): number {
  const group = attrInt(node, 'group', 1);
  if (!Number.isInteger(group) || group < 1) nodeFail(node, `group=${group} must be a positive integer`);
  if (inChannels % group !== 0) nodeFail(node, `group=${group} does not divide ${inChannels} input channels`);
  if (outChannels % group !== 0) nodeFail(node, `group=${group} does not divide ${outChannels} output channels`);
  return group;
}

/** [lo, hi): the t in [0, count) whose position t·stride + offset lies in [0, limit). */
export function validRange(offset: number, stride: number, limit: number, count: number): [number, number] {
  const lo = Math.min(count, Math.max(0, Math.ceil(-offset / stride)));
  const hi = Math.max(lo, Math.min(count, Math.floor((limit - 1 - offset) / stride) + 1));
  return [lo, hi];
}
