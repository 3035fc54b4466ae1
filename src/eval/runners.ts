// Adapters from a graph to the runner shapes evaluate() and compareWithOrt() take.
import type { Graph } from '../ir/graph.js';
import { f32, type Tensor } from '../ir/tensor.js';
import { runReference } from '../runtime/reference.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import { createNodeSession, type NodeSessionOptions } from '../runtime/session_node.js';
import type { Dataset } from '../data/datasets.js';
import { evaluate, type BatchRunner, type EvalResult } from './evaluate.js';
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

/** A GraphRunner on the fast runtime, with a way to release it (worker threads when threads > 1). */
export type SessionRunner = GraphRunner & {
  /** The session (created on first use). */
  session(): Promise<Session>;
  dispose(): Promise<void>;
};

/**
 * The Session as a GraphRunner: created on the first call (planned for the first
 * batch; a bigger batch re-plans), Node worker threads when opts.threads > 1.
 */
export function sessionRunner(graph: Graph, opts: NodeSessionOptions & Pick<SessionOptions, 'threadPool'> = {}): SessionRunner {
  let made: Promise<Session> | undefined;
  const session = (): Promise<Session> => {
    made ??= opts.threadPool ? Session.create(graph, opts) : createNodeSession(graph, opts);
    return made;
  };
  const run = async (feeds: Record<string, Tensor>) => (await session()).run(feeds);
  return Object.assign(run, {
    session,
    async dispose() {
      if (made) await (await made).dispose();
      made = undefined;
    },
  });
}

/** Test-set accuracy of a graph as the fast runtime runs it (the session is released after). */
export async function sessionAccuracy(
  graph: Graph,
  ds: Dataset,
  opts: { limit?: number; batch?: number; threads?: number; winograd?: SessionOptions['winograd']; onProgress?: (done: number, total: number, correct: number) => void } = {},
): Promise<EvalResult> {
  const runner = sessionRunner(graph, { threads: opts.threads ?? 1, batch: opts.batch ?? 100, winograd: opts.winograd });
  try {
    return await evaluate(batchRunner(graph, runner, ds.shape), ds, opts);
  } finally {
    await runner.dispose();
  }
}
