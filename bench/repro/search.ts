// `npm run repro -- search OUT [MODEL] [BUDGET] [FINAL_STEPS] [METHODS] [SEED]`: the co-design search — the
// mix of every method (guided and random, the same budget) against each method alone
// (guided, each at the smallest size it can reach: `nnzip search` refuses less and names
// it), the same accuracy bound. Each run fine-tunes its best points fully (the whole
// training set, scored on the test set); then the mix's smallest final point within the
// bound is re-run by `nnzip compress --recipe` and must reproduce its bytes and accuracy.
// Runs `nnzip search` per case into OUT/<case> (a case already there resumes, or is only
// read when finished). MODEL: LeNet-5 (MNIST, default) or VGG-S (Fashion-MNIST); METHODS
// (comma-separated, '' for none) limits the single-method runs (default: every method with a choice).
// SEARCH_CASES=guided,only-prune (environment) runs only those cases and prints their rows without
// reproducing: two processes can share OUT case by case (2 cores), a last run without it reads
// the finished cases and re-runs the mix's point by compress.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import type { DatasetName } from '../../src/data/datasets.js';
import { formatBytes } from '../../src/ir/print.js';
import { toGraph } from '../../src/runtime/session.js';
import { leastReachable, makeProblem, type Evaluation, type ProblemSpec } from '../../src/search/evaluate.js';
import type { SearchSummary } from '../../src/search/search.js';
import { METHODS, searchSpace } from '../../src/search/space.js';

const MAX_LOSS_PP = 1;

interface Setup {
  dataset: DatasetName;
  /** Seed of the slices, fine-tunes and strategies (and of compress when reproducing). */
  seed: number;
  /** Proxy slices and steps (VGG-S: its candidates cost ~20× LeNet-5's; 10 steps on 2,000 images, scored on 500, left no point within 1 pp). */
  train: number;
  holdout: number;
  steps: number;
  generation: number;
  /** Best points of each run fine-tuned fully. */
  finalPoints: number;
  /** The mix's size target (no single method reaches it; VGG-S at 32 KB left every point 3 pp or more below its baseline at this budget). */
  target: string;
  /** Candidates of the mix (guided and random); each method alone gets two thirds. */
  budget: number;
}

const SETUPS: Record<string, Setup> = {
  lenet5: { dataset: 'mnist', seed: 1, train: 5000, holdout: 1000, steps: 30, generation: 6, finalPoints: 2, target: 'size=8KB', budget: 24 },
  vggs: { dataset: 'fashion-mnist', seed: 1, train: 4000, holdout: 2000, steps: 60, generation: 3, finalPoints: 1, target: 'size=64KB', budget: 9 },
};

const proxy = (setup: Setup, finalSteps: number): string[] => ['--dataset', setup.dataset, '--max-loss', String(MAX_LOSS_PP), '--seed', String(setup.seed),
  '--generation', String(setup.generation), '--train', String(setup.train), '--holdout', String(setup.holdout), '--proxy-epochs', '1', '--proxy-steps', String(setup.steps), '--latency', 'measured',
  '--final-points', String(setup.finalPoints), '--final-epochs', '1', '--final-steps', String(finalSteps)];

/** The same problem as the CLI makes of these flags, restricted to one method. */
function spec(setup: Setup, methods: string[]): ProblemSpec {
  return { dataset: setup.dataset, seed: setup.seed, train: setup.train, holdout: setup.holdout, proxy: { epochs: 1, maxSteps: setup.steps, lr: 0.01, batch: 64 }, latency: 'measured', flash: false, methods };
}

/** Each method that has a choice on this model, with the smallest size it reaches (rounded up to a KB). */
async function singleMethods(model: string, setup: Setup, methods: readonly string[]): Promise<[string, string][]> {
  const graph = toGraph(new Uint8Array(readFileSync(model)));
  const out: [string, string][] = [];
  for (const m of methods) {
    const space = searchSpace(graph, [m]);
    const choice = space.winograd.length > 1 || space.quantize.length > 1 || space.layers.some((l) => [l.density, l.values, l.filters, l.pattern].some((g) => g.length > 1));
    if (!choice) {
      console.log(`${m}: no choice on ${model} (left out)`);
      continue;
    }
    const least = await leastReachable(await makeProblem(graph, spec(setup, [m])), 'size');
    out.push([m, `size=${Math.ceil(least / 1024) + 1}KB`]);
  }
  return out;
}

const pct = (a: number) => `${(100 * a).toFixed(2)}%`;
const point = (e: Evaluation | undefined) => (e ? `${formatBytes(e.size)}, ${e.latencyMs.toFixed(4)} ms, ${pct(e.accuracy)}` : '-');

/** The smallest and the fastest of some results within the loss bound of a baseline. */
function best(all: Evaluation[], baseline: number, loss: number): { small?: Evaluation; fast?: Evaluation } {
  const ok = all.filter((e) => baseline - e.accuracy <= loss + 1e-9);
  return { small: [...ok].sort((a, b) => a.size - b.size)[0], fast: [...ok].sort((a, b) => a.latencyMs - b.latencyMs)[0] };
}

/** front.json: the summary, each final point with its recipe. */
type Front = SearchSummary & { final?: { front: { recipe?: unknown }[] } };

function row(name: string, dir: string): { line: string; front: Front; state: { seconds: number; prior?: { seconds?: number }; results: Record<string, Evaluation>; final?: { results: Record<string, Evaluation> } } } {
  const front = JSON.parse(readFileSync(join(dir, 'front.json'), 'utf8')) as Front;
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
  const proxy = best(Object.values(state.results), front.baseline, front.maxLoss);
  const fin = front.final ? best(Object.values(state.final?.results ?? {}), front.final.baseline, front.maxLoss) : {};
  const line = `| ${name} | ${front.evaluated} | ${point(proxy.small)} | ${point(fin.small)} | ${point(fin.fast)} | ${state.seconds.toFixed(0)} s + prior ${(state.prior?.seconds ?? 0).toFixed(0)} s |`;
  return { line, front, state };
}

/** The smallest final point of a run within the bound, re-run by `nnzip compress --recipe`: its bytes and test accuracy. */
async function reproduce(model: string, setup: Setup, dir: string, finalSteps: number): Promise<string> {
  const { front, state } = row('', dir);
  const fin = best(Object.values(state.final?.results ?? {}), front.final?.baseline ?? 0, front.maxLoss).small;
  const recipe = fin && (front.final?.front.find((e) => e.hash === fin.hash) as { recipe?: unknown } | undefined)?.recipe;
  if (!fin || !recipe) return `${dir}: no final point within the bound on the final front: nothing to reproduce`;
  const yaml = join(dir, `${fin.hash}.yaml`), nnz = join(dir, `${fin.hash}.nnz`);
  writeFileSync(yaml, stringify(recipe));
  const args = ['compress', model, '--recipe', yaml, '--dataset', setup.dataset, '--seed', String(setup.seed), '--max-steps', String(finalSteps), '-o', nnz];
  if ((await main(args)) !== 0) throw new Error(`nnzip ${args.join(' ')} failed`);
  const run = JSON.parse(readFileSync(nnz.replace(/\.nnz$/, '.json'), 'utf8')) as { fileBytes: number; accuracy: { file: number } };
  const same = run.fileBytes === fin.size && run.accuracy.file === fin.accuracy;
  return `nnzip ${args.join(' ')}\n  -> ${formatBytes(run.fileBytes)} (${run.fileBytes} B), ${pct(run.accuracy.file)}; the search's final point ${fin.hash}: ${fin.size} B, ${pct(fin.accuracy)}: ${same ? 'reproduced' : 'DIFFERENT'}`;
}

export async function search(args: string[]): Promise<void> {
  const [out, model = 'fixtures/models/lenet5_dense.onnx', budgetArg, stepsArg, methodsArg, seedArg] = args;
  if (!out) throw new Error('usage: npm run repro -- search OUT [MODEL] [BUDGET] [FINAL_STEPS] [METHODS] [SEED]');
  const base = SETUPS[/vgg/i.test(model) ? 'vggs' : 'lenet5'];
  const setup = { ...base, seed: Number(seedArg ?? base.seed) };
  const budget = Number(budgetArg ?? setup.budget), finalSteps = Number(stepsArg ?? 150);
  const cases: [string, string[], number][] = [
    ['guided', ['--strategy', 'guided', '--target', setup.target], budget],
    ['random', ['--strategy', 'random', '--target', setup.target], budget],
    ...(await singleMethods(model, setup, methodsArg === undefined ? METHODS : methodsArg.split(',').filter((m) => m))).map(([m, target]): [string, string[], number] =>
      [`only-${m}`, ['--strategy', 'guided', '--methods', m, '--target', target], Math.ceil((2 * budget) / 3)]),
  ];
  const only = process.env.SEARCH_CASES?.split(',').filter((c) => c);
  const rows: string[] = [];
  for (const [name, extra, n] of cases.filter(([name]) => !only || only.includes(name))) {
    const dir = join(out, name);
    const code = await main(['search', model, ...proxy(setup, finalSteps), ...extra, '--budget', String(n), '-o', dir]);
    if (code === 2) throw new Error(`search ${name} failed (exit 2)`);
    rows.push(row(`${name} (${extra.at(-1)})`, dir).line);
  }
  const reproduced = only ? [] : [await reproduce(model, setup, join(out, 'guided'), finalSteps)];
  console.log(`\n${model}, ${setup.dataset}, at most ${MAX_LOSS_PP} pp lost (proxy: ${setup.steps} steps per stage on ${setup.train} training images, scored on ${setup.holdout} others; final: ${finalSteps} steps per stage on the training set, scored on the test set)`);
  console.log('| run (target) | evaluated | smallest within the bound, proxy (size, latency, held-out acc.) | smallest within the bound, final (size, latency, test acc.) | fastest within the bound, final | time (search + prior) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log(`\n${reproduced.join('\n')}`);
}
