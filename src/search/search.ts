// The search loop: generations proposed by the strategy, evaluated on a queue, every
// outcome recorded in the state, which the caller saves after each (atomically);
// a state given back resumes where it stopped — generations already proposed are
// kept, candidates already measured are not evaluated again.
import { createHash } from 'node:crypto';
import { fail } from '../ir/errors.js';
import type { Evaluation, Problem, ProblemSpec } from './evaluate.js';
import type { CandidateQueue, Outcome } from './queue.js';
import { candidateHash as hashOf, candidateRecipe, type Candidate } from './space.js';
import { propose, type StrategyName } from './strategy.js';
import { computePrior, gainKind, unchangedFigure, type Prior } from './prior.js';
import { paretoFront, rank, violation, type Goal, type Target } from './targets.js';
import type { Recipe } from '../compress/recipe.js';

export interface Budget {
  /** Candidates evaluated, in all. */
  candidates?: number;
  /** Wall-clock seconds (no generation starts after it). */
  seconds?: number;
}

export interface FinalSpec {
  /** Fine-tuning epochs of each stage (0 = no final fine-tune). */
  epochs: number;
  /** Cap on steps per epoch (compress --max-steps); absent = whole epochs. */
  steps?: number;
  /** How many points (final.ts finalPoints: the best ranked and the smallest within the loss bound, in turn). */
  points: number;
}

export interface FinalState {
  spec: FinalSpec;
  /** Test-set accuracy of the model as given (the proxy's baseline is the held-out slice's). */
  baseline: number;
  /** The proxy results fine-tuned, in finalPoints' order. */
  hashes: string[];
  results: Record<string, Evaluation>;
  failed: Record<string, string>;
}

export interface SearchState {
  format: 'nnzip-search-state';
  /** The model and the problem spec's hash: a state resumes only the search it belongs to. */
  problemId: string;
  spec: ProblemSpec;
  strategy: StrategyName;
  seed: number;
  target: Target;
  maxLoss: number;
  baseline: number;
  prior: Prior;
  generationSize: number;
  /** Candidate hashes of each generation, in proposal order. */
  generations: string[][];
  candidates: Record<string, Candidate>;
  results: Record<string, Evaluation>;
  failed: Record<string, string>;
  /** Seconds spent, over all runs. */
  seconds: number;
  /** The best points fine-tuned fully (final.ts), once the search is done. */
  final?: FinalState;
}

export function problemId(model: Uint8Array, spec: ProblemSpec): string {
  return createHash('sha256').update(model).update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

export interface StartOptions {
  problem: Problem;
  problemId: string;
  strategy: StrategyName;
  seed: number;
  target: Target;
  maxLoss: number;
  generationSize: number;
  /** Progress of the prior's single moves. */
  onPrior?: (done: number, total: number) => void;
}

/** Only the guided strategy reads a prior; random gets an empty one (nothing measured, no time spent). */
async function priorFor(problem: Problem, strategy: StrategyName, kind: Target['kind'], onMove?: (done: number, total: number) => void): Promise<Prior> {
  return strategy === 'guided' ? computePrior(problem, kind, onMove) : { kind: gainKind(kind), moves: [], seconds: 0 };
}

export async function newState(o: StartOptions): Promise<SearchState> {
  return {
    format: 'nnzip-search-state', problemId: o.problemId, spec: o.problem.spec, strategy: o.strategy, seed: o.seed,
    target: o.target, maxLoss: o.maxLoss, baseline: o.problem.baseline, prior: await priorFor(o.problem, o.strategy, o.target.kind, o.onPrior),
    generationSize: o.generationSize, generations: [], candidates: {}, results: {}, failed: {}, seconds: 0,
  };
}

export const goalOf = (s: SearchState): Goal => ({ target: s.target, maxLoss: s.maxLoss, baseline: s.baseline });

/** The measured candidates in proposal order. */
export function history(s: SearchState): { candidate: Candidate; result: Evaluation }[] {
  return s.generations.flat().flatMap((h) => (s.results[h] ? [{ candidate: s.candidates[h], result: s.results[h] }] : []));
}

export interface RunOptions {
  queue: CandidateQueue;
  budget: Budget;
  /** Called after each change of the state (write it atomically). */
  save: (s: SearchState) => void;
  onOutcome?: (o: Outcome, s: SearchState) => void;
}

/**
 * A state saved by an nnzip whose prior measured pruning only gets the prior of every move; one
 * saved before the prior kept the unchanged model's figure gets it measured (proposals already made are kept).
 */
export async function upgradePrior(problem: Problem, s: SearchState): Promise<void> {
  if (!Array.isArray((s.prior as Partial<Prior> | undefined)?.moves)) s.prior = await priorFor(problem, s.strategy, s.target.kind);
  else if (s.strategy === 'guided' && s.prior.figure === undefined) s.prior.figure = await unchangedFigure(problem, s.prior.kind);
}

/** Runs generations until the budget is spent or the space gives nothing new; returns the state. */
export async function runSearch(problem: Problem, s: SearchState, o: RunOptions): Promise<SearchState> {
  const t0 = performance.now();
  const s0 = s.seconds;
  const elapsed = () => s0 + (performance.now() - t0) / 1000;
  for (let gen = 0; ; gen++) {
    let hashes = s.generations[gen];
    if (!hashes) {
      const proposed = s.generations.flat().length;
      const room = o.budget.candidates === undefined ? s.generationSize : Math.min(s.generationSize, o.budget.candidates - proposed);
      if (room <= 0 || (o.budget.seconds !== undefined && elapsed() >= o.budget.seconds)) break;
      const seen = new Set(s.generations.flat());
      const next = propose(s.strategy, { space: problem.space, prior: s.prior, goal: goalOf(s), history: history(s), seen, generation: gen, count: room, seed: s.seed });
      if (next.length === 0) break;
      hashes = next.map((c) => {
        const h = hashOf(c);
        s.candidates[h] = c;
        return h;
      });
      s.generations.push(hashes);
      o.save(s);
    }
    const pending = hashes.filter((h) => !s.results[h] && s.failed[h] === undefined);
    await o.queue.evaluate(pending.map((h) => ({ hash: h, candidate: s.candidates[h] })), (out) => {
      if (!s.candidates[out.hash] || s.results[out.hash] || s.failed[out.hash] !== undefined) return; // a late duplicate
      if ('result' in out) s.results[out.hash] = out.result;
      else s.failed[out.hash] = out.error;
      s.seconds = elapsed();
      o.save(s);
      o.onOutcome?.(out, s);
    });
  }
  s.seconds = elapsed();
  o.save(s);
  return s;
}

/** A result and whether it meets the goal. */
export type FrontPoint = Evaluation & { meets: boolean };

export interface SearchSummary {
  target: Target;
  maxLoss: number;
  /** Threads the latencies were measured (or planned) at. */
  threads?: number;
  /** Held-out accuracy of the model as given (the proxy's scores are on the same slice). */
  baseline: number;
  evaluated: number;
  failed: number;
  /** The proxy's Pareto front (size, latency, accuracy), with each point's hash and whether it meets the goal. */
  front: FrontPoint[];
  /** The final runs: test-set baseline, the front of the fully fine-tuned points, each with its proxy result. */
  final?: { epochs: number; steps?: number; baseline: number; finished: number; failed: number; front: (FrontPoint & { proxy: Evaluation })[] };
  /** The best result meeting the goal (a final one when there are final runs), if any. */
  winner?: Evaluation;
  /** The result closest to the goal when none meets it. */
  closest?: Evaluation;
}

/** The front of some results against a goal, and the best of them. */
function judge(goal: Goal, all: Evaluation[]): { front: FrontPoint[]; winner?: Evaluation; closest?: Evaluation } {
  const best = rank(goal, all)[0];
  const meets = best !== undefined && violation(goal, best) === 0;
  return { front: paretoFront(all).map((e) => ({ ...e, meets: violation(goal, e) === 0 })), winner: meets ? best : undefined, closest: meets ? undefined : best };
}

export function summarize(s: SearchState): SearchSummary {
  const all = Object.values(s.results);
  const proxy = judge(goalOf(s), all);
  const sum: SearchSummary = { target: s.target, maxLoss: s.maxLoss, threads: s.spec.threads ?? 1, baseline: s.baseline, evaluated: all.length, failed: Object.keys(s.failed).length, ...proxy };
  if (!s.final) return sum;
  const f = s.final;
  const fin = judge({ ...goalOf(s), baseline: f.baseline }, Object.values(f.results));
  sum.final = {
    epochs: f.spec.epochs, ...(f.spec.steps === undefined ? {} : { steps: f.spec.steps }), baseline: f.baseline,
    finished: Object.keys(f.results).length, failed: Object.keys(f.failed).length,
    front: fin.front.map((e) => ({ ...e, proxy: s.results[e.hash] })),
  };
  return sum.final.finished === 0 ? sum : { ...sum, winner: fin.winner, closest: fin.closest };
}

/** The recipe of a measured candidate, as `compress --recipe` runs it. */
export function recipeOf(problem: Problem, s: SearchState, hash: string): Recipe {
  const c = s.candidates[hash] ?? fail(`search: no candidate ${hash} in the state`);
  return candidateRecipe(problem.space, c, s.spec.proxy, `search-${hash}`);
}
