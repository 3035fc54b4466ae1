// Session test helpers: seeded feeds for any graph, and a check that runs a
// graph in a 1-thread session and a 2-thread one (every step split) against the
// reference runtime at several batch sizes.
import { Graph } from '../../src/ir/graph.js';
import { Rng } from '../../src/ir/random.js';
import { Tensor, fromNumbers } from '../../src/ir/tensor.js';
import { runReference } from '../../src/runtime/reference.js';
import { Session, type SessionOptions } from '../../src/runtime/session.js';
import { createNodeSession } from '../../src/runtime/session_node.js';
import { assertClose, assertExact } from '../ir/ref/helpers.js';

/** Random feeds: symbolic dims = batch, floats in [-1, 1), integers in [0, 4). */
export function randomFeeds(g: Graph, batch: number, seed: number): Record<string, Tensor> {
  const rng = new Rng(seed);
  const feeds: Record<string, Tensor> = {};
  for (const v of g.inputs) {
    if (g.initializers.has(v.name)) continue;
    const shape = v.shape.map((d) => (typeof d === 'number' ? d : batch));
    const n = shape.reduce((a, b) => a * b, 1);
    feeds[v.name] = v.dtype === 'float32' ? new Tensor('float32', shape, rng.floats(n)) : fromNumbers(v.dtype, shape, Array.from({ length: n }, () => rng.int(4)));
  }
  return feeds;
}

export function compareOutputs(got: Record<string, Tensor>, want: Record<string, Tensor>, label: string, rtol = 1e-5): void {
  for (const [name, w] of Object.entries(want)) {
    const a = got[name];
    if (!a) throw new Error(`${label}: output ${name} missing`);
    if (w.dtype === 'float32' || w.dtype === 'float64') assertClose(a, w, rtol, `${label} ${name}`);
    else assertExact(a, w.dtype, w.shape, Array.from(w.data as ArrayLike<number | bigint>), `${label} ${name}`);
  }
}

/**
 * Runs `g` on 1 thread and on 2 threads with every step split (splitFlops 0) at each
 * batch, against runReference; returns the 1-thread session (open) for plan checks.
 */
export async function checkAgainstReference(g: Graph, batches: number[], label: string, opts: SessionOptions = {}, rtol = 1e-5): Promise<Session> {
  const one = await Session.create(g, opts);
  const two = await createNodeSession(g, { ...opts, threads: 2, splitFlops: 0 });
  try {
    for (const batch of batches) {
      const feeds = randomFeeds(g, batch, 100 + batch);
      const want = runReference(g, feeds);
      compareOutputs(one.run(feeds), want, `${label} batch ${batch} (1 thread)`, rtol);
      compareOutputs(two.run(feeds), want, `${label} batch ${batch} (2 threads)`, rtol);
    }
  } finally {
    await two.dispose();
  }
  return one;
}
