// Softmax along one axis (opset ≥ 13 semantics), numerically stable (max subtracted), float64 sums.
import { attrInt } from '../graph.js';
import { floatInput, newFloat, type RefKernel } from './operands.js';
import { normAxis } from '../util.js';

const softmax: RefKernel = (node, inputs) => {
  const x = floatInput(node, inputs, 0, 'input');
  const rank = x.shape.length;
  const axis = normAxis(node, attrInt(node, 'axis', -1), Math.max(rank, 1));
  const D = rank === 0 ? 1 : x.shape[axis];
  const inner = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const outer = x.size / Math.max(D * inner, 1);
  const y = newFloat(x.dtype, x.shape);
  const [xd, yd] = [x.data, y.data];
  const e = new Float64Array(D);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * D * inner + i;
      let max = -Infinity;
      for (let d = 0; d < D; d++) max = Math.max(max, xd[base + d * inner]);
      let sum = 0;
      for (let d = 0; d < D; d++) { e[d] = Math.exp(xd[base + d * inner] - max); sum += e[d]; }
      for (let d = 0; d < D; d++) yd[base + d * inner] = e[d] / sum;
    }
  }
  return [y];
};

export const SOFTMAX_KERNELS: Record<string, RefKernel> = {
  Softmax: softmax,
};
