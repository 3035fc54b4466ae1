// Feed checks with the reference runtime's messages: every feed is a graph input,
// every input without a default is fed, dtypes and ranks match, fixed dims are
// equal and a symbolic dim has one size across the inputs.
import { fail } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';

function typeStr(dtype: string, shape: readonly (number | string)[]): string {
  return `${dtype} [${shape.join(',')}]`;
}

/** Checks the feeds against the graph inputs; returns the concrete shape of each fed input. */
export function checkFeeds(graph: Graph, feeds: Record<string, Tensor>): Record<string, number[]> {
  const names = new Set(graph.inputs.map((v) => v.name));
  for (const name of Object.keys(feeds)) {
    if (!names.has(name)) fail(`feed "${name}" is not an input of graph "${graph.name}"; its inputs are: ${[...names].join(', ') || '(none)'}`);
  }
  const shapes: Record<string, number[]> = {};
  const bound = new Map<string, { size: number; input: string }>();
  for (const vi of graph.inputs) {
    const t = feeds[vi.name];
    if (!t) {
      if (graph.initializers.has(vi.name)) continue;
      fail(`input "${vi.name}": missing from the feeds; expected ${typeStr(vi.dtype, vi.shape)}`);
    }
    const mismatch = () => fail(`input "${vi.name}": expected ${typeStr(vi.dtype, vi.shape)}, got ${typeStr(t.dtype, t.shape)}`);
    if (t.dtype !== vi.dtype || t.shape.length !== vi.shape.length) mismatch();
    vi.shape.forEach((d, i) => {
      if (typeof d === 'number') {
        if (d !== t.shape[i]) mismatch();
        return;
      }
      const prev = bound.get(d);
      if (prev && prev.size !== t.shape[i]) fail(`input "${vi.name}": dim ${d} is ${t.shape[i]} here but ${prev.size} in input "${prev.input}"; symbolic dims must agree`);
      bound.set(d, { size: t.shape[i], input: vi.name });
    });
    if (t.data.length !== t.shape.reduce((p, d) => p * d, 1)) fail(`input "${vi.name}": ${t.data.length} values for shape [${t.shape.join(',')}]`);
    shapes[vi.name] = [...t.shape];
  }
  return shapes;
}

/** A key naming the fed inputs and their shapes (one plan per key). */
export function shapeKey(shapes: Record<string, number[]>): string {
  return Object.entries(shapes).map(([k, v]) => `${k}:${v.join('x')}`).join(';');
}
