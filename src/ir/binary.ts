// Binary and ternary weights (BWN, XNOR-Net, TWN, TTQ): along a channel axis,
// every weight of channel c is +pos[c] or −neg[c] (binary), or one of those or 0
// (ternary). The float tensor holds exactly these values; this file finds the
// levels back from the values, so every stage (the .nnz encoding, the kernels,
// the ONNX export) reads them the same way, even from a transposed copy or one
// whose rows a folded BatchNorm has scaled.
import { attrInt, type Node } from './graph.js';

export type SignsKind = 'binary' | 'ternary';

/** Per channel: the positive level and the magnitude of the negative one. */
export interface ChannelLevels {
  kind: SignsKind;
  pos: Float32Array;
  neg: Float32Array;
  /** Elements per step along the axis (channel of element i: floor(i / inner) mod count). */
  inner: number;
  count: number;
}

/** Elements per step along `axis` and the channel count; a string says why the axis does not fit. */
export function axisLayout(shape: readonly number[], axis: number): { inner: number; count: number } | string {
  if (!Number.isInteger(axis) || axis < 0 || axis >= Math.max(1, shape.length)) return `axis ${axis} is out of range for rank ${shape.length}`;
  if (shape.length === 0) return { inner: 1, count: 1 };
  return { inner: shape.slice(axis + 1).reduce((p, d) => p * d, 1), count: shape[axis] };
}

/**
 * The levels of each channel of `data` (of `shape`) along `axis`, or a string saying
 * why the values are not binary (resp. ternary) there. A channel with one sign only
 * takes that magnitude for both levels; an all-zero ternary channel has levels 0.
 * Zeros must be +0 (a −0 would not survive the encoding bit for bit).
 */
export function channelLevels(data: Float32Array, shape: readonly number[], axis: number, kind: SignsKind): ChannelLevels | string {
  const lay = axisLayout(shape, axis);
  if (typeof lay === 'string') return lay;
  const { inner, count } = lay;
  const pos = new Float32Array(count).fill(NaN), neg = new Float32Array(count).fill(NaN);
  for (let i = 0; i < data.length; i++) {
    const v = data[i], c = Math.floor(i / inner) % count;
    if (v > 0 && v !== Infinity) {
      if (Number.isNaN(pos[c])) pos[c] = v;
      else if (pos[c] !== v) return `channel ${c} holds two positive values (${pos[c]} and ${v})`;
    } else if (v < 0 && v !== -Infinity) {
      if (Number.isNaN(neg[c])) neg[c] = -v;
      else if (neg[c] !== -v) return `channel ${c} holds two negative values (${-neg[c]} and ${v})`;
    } else if (v === 0 && kind === 'ternary' && !Object.is(v, -0)) {
      continue;
    } else {
      return `element ${i} is ${Object.is(v, -0) ? '-0' : v}, not ${kind === 'binary' ? '±level' : '±level or +0'}`;
    }
  }
  for (let c = 0; c < count; c++) {
    if (Number.isNaN(pos[c])) pos[c] = Number.isNaN(neg[c]) ? 0 : neg[c];
    if (Number.isNaN(neg[c])) neg[c] = pos[c];
  }
  return { kind, pos, neg, inner, count };
}

/** Binary when the values allow it, else ternary, else undefined. */
export function detectLevels(data: Float32Array, shape: readonly number[], axis: number): ChannelLevels | undefined {
  const b = channelLevels(data, shape, axis, 'binary');
  if (typeof b !== 'string') return b;
  const t = channelLevels(data, shape, axis, 'ternary');
  return typeof t === 'string' ? undefined : t;
}

/** Whether every channel's two levels have the same magnitude (BWN, TWN; TTQ's usually differ). */
export function symmetricLevels(l: ChannelLevels): boolean {
  return l.pos.every((p, c) => p === l.neg[c]);
}

/** The ternary digit of a value: 0 = zero, 1 = positive, 2 = negative (the .nnz trit order). */
export function trit(v: number): 0 | 1 | 2 {
  return v > 0 ? 1 : v < 0 ? 2 : 0;
}

/** The values back from levels and one trit (binary: 1 or 2) per element. */
export function levelValues(l: ChannelLevels, trits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(trits.length);
  for (let i = 0; i < out.length; i++) {
    const c = Math.floor(i / l.inner) % l.count, t = trits[i];
    out[i] = t === 1 ? l.pos[c] : t === 2 ? -l.neg[c] : 0;
  }
  return out;
}

/** One line for a tool or a reader of an exported file: what the stored values are. */
export function levelsNote(l: ChannelLevels, axis: number): string {
  const sym = symmetricLevels(l);
  const what = l.kind === 'binary' ? (sym ? '+α or −α' : '+α or −β') : sym ? '+α, 0 or −α' : '+α, 0 or −β';
  return `${l.kind} weights: every value of a channel (axis ${axis}, ${l.count} channels) is ${what}, one α${sym ? '' : ', β'} per channel`;
}

/**
 * A [rows × cols] binary or ternary weight as the binary kernels take it: one trit
 * per weight and, per row, w = a·sign(w) + b·[w ≠ 0], i.e. a = (pos + neg)/2 and
 * b = (pos − neg)/2 (b is null when every row is symmetric), so that a row's dot
 * product with x is a·Σ sign(w)·x + b·Σ_{w≠0} x.
 */
export interface SignRows {
  kind: SignsKind;
  trits: Uint8Array;
  a: Float32Array;
  b: Float32Array | null;
  /** The levels themselves (the add/subtract kernels scale the two sums by them). */
  pos: Float32Array;
  neg: Float32Array;
}

/** The kernel form of rows whose values are binary or ternary row by row, or why not. */
export function signRows(data: Float32Array, rows: number, cols: number): SignRows | string {
  const l = channelLevels(data, [rows, cols], 0, 'ternary');
  if (typeof l === 'string') return l;
  const trits = Uint8Array.from(data, trit);
  const a = Float32Array.from(l.pos, (p, r) => (p + l.neg[r]) / 2);
  const b = symmetricLevels(l) ? null : Float32Array.from(l.pos, (p, r) => (p - l.neg[r]) / 2);
  return { kind: trits.includes(0) ? 'ternary' : 'binary', trits, a, b, pos: l.pos, neg: l.neg };
}

/** The weight axis of a layer's output channels: 0 for Conv and Gemm transB=1, 1 for Gemm transB=0 and MatMul ([K, N]). */
export function outputAxis(node: Node): number {
  return node.op === 'Conv' || (node.op === 'Gemm' && attrInt(node, 'transB', 0) !== 0) ? 0 : 1;
}
