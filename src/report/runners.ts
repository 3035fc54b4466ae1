// Adapters from a graph to the runner shapes evaluate() and compareWithOrt() take.
import type { Graph } from '../ir/graph.js';
import { f32, type Tensor } from '../ir/tensor.js';
import { runReference } from '../runtime/reference.js';
import type { BatchRunner } from './evaluate.js';
import type { GraphRunner } from './validate.js';

/** Image batches through the graph's first input and first output. */
export function batchRunner(graph: Graph, run: GraphRunner, image: number[]): BatchRunner {
  const input = graph.inputs[0].name;
  const output = graph.outputs[0].name;
  return async (images, n) => {
    const out = await run({ [input]: f32([n, ...image], images) });
    return out[output].data as Float32Array;
  };
}

export function referenceRunner(graph: Graph): GraphRunner {
  return (feeds: Record<string, Tensor>) => runReference(graph, feeds);
}
