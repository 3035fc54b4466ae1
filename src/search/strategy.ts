// Search strategies: each proposes a generation of candidates from what the earlier
// generations measured. A generation depends only on the seed, its number and the
// results before it, never on the order results arrive in, so one process and N
// workers find the same front.
//   random: every choice uniform.
//   guided: generation 0 spends a loss budget move by move, the moves that save the
//   most of the target's figure per accuracy lost first (prior.ts measures each
//   move alone, without fine-tuning; one budget per candidate, from a fraction of
//   the allowed loss to many times it, since fine-tuning wins much of it back),
//   stopping once the moves' estimated savings reach the target (then tighter ones);
//   then evolution — parents by tournament over the ranked results, uniform
//   crossover, and mutations that move one gene of one layer a step: towards
//   more compression, picked by saving per loss, when a parent is within the loss
//   bound; back, picked by the loss the current option costs, when it is not.
import { Rng } from '../ir/random.js';
import type { Evaluation } from './evaluate.js';
import { rank, violation, type Goal } from './targets.js';
import { candidateHash, GENES, isRepaired, repair, type Candidate, type Gene, type LayerChoice, type Space } from './space.js';
import { moveOf, unchanged, withMove, type Move, type Prior } from './prior.js';

export const STRATEGIES = ['guided', 'random'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

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

/** Up to `count` candidates not seen before, drawn by `draw` (given the attempt's number; gives up after many repeats: a small space is exhausted). */
function fresh(p: Proposal, draw: (rng: Rng, attempt: number) => Candidate): Candidate[] {
  const rng = new Rng((p.seed * 1000003 + p.generation * 7919) >>> 0);
  const out: Candidate[] = [];
  const seen = new Set(p.seen);
  for (let tries = 0; out.length < p.count && tries < p.count * 50; tries++) {
    const c = draw(rng, tries);
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

/** Saving per accuracy lost (a move that costs nothing or gains accuracy ranks by its saving alone). */
const efficiency = (m: Move) => (m.gain + 1e-6) / (Math.max(0, m.drop) + 1e-4);

const optionOf = (space: Space, c: Candidate, layer: number, gene: Gene) =>
  (space.layers[layer][gene] as readonly unknown[]).indexOf(c.layers[layer][gene]);

/**
 * The greedy start: from the model as given, apply the measured moves best saving per
 * loss first while the sum of their drops (each replacing the drop of the option it
 * supersedes) stays within `budget`, until their estimated savings (Savings) reach
 * `enough`; a move that the others make impossible (repair would change
 * it: patterns and pruning on one layer, sharing next to binary) is skipped.
 */
function allocate(p: Proposal, budget: number, enough: number): Candidate {
  const order = p.prior.moves.filter((m) => Number.isFinite(m.drop) && m.gain > 0)
    .sort((a, b) => efficiency(b) - efficiency(a) || a.layer - b.layer || a.option - b.option || (a.gene < b.gene ? -1 : a.gene > b.gene ? 1 : 0));
  const savings = new Savings(p.prior);
  let c = unchanged(p.space);
  let spent = 0;
  for (const m of order) {
    if (savings.total >= enough) break;
    const cur = optionOf(p.space, c, m.layer, m.gene);
    if (m.option <= cur) continue;
    const extra = Math.max(0, m.drop) - Math.max(0, moveOf(p.prior, m.layer, m.gene, cur)?.drop ?? 0);
    if (spent + extra > budget) continue;
    const next = withMove(p.space, c, m.layer, m.gene, m.option);
    if (!isRepaired(next)) continue;
    c = next;
    spent += extra;
    savings.set(m);
  }
  return repair(c);
}

/**
 * The part of the figure a set of moves saves, estimated from their single savings: a
 * layer's genes compound (pruning then sharing saves of what pruning left), its share
 * of the figure taken as its largest single saving; layers add up. A plain sum would
 * count a layer's bytes once per gene (fc1 pruned, shared and quantized "saved" 145%
 * of VGG-S's file, where the three save 50%). Thinning filters also shrinks the next
 * layer's inputs, so its saving is not the layer's own: it sets the share only of a layer
 * with no other move (VGG-S's features.17 thinned to half saved 38% of the file, its own
 * bytes 25%: taken as its share, the estimate reached a 64 KB target at 310–330 KB).
 */
class Savings {
  private readonly share = new Map<number, number>();
  private readonly kept = new Map<number, Map<string, number>>();
  total = 0;

  constructor(prior: Prior) {
    const own = (m: Move) => m.gene !== 'filters' || !prior.moves.some((o) => o.layer === m.layer && o.gene !== 'filters' && o.gain > 0);
    for (const m of prior.moves) if (m.gain > 0 && own(m)) this.share.set(m.layer, Math.max(m.gain, this.share.get(m.layer) ?? 0));
  }

  /** Takes move m (replacing its gene's earlier option on that layer). */
  set(m: Move): void {
    const share = this.share.get(m.layer) ?? 0;
    if (!(share > 0)) return;
    const genes = this.kept.get(m.layer) ?? new Map<string, number>();
    this.kept.set(m.layer, genes);
    genes.set(m.gene, 1 - Math.min(1, Math.max(0, m.gain) / share));
    this.total = 0;
    for (const [layer, g] of this.kept) this.total += this.share.get(layer)! * (1 - [...g.values()].reduce((a, b) => a * b, 1));
  }
}

/**
 * The part of the unchanged model's figure a candidate must save to reach the target
 * tightened k times by 0.8 (a margin: savings of moves made together do not simply
 * add up); Infinity when the prior cannot tell (a flash target, or a prior saved
 * without its figure): the budget alone then stops the greedy start.
 */
function enoughFor(p: Proposal, k: number): number {
  const { prior, goal } = p;
  if (!prior.figure || goal.target.kind !== prior.kind) return Infinity;
  return 1 - (goal.target.limit * 0.8 ** k) / prior.figure;
}

/** A weighted pick (deterministic for a given rng state); -1 when every weight is 0. */
function pickWeighted(rng: Rng, w: number[]): number {
  const total = w.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return -1;
  let r = rng.next() * total;
  let last = -1;
  for (let i = 0; i < w.length; i++) {
    if (w[i] <= 0) continue;
    last = i;
    if ((r -= w[i]) <= 0) return i;
  }
  return last; // rounding left a little of r
}

/**
 * One gene of one layer moved one option: towards compression, weighted by the next
 * option's saving per loss; or back, weighted by the loss the current option costs.
 */
function step(p: Proposal, rng: Rng, c: Candidate, dir: 1 | -1): Candidate {
  const steps: { layer: number; gene: Gene; option: number }[] = [];
  const w: number[] = [];
  const measured = p.prior.moves.filter((m) => Number.isFinite(m.drop));
  const typical = measured.length ? measured.reduce((s, m) => s + efficiency(m), 0) / measured.length : 1; // a move the prior did not measure
  p.space.layers.forEach((l, layer) => {
    for (const gene of GENES) {
      const cur = optionOf(p.space, c, layer, gene);
      const option = cur + dir;
      if (cur < 0 || option < 0 || option >= l[gene].length) continue;
      const m = moveOf(p.prior, layer, gene, dir === 1 ? option : cur);
      const weight = !m ? (dir === 1 ? typical : 1e-4) : !Number.isFinite(m.drop) ? (dir === 1 ? 0 : 1) : dir === 1 ? efficiency(m) : Math.max(0, m.drop) + 1e-4;
      steps.push({ layer, gene, option });
      w.push(weight);
    }
  });
  const i = pickWeighted(rng, w);
  return i < 0 ? c : withMove(p.space, c, steps[i].layer, steps[i].gene, steps[i].option);
}

function mutate(p: Proposal, rng: Rng, c: Candidate, parent: Evaluation): Candidate {
  const lossOk = p.goal.baseline - parent.accuracy <= p.goal.maxLoss;
  const meets = violation(p.goal, parent) === 0;
  let child = c;
  const moves = 1 + rng.int(2);
  for (let m = 0; m < moves; m++) child = step(p, rng, child, meets ? (rng.next() < 0.5 ? 1 : -1) : lossOk ? 1 : -1);
  const winograd = rng.next() < 0.1 ? pickOf(rng, p.space.winograd) : child.winograd;
  const quantize = rng.next() < 0.1 ? pickOf(rng, p.space.quantize) : child.quantize;
  return repair({ layers: child.layers, winograd, ...quantizeOf(quantize) });
}

export function proposeGuided(p: Proposal): Candidate[] {
  if (p.generation === 0 || p.history.length === 0) {
    const n = Math.max(p.count, 1);
    const loss = Math.max(p.goal.maxLoss, 1e-3);
    // one budget per attempt (a budget that repeats an earlier candidate moves on to the next), each
    // stopping at the target; past n attempts, larger budgets stop at a tighter target each
    return fresh(p, (rng, t) => (t < 2 * n ? allocate(p, loss * 2 ** (t * 8 / n - 2), enoughFor(p, Math.max(0, t - n + 1))) : randomCandidate(p.space, rng)));
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
