// Seeded pattern-pruned 3×3 weights for the tests of every stage (compressor,
// format, kernels, planner): K patterns, a fraction of kernels kept, values at
// the kept taps only.
import { Rng } from '../../src/ir/random.js';
import { maskTaps, REMOVED_KERNEL } from '../../src/ir/pattern.js';
import type { PatternFormat } from '../../src/ir/tensor_format.js';
import { CANDIDATES } from '../../src/compress/pattern/project.js';

export interface PatternWeight {
  w: Float32Array;
  format: PatternFormat;
}

/** M×C kernels, each kept with probability `keep` (every filter keeps at least one), in one of the first K candidates (or the given masks). */
export function patternWeight(seed: number, M: number, C: number, K: number, keep: number, masks?: number[]): PatternWeight {
  const r = new Rng(seed);
  const set = masks ?? Array.from({ length: K }, (_, i) => CANDIDATES[(i * 13 + seed) % CANDIDATES.length]);
  const assign = new Uint8Array(M * C).fill(REMOVED_KERNEL);
  const w = new Float32Array(M * C * 9);
  for (let m = 0; m < M; m++) {
    const forced = r.int(C);
    for (let c = 0; c < C; c++) {
      const k = m * C + c;
      // kernels 0..K-1 use every pattern once, so the set is exactly what the zeros show
      if (k >= set.length && c !== forced && r.next() >= keep) continue;
      const p = k < set.length ? k : r.int(set.length);
      assign[k] = p;
      for (const t of maskTaps(set[p])) w[k * 9 + t] = r.uniform(-1, 1) || 0.5;
    }
  }
  return { w, format: { kind: 'pattern', masks: set, assign } };
}
