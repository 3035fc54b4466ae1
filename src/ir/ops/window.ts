// Sliding-window geometry shared by Conv, ConvTranspose and the pools: attribute
// checks, output sizes and the explicit pads that auto_pad stands for (kernels
// call resolvePads so that they and shape inference agree).
import { attrInt, attrInts, attrString, type Node } from '../graph.js';
import { nodeFail, shapeStr } from '../util.js';

export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Explicit pads [begin..., end...] (zeros when auto_pad decides them). */
  pads: number[];
  autoPad: 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
  ceilMode: boolean;
}

const AUTO_PADS = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] as const;

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
  if (w.strides.some((s) => s < 1)) nodeFail(node, `strides ${shapeStr(w.strides)} must be ≥ 1`);
  if (w.dilations.some((d) => d < 1)) nodeFail(node, `dilations ${shapeStr(w.dilations)} must be ≥ 1`);
  if (w.pads.some((p) => p < 0)) nodeFail(node, `pads ${shapeStr(w.pads)} must be ≥ 0`);
  if (w.kernel.some((k) => k < 1)) nodeFail(node, `kernel_shape ${shapeStr(w.kernel)} must be ≥ 1`);
  return w;
}

/** The kernel_shape attribute (required by pools; Conv takes it from the weight). */
export function kernelAttr(node: Node, rank?: number): number[] {
  const k = attrInts(node, 'kernel_shape');
  if (!k) nodeFail(node, 'kernel_shape attribute is required');
  if (rank !== undefined && k.length !== rank) nodeFail(node, `kernel_shape has ${k.length} values, input has ${rank} spatial dims`);
  return k;
}

/** Output spatial sizes of a forward window (Conv, pools). */
export function windowOutput(node: Node, spatial: readonly number[], w: Window): number[] {
  return spatial.map((inSize, i) => {
    const span = (w.kernel[i] - 1) * w.dilations[i] + 1;
    const s = w.strides[i];
    let out: number;
    if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') {
      out = Math.ceil(inSize / s);
    } else if (w.autoPad === 'VALID') {
      out = Math.floor((inSize - span) / s) + 1;
    } else {
      const padded = inSize + w.pads[i] + w.pads[i + spatial.length] - span;
      out = (w.ceilMode ? Math.ceil(padded / s) : Math.floor(padded / s)) + 1;
      // ceil_mode: a last window that would start in the end padding is dropped (as PyTorch and onnxruntime do)
      if (w.ceilMode && (out - 1) * s >= inSize + w.pads[i]) out--;
    }
    if (!(out >= 1)) {
      nodeFail(node, `spatial dim ${i} of size ${inSize} is too small for a window of ${span} (stride ${s}, pads ${shapeStr(w.pads)})`);
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
  const out = windowOutput(node, spatial, w);
  for (let i = 0; i < rank; i++) {
    const span = (w.kernel[i] - 1) * w.dilations[i] + 1;
    const total = Math.max(0, (out[i] - 1) * w.strides[i] + span - spatial[i]);
    const small = Math.floor(total / 2);
    // SAME_UPPER puts the extra pad at the end, SAME_LOWER at the beginning
    pads[i] = w.autoPad === 'SAME_UPPER' ? small : total - small;
    pads[i + rank] = total - pads[i];
  }
  return pads;
}
