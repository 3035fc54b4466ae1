// Joining and splitting along an axis: Concat and Split (IR form: sizes in the
// `split` attribute; without it, equal parts).
import { attrInt, attrInts, type Node } from '../graph.js';
import { registerOp, type ValueType } from '../ops.js';
import { Tensor, sizeOf } from '../tensor.js';
import { foldable, pick } from './values.js';
import { input, nodeFail, normAxis, shapeStr } from '../util.js';

/** Concatenates constant values along `axis` (outer blocks interleaved per input). */
function concatValues(parts: Tensor[], axis: number, shape: number[]): Tensor {
  const inner = sizeOf(shape.slice(axis + 1));
  const outer = sizeOf(shape.slice(0, axis));
  const sources: [Tensor, number, number][] = []; // [tensor, offset in its block, block size]
  const blockSizes = parts.map((p) => p.shape[axis] * inner);
  const rowSize = blockSizes.reduce((s, b) => s + b, 0);
  let off = 0;
  parts.forEach((p, i) => {
    sources.push([p, off, blockSizes[i]]);
    off += blockSizes[i];
  });
  const out = new Tensor(parts[0].dtype, shape);
  const dst = out.data as unknown as unknown[];
  for (let o = 0; o < outer; o++) {
    for (const [p, start, size] of sources) {
      const src = p.data as unknown as unknown[];
      for (let j = 0; j < size; j++) dst[o * rowSize + start + j] = src[o * size + j];
    }
  }
  return out;
}

registerOp({
  op: 'Concat',
  attrs: { axis: 'int' },
  inputs: [1, Infinity],
  outputs: [1, 1],
  infer(node, inputs) {
    const ts = node.inputs.map((_, i) => input(node, inputs, i));
    const first = ts[0];
    if (node.attrs.axis === undefined) nodeFail(node, 'the axis attribute is required');
    const axis = normAxis(node, attrInt(node, 'axis', 0), first.shape.length);
    let total = 0;
    for (const [i, t] of ts.entries()) {
      if (t.dtype !== first.dtype) nodeFail(node, `input ${i} is ${t.dtype}, input 0 is ${first.dtype}`);
      const same = t.shape.length === first.shape.length && t.shape.every((d, k) => k === axis || d === first.shape[k]);
      if (!same) nodeFail(node, `input ${i} ${shapeStr(t.shape)} does not match input 0 ${shapeStr(first.shape)} outside axis ${axis}`);
      total += t.shape[axis];
    }
    const shape = [...first.shape];
    shape[axis] = total;
    const value = ts.every((t) => t.value) && foldable(ts) ? concatValues(ts.map((t) => t.value!), axis, shape) : undefined;
    return [{ dtype: first.dtype, shape, value }];
  },
});

/** Sizes of each Split output along the axis: the `split` attribute, else equal parts. */
export function splitSizes(node: Node, dim: number): number[] {
  const n = node.outputs.length;
  const given = attrInts(node, 'split');
  if (given) {
    if (given.length !== n) nodeFail(node, `split [${given.join(',')}] has ${given.length} sizes for ${n} outputs`);
    const sum = given.reduce((s, v) => s + v, 0);
    if (given.some((v) => v < 0) || sum !== dim) nodeFail(node, `split [${given.join(',')}] must be ≥ 0 and sum to the axis size ${dim}`);
    return given;
  }
  if (dim % n !== 0) nodeFail(node, `axis size ${dim} does not split into ${n} equal parts; give split sizes`);
  return new Array<number>(n).fill(dim / n);
}

/** Opset 18's num_outputs rule: chunks of ceil(dim / n), the last one smaller. */
export function chunkSizes(dim: number, n: number): number[] {
  const chunk = Math.ceil(dim / n);
  return Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
}

registerOp({
  op: 'Split',
  attrs: { axis: 'int', split: 'ints' },
  inputs: [1, 1],
  outputs: [1, Infinity],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    const axis = normAxis(node, attrInt(node, 'axis', 0), x.shape.length);
    const sizes = splitSizes(node, x.shape[axis]);
    const inner = sizeOf(x.shape.slice(axis + 1));
    const dim = x.shape[axis];
    let start = 0;
    return sizes.map((size): ValueType => {
      const shape = [...x.shape];
      shape[axis] = size;
      const from = start;
      start += size;
      if (!x.value || !foldable([x])) return { dtype: x.dtype, shape };
      const block = size * inner;
      const value = pick(x.value, shape, (i) => Math.floor(i / block) * dim * inner + from * inner + (i % block));
      return { dtype: x.dtype, shape, value };
    });
  },
});
