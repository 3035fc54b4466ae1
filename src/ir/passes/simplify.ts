// simplify: the ordered list of clean-up passes the ONNX importer runs on every graph.
import type { Graph } from '../graph.js';
import { eliminateIdentity } from './eliminate_identity.js';
import { foldConstants } from './fold_constants.js';
import { foldBatchNorm } from './fold_batchnorm.js';
import { eliminateDeadNodes, removeUnusedInitializers } from './remove_unused.js';

export type Pass = (graph: Graph) => Graph;

export const SIMPLIFY_PASSES: readonly { name: string; run: Pass }[] = [
  { name: 'eliminateIdentity', run: eliminateIdentity },
  { name: 'foldConstants', run: (g) => foldConstants(g) },
  { name: 'foldBatchNorm', run: foldBatchNorm },
  { name: 'eliminateDeadNodes', run: eliminateDeadNodes },
  { name: 'removeUnusedInitializers', run: removeUnusedInitializers },
];

export interface SimplifyOptions {
  /** Called after each pass (tests run verify() here). */
  after?: (pass: string, graph: Graph) => void;
}

export function simplify(graph: Graph, opts: SimplifyOptions = {}): Graph {
  let g = graph;
  for (const pass of SIMPLIFY_PASSES) {
    g = pass.run(g);
    opts.after?.(pass.name, g);
  }
  return g;
}
