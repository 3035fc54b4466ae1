// Data movement for any dtype: Transpose, Concat, Split, Gather.
import { type Node, attrInt, attrInts } from '../graph.js';
import { Tensor, AnyData, sizeOf, toNumbers, isFloat } from '../tensor.js';
import { nodeFail, input, normAxis, shapeStr, stridesOf, forEachRow, intsFromInputOrAttr } from '../util.js';
import { copyBlock, type RefKernel } from './operands.js';

// Element copies between two typed arrays of the same kind (number or bigint alike);
// typed as Float32Array only so one loop serves every dtype.
type Same = Float32Array;

const transpose: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'data');
  const rank = x.shape.length;
  const perm = attrInts(node, 'perm', x.shape.map((_, i) => rank - 1 - i));
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== rank || sorted.some((p, i) => p !== i)) nodeFail(node, `perm=[${perm.join(',')}] is not a permutation of 0..${rank - 1}`);
  const outShape = perm.map((p) => x.shape[p]);
  const inStr = stridesOf(x.shape);
  const str = perm.map((p) => inStr[p]);
  const y = new Tensor(x.dtype, outShape);
  const [xd, yd] = [x.data as Same, y.data as Same];
  const n = rank === 0 ? 1 : outShape[rank - 1];
  const s = rank === 0 ? 0 : str[rank - 1];
  forEachRow(outShape, [str], (o, offs) => {
    const xo = offs[0];
    for (let i = 0; i < n; i++) yd[o + i] = xd[xo + i * s];
  });
  return [y];
};

const concat: RefKernel = (node, inputs) => {
  const parts = inputs.map((t, i) => t ?? nodeFail(node, `input ${i} is missing`));
  if (parts.length === 0) nodeFail(node, 'needs at least one input');
  const first = parts[0];
  const rank = first.shape.length;
  if (typeof node.attrs.axis !== 'number') nodeFail(node, 'the axis attribute is missing');
  const axis = normAxis(node, node.attrs.axis, rank);
  for (const t of parts) {
    const same = t.shape.length === rank && t.shape.every((d, i) => i === axis || d === first.shape[i]);
    if (!same || t.dtype !== first.dtype) {
      nodeFail(node, `inputs ${parts.map((p) => `${p.dtype} ${shapeStr(p.shape)}`).join(', ')} differ outside axis ${axis}`);
    }
  }
  const outShape = [...first.shape];
  outShape[axis] = parts.reduce((s, t) => s + t.shape[axis], 0);
  const y = new Tensor(first.dtype, outShape);
  const outer = sizeOf(first.shape.slice(0, axis));
  const inner = sizeOf(first.shape.slice(axis + 1));
  const outBlock = outShape[axis] * inner;
  let at = 0;
  for (const t of parts) {
    const block = t.shape[axis] * inner;
    for (let o = 0; o < outer; o++) copyBlock(y.data, o * outBlock + at, t.data, o * block, block);
    at += block;
  }
  return [y];
};

/** Split sizes: input 1 / attr split, else num_outputs (last chunk smaller), else equal parts. */
function splitSizes(node: Node, inputs: (Tensor | undefined)[], dim: number): number[] {
  const given = intsFromInputOrAttr(node, inputs, 1, 'split');
  const count = node.outputs.length;
  if (given) {
    if (given.length !== count || given.reduce((a, b) => a + b, 0) !== dim || given.some((s) => s < 0)) {
      nodeFail(node, `split=[${given.join(',')}] must have ${count} non-negative sizes summing to ${dim}`);
    }
    return given;
  }
  const num = attrInt(node, 'num_outputs', 0);
  if (num > 0) {
    if (num !== count) nodeFail(node, `num_outputs=${num} but the node has ${count} outputs`);
    const chunk = Math.ceil(dim / num);
    return Array.from({ length: num }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
  }
  if (dim % count !== 0) nodeFail(node, `axis size ${dim} does not split into ${count} equal parts; give split sizes`);
  return new Array(count).fill(dim / count);
}

const split: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'input');
  const rank = x.shape.length;
  const axis = normAxis(node, attrInt(node, 'axis', 0), rank);
  const sizes = splitSizes(node, inputs, x.shape[axis]);
  const outer = sizeOf(x.shape.slice(0, axis));
  const inner = sizeOf(x.shape.slice(axis + 1));
  const inBlock = x.shape[axis] * inner;
  let at = 0;
  return sizes.map((s) => {
    const shape = [...x.shape];
    shape[axis] = s;
    const y = new Tensor(x.dtype, shape);
    for (let o = 0; o < outer; o++) copyBlock(y.data, o * s * inner, x.data, o * inBlock + at, s * inner);
    at += s * inner;
    return y;
  });
};

const gather: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'data');
  const idx = input(node, inputs, 1, 'indices');
  if (isFloat(idx.dtype) || idx.dtype === 'bool') nodeFail(node, `indices must be int32 or int64, got ${idx.dtype}`);
  const rank = x.shape.length;
  if (rank === 0) nodeFail(node, 'data must have rank ≥ 1');
  const axis = normAxis(node, attrInt(node, 'axis', 0), rank);
  const D = x.shape[axis];
  const ids = toNumbers(idx).map((k, j) => {
    if (k < -D || k >= D) nodeFail(node, `index ${k} (element ${j}) is out of range for axis ${axis} of size ${D}`);
    return k < 0 ? k + D : k;
  });
  const outer = sizeOf(x.shape.slice(0, axis));
  const inner = sizeOf(x.shape.slice(axis + 1));
  const y = new Tensor(x.dtype, [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)]);
  gatherBlocks(x.data, y.data, ids, outer, D, inner);
  return [y];
};

function gatherBlocks(src: AnyData, dst: AnyData, ids: number[], outer: number, D: number, inner: number): void {
  const [sd, dd] = [src as Same, dst as Same];
  let o = 0;
  for (let b = 0; b < outer; b++) {
    for (const k of ids) {
      const s = (b * D + k) * inner;
      for (let i = 0; i < inner; i++) dd[o++] = sd[s + i];
    }
  }
}

export const MOVEMENT_KERNELS: Record<string, RefKernel> = {
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Gather: gather,
};
