// Reductions over axes (attribute or input form): ReduceMean, ReduceSum, ReduceMax,
// ReduceMin with keepdims and noop_with_empty_axes. Float64 accumulation.
import { attrInt } from '../graph.js';
import { Tensor } from '../tensor.js';
import { NumArray, type RefKernel } from './operands.js';
import { nodeFail, input, intsFromInputOrAttr, normAxes, stridesOf, forEachRow, lastStrides } from '../util.js';

type Kind = 'mean' | 'sum' | 'max' | 'min';

const INIT: Record<Kind, number> = { mean: 0, sum: 0, max: -Infinity, min: Infinity };

/** Folds one input row into the accumulator: acc[a + i·as] (op)= x[xo + i]. */
const ROWS: Record<Kind, (acc: Float64Array, a: number, as: number, x: NumArray, xo: number, n: number) => void> = {
  mean: (acc, a, as, x, xo, n) => { for (let i = 0; i < n; i++) acc[a + i * as] += x[xo + i]; },
  sum: (acc, a, as, x, xo, n) => { for (let i = 0; i < n; i++) acc[a + i * as] += x[xo + i]; },
  max: (acc, a, as, x, xo, n) => { for (let i = 0; i < n; i++) { const v = x[xo + i]; if (v > acc[a + i * as]) acc[a + i * as] = v; } },
  min: (acc, a, as, x, xo, n) => { for (let i = 0; i < n; i++) { const v = x[xo + i]; if (v < acc[a + i * as]) acc[a + i * as] = v; } },
};

function reduce(kind: Kind): RefKernel {
  return (node, inputs) => {
    const x = input(node, inputs, 0, 'data');
    if (x.dtype === 'int64' || x.dtype === 'bool') nodeFail(node, `${node.op} does not take ${x.dtype} tensors`);
    const rank = x.shape.length;
    const given = intsFromInputOrAttr(node, inputs, 1, 'axes') ?? [];
    if (given.length === 0 && attrInt(node, 'noop_with_empty_axes', 0) !== 0) return [x];
    const axes = given.length === 0 ? x.shape.map((_, i) => i) : normAxes(node, given, rank);
    const keep = attrInt(node, 'keepdims', 1) !== 0;
    const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    let count = 1;
    for (const a of axes) count *= x.shape[a];
    if (count === 0 && (kind === 'max' || kind === 'min')) nodeFail(node, `cannot take the ${kind} over an empty axis`);
    // Accumulator laid out as the kept shape; reduced axes read with stride 0.
    const keptStr = stridesOf(kept).map((s, i) => (axes.includes(i) ? 0 : s));
    const acc = new Float64Array(kept.reduce((p, d) => p * d, 1)).fill(INIT[kind]);
    const row = ROWS[kind];
    const n = rank === 0 ? 1 : x.shape[rank - 1];
    const [as] = lastStrides([keptStr]);
    const xd = x.data as NumArray;
    forEachRow(x.shape, [keptStr], (o, offs) => row(acc, offs[0], as, xd, o, n));
    const y = new Tensor(x.dtype, keep ? kept : x.shape.filter((_, i) => !axes.includes(i)));
    const yd = y.data as NumArray;
    for (let i = 0; i < acc.length; i++) yd[i] = kind === 'mean' ? acc[i] / count : acc[i];
    return [y];
  };
}

export const REDUCE_KERNELS: Record<string, RefKernel> = {
  ReduceMean: reduce('mean'),
  ReduceSum: reduce('sum'),
  ReduceMax: reduce('max'),
  ReduceMin: reduce('min'),
};
