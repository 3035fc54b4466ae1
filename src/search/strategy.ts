// Search strategies: each proposes a generation of candidates from what the earlier
// generations measured. A generation depends only on the seed, its number and the
// results before it, never on the order results arrive in, so one process and N
// workers find the same front.
//   random: every choice uniform.
//   guided: generation 0 = sensitivity-greedy (per layer the lowest density whose
//   accuracy drop, measured layer by layer without fine-tuning, stays under a
//   threshold; one threshold per candidate); then evolution — parents by tournament
//   over the ranked results, uniform crossover, and mutations that compress the
//   layers the prior says tolerate it when a parent is within the loss bound and
//   relax the sensitive ones when it is not.
import { Rng } from '../ir/random.js';
import type { Evaluation } from './evaluate.js';
import { rank, violation, type Goal } from './targets.js';
import { candidateHash, GENES, repair, type Candidate, type LayerChoice, type LayerSpace, type Space } from './space.js';

export const STRATEGIES = ['guided', 'random'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

/** Accuracy drop of each layer pruned alone to each density of its space (no fine-tuning). */
export interface Prior {
  drop: number[][];
}

export interface Proposal {
  space: Space;
  prior: Prior;
  goal: Goal;
  /** Every candidate evaluated so far, with its result (failed ones left out). */
  history: { candidate: Candidate; result: Evaluation }[];
  /** Hashes already proposed (evaluated or failed): not proposed again. */
  seen: Set<string>;
  generation: number;
  count: number;
  seed: number;
}

const pickOf = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

function randomCandidate(space: Space, rng: Rng): Candidate {
  return repair({
    layers: space.layers.map((l) => Object.fromEntries(GENES.map((g) => [g, pickOf(rng, l[g] as readonly unknown[])])) as unknown as LayerChoice),
    winograd: pickOf(rng, space.winograd),
    ...quantizeOf(pickOf(rng, space.quantize)),
  });
}

const quantizeOf = (q: Candidate['quantize']): Pick<Candidate, 'quantize'> => (q ? { quantize: q } : {});

/** Up to `count` candidates not seen before, drawn by `draw` (gives up after many repeats: a small space is exhausted). */
function fresh(p: Proposal, draw: (rng: Rng, i: number) => Candidate): Candidate[] {
  const rng = new Rng((p.seed * 1000003 + p.generation * 7919) >>> 0);
  const out: Candidate[] = [];
  const seen = new Set(p.seen);
  for (let tries = 0; out.length < p.count && tries < p.count * 50; tries++) {
    const c = draw(rng, out.length);
    const h = candidateHash(c);
    if (seen.has(h)) continue;
    seen.add(h);
    out.push(c);
  }
  return out;
}

export function proposeRandom(p: Proposal): Candidate[] {
  return fresh(p, (rng) => randomCandidate(p.space, rng));
}

/** Sensitivity-greedy: per layer the lowest density within `threshold` drop; values and filters by the same level (no patterns, float). */
function greedy(p: Proposal, level: number, threshold: number): Candidate {
  return repair({
    layers: p.space.layers.map((l, i): LayerChoice => {
      let d = 0;
      for (let j = 0; j < l.density.length; j++) if ((p.prior.drop[i]?.[j] ?? Infinity) <= threshold) d = j;
      const shares = l.values.filter((v) => v.startsWith('q'));
      return {
        density: l.density[d],
        values: level === 0 ? 'f32' : shares[Math.min(shares.length - 1, Math.floor(level * shares.length))] ?? 'f32',
        filters: l.filters[Math.min(l.filters.length - 1, Math.floor(level * level * l.filters.length))],
        pattern: 'none',
        quant: l.quant[0],
      };
    }),
    winograd: 0,
  });
}

/** Which layer a mutation touches: weighted by size and by the prior (tolerant layers to compress, sensitive to relax). */
function pickLayer(p: Proposal, rng: Rng, compress: boolean): number {
  const w = p.space.layers.map((l, i) => {
    if (genes(l).length === 0) return 0; // nothing to choose on this layer (a restricted space)
    const drop = Math.max(0, p.prior.drop[i]?.[2] ?? 0);
    return Math.sqrt(l.weights) * (compress ? 1 / (0.01 + drop) : 0.01 + drop);
  });
  let r = rng.next() * w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < w.length; i++) if ((r -= w[i]) <= 0) return i;
  return w.length - 1;
}

/** One gene of a layer moved one step (more compressed or less). */
const genes = (l: LayerSpace) => GENES.filter((g) => l[g].length > 1);

function step(l: LayerSpace, ch: LayerChoice, rng: Rng, dir: 1 | -1): LayerChoice {
  const all = genes(l);
  if (all.length === 0) return ch;
  const g = pickOf(rng, all);
  const opts = l[g] as readonly (number | string)[];
  const i = Math.max(0, Math.min(opts.length - 1, opts.indexOf(ch[g]) + dir));
  return { ...ch, [g]: opts[i] };
}

function mutate(p: Proposal, rng: Rng, c: Candidate, parent: Evaluation): Candidate {
  const lossOk = p.goal.baseline - parent.accuracy <= p.goal.maxLoss;
  const meets = violation(p.goal, parent) === 0;
  const layers = [...c.layers];
  const moves = 1 + rng.int(2);
  for (let m = 0; m < moves; m++) {
    const dir: 1 | -1 = meets ? (rng.next() < 0.5 ? 1 : -1) : lossOk ? 1 : -1;
    const i = pickLayer(p, rng, dir === 1);
    layers[i] = step(p.space.layers[i], layers[i], rng, dir);
  }
  const winograd = rng.next() < 0.1 ? pickOf(rng, p.space.winograd) : c.winograd;
  const quantize = rng.next() < 0.1 ? pickOf(rng, p.space.quantize) : c.quantize;
  return repair({ layers, winograd, ...quantizeOf(quantize) });
}

export function proposeGuided(p: Proposal): Candidate[] {
  if (p.generation === 0 || p.history.length === 0) {
    const n = Math.max(p.count, 1);
    return fresh(p, (rng, i) => (i < n ? greedy(p, i / n, 0.002 * 2 ** (i * 8 / n)) : randomCandidate(p.space, rng)));
  }
  const ranked = rank(p.goal, p.history.map((h) => h.result));
  const byHash = new Map(p.history.map((h) => [h.result.hash, h]));
  const pool = ranked.slice(0, Math.max(2, Math.ceil(ranked.length / 2))).map((e) => byHash.get(e.hash)!);
  const tournament = (rng: Rng) => {
    const a = rng.int(pool.length);
    const b = rng.int(pool.length);
    return pool[Math.min(a, b)]; // the pool is ranked: the lower index wins
  };
  return fresh(p, (rng) => {
    const a = tournament(rng);
    const b = tournament(rng);
    const child = { layers: a.candidate.layers.map((l, i) => (rng.next() < 0.5 ? l : b.candidate.layers[i])), winograd: a.candidate.winograd, ...quantizeOf(a.candidate.quantize) };
    return mutate(p, rng, child, a.result);
  });
}

export function propose(name: StrategyName, p: Proposal): Candidate[] {
  return name === 'guided' ? proposeGuided(p) : proposeRandom(p);
}
