import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { stringify } from 'yaml';
import { recipeDocument } from '../../compress/recipe.js';
import { DATASETS } from '../../data/datasets.js';
import { fail, NnzipError } from '../../ir/errors.js';
import { formatBytes } from '../../ir/print.js';
import { BullmqQueue } from '../../search/bullmq_queue.js';
import { leastReachable, makeProblem, type Evaluation, type Problem, type ProblemSpec } from '../../search/evaluate.js';
import { finalRecipe, fineTuneFront } from '../../search/final.js';
import { reportHtml } from '../../report/html.js';
import { InProcessQueue, type CandidateQueue } from '../../search/queue.js';
import { checkRedis, NNZIP_VERSION, parseRedisUrl } from '../../search/redis.js';
import { goalOf, newState, problemId, upgradePrior, recipeOf, runSearch, summarize, type Budget, type FinalSpec, type SearchState, type SearchSummary } from '../../search/search.js';
import { METHODS, type Method } from '../../search/space.js';
import { STRATEGIES } from '../../search/strategy.js';
import { metric, parseTarget } from '../../search/targets.js';
import { choice, num, oneModel, parse, str } from '../args.js';
import type { Command } from '../command.js';
import { loadModel } from '../load_model.js';
import { writeFileAtomic } from '../outputs.js';

export const searchCommand: Command = {
  name: 'search',
  summary: 'search per-layer mixes of every method for a size, latency or flash target',
  usage: `usage: nnzip search MODEL --dataset D --target KIND=VALUE --max-loss PP -o DIR [options]

Searches, per layer, the filters kept, the pattern set and connectivity (3×3
convs), the density, weight sharing bits, binary / ternary weights and the
weight bits under int8 / fixed-point quantization (or float), and Winograd
storage, each candidate a recipe run by \`compress\` with a short fine-tune (the
proxy), scored on a held-out slice of the training set. Size is the encoded
file's, latency nnzip's runtime here (batch 1, --threads), flash the C backend's.
Then the best --final-points are fine-tuned fully (the whole training set,
scored on the test set). Writes DIR/state.json after every candidate (run the
same command again to resume), then DIR/front.json (the Pareto fronts of size,
latency and accuracy, proxy and final), DIR/front.html (its chart, when the
report's charting is installed) and DIR/winner.yaml (the best recipe meeting the
target, as the final run ran it: \`nnzip compress MODEL --recipe DIR/winner.yaml
--dataset D --seed N [--max-steps S]\` reproduces its point).

  --dataset NAME        ${DATASETS.join(', ')}
  --target KIND=VALUE   size=20KB, latency=0.5ms or flash=64KB
  --max-loss PP         accuracy loss allowed, in percentage points (e.g. 0.2)
  --budget B            candidates (40) or time (30m, 2h); default 40
  --strategy S          guided (prior of every single move + evolution, default) or random
  --seed N              seed of slices, fine-tunes and the strategy (default 1)
  --generation N        candidates proposed together (default 8)
  --proxy-epochs N      fine-tuning epochs per stage of each candidate (default 1)
  --proxy-steps N       steps per epoch (default 50)
  --train N             training images of the proxy (default 10000)
  --holdout N           held-out images it is scored on (default 2000)
  --latency M           measured (default) or estimated (the planner's cost model)
  --threads N           threads the latency is measured (or planned) at: 1 (default), 2 = WASM on 2 worker threads
  --final-points N      proxy results fine-tuned fully: best ranked and smallest within the loss, in turn (default 4; 0 = none)
  --final-epochs N      their fine-tuning epochs per stage (default 1)
  --final-steps N       steps per epoch of the final runs (default: whole epochs)
  --methods LIST        mix only these: ${METHODS.join(', ')} (default all)
  --redis URL           coordinate workers (\`nnzip worker --redis URL\`) instead of evaluating here
  -o, --output DIR      where the state and results go`,
  async run(argv) {
    const p = parse('search', argv, {
      dataset: { type: 'string' }, target: { type: 'string' }, 'max-loss': { type: 'string' }, budget: { type: 'string' },
      strategy: { type: 'string' }, seed: { type: 'string' }, generation: { type: 'string' }, 'proxy-epochs': { type: 'string' },
      'proxy-steps': { type: 'string' }, train: { type: 'string' }, holdout: { type: 'string' }, latency: { type: 'string' }, threads: { type: 'string' },
      redis: { type: 'string' }, methods: { type: 'string' }, output: { type: 'string', short: 'o' },
      'final-points': { type: 'string' }, 'final-epochs': { type: 'string' }, 'final-steps': { type: 'string' },
    });
    const path = oneModel('search', p);
    const dir = str(p, 'output') ?? fail('search: -o DIR is required');
    const dataset = choice(p, 'dataset', DATASETS) ?? fail('search: --dataset is required');
    const target = parseTarget(str(p, 'target') ?? fail('search: --target is required, e.g. --target size=20KB'));
    if (str(p, 'max-loss') === undefined) fail('search: --max-loss is required (accuracy loss allowed, in percentage points, e.g. 0.2)');
    const maxLoss = num(p, 'max-loss', 0, 0, 100) / 100;
    const budget = parseBudget(str(p, 'budget') ?? '40');
    const strategy = choice(p, 'strategy', STRATEGIES, 'guided')!;
    const seed = num(p, 'seed', 1, 0, 2 ** 31 - 1, true);
    const generation = num(p, 'generation', 8, 1, 1000, true);
    const threads = num(p, 'threads', 1, 1, 64, true);
    const spec: ProblemSpec = {
      dataset, seed, train: num(p, 'train', 10000, 1, 1e6, true), holdout: num(p, 'holdout', 2000, 1, 1e6, true),
      proxy: { epochs: num(p, 'proxy-epochs', 1, 0, 100, true), maxSteps: num(p, 'proxy-steps', 50, 1, 1e6, true), lr: 0.01, batch: 64 },
      latency: choice(p, 'latency', ['measured', 'estimated'] as const, 'measured')!, ...(threads > 1 ? { threads } : {}), flash: target.kind === 'flash',
      ...(str(p, 'methods') === undefined ? {} : { methods: parseMethods(str(p, 'methods')!) }),
      source: basename(path),
    };
    const final: FinalSpec = {
      points: num(p, 'final-points', 4, 0, 1000, true), epochs: num(p, 'final-epochs', 1, 0, 100, true),
      ...(str(p, 'final-steps') === undefined ? {} : { steps: num(p, 'final-steps', 0, 1, 1e9, true) }),
    };
    const url = str(p, 'redis');
    const statePath = join(dir, 'state.json');
    const whenUnreachable = `the search state is kept in ${statePath}; run the same command again to resume`;
    if (url) await checkRedis(parseRedisUrl(url), url, whenUnreachable);
    if (existsSync(dir) && !existsSync(join(dir, 'state.json')) && !isEmptyDir(dir)) fail(`-o ${dir}: exists and holds no search state; give a new or empty folder`);
    const model = loadModel(path), bytes = model.portable(); // read and parsed once; the self-contained bytes name the problem and go to the workers
    const id = problemId(bytes, spec);
    let state = existsSync(statePath) ? resumable(statePath, id, { strategy, seed, target: target.text, maxLoss }) : undefined;
    const problem = await makeProblem(model.graph, spec);
    if (!state) {
      const least = await leastReachable(problem, target.kind);
      if (least > target.limit) fail(`--target ${target.text}: cannot be reached; the most compressed candidates of ${model.path} give ${show(target.kind, least)}`);
    }
    const queue: CandidateQueue = url ? await BullmqQueue.open({ url, problemId: id, model: bytes, spec, whenUnreachable }) : new InProcessQueue(problem);
    if (state) await upgradePrior(problem, state);
    state ??= await newState({
      problem, problemId: id, strategy, seed, target, maxLoss, generationSize: generation,
      onPrior: (done, total) => { if (done === total || done % 20 === 0) console.log(`prior: ${done}/${total} single moves measured without fine-tuning`); },
    });
    mkdirSync(dir, { recursive: true });
    const save = (s: SearchState) => writeFileAtomic(statePath, JSON.stringify(s) + '\n', '-o');
    let n = Object.keys(state.results).length + Object.keys(state.failed).length;
    try {
      await runSearch(problem, state, {
        queue, budget, save,
        onOutcome: (o, s) => console.log(`[${++n}] ${o.hash}  ${'result' in o ? line(o.result, goalOf(s).target.kind) : `failed: ${o.error}`}`),
      });
    } finally {
      await queue.close();
    }
    if (final.points > 0 && final.epochs > 0) console.log(`fine-tuning the best ${final.points} fully (${final.epochs} epoch(s) per stage${final.steps ? ` of ${final.steps} steps` : ''}):`);
    // with --redis the final runs are jobs too (their own problem id: workers load the whole datasets for them)
    const finalQueue = url
      ? (fp: Problem) => BullmqQueue.open({ url, problemId: problemId(bytes, fp.spec), model: bytes, spec: fp.spec, whenUnreachable })
      : undefined;
    await fineTuneFront(problem, state, final, save, (h, e, proxy) =>
      console.log(`  ${h}  ${typeof e === 'string' ? `failed: ${e}` : `${line(e, state.target.kind)}; proxy ${pct(proxy.accuracy)}`}`), finalQueue);
    return finish(dir, problem, state);
  },
};

async function finish(dir: string, problem: Problem, state: SearchState): Promise<number> {
  const sum = summarize(state);
  const recipe = (h: string) => recipeDocument(state.final?.results[h] ? finalRecipe(problem, state, h) : recipeOf(problem, state, h));
  const doc = {
    kind: 'search-front', ...sum, front: sum.front.map((e) => ({ ...e, recipe: recipeDocument(recipeOf(problem, state, e.hash)) })),
    ...(sum.final ? { final: { ...sum.final, front: sum.final.front.map((e) => ({ ...e, recipe: recipe(e.hash) })) } } : {}),
  };
  writeFileAtomic(join(dir, 'front.json'), JSON.stringify(doc, null, 2) + '\n');
  await writeChart(dir, sum);
  console.log(`proxy front (${sum.front.length} of ${sum.evaluated} evaluated, ${sum.failed} failed; held-out baseline ${pct(sum.baseline)}):`);
  for (const e of sum.front) console.log(`  ${e.hash}  ${line(e, state.target.kind)}${e.meets ? '  meets' : ''}`);
  if (sum.final) {
    console.log(`final front (${sum.final.finished} fine-tuned fully, ${sum.final.failed} failed; test baseline ${pct(sum.final.baseline)}):`);
    for (const e of sum.final.front) console.log(`  ${e.hash}  ${line(e, state.target.kind)}; proxy ${pct(e.proxy.accuracy)}${e.meets ? '  meets' : ''}`);
  }
  if (!sum.winner) {
    const c = sum.closest;
    throw new NnzipError(`search: no candidate met ${state.target.text} within ${(100 * state.maxLoss).toFixed(2)} pp${c ? `; the closest: ${line(c, state.target.kind)}` : ''}; the front is in ${join(dir, 'front.json')}`, 1);
  }
  const yaml = stringify(recipe(sum.winner.hash));
  writeFileAtomic(join(dir, 'winner.yaml'), yaml);
  console.log(`winner ${sum.winner.hash}: ${line(sum.winner, state.target.kind)} -> ${join(dir, 'winner.yaml')}`);
  return 0;
}

/** DIR/front.html: the report's page of the front (skipped, with a note, when the charting packages are not installed). */
async function writeChart(dir: string, sum: SearchSummary): Promise<void> {
  const path = join(dir, 'front.html');
  try {
    writeFileAtomic(path, await reportHtml([{ kind: 'search', where: join(dir, 'front.json'), summary: sum }], `nnzip ${NNZIP_VERSION}`));
  } catch (e) {
    if (!(e instanceof NnzipError)) throw e;
    console.error(`nnzip: note: ${path} not written: ${e.message}`);
  }
}

const pct = (a: number) => `${(100 * a).toFixed(2)}%`;
const show = (kind: string, v: number) => (kind === 'latency' ? `${v.toFixed(3)} ms` : formatBytes(v));

function line(e: Evaluation, kind: 'size' | 'latency' | 'flash'): string {
  const flash = e.flash === undefined ? '' : `  flash ${formatBytes(e.flash)}`;
  return `${formatBytes(e.size)}  ${e.latencyMs.toFixed(4)} ms  ${pct(e.accuracy)}${flash}  (${kind} ${show(kind, metric(kind, e))}, ${e.seconds.toFixed(1)} s)`;
}

function parseMethods(text: string): Method[] {
  const list = text.split(',').map((m) => m.trim());
  for (const m of list) if (!(METHODS as readonly string[]).includes(m)) fail(`--methods ${text}: unknown method "${m}"; choose from ${METHODS.join(', ')}`);
  return [...new Set(list)] as Method[];
}

/** `40` candidates, or `90s`, `30m`, `2h`. */
export function parseBudget(text: string): Budget {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!m || !(Number(m[1]) > 0)) fail(`--budget ${text}: give a number of candidates (40) or a time (90s, 30m, 2h)`);
  if (!m[2]) {
    if (!Number.isInteger(Number(m[1]))) fail(`--budget ${text}: a number of candidates must be an integer`);
    return { candidates: Number(m[1]) };
  }
  return { seconds: Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'] };
}

function isEmptyDir(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch {
    fail(`-o ${dir}: is not a folder`);
  }
}

/** The state in DIR, when it is this search's (same model, settings, target). */
function resumable(path: string, id: string, want: { strategy: string; seed: number; target: string; maxLoss: number }): SearchState {
  let s: SearchState;
  try {
    s = JSON.parse(readFileSync(path, 'utf8')) as SearchState;
  } catch (e) {
    fail(`${path}: not a search state (${(e as Error).message}); delete it or give another -o`);
  }
  if (s.format !== 'nnzip-search-state') fail(`${path}: not a search state; delete it or give another -o`);
  const same = s.problemId === id && s.strategy === want.strategy && s.seed === want.seed && s.target.text === want.target && s.maxLoss === want.maxLoss;
  if (!same) fail(`${path}: holds another search (model, dataset, proxy, strategy, seed or target differ); give another -o to start a new one`);
  return s;
}
