// Ops that only rearrange or describe a shape: Flatten, Reshape, Transpose,
// Squeeze, Unsqueeze (IR form: `axes` attribute), Shape. Constant inputs keep their value.
import { registerOp } from '../ops.js';
import { i64, sizeOf } from '../tensor.js';
import { constInts, foldable, pick } from './values.js';
import { input, nodeFail, normAxes, shapeStr, stridesOf } from '../util.js';
import { attrInt, attrInts } from '../graph.js';

registerOp({
  op: 'Flatten',
  attrs: { axis: 'int' },
  inputs: [1, 1],
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    const rank = x.shape.length;
    const axis = attrInt(node, 'axis', 1);
    if (axis < -rank || axis > rank) nodeFail(node, `axis=${axis} is out of range for a rank-${rank} input (use -${rank}..${rank})`);
    const a = axis < 0 ? axis + rank : axis;
    const shape = [sizeOf(x.shape.slice(0, a)), sizeOf(x.shape.slice(a))];
    return [{ dtype: x.dtype, shape, value: x.value?.reshape(shape) }];
  },
});

/** ONNX Reshape target: 0 copies the input dim (unless allowzero), one -1 is inferred. */
function reshapeTarget(node: Parameters<typeof nodeFail>[0], inShape: number[], spec: number[], allowZero: boolean): number[] {
  const out = spec.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= inShape.length) nodeFail(node, `shape ${shapeStr(spec)} copies dim ${i} (0) but the input ${shapeStr(inShape)} has rank ${inShape.length}`);
      return inShape[i];
    }
    if (d < -1) nodeFail(node, `shape ${shapeStr(spec)} has an invalid dim ${d}`);
    return d;
  });
  const holes = out.filter((d) => d === -1).length;
  if (holes > 1) nodeFail(node, `shape ${shapeStr(spec)} has more than one -1`);
  const total = sizeOf(inShape);
  if (holes === 1) {
    if (allowZero && out.includes(0)) nodeFail(node, `shape ${shapeStr(spec)} has both -1 and 0 with allowzero=1`);
    const known = sizeOf(out.filter((d) => d !== -1));
    if (known === 0 || total % known !== 0) nodeFail(node, `cannot reshape ${shapeStr(inShape)} to ${shapeStr(spec)}`);
    out[out.indexOf(-1)] = total / known;
  }
  if (sizeOf(out) !== total) nodeFail(node, `cannot reshape ${shapeStr(inShape)} (${total} values) to ${shapeStr(out)}`);
  return out;
}

registerOp({
  op: 'Reshape',
  attrs: { allowzero: 'bool' },
  inputs: [2, 2],
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    const spec = constInts(node, inputs, 1, 'shape');
    if (!spec) nodeFail(node, 'the shape input is required');
    const shape = reshapeTarget(node, x.shape, spec, attrInt(node, 'allowzero', 0) === 1);
    return [{ dtype: x.dtype, shape, value: x.value?.reshape(shape) }];
  },
});

registerOp({
  op: 'Transpose',
  attrs: { perm: 'ints' },
  inputs: [1, 1],
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    const rank = x.shape.length;
    const perm = attrInts(node, 'perm') ?? x.shape.map((_, i) => rank - 1 - i);
    if (perm.length !== rank) nodeFail(node, `perm [${perm.join(',')}] has ${perm.length} values, input has rank ${rank}`);
    const p = normAxes(node, perm, rank, 'perm');
    const shape = p.map((a) => x.shape[a]);
    if (!x.value || !foldable([x])) return [{ dtype: x.dtype, shape }];
    const inStrides = stridesOf(x.shape);
    const outStrides = stridesOf(shape);
    const value = pick(x.value, shape, (i) => {
      let src = 0;
      for (let d = 0; d < rank; d++) src += (Math.floor(i / outStrides[d]) % shape[d]) * inStrides[p[d]];
      return src;
    });
    return [{ dtype: x.dtype, shape, value }];
  },
});

registerOp({
  op: 'Squeeze',
  attrs: { axes: 'ints' },
  inputs: [1, 1],
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    const given = attrInts(node, 'axes');
    const axes = given ? normAxes(node, given, x.shape.length) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    for (const a of axes) {
      if (x.shape[a] !== 1) nodeFail(node, `cannot squeeze axis ${a} of ${shapeStr(x.shape)}: its size is not 1`);
    }
    const shape = x.shape.filter((_, i) => !axes.includes(i));
    return [{ dtype: x.dtype, shape, value: x.value?.reshape(shape) }];
  },
});

registerOp({
  op: 'Unsqueeze',
  attrs: { axes: 'ints' },
  inputs: [1, 1],
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    const given = attrInts(node, 'axes');
    if (!given) nodeFail(node, 'the axes attribute is required');
    const rank = x.shape.length + given.length;
    const axes = normAxes(node, given, rank);
    const shape: number[] = [];
    let next = 0;
    for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : x.shape[next++]);
    return [{ dtype: x.dtype, shape, value: x.value?.reshape(shape) }];
  },
});

registerOp({
  op: 'Shape',
  attrs: { start: 'int', end: 'int' },
  inputs: [1, 1],
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    const rank = x.shape.length;
    // start/end wrap when negative and clamp to [0, rank] (opset 15)
    const clamp = (v: number): number => Math.min(rank, Math.max(0, v < 0 ? v + rank : v));
    const start = clamp(attrInt(node, 'start', 0));
    const end = clamp(attrInt(node, 'end', rank));
    const dims = x.shape.slice(start, Math.max(start, end));
    return [{ dtype: 'int64', shape: [dims.length], value: i64([dims.length], dims) }];
  },
});
