// Slice (ONNX opset 1–13+): starts / ends / axes / steps as int inputs (opset ≥ 10)
// or as attributes (opset < 10). Negative starts/ends count from the end; values
// past the dim are clamped as the spec says (e.g. INT64_MAX for "to the end").
// Any dtype; the output is a fresh tensor.
import type { Node } from '../graph.js';
import { Tensor } from '../tensor.js';
import { input, intsFromInputOrAttr, nodeFail, normAxes, sliceAxis, stridesOf, type SliceAxis } from '../util.js';
import type { RefKernel } from './operands.js';

/** The per-axis plan of a Slice node on an input shape (inputs win over attributes). */
export function slicePlan(node: Node, inputs: (Tensor | undefined)[], shape: readonly number[]): SliceAxis[] {
  const starts = intsFromInputOrAttr(node, inputs, 1, 'starts');
  const ends = intsFromInputOrAttr(node, inputs, 2, 'ends');
  if (!starts || !ends) nodeFail(node, 'starts and ends are required (as inputs 1 and 2, or as attributes before opset 10)');
  const axesGiven = intsFromInputOrAttr(node, inputs, 3, 'axes');
  const steps = intsFromInputOrAttr(node, inputs, 4, 'steps') ?? starts.map(() => 1);
  const axes = axesGiven ?? starts.map((_, i) => i);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    nodeFail(node, `starts, ends, axes and steps must have the same length (${starts.length}, ${ends.length}, ${axes.length}, ${steps.length})`);
  }
  const norm = normAxes(node, axes, shape.length).sort((a, b) => a - b); // sorted: keep each axis with its own entries
  const order = axes.map((a) => (a < 0 ? a + shape.length : a));
  return norm.map((axis) => {
    const i = order.indexOf(axis);
    return sliceAxis(node, axis, shape[axis], starts[i], ends[i], steps[i]);
  });
}

// One loop serves every dtype (bigint arrays included): typed as Float32Array only.
type Same = Float32Array;

const slice: RefKernel = (node, inputs) => {
  const x = input(node, inputs, 0, 'data');
  const rank = x.shape.length;
  if (rank === 0) nodeFail(node, 'data must have rank ≥ 1');
  const start = x.shape.map(() => 0);
  const step = x.shape.map(() => 1);
  const shape = [...x.shape];
  for (const p of slicePlan(node, inputs, x.shape)) {
    start[p.axis] = p.start;
    step[p.axis] = p.step;
    shape[p.axis] = p.len;
  }
  const y = new Tensor(x.dtype, shape);
  const inStr = stridesOf(x.shape);
  const [xd, yd] = [x.data as Same, y.data as Same];
  // Walk the output in row-major order with an index counter (no per-element division).
  const idx = new Array<number>(rank).fill(0);
  let src = start.reduce((acc, s, d) => acc + s * inStr[d], 0);
  for (let o = 0; o < yd.length; o++) {
    yd[o] = xd[src];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += step[d] * inStr[d];
      if (idx[d] < shape[d]) break;
      src -= step[d] * inStr[d] * shape[d];
      idx[d] = 0;
    }
  }
  return [y];
};

export const SLICE_KERNELS: Record<string, RefKernel> = {
  Slice: slice,
};
