// The reference runtime: runs a graph node by node with the plain-TS reference
// kernels. It is the oracle for the fast runtime, so it checks its feeds strictly
// and favours clarity; intermediate values are dropped after their last use.
import type { Graph, Node, ValueInfo } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import { NnzipError, fail } from '../ir/errors.js';
import { getRefKernel, refOps } from '../ir/ref/index.js';
import { checkFeeds } from './feeds.js';

export interface RunReferenceOptions {
  /** Value names to return (any value in the graph); default: the graph outputs. */
  outputs?: string[];
}

/**
 * For each node, the values to drop once it has run: values read for the last
 * time, and outputs nobody reads. Kept names and initializers are never dropped.
 */
export function releaseSchedule(graph: Graph, keep: ReadonlySet<string>): string[][] {
  const last = new Map<string, number>();
  graph.nodes.forEach((n, i) => {
    for (const name of n.outputs) if (name) last.set(name, i);
    for (const name of n.inputs) if (name) last.set(name, i);
  });
  const schedule = graph.nodes.map(() => [] as string[]);
  for (const [name, i] of last) {
    if (!keep.has(name) && !graph.initializers.has(name)) schedule[i].push(name);
  }
  return schedule;
}

function nodeInputs(node: Node, values: Map<string, Tensor>): (Tensor | undefined)[] {
  return node.inputs.map((name) => {
    if (name === '') return undefined;
    const t = values.get(name);
    if (!t) fail(`node "${node.name}" (${node.op}): input "${name}" is not defined by any earlier node, initializer or graph input`);
    return t;
  });
}

function runNode(node: Node, inputs: (Tensor | undefined)[]): Tensor[] {
  const kernel = getRefKernel(node.op);
  if (!kernel) fail(`node "${node.name}" (${node.op}): op ${node.op} has no reference kernel; supported: ${refOps().join(', ')}`);
  let outs: Tensor[];
  try {
    outs = kernel(node, inputs);
  } catch (e) {
    if (e instanceof NnzipError) throw e;
    // An internal failure: keep the node in the message so it can be found.
    throw new Error(`node "${node.name}" (${node.op}): ${(e as Error).message}`, { cause: e });
  }
  node.outputs.forEach((name, k) => {
    if (name && !outs[k]) throw new Error(`node "${node.name}" (${node.op}): the kernel returned no output ${k} ("${name}")`);
  });
  return outs;
}

/**
 * Runs the graph on the feeds and returns the graph outputs (or opts.outputs).
 * Returned tensors may share data with feeds or initializers (Identity, Reshape):
 * treat them as read-only, or clone() before writing.
 */
export function runReference(graph: Graph, feeds: Record<string, Tensor>, opts: RunReferenceOptions = {}): Record<string, Tensor> {
  checkFeeds(graph, feeds);
  const wanted = opts.outputs ?? graph.outputs.map((v: ValueInfo) => v.name);
  const known = new Set<string>([...graph.initializers.keys(), ...graph.inputs.map((v) => v.name)]);
  for (const n of graph.nodes) for (const o of n.outputs) if (o) known.add(o);
  for (const name of wanted) if (!known.has(name)) fail(`output "${name}" is not a value of graph "${graph.name}"`);

  const values = new Map<string, Tensor>(graph.initializers);
  for (const [name, t] of Object.entries(feeds)) values.set(name, t);
  const release = releaseSchedule(graph, new Set(wanted));
  graph.nodes.forEach((node, i) => {
    const outs = runNode(node, nodeInputs(node, values));
    node.outputs.forEach((name, k) => name && values.set(name, outs[k]));
    for (const name of release[i]) values.delete(name);
  });
  const result: Record<string, Tensor> = {};
  for (const name of wanted) {
    const t = values.get(name);
    if (!t) fail(`output "${name}" was not computed: no node before it produces it`);
    result[name] = t;
  }
  return result;
}
