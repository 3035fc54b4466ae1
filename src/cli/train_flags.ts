// Training options shared by `train` and `finetune`, and the run itself:
// progress on the terminal, a checkpoint after every epoch, ONNX out.
import { loadDataset, DATASETS, type Dataset, type DatasetName } from '../data/datasets.js';
import { fail } from '../ir/errors.js';
import type { Graph } from '../ir/graph.js';
import { foldBatchNorm } from '../ir/passes/fold_batchnorm.js';
import { exportOnnx } from '../onnx/export.js';
import { modelFromGraph } from '../train/from_graph.js';
import { train, type TrainOptions, type TrainResult } from '../train/loop.js';
import { withTrainingThreads } from '../train/threads_node.js';
import { modelToGraph } from '../train/to_graph.js';
import type { OptimizerSpec } from '../train/optim.js';
import type { ScheduleSpec } from '../train/schedule.js';
import { choice, num, str, type Options, type Parsed } from './args.js';
import { trainProgress } from './train_progress.js';
import { checkOutputs, requireExtension, writeFileAtomic } from './outputs.js';

export const TRAIN_FLAGS: Options = {
  dataset: { type: 'string' },
  output: { type: 'string', short: 'o' },
  epochs: { type: 'string' },
  lr: { type: 'string' },
  batch: { type: 'string' },
  optimizer: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  schedule: { type: 'string' },
  shift: { type: 'string' },
  flip: { type: 'boolean' },
  seed: { type: 'string' },
  'max-steps': { type: 'string' },
  threads: { type: 'string' },
};

export const TRAIN_HELP = `  --dataset NAME        ${DATASETS.join(' or ')} (required)
  -o, --output FILE     the .onnx to write (required); rewritten after every epoch, so a
                        run that stops keeps its last good epoch
  --epochs N            epochs
  --lr X                learning rate (> 0)
  --batch N             batch size (default 64)
  --optimizer O         sgd (momentum 0.9, Nesterov) or adam
  --momentum M          SGD momentum (default 0.9)
  --weight-decay W      L2 weight decay (default 5e-4 for sgd, 0 for adam)
  --schedule S          cosine (default), step, one-cycle or constant
  --shift K             augmentation: random shift by up to K pixels
  --flip                augmentation: random horizontal flip
  --seed S              seed of initialisation, shuffling and augmentation (default 1)
  --max-steps N         cap on steps per epoch (quick runs)
  --threads N           threads the GEMMs are split over (default 1; the result does not
                        depend on it)`;

export interface TrainDefaults {
  epochs: number;
  lr: number;
  optimizer?: 'sgd' | 'adam';
  shift?: number;
}

/** Checks `-o` before a model is loaded or trained: an .onnx path, writable, not one of `inputs`. */
export function trainingOutput(command: string, p: Parsed, inputs: string[]): string {
  const out = str(p, 'output') ?? fail('-o OUT.onnx is required');
  requireExtension(out, '-o', '.onnx');
  checkOutputs(command, inputs, [{ flag: '-o', path: out }]);
  return out;
}

export async function runTraining(graph: Graph, p: Parsed, d: TrainDefaults, out: string): Promise<number> {
  const dataset = choice(p, 'dataset', DATASETS) ?? fail('--dataset is required (mnist or fashion-mnist)');
  const epochs = num(p, 'epochs', d.epochs, 0, 10000, true);
  const lr = num(p, 'lr', d.lr, -Infinity, Infinity);
  if (!(lr > 0)) fail(`--lr ${lr}: the learning rate must be > 0`);
  const kind = choice(p, 'optimizer', ['sgd', 'adam'] as const, d.optimizer ?? 'sgd')!;
  const weightDecay = num(p, 'weight-decay', kind === 'sgd' ? 5e-4 : 0, 0, 1);
  const optimizer: OptimizerSpec =
    kind === 'sgd' ? { kind, lr, momentum: num(p, 'momentum', 0.9, 0, 0.999), nesterov: true, weightDecay } : { kind, lr, weightDecay, decoupled: true };
  const scheduleKind = choice(p, 'schedule', ['cosine', 'step', 'one-cycle', 'constant'] as const, 'cosine')!;
  const schedule: ScheduleSpec =
    scheduleKind === 'step' ? { kind: 'step', everyEpochs: Math.max(1, Math.round(epochs / 3)) } : scheduleKind === 'cosine' ? { kind: 'cosine', minLr: 0 } : { kind: scheduleKind };
  const seed = num(p, 'seed', 1, 0, 2 ** 32 - 1, true);
  const maxSteps = str(p, 'max-steps') === undefined ? undefined : num(p, 'max-steps', 0, 1, 1e9, true);
  const threads = num(p, 'threads', 1, 1, 64, true);
  const opts: TrainOptions = {
    epochs,
    batchSize: num(p, 'batch', 64, 1, 65536, true),
    seed,
    optimizer,
    schedule,
    augment: { shift: num(p, 'shift', d.shift ?? 0, 0, 8, true), flip: Boolean(p.values.flip) },
    maxStepsPerEpoch: maxSteps,
  };
  const data = { train: loadDataset(dataset as DatasetName, 'train'), test: loadDataset(dataset as DatasetName, 'test') };
  // the model is built inside: its tapes take the thread pool's memory
  return withTrainingThreads(threads, () => trainAndSave(graph, data, opts, out, dataset));
}

function trainAndSave(graph: Graph, data: { train: Dataset; test: Dataset }, opts: TrainOptions, out: string, dataset: string): number {
  const model = modelFromGraph(graph, { seed: opts.seed });
  const save = () => writeFileAtomic(out, exportOnnx(foldBatchNorm(modelToGraph(model))));
  const progress = trainProgress();
  let result: TrainResult;
  try {
    result = train(model, data, {
      ...opts,
      onProgress: (pr) => {
        progress.update('train', pr);
        if (pr.phase === 'eval') save();
      },
    });
  } finally {
    progress.done();
  }
  save();
  const last = result.epochs.at(-1);
  const acc = result.testAccuracy ?? model.evaluate(data.test.images, data.test.labels, data.test.count, 256).accuracy;
  const speed = last ? `, ${last.samplesPerSec.toFixed(0)} samples/s` : '';
  console.log(`${out}: ${dataset} test accuracy ${(100 * acc).toFixed(2)}% after ${opts.epochs} epochs${speed}`);
  return 0;
}
