// The built-in architectures by name (each an IR Graph, so it goes through
// modelFromGraph and exports to ONNX exactly like an imported model).
import type { Graph } from '../../ir/graph.js';
import { fail } from '../../ir/errors.js';
import type { ArchOptions } from './builder.js';
import { lenet300 } from './lenet300.js';
import { lenet5 } from './lenet5.js';
import { vggs } from './vggs.js';

export const ARCHITECTURES: Record<string, (opts?: ArchOptions) => Graph> = {
  lenet300,
  lenet5,
  vggs,
};

export function buildArchitecture(name: string, opts: ArchOptions = {}): Graph {
  const make = ARCHITECTURES[name];
  if (!make) fail(`--arch ${name}: unknown architecture; choose one of ${Object.keys(ARCHITECTURES).join(', ')}`);
  return make(opts);
}

export { lenet300, lenet5, vggs };
export type { ArchOptions };
