// Shared by the pass tests: purity check (the input graph is left untouched),
// output equivalence through the reference runtime, and small graph builders.
import assert from 'node:assert/strict';
import { Graph, type Node } from '../../../src/ir/graph.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { runReference } from '../../../src/runtime/reference.js';
import { verify } from '../../../src/ir/verify.js';
import { assertClose } from '../../ir/ref/helpers.js';

export const node = (op: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}, name?: string): Node => ({
  name: name ?? `${op}_${outputs[0]}`, op, inputs, outputs, attrs,
});

function snapshot(g: Graph): string {
  const inits = [...g.initializers].map(([k, t]) => [k, t.dtype, t.shape, Array.from(t.data as ArrayLike<number | bigint>, String)]);
  return JSON.stringify({ name: g.name, inputs: g.inputs, outputs: g.outputs, nodes: g.nodes, inits, opset: g.opset });
}

/**
 * Runs the pass, asserting it neither mutates its input graph nor shares node
 * objects with the result, then verify()s the result (unless the test graph is
 * deliberately outside the IR's rules, e.g. an initializer that is also an input).
 */
export function runPure(pass: (g: Graph) => Graph, g: Graph, check = true): Graph {
  const before = snapshot(g);
  const nodesBefore = [...g.nodes];
  const out = pass(g);
  assert.equal(snapshot(g), before, 'the pass changed its input graph');
  assert.notEqual(out, g, 'the pass must return a new graph');
  for (const n of out.nodes) assert.ok(!nodesBefore.includes(n), `node "${n.name}" object is shared with the input graph`);
  if (check) verify(out);
  return out;
}

/** Both graphs give the same outputs (by graph output position) on the feeds. */
export function assertSameOutputs(a: Graph, b: Graph, feeds: Record<string, Tensor>, rtol = 1e-5): void {
  const ra = runReference(a, feeds);
  const rb = runReference(b, feeds);
  a.outputs.forEach((v, i) => assertClose(rb[b.outputs[i].name], ra[v.name], rtol, `output ${v.name}`));
}

export function ops(g: Graph): string[] {
  return g.nodes.map((n) => n.op);
}
