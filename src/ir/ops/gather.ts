// Indexing: Gather (take along an axis) and Slice (starts/ends/axes/steps inputs,
// which must be constant). Both fold small constant inputs (shape arithmetic).
import { attrInt, type Node } from '../graph.js';
import { registerOp } from '../ops.js';
import { sizeOf, toNumbers } from '../tensor.js';
import { constInts, foldable, pick } from './values.js';
import { input, nodeFail, normAxes, normAxis, sliceAxis, stridesOf, type SliceAxis } from '../util.js';

registerOp({
  op: 'Gather',
  attrs: { axis: 'int' },
  inputs: [2, 2],
  outputs: [1, 1],
  infer(node, inputs) {
    const data = input(node, inputs, 0);
    const idx = input(node, inputs, 1);
    if (idx.dtype !== 'int64' && idx.dtype !== 'int32') nodeFail(node, `indices must be int32 or int64, got ${idx.dtype}`);
    if (data.shape.length === 0) nodeFail(node, 'data must have rank ≥ 1');
    const axis = normAxis(node, attrInt(node, 'axis', 0), data.shape.length);
    const dim = data.shape[axis];
    const shape = [...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)];
    if (!idx.value) return [{ dtype: data.dtype, shape }];
    const ids = toNumbers(idx.value).map((v) => {
      if (v < -dim || v >= dim) nodeFail(node, `index ${v} is out of range for axis ${axis} of size ${dim}`);
      return v < 0 ? v + dim : v;
    });
    if (!data.value || !foldable([data, idx])) return [{ dtype: data.dtype, shape }];
    const inner = sizeOf(data.shape.slice(axis + 1));
    const block = ids.length * inner;
    const value = pick(data.value, shape, (i) => {
      const outer = Math.floor(i / block);
      const r = i % block;
      return (outer * dim + ids[Math.floor(r / inner)]) * inner + (r % inner);
    });
    return [{ dtype: data.dtype, shape, value }];
  },
});

/** Per-axis start/step/length with ONNX clamping rules. */
function sliceAxes(node: Node, shape: number[], starts: number[], ends: number[], axes: number[], steps: number[]): SliceAxis[] {
  return axes.map((axis, i) => sliceAxis(node, axis, shape[axis], starts[i], ends[i], steps[i]));
}

registerOp({
  op: 'Slice',
  attrs: {},
  inputs: [3, 5],
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    const rank = x.shape.length;
    const starts = constInts(node, inputs, 1, 'starts')!;
    const ends = constInts(node, inputs, 2, 'ends')!;
    const axes = normAxes(node, constInts(node, inputs, 3, 'axes') ?? starts.map((_, i) => i), rank);
    const steps = constInts(node, inputs, 4, 'steps') ?? starts.map(() => 1);
    if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
      nodeFail(node, `starts, ends, axes and steps must have the same length (${starts.length}, ${ends.length}, ${axes.length}, ${steps.length})`);
    }
    const plan = sliceAxes(node, x.shape, starts, ends, axes, steps);
    const shape = [...x.shape];
    const start = x.shape.map(() => 0);
    const step = x.shape.map(() => 1);
    for (const p of plan) {
      shape[p.axis] = p.len;
      start[p.axis] = p.start;
      step[p.axis] = p.step;
    }
    if (!x.value || !foldable([x])) return [{ dtype: x.dtype, shape }];
    const inStrides = stridesOf(x.shape);
    const outStrides = stridesOf(shape);
    const value = pick(x.value, shape, (i) => {
      let src = 0;
      for (let d = 0; d < rank; d++) src += (start[d] + (Math.floor(i / outStrides[d]) % shape[d]) * step[d]) * inStrides[d];
      return src;
    });
    return [{ dtype: x.dtype, shape, value }];
  },
});
