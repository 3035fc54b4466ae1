// PatDNN on VGG-S / Fashion-MNIST (recipes/vggs_pattern.yaml): ADMM + masked
// retraining against one-shot projection + retraining at equal epochs, the
// accuracy of the written file as nnzip's runtime runs it, the conv weights kept,
// and a table of pattern counts K and connectivity rates (one-shot, short retraining).
//   npm run repro -- pattern [admm|oneshot|retrain|table] [--max-steps N] [--threads N] [--rounds N] [--epochs N] [--eval-images N]
// --rounds / --epochs override the recipe's ADMM rounds and retraining epochs (a
// shorter budget on a busy machine; one-shot still retrains for rounds + epochs,
// `retrain` for the epochs only: with --start, more retraining of an earlier file).
// --eval-images N: the trainer's per-epoch test (and the stage's "after the
// projection") use the first N test images; the file's accuracy is always the full 10,000.
// `admm` (the default) also writes fixtures/models/vggs_fmnist_pattern.nnz, the
// model `npm run bench` times (vggs-pattern) and bench/pattern.ts reads.
// Fine-tuning: --bn (train.batchnorm: refold), --distill A [--temperature T]
// (train.distill), --lr X, --rho X / --rho-growth X (ADMM), --recipe FILE (instead
// of recipes/vggs_pattern.yaml), --out FILE (write the .nnz there), --start FILE.nnz
// (fine-tune an earlier run's pattern model; the projection keeps its patterns, the
// distillation teacher is still the dense model).
import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { compressGraph, type CompressResult } from '../../src/compress/pipeline.js';
import { checkRecipe, DISTILL_DEFAULTS, parseRecipe, type Recipe } from '../../src/compress/recipe.js';
import { nnzToGraph } from '../../src/format/nnz.js';
import { NnzipError } from '../../src/ir/errors.js';
import type { Graph } from '../../src/ir/graph.js';
import { formatTable } from '../../src/report/table.js';
import { withTrainingThreads } from '../../src/train/threads_node.js';
import { convWeights, PATTERN_VGGS } from '../pattern_model.js';
import { accuracy, data, fixture, log, pct, recipe } from './common.js';

interface Options {
  mode: 'admm' | 'oneshot' | 'retrain' | 'table'; maxSteps?: number; threads: number; rounds?: number; epochs?: number; evalImages?: number;
  /** Fine-tuning options (train.batchnorm, train.distill), ADMM's ρ, the recipe file and where to write the .nnz. */
  batchnorm?: 'refold' | 'off'; distill?: number; temperature?: number; rho?: number; rhoGrowth?: number; lr?: number; recipe?: string; out?: string;
  /** Start from this .nnz (e.g. an earlier ADMM run's file) instead of the dense model; the teacher stays the dense model. */
  start?: string;
}

const REAL_FLAGS = ['--distill', '--temperature', '--rho', '--rho-growth', '--lr'] as const;

function parse(args: string[]): Options {
  const o: Options = { mode: 'admm', threads: 2 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === 'admm' || a === 'oneshot' || a === 'retrain' || a === 'table') o.mode = a;
    else if (a === '--bn') o.batchnorm = 'refold';
    else if (a === '--recipe' || a === '--out' || a === '--start') {
      const v = args[++i];
      if (!v) throw new NnzipError(`repro pattern: ${a} needs a file`);
      if (a === '--recipe') o.recipe = v;
      else if (a === '--start') o.start = v;
      else o.out = v;
    } else if ((REAL_FLAGS as readonly string[]).includes(a)) {
      const v = Number(args[++i]);
      if (!Number.isFinite(v) || v < 0) throw new NnzipError(`repro pattern: ${a} needs a number ≥ 0`);
      if (a === '--distill') o.distill = v;
      else if (a === '--temperature') o.temperature = v;
      else if (a === '--rho') o.rho = v;
      else if (a === '--rho-growth') o.rhoGrowth = v;
      else o.lr = v;
    } else if (a === '--max-steps' || a === '--threads' || a === '--rounds' || a === '--epochs' || a === '--eval-images') {
      const n = Number(args[++i]);
      if (!Number.isInteger(n) || n < 1) throw new NnzipError(`repro pattern: ${a} needs a positive integer`);
      if (a === '--max-steps') o.maxSteps = n;
      else if (a === '--threads') o.threads = n;
      else if (a === '--rounds') o.rounds = n;
      else if (a === '--epochs') o.epochs = n;
      else o.evalImages = n;
    } else throw new NnzipError(`repro pattern: unknown argument ${a}; use admm, oneshot, retrain or table, --max-steps N, --threads N, --rounds N, --epochs N, --eval-images N, --bn, --distill A, --temperature T, --rho X, --rho-growth X, --lr X, --recipe FILE, --out FILE, --start FILE.nnz`);
  }
  return o;
}

async function run(graph: Graph, r: Recipe, o: Options, label: string, out?: string): Promise<{ result: CompressResult; fileAccuracy: number }> {
  const t0 = Date.now();
  let last = 0;
  const start = o.start ? nnzToGraph(readFileSync(o.start), o.start).graph : undefined;
  const result = await withTrainingThreads(o.threads, () => compressGraph(start ?? graph, {
    recipe: r, data: trainingData(o), seed: 1, maxStepsPerEpoch: o.maxSteps, teacher: start ? graph : undefined,
    onProgress: (stage, p) => {
      if (Date.now() - last > 30000 || p.phase !== 'train') {
        last = Date.now();
        if (p.phase === 'average') log(`${label}: ${stage}: the mean of ${p.averaged} epochs' weights, test ${pct(p.testAccuracy!)}`);
        else log(`${label}: ${stage} epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)}${p.testAccuracy ? ` test ${pct(p.testAccuracy)}` : ''}`);
      }
    },
  }));
  if (out) {
    writeFileSync(out, result.file.bytes); // first: hours of training are not lost to a later failure
    log(`wrote ${out}`);
  }
  const fileAccuracy = await accuracy(nnzToGraph(result.file.bytes, label).graph, 'fashion-mnist');
  log(`${label}: ${((Date.now() - t0) / 60000).toFixed(1)} min, file ${result.file.bytes.length} B, accuracy ${pct(fileAccuracy)}`);
  return { result, fileAccuracy };
}

/** Fashion-MNIST, the test split cut to --eval-images for the trainer's own evaluations. */
function trainingData(o: Options): ReturnType<typeof data> {
  const d = data('fashion-mnist'), n = Math.min(o.evalImages ?? d.test.count, d.test.count);
  const per = d.test.images.length / d.test.count;
  return { train: d.train, test: { ...d.test, images: d.test.images.subarray(0, n * per), labels: d.test.labels.subarray(0, n), count: n } };
}

/** A recipe file given by path (--recipe). */
function recipeFile(path: string): Recipe {
  return parseRecipe(parseYaml(readFileSync(path, 'utf8')), path);
}

/** The recipe with the ADMM rounds and retraining epochs given on the command line. */
function budget(r: Recipe, o: Options): Recipe {
  const b = structuredClone(r), p = b.pattern!;
  if (o.rounds !== undefined && p.admm) p.admm.rounds = o.rounds;
  if (o.epochs !== undefined) p.epochs = o.epochs;
  if (o.rho !== undefined && p.admm) p.admm.rho = o.rho;
  if (o.rhoGrowth !== undefined && p.admm) p.admm.rhoGrowth = o.rhoGrowth;
  if (o.lr !== undefined) b.train.lr = o.lr;
  if (o.batchnorm) b.train.batchnorm = o.batchnorm;
  if (o.distill !== undefined) b.train.distill = { ...DISTILL_DEFAULTS, ...b.train.distill, alpha: o.distill };
  if (o.temperature !== undefined) b.train.distill = { ...DISTILL_DEFAULTS, ...b.train.distill, temperature: o.temperature };
  checkRecipe(b, 'repro pattern');
  return b;
}

/** ADMM and one-shot at the same number of epochs (one-shot retrains for ADMM's rounds too). */
function oneShot(r: Recipe): Recipe {
  const o = structuredClone(r);
  const p = o.pattern!;
  p.epochs += p.admm ? p.admm.rounds * p.admm.epochsPerRound : 0;
  delete p.admm;
  return o;
}

/** The recipe without ADMM: the projection + exactly the recipe's (or --epochs) retraining epochs. */
function noAdmm(r: Recipe): Recipe {
  const o = structuredClone(r);
  delete o.pattern!.admm;
  return o;
}

async function table(graph: Graph, base: Recipe, o: Options): Promise<void> {
  const rows: string[][] = [];
  const cases: [number, number][] = [[4, 3.6], [6, 3.6], [8, 3.6], [12, 3.6], [8, 1], [8, 2], [8, 5]];
  for (const [K, rate] of cases) {
    const r = oneShot(base);
    r.pattern!.patterns = K;
    r.pattern!.connectivity = rate;
    for (const l of Object.values(r.layers)) delete l.connectivity; // the rate of the row, on every layer
    r.pattern!.epochs = 3;
    const { result, fileAccuracy } = await run(graph, r, o, `K=${K} ×${rate}`);
    const w = convWeights(graph, result.compressed);
    rows.push([String(K), String(rate), pct(result.stages[0].details.projected), pct(fileAccuracy), `${(w.dense / w.kept).toFixed(2)}×`, String(result.file.bytes.length)]);
  }
  console.log('\nPattern count K and connectivity rate (one-shot projection + 3 epochs of masked retraining; Fashion-MNIST test, 10,000 images)\n');
  console.log(formatTable(['K', 'connectivity', 'after projection', 'after retraining', 'conv weights', '.nnz bytes'], rows));
}

export async function patternRepro(args: string[]): Promise<void> {
  const o = parse(args);
  const graph = fixture('vggs_fmnist_dense.onnx');
  const base = budget(o.recipe ? recipeFile(o.recipe) : recipe('vggs_pattern.yaml'), o);
  const dense = await accuracy(graph, 'fashion-mnist');
  if (o.mode === 'table') return table(graph, base, o);
  const r = o.mode === 'admm' ? base : o.mode === 'retrain' ? noAdmm(base) : oneShot(base);
  const full = !o.maxSteps && o.rounds === undefined && o.epochs === undefined && o.evalImages === undefined && !o.recipe && !o.start
    && !o.batchnorm && o.distill === undefined && o.temperature === undefined && o.rho === undefined && o.rhoGrowth === undefined && o.lr === undefined;
  const { result, fileAccuracy } = await run(graph, r, o, o.mode, o.out ?? (o.mode === 'admm' && full ? PATTERN_VGGS : undefined));
  const w = convWeights(graph, result.compressed);
  const p = result.stages[0];
  const a = r.pattern!.admm, steps = o.maxSteps ? `, at most ${o.maxSteps} steps of ${r.train.batch} per epoch` : '';
  const t = r.train, tuning = `${t.batchnorm === 'refold' ? ', BatchNorm refold' : ''}${t.distill ? `, distillation α ${t.distill.alpha} T ${t.distill.temperature}` : ''}`;
  const plan = `${a ? `${a.rounds} ADMM round(s) of ${a.epochsPerRound} epoch(s), ρ ${a.rho} ×${a.rhoGrowth} + ` : ''}${r.pattern!.epochs} retraining epoch(s)${t.swa ? ` + ${t.swa.epochs} averaged (SWA, lr ${t.swa.lr})` : ''}${steps}; lr ${t.lr}${tuning}`;
  const rates = Object.entries(r.layers).flatMap(([name, l]) => (l.connectivity === undefined ? [] : [`${name} ${l.connectivity}`]));
  const connectivity = `connectivity ${r.pattern!.connectivity}${rates.length ? ` (${rates.join(', ')})` : ''}`;
  console.log(`\nVGG-S on Fashion-MNIST, ${o.mode === 'admm' ? 'ADMM + masked retraining' : `one-shot projection + masked retraining${o.start ? ` from ${o.start}` : ''}`} (${r.pattern!.patterns} patterns, ${connectivity}; ${plan})\n`);
  console.log(formatTable(['', 'accuracy'], [
    ['dense', pct(dense)], [`after the projection${o.evalImages ? ` (first ${o.evalImages} test images)` : ''}`, pct(p.details.projected)], ['after retraining (file, nnzip runtime)', pct(fileAccuracy)],
  ]));
  console.log(`conv weights ${w.dense} → ${w.kept} (${(w.dense / w.kept).toFixed(2)}× fewer); file ${result.file.bytes.length} B (dense ${result.originalBytes} B)`);
}
