import { basename } from 'node:path';
import { compressGraph, type CompressResult } from '../../compress/pipeline.js';
import { graphToNnz, nnzToGraph } from '../../format/nnz.js';
import { DATASETS, loadDataset, type DatasetName } from '../../data/datasets.js';
import { fail } from '../../ir/errors.js';
import type { Graph } from '../../ir/graph.js';
import { denseBytes, formatLayerTable, formatStages, layerRows, type StageSize } from '../../report/compress_report.js';
import { sessionAccuracy } from '../../report/runners.js';
import { formatBytes } from '../../report/table.js';
import { choice, num, oneModel, parse, str } from '../args.js';
import type { Command } from '../command.js';
import { loadModel } from '../load_model.js';
import { RECIPE_FLAGS, RECIPE_HELP, recipeFromFlags } from '../recipe_flags.js';
import type { Recipe } from '../../compress/recipe.js';
import { trainProgress } from '../train_progress.js';
import { writeFileAtomic } from '../write_file.js';
import { withTrainingThreads } from '../../train/threads_node.js';

export const compress: Command = {
  name: 'compress',
  summary: 'prune, share weights and Huffman-code a model into a .nnz file',
  usage: `usage: nnzip compress MODEL -o OUT.nnz [--dataset mnist|fashion-mnist] [options]

Deep Compression (Han et al.): iterative magnitude pruning with fine-tuning,
k-means weight sharing with centroid fine-tuning, relative-index sparse
storage and Huffman coding. Prints a per-layer table and the sizes of the
P, P+Q and P+Q+H stages; writes a JSON report next to the output.

  -o, --output FILE       the .nnz file to write (required)
  --dataset NAME          fine-tuning and test data: ${DATASETS.join(', ')}
  --no-finetune           no training (no dataset needed): prune/share as told; zeros already in the model are kept sparse
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
    if (!out.endsWith('.nnz')) fail(`-o ${out}: the output must end in .nnz`);
    const recipe = recipeFromFlags(p);
    const noFinetune = Boolean(p.values['no-finetune']);
    const dataset = choice(p, 'dataset', DATASETS);
    if (!dataset && !noFinetune) fail('compress: --dataset is required for fine-tuning (or pass --no-finetune)');
    const seed = num(p, 'seed', 1, 0, 2 ** 32 - 1, true);
    const maxSteps = str(p, 'max-steps') === undefined ? undefined : num(p, 'max-steps', 0, 1, 1e9, true);
    const threads = num(p, 'threads', 1, 1, 64, true);
    const model = loadModel(path);
    const data = dataset && !noFinetune ? { train: loadDataset(dataset, 'train'), test: loadDataset(dataset, 'test') } : undefined;
    const progress = trainProgress();
    const r = await withTrainingThreads(threads, () =>
      compressGraph(model.graph, { recipe, data, seed, maxStepsPerEpoch: maxSteps, onProgress: progress.update, source: path }));
    progress.done();
    const huffman = recipe.encode.huffman ? undefined : false;
    const meta = { source: basename(path), recipe: recipe.name };
    const f16 = recipe.encode.f16;
    const final = graphToNnz(r.compressed, { huffman, meta, f16 });
    writeFileAtomic(out, final.bytes);
    const written = nnzToGraph(final.bytes, out).graph;
    const accuracy = dataset ? await testAccuracy(written, dataset, threads) : undefined;
    const report = summarize(model.graph, r, final, recipe.encode);
    console.log(formatLayerTable(report.layers, { before: report.originalBytes, after: final.bytes.length }));
    console.log('');
    console.log(formatStages(report.stages));
    const acc = (a?: number) => (a === undefined ? '-' : `${(100 * a).toFixed(2)}%`);
    const a = r.accuracy;
    if (dataset) console.log(`\naccuracy (${dataset} test): original ${acc(a.original)}, pruned ${acc(a.pruned)}, shared ${acc(a.clustered)} → tuned ${acc(a.final)}; the written file: ${acc(accuracy)}`);
    console.log(`${out}: ${formatBytes(final.bytes.length)} (${(report.originalBytes / final.bytes.length).toFixed(1)}× smaller than ${formatBytes(report.originalBytes)} of float32 weights)`);
    const reportPath = str(p, 'report') ?? out.replace(/\.nnz$/, '.json');
    writeFileAtomic(reportPath, JSON.stringify({ model: path, output: out, recipe, ...report, accuracy: { ...a, file: accuracy } }, null, 2) + '\n');
    return 0;
  },
};

async function testAccuracy(graph: Graph, dataset: DatasetName, threads: number): Promise<number> {
  return (await sessionAccuracy(graph, loadDataset(dataset, 'test'), { threads })).accuracy;
}

/** Sizes of Han's stages; the written file is the P+Q+H one unless Huffman coding was turned off. */
function summarize(original: Graph, r: CompressResult, final: ReturnType<typeof graphToNnz>, encode: Recipe['encode']) {
  const originalBytes = denseBytes(original);
  const stage = (name: string, bytes: number): StageSize => ({ stage: name, bytes, ratio: originalBytes / bytes });
  const f16 = encode.f16;
  const stages = [
    stage('original (float32 weights)', originalBytes),
    stage('P: pruned, relative index', graphToNnz(r.pruned, { huffman: false, f16 }).bytes.length),
    stage('P+Q: + weight sharing', graphToNnz(r.compressed, { huffman: false, f16 }).bytes.length),
    stage('P+Q+H: + Huffman coding', encode.huffman ? final.bytes.length : graphToNnz(r.compressed, { f16 }).bytes.length),
  ];
  return { originalBytes, fileBytes: final.bytes.length, stages, layers: layerRows(original, r, final) };
}
