import { basename } from 'node:path';
import { compressGraph, type CompressResult } from '../../compress/pipeline.js';
import type { Recipe } from '../../compress/recipe.js';
import { nnzToGraph } from '../../format/nnz.js';
import { elementLimit } from '../../format/tensor_codec.js';
import { DATASETS, loadDataset, type DatasetName } from '../../data/datasets.js';
import { fail } from '../../ir/errors.js';
import type { Graph } from '../../ir/graph.js';
import { compressRun, formatLayerTable, formatStages } from '../../report/compress_report.js';
import { sessionAccuracy } from '../../eval/runners.js';
import { formatBytes } from '../../ir/print.js';
import { choice, num, oneModel, parse, str, type Parsed } from '../args.js';
import type { Command } from '../command.js';
import { loadModel } from '../load_model.js';
import { RECIPE_FLAGS, RECIPE_HELP, recipeFromFlags, weightFlag } from '../recipe_flags.js';
import { trainProgress } from '../train_progress.js';
import { Outputs, requireExtension } from '../outputs.js';
import { withTrainingThreads } from '../../train/threads_node.js';

export const compress: Command = {
  name: 'compress',
  summary: 'store a model losslessly, or prune, share weights, remove filters or pattern-prune, into a .nnz file',
  usage: `usage: nnzip compress MODEL -o OUT.nnz [--dataset mnist|fashion-mnist] [options]

Every layer is first stored as what it already is, bit for bit: zeros sparse, a
few distinct values as a codebook, integers on a grid (int8, fixed point) as
integers and scales. With --dataset, Deep Compression (Han et al.) runs on top:
iterative magnitude pruning with fine-tuning, k-means weight sharing with
centroid fine-tuning, relative-index storage and Huffman coding; --filters
removes whole filters first. Without fine-tuning only the flags given change
weights, and each changed layer is named. Prints a per-layer table and the
stage sizes; writes a JSON report next to the output (with the weight histograms
of each stage: \`nnzip report\` turns it into an HTML page).
--recipe pattern: PatDNN pattern + connectivity pruning of the 3×3 convs (ADMM,
masked retraining), stored as FKW and run by pattern-specialised kernels.

  -o, --output FILE       the .nnz file to write (required)
  --dataset NAME          fine-tuning and test data: ${DATASETS.join(', ')}
  --no-finetune           no training: only --recipe/--filters/--density/--bits change weights (unmeasured)
  --report FILE           JSON report (default: OUT with .json)
  --seed S                seed of shuffling and k-means (default 1)
  --max-steps N           cap on steps per epoch (quick runs)
  --threads N             threads for fine-tuning and the accuracy check (default 1; same result)
${RECIPE_HELP}`,
  async run(argv) {
    const p = parse('compress', argv, {
      ...RECIPE_FLAGS,
      output: { type: 'string', short: 'o' },
      dataset: { type: 'string' },
      'no-finetune': { type: 'boolean' },
      report: { type: 'string' },
      seed: { type: 'string' },
      'max-steps': { type: 'string' },
      threads: { type: 'string' },
    });
    const path = oneModel('compress', p);
    const out = str(p, 'output') ?? fail('compress: -o OUT.nnz is required');
    const recipeFile = str(p, 'recipe');
    return writeCompressed('compress', path, out, p, { inputs: recipeFile ? [path, recipeFile] : [path], recipe: (finetune) => recipeFromFlags(p, finetune), changes: weightFlag(p) });
  },
};

/** What a run shared by compress and binarize needs besides the flags. */
export interface CompressRun {
  /** Files the outputs must not overwrite. */
  inputs: string[];
  /** The recipe (finetune: there is data to fine-tune on). */
  recipe: (finetune: boolean) => Recipe;
  /** The flag that changes weights, if any (then data or --no-finetune is needed). */
  changes?: string;
}

/** The recipe on MODEL, OUT and its JSON report written together, the tables printed. */
export async function writeCompressed(command: string, path: string, out: string, p: Parsed, o: CompressRun): Promise<number> {
  requireExtension(out, '-o', '.nnz');
  const reportPath = str(p, 'report') ?? out.replace(/\.nnz$/i, '.json');
  const noFinetune = Boolean(p.values['no-finetune']);
  const dataset = choice(p, 'dataset', DATASETS);
  if (!dataset && !noFinetune && o.changes) fail(`${command}: ${o.changes} changes weights: pass --dataset to fine-tune and measure, or --no-finetune to change them unmeasured`);
  const recipe = o.recipe(dataset !== undefined && !noFinetune);
  const seed = num(p, 'seed', 1, 0, 2 ** 32 - 1, true);
  const maxSteps = str(p, 'max-steps') === undefined ? undefined : num(p, 'max-steps', 0, 1, 1e9, true);
  const threads = num(p, 'threads', 1, 1, 64, true);
  const outputs = new Outputs(command, o.inputs, [{ flag: '-o', path: out }, { flag: '--report', path: reportPath }]);
  const model = loadModel(path);
  const data = dataset && !noFinetune ? { train: loadDataset(dataset, 'train'), test: loadDataset(dataset, 'test') } : undefined;
  const calibration = dataset && recipe.quantize ? loadDataset(dataset, 'train') : undefined;
  const progress = trainProgress();
  const meta = { source: basename(path), recipe: recipe.name };
  const r = await withTrainingThreads(threads, () =>
    compressGraph(model.graph, { recipe, data, calibration, seed, maxStepsPerEpoch: maxSteps, onProgress: progress.update, source: path, meta }));
  progress.done();
  const tail = dataset ? 'the accuracy below is the written file\'s' : 'accuracy not measured: pass --dataset';
  for (const c of r.unmeasured) console.error(`nnzip: warning: ${c.layer}: ${c.changes.join(', ')} without fine-tuning; ${tail}`);
  const file = r.file.bytes;
  outputs.stage(out, file);
  const written = nnzToGraph(file, out, { maxElements: Infinity }).graph; // our own output: no cap
  warnIfOverCap(written, out, file.length);
  const accuracy = dataset ? await testAccuracy(written, dataset, threads) : undefined;
  const run = compressRun(model.graph, r, { model: path, output: out, recipe, fileAccuracy: accuracy });
  console.log(formatLayerTable(run.layers, { before: r.originalBytes, after: file.length }));
  console.log('');
  console.log(formatStages(run.stages));
  for (const n of r.notes) console.log(n);
  if (dataset) console.log(`\naccuracy (${dataset} test): ${accuracyLine(r)}; the written file: ${pct(accuracy)}`);
  console.log(`${out}: ${formatBytes(file.length)} (${(r.originalBytes / file.length).toFixed(1)}× smaller than ${formatBytes(r.originalBytes)} of float32 weights)`);
  if (r.stages.length === 0) console.log('every weight stored bit for bit; pass --dataset to prune and share with fine-tuning');
  outputs.stage(reportPath, JSON.stringify(run, null, 2) + '\n');
  outputs.commit();
  return 0;
}

async function testAccuracy(graph: Graph, dataset: DatasetName, threads: number): Promise<number> {
  return (await sessionAccuracy(graph, loadDataset(dataset, 'test'), { threads })).accuracy;
}

/** A file sparser than the decoders' default cap (docs/format.md §7) loads only with maxElements: say so. */
function warnIfOverCap(graph: Graph, out: string, bytes: number): void {
  let held = 0;
  for (const t of graph.initializers.values()) held += t.size;
  if (held > elementLimit(bytes)) {
    console.error(`nnzip: warning: ${out} holds ${held} weights, more than the ${elementLimit(bytes)} a reader accepts by default for ${bytes} bytes (docs/format.md §7); load it with the decode option maxElements`);
  }
}

const pct = (a?: number): string => (a === undefined ? '-' : `${(100 * a).toFixed(2)}%`);

/** original 99.25%, prune 99.20%, share 99.10% (clustered 98.90%) */
function accuracyLine(r: CompressResult): string {
  const stages = r.stages.map((s) => {
    const details = Object.entries(s.details).map(([k, v]) => `${k} ${pct(v)}`).join(', ');
    return `${s.name} ${pct(s.accuracy)}${details ? ` (${details})` : ''}`;
  });
  return [`original ${pct(r.originalAccuracy)}`, ...stages].join(', ');
}
