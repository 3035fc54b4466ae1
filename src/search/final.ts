// The final front: the best points the proxy found, each recipe fine-tuned fully —
// whole epochs on the whole training set (or `steps` per epoch), scored on the test
// set, exactly as `nnzip compress --recipe --dataset --seed [--max-steps]` runs it —
// reported next to its proxy figures. Each point is saved in the state as it
// finishes, so a killed run resumes without fine-tuning a point twice.
import { loadDataset } from '../data/datasets.js';
import { sessionAccuracy } from '../eval/runners.js';
import type { Recipe } from '../compress/recipe.js';
import { evaluateCandidate, type Evaluation, type Problem } from './evaluate.js';
import { goalOf, type FinalSpec, type FinalState, type SearchState } from './search.js';
import { candidateRecipe, type Proxy } from './space.js';
import { metric, rank, violation, type Goal } from './targets.js';

/** The fine-tuning of a final run: the proxy's learning rate and batch, full epochs. */
export function finalProxy(proxy: Proxy, f: FinalSpec): Proxy {
  return { lr: proxy.lr, batch: proxy.batch, epochs: f.epochs, ...(f.steps === undefined ? {} : { maxSteps: f.steps }) };
}

/** The recipe of a point as the final run (and `compress --recipe`) runs it. */
export function finalRecipe(problem: Problem, s: SearchState, hash: string): Recipe {
  return candidateRecipe(problem.space, s.candidates[hash], finalProxy(s.spec.proxy, s.final!.spec), `search-${hash}`);
}

/** The problem of the final runs: the full training set, the test set, the final fine-tuning. */
async function finalProblem(p: Problem, f: FinalSpec): Promise<Problem> {
  const data = { train: loadDataset(p.spec.dataset, 'train'), test: loadDataset(p.spec.dataset, 'test') };
  const baseline = (await sessionAccuracy(p.graph, data.test)).accuracy;
  return { ...p, spec: { ...p.spec, proxy: finalProxy(p.spec.proxy, f) }, data, baseline };
}

/**
 * The points to fine-tune fully: the best ranked against the goal and the smallest
 * (by the target's figure) within the loss bound, taken in turn — the latter first when
 * the best ranked misses the goal, so a search that did not reach its target still
 * fine-tunes the best point the user can take rather than only near misses.
 */
export function finalPoints(goal: Goal, results: Evaluation[], n: number): string[] {
  const ranked = rank(goal, results);
  const within = rank(goal, results.filter((e) => goal.baseline - e.accuracy <= goal.maxLoss))
    .sort((a, b) => metric(goal.target.kind, a) - metric(goal.target.kind, b));
  const lists = ranked.length > 0 && violation(goal, ranked[0]) > 0 ? [within, ranked] : [ranked, within];
  const out: string[] = [];
  for (let i = 0; out.length < n && i < ranked.length; i++) {
    for (const l of lists) if (l[i] && out.length < n && !out.includes(l[i].hash)) out.push(l[i].hash);
  }
  return out;
}

/**
 * Fine-tunes the best `points` of the search fully, one after the other (a state
 * with the same final spec resumes; another spec starts the final runs again).
 */
export async function fineTuneFront(problem: Problem, s: SearchState, f: FinalSpec, save: (s: SearchState) => void,
  onPoint?: (hash: string, e: Evaluation | string, proxy: Evaluation) => void): Promise<FinalState | undefined> {
  if (f.epochs === 0 || f.points === 0) return undefined;
  // the whole datasets and the test-set baseline only when a point is still to run (a finished state resumes without them)
  let full: Problem | undefined;
  const fullProblem = async () => (full ??= await finalProblem(problem, f));
  if (!s.final || JSON.stringify(s.final.spec) !== JSON.stringify(f)) {
    const hashes = finalPoints(goalOf(s), Object.values(s.results), f.points);
    s.final = { spec: f, baseline: (await fullProblem()).baseline, hashes, results: {}, failed: {} };
    save(s);
  }
  const fin = s.final;
  for (const h of fin.hashes) {
    if (fin.results[h] || fin.failed[h] !== undefined) continue;
    try {
      fin.results[h] = await evaluateCandidate(await fullProblem(), s.candidates[h]);
    } catch (e) {
      fin.failed[h] = (e as Error).message;
    }
    save(s);
    onPoint?.(h, fin.results[h] ?? fin.failed[h], s.results[h]);
  }
  return fin;
}
