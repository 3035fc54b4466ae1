// Reductions: ReduceMean (IR form: `axes` attribute; no axes = all axes, or the
// identity when noop_with_empty_axes=1).
import { registerOp } from '../ops.js';
import { input, normAxes } from '../util.js';
import { attrInt, attrInts } from '../graph.js';

registerOp({
  op: 'ReduceMean',
  attrs: { axes: 'ints', keepdims: 'bool', noop_with_empty_axes: 'bool' },
  inputs: [1, 1],
  outputs: [1, 1],
  infer(node, inputs) {
    const x = input(node, inputs, 0);
    const given = attrInts(node, 'axes') ?? [];
    if (given.length === 0 && attrInt(node, 'noop_with_empty_axes', 0) === 1) return [{ dtype: x.dtype, shape: [...x.shape] }];
    const axes = given.length ? normAxes(node, given, x.shape.length) : x.shape.map((_, i) => i);
    const keep = attrInt(node, 'keepdims', 1) === 1;
    const shape = keep ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    return [{ dtype: x.dtype, shape }];
  },
});
