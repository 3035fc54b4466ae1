import { basename } from 'node:path';
import { CALIBRATION_METHODS } from '../../compress/quantize/calibrate.js';
import type { QuantizeOptions } from '../../compress/quantize/ptq.js';
import { quantizeModel } from '../../compress/quantize/quantize_model.js';
import { DATASETS, loadDataset } from '../../data/datasets.js';
import { sessionAccuracy } from '../../eval/runners.js';
import { graphToNnz } from '../../format/nnz.js';
import { fail } from '../../ir/errors.js';
import type { Graph } from '../../ir/graph.js';
import { formatBytes } from '../../ir/print.js';
import { exportOnnx } from '../../onnx/export.js';
import { denseBytes } from '../../compress/pipeline.js';
import { formatQuantTable, quantLayerRows } from '../../report/quantize_report.js';
import { withTrainingThreads } from '../../train/threads_node.js';
import { choice, num, oneModel, parse, str, type Parsed } from '../args.js';
import type { Command } from '../command.js';
import { loadModel } from '../load_model.js';
import { trainProgress } from '../train_progress.js';
import { Outputs } from '../outputs.js';

export const quantize: Command = {
  name: 'quantize',
  summary: 'int8 or dynamic fixed-point quantization (calibration, optional QAT) into .nnz or QDQ .onnx',
  usage: `usage: nnzip quantize MODEL -o OUT.nnz|OUT.onnx --dataset mnist|fashion-mnist [options]

Post-training quantization on calibration images from the training set, optionally
followed by quantization-aware training; prints each layer's quantization error
(SQNR and cosine of its output against the float model, worst first) and the test
accuracy, and writes a JSON report next to the output. A .onnx output is QDQ
(QuantizeLinear / DequantizeLinear around the layers, int8 weights with per-axis
scales) that onnxruntime runs; nnzip runs either on its integer kernels.

  -o, --output FILE       .nnz or .onnx (required)
  --dataset NAME          calibration (training set), test and QAT data: ${DATASETS.join(', ')}
  --scheme S              int8 (default: per-channel symmetric int8 weights, int8 activations)
                          or fixed (dynamic fixed point: a power-of-two scale per layer)
  --bits N                weight bits: int8 2–8 (default 8); fixed 2–16 (default 8)
  --act-bits N            fixed: activation bits (default --bits)
  --calibrate M           activation ranges: ${CALIBRATION_METHODS.join(', ')} (default minmax)
  --calib-samples N       calibration images, the first N of the training set (default 1000)
  --symmetric             int8: symmetric activations (zero point 0)
  --per-tensor            int8: one weight scale per layer instead of per output channel
  --search S              fixed: fraction length by max-range or min-error (default)
  --exclude L[,L...]      layers left float (by name: conv1, fc1.weight, or node name)
  --act16 L[,L...]        layers with 16-bit activations (nnzip only: not ONNX)
  --qat                   quantization-aware training after calibration
  --epochs N              QAT epochs (default 1)
  --lr X                  QAT learning rate (default 0.001; SGD, momentum 0.9, cosine decay)
  --batch N               QAT batch size (default 64)
  --max-steps N           cap on QAT steps per epoch (quick runs)
  --seed S                seed of QAT shuffling (default 1)
  --threads N             threads for QAT and the accuracy check (default 1; same result)
  --limit N               test accuracy on the first N test images only
  --report FILE           JSON report (default: OUT with .json)`,
  async run(argv) {
    const p = parse('quantize', argv, {
      output: { type: 'string', short: 'o' }, dataset: { type: 'string' }, scheme: { type: 'string' }, bits: { type: 'string' },
      'act-bits': { type: 'string' }, calibrate: { type: 'string' }, 'calib-samples': { type: 'string' }, symmetric: { type: 'boolean' },
      'per-tensor': { type: 'boolean' }, search: { type: 'string' }, exclude: { type: 'string', multiple: true }, act16: { type: 'string', multiple: true },
      qat: { type: 'boolean' }, epochs: { type: 'string' }, lr: { type: 'string' }, batch: { type: 'string' }, 'max-steps': { type: 'string' },
      seed: { type: 'string' }, threads: { type: 'string' }, report: { type: 'string' }, limit: { type: 'string' },
    });
    const path = oneModel('quantize', p);
    const out = str(p, 'output') ?? fail('quantize: -o OUT.nnz or OUT.onnx is required');
    if (!/\.(nnz|onnx)$/.test(out)) fail(`-o ${out}: the output must end in .nnz or .onnx`);
    const dataset = choice(p, 'dataset', DATASETS) ?? fail('quantize: --dataset is required (calibration images come from its training set)');
    const o = options(p);
    const samples = num(p, 'calib-samples', 1000, 1, 60000, true);
    const threads = num(p, 'threads', 1, 1, 64, true);
    const epochs = num(p, 'epochs', 1, 0, 1000, true);
    const reportPath = str(p, 'report') ?? out.replace(/\.(nnz|onnx)$/, '.json');
    const outputs = new Outputs('quantize', [path], [{ flag: '-o', path: out }, { flag: '--report', path: reportPath }]);
    const model = loadModel(path);
    const data = { train: loadDataset(dataset, 'train'), test: loadDataset(dataset, 'test') };
    const calibration = { data: data.train, count: samples, label: `${dataset} train (first ${samples} images)` };
    const progress = trainProgress();
    const train = {
      lr: num(p, 'lr', 0.001, 1e-9, 10), batch: num(p, 'batch', 64, 1, 65536, true), momentum: 0.9, weightDecay: 0,
      seed: num(p, 'seed', 1, 0, 2 ** 32 - 1, true), maxStepsPerEpoch: str(p, 'max-steps') === undefined ? undefined : num(p, 'max-steps', 0, 1, 1e9, true),
      onProgress: progress.update,
    };
    const r = await withTrainingThreads(threads, () => quantizeModel(model.graph, o, calibration, p.values.qat ? { epochs, data, train } : undefined));
    progress.done();
    const bytes = out.endsWith('.onnx') ? exportOnnx(r.graph) : graphToNnz(r.graph, { meta: { source: basename(path), quantize: o } }).bytes;
    const limit = num(p, 'limit', data.test.count, 1, 1e9, true);
    const [floatAcc, quantAcc] = [await accuracy(r.ptq.float, data.test, threads, limit), await accuracy(r.graph, data.test, threads, limit)];
    const rows = quantLayerRows(r);
    console.log(formatQuantTable(rows, o.exclude ?? []));
    const delta = 100 * (quantAcc - floatAcc);
    const qat = r.qatAccuracy === undefined ? '' : ` (QAT, trainer ${(100 * r.qatAccuracy).toFixed(2)}%)`;
    const images = limit < data.test.count ? `, first ${limit} images` : '';
    console.log(`\naccuracy (${dataset} test${images}): float ${(100 * floatAcc).toFixed(2)}%, quantized ${(100 * quantAcc).toFixed(2)}% (${delta >= 0 ? '+' : ''}${delta.toFixed(2)} pp)${qat}`);
    const before = denseBytes(model.graph);
    console.log(`${out}: ${formatBytes(bytes.length)} (${(before / bytes.length).toFixed(1)}× smaller than ${formatBytes(before)} of float32 weights)`);
    outputs.stage(out, bytes);
    const report = { model: path, output: out, options: o, calibration: calibration.label, fileBytes: bytes.length, floatBytes: before,
      accuracy: { float: floatAcc, quantized: quantAcc, qatTrainer: r.qatAccuracy }, layers: rows };
    outputs.stage(reportPath, JSON.stringify(report, (_, v) => (v === Infinity ? 'Infinity' : v), 2) + '\n');
    outputs.commit();
    return 0;
  },
};

function list(p: Parsed, key: string): string[] | undefined {
  const v = p.values[key] as string[] | undefined;
  return v?.flatMap((s) => s.split(',')).filter(Boolean);
}

function options(p: Parsed): QuantizeOptions {
  const scheme = choice(p, 'scheme', ['int8', 'fixed'] as const, 'int8')!;
  const bits = num(p, 'bits', 8, -Infinity, Infinity);
  const actBits = str(p, 'act-bits') === undefined ? undefined : num(p, 'act-bits', 8, -Infinity, Infinity);
  if (actBits !== undefined && scheme !== 'fixed') fail('--act-bits goes with --scheme fixed (int8 activations are 8-bit; use --act16 for 16-bit layers)');
  return {
    scheme, bits, actBits, calibrate: choice(p, 'calibrate', CALIBRATION_METHODS, 'minmax'), symmetric: Boolean(p.values.symmetric),
    perChannel: !p.values['per-tensor'], search: choice(p, 'search', ['max-range', 'min-error'] as const, 'min-error'),
    exclude: list(p, 'exclude'), act16: list(p, 'act16'),
  };
}

async function accuracy(graph: Graph, ds: ReturnType<typeof loadDataset>, threads: number, limit: number): Promise<number> {
  return (await sessionAccuracy(graph, ds, { threads, limit })).accuracy;
}
