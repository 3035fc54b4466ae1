// Quantization on the shared models (LeNet-5 / MNIST, VGG-S / Fashion-MNIST), every
// accuracy on the full test set as nnzip's runtime runs the quantized graph:
//   fixed   the seed's Fig. 5-13: dynamic fixed point at 32/16/8/6/4 bits (weights and
//           activations) and 4-bit weights / 8-bit activations, without and with fine-tuning;
//   int8    PTQ on the 1000 training images onnxruntime's quantize_static used, next to
//           that tool's model (fixtures/models/*_int8_qdq.onnx) run by onnxruntime-node,
//           the three calibration methods, QAT, and onnxruntime on nnzip's QDQ export;
//   sizes   float ONNX, onnxruntime's QDQ, nnzip's QDQ .onnx and .nnz, pruned + int8 .nnz.
// Args: [lenet5 | vggs] [fixed | int8 | sizes] [W/A ...: fixed-point settings, e.g. 4/8 8/8] (default: all); fine-tuning / QAT epochs via QUANT_EPOCHS (default 1; 0 = none),
// at most QUANT_MAX_STEPS steps (batch 64) per epoch when set, on QUANT_THREADS training threads (default 1).
import { compressGraph } from '../../src/compress/pipeline.js';
import { DEEP_COMPRESSION, type Recipe } from '../../src/compress/recipe.js';
import { quantizeModel } from '../../src/compress/quantize/quantize_model.js';
import type { QuantizeOptions } from '../../src/compress/quantize/ptq.js';
import type { DatasetName } from '../../src/data/datasets.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { ortRun, ortSession } from '../../src/eval/ort.js';
import { sessionAccuracy } from '../../src/eval/runners.js';
import { graphToNnz, nnzToGraph } from '../../src/format/nnz.js';
import type { Graph } from '../../src/ir/graph.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { f32 } from '../../src/ir/tensor.js';
import { formatTable } from '../../src/report/table.js';
import { fail } from '../../src/ir/errors.js';
import { withTrainingThreads } from '../../src/train/threads_node.js';
import { data, fixture, log, pct } from './common.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Case { key: string; name: string; dense: string; qdq: string; dataset: DatasetName; lr: number }

const CASES: Case[] = [
  { key: 'lenet5', name: 'LeNet-5', dense: 'lenet5_dense.onnx', qdq: 'lenet5_int8_qdq.onnx', dataset: 'mnist', lr: 0.002 },
  { key: 'vggs', name: 'VGG-S', dense: 'vggs_fmnist_dense.onnx', qdq: 'vggs_fmnist_int8_qdq.onnx', dataset: 'fashion-mnist', lr: 0.001 },
];

const EPOCHS = Number(process.env.QUANT_EPOCHS ?? 1);
/** Optional cap on steps per fine-tuning epoch (QUANT_MAX_STEPS), said in the tables. */
const MAX_STEPS = process.env.QUANT_MAX_STEPS ? Number(process.env.QUANT_MAX_STEPS) : undefined;
const THREADS = Number(process.env.QUANT_THREADS ?? 1);
const TUNING = `${EPOCHS} epoch${EPOCHS === 1 ? '' : 's'}${MAX_STEPS ? ` of at most ${MAX_STEPS} steps` : ''}`;
const FIXTURES = fileURLToPath(new URL('../../../fixtures/models/', import.meta.url));

const pp = (a: number, b: number) => `${a - b >= 0 ? '+' : '−'}${Math.abs(100 * (a - b)).toFixed(2)} pp`;

async function acc(g: Graph, c: Case): Promise<number> {
  return (await sessionAccuracy(g, data(c.dataset).test, { batch: 200 })).accuracy;
}

/** Quantizes (and fine-tunes when epochs > 0); returns the final graph. */
function quantized(c: Case, o: QuantizeOptions, epochs: number): Graph {
  const d = data(c.dataset);
  const train = { lr: c.lr, batch: 64, momentum: 0.9, weightDecay: 0, seed: 1, maxStepsPerEpoch: MAX_STEPS, onProgress: progress(c.name) };
  const qat = epochs > 0 ? { epochs, data: d, train } : undefined;
  return quantizeModel(fixture(c.dense), o, { data: d.train, count: 1000, label: 'first 1000 training images' }, qat).graph;
}

function progress(name: string) {
  let last = 0;
  return (stage: string, p: { epoch: number; epochs: number; step: number; steps: number; loss: number }) => {
    if (Date.now() - last > 15000) { last = Date.now(); log(`${name} ${stage} epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)}`); }
  };
}

/** The fixed-point settings: all, or those named as W/A in the args (e.g. 4/8 8/8), in that order. */
const FIXED: [string, number, number][] = [['32 / 32', 32, 32], ['16 / 16', 16, 16], ['8 / 8', 8, 8], ['6 / 6', 6, 6], ['4 / 4', 4, 4], ['4 / 8', 4, 8]];

async function fixedPoint(c: Case, only: string[]): Promise<string[][]> {
  const float = await acc(fixture(c.dense), c);
  const rows = [[c.name, 'float32', pct(float), '', '']];
  const settings = only.length ? only.map((w) => FIXED.find(([label]) => label.replace(/ /g, '') === w) ?? fail(`repro quantization: bits ${w}; give W/A among ${FIXED.map(([l]) => l.replace(/ /g, '')).join(', ')}`)) : FIXED;
  for (const [label, bits, actBits] of settings) {
    const o: QuantizeOptions = { scheme: 'fixed', bits, actBits };
    const plain = await acc(quantized(c, o, 0), c);
    const tuned = EPOCHS > 0 ? await acc(quantized(c, o, EPOCHS), c) : undefined; // QUANT_EPOCHS=0: no fine-tuning column
    log(`${c.name} fixed ${label}: ${pct(plain)} / tuned ${tuned === undefined ? '-' : pct(tuned)}`);
    rows.push([c.name, `fixed ${label}`, pct(plain), tuned === undefined ? '-' : pct(tuned), `${pp(plain, float)} / ${tuned === undefined ? '-' : pp(tuned, float)}`]);
  }
  return rows;
}

async function ortAccuracy(onnx: string | Uint8Array, c: Case): Promise<{ accuracy: number; predictions: Uint8Array }> {
  const ort = await ortSession(onnx);
  const test = data(c.dataset).test;
  const r = await evaluate(async (x, n) => (await ortRun(ort, { input: f32([n, ...test.shape], x) })).logits.data as Float32Array, test);
  await ort.release();
  return r;
}

async function int8(c: Case): Promise<string[][]> {
  const float = await acc(fixture(c.dense), c);
  const ort = await ortAccuracy(FIXTURES + c.qdq, c);
  const rows = [[c.name, 'float32 (nnzip)', pct(float), ''], [c.name, 'int8 onnxruntime quantize_static (onnxruntime-node)', pct(ort.accuracy), pp(ort.accuracy, float)]];
  for (const calibrate of ['minmax', 'percentile', 'entropy'] as const) {
    const g = quantized(c, { scheme: 'int8', bits: 8, calibrate }, 0);
    const a = await acc(g, c);
    rows.push([c.name, `int8 nnzip PTQ ${calibrate}`, pct(a), `${pp(a, float)}; vs onnxruntime's ${pp(a, ort.accuracy)}`]);
    if (calibrate === 'minmax') {
      const mine = await sessionAccuracy(g, data(c.dataset).test, { batch: 200 });
      const theirs = await ortAccuracy(exportOnnx(g), c);
      let agree = 0;
      mine.predictions.forEach((p, i) => { if (p === theirs.predictions[i]) agree++; });
      rows.push([c.name, 'nnzip PTQ minmax exported QDQ, run by onnxruntime-node', pct(theirs.accuracy), `top-1 agreement with nnzip ${(100 * agree / mine.count).toFixed(2)}%`]);
    }
  }
  const q = await acc(quantized(c, { scheme: 'int8', bits: 8 }, EPOCHS), c);
  rows.push([c.name, `int8 nnzip QAT (${TUNING})`, pct(q), pp(q, float)]);
  return rows;
}

/** LeNet-5 pruned to Han's densities (one shot, one fine-tuning epoch) then int8. */
function prunedInt8(c: Case): Graph {
  const r: Recipe = structuredClone(DEEP_COMPRESSION);
  delete r.share;
  r.prune = { ...r.prune!, schedule: 'oneshot', stages: 1, epochsPerStage: EPOCHS };
  r.layers = c.key === 'lenet5' ? { conv1: { density: 0.66 }, conv2: { density: 0.12 }, fc1: { density: 0.08 }, fc2: { density: 0.19 } } : {};
  if (c.key !== 'lenet5') r.prune.density = { conv: 0.35, fc: 0.1 };
  r.quantize = { scheme: 'int8', bits: 8, calibrate: 'minmax', samples: 1000, epochs: 0 };
  return compressGraph(fixture(c.dense), { recipe: r, data: data(c.dataset), seed: 1, maxStepsPerEpoch: MAX_STEPS, onProgress: progress(c.name) }).compressed;
}

async function sizes(c: Case): Promise<string[][]> {
  const denseBytes = readFileSync(FIXTURES + c.dense).length, ortBytes = readFileSync(FIXTURES + c.qdq).length;
  const g = quantized(c, { scheme: 'int8', bits: 8 }, 0);
  const onnx = exportOnnx(g), nnz = graphToNnz(g).bytes;
  const pruned = graphToNnz(prunedInt8(c)).bytes;
  const prunedAcc = await acc(nnzToGraph(pruned, 'pruned int8').graph, c);
  const ratio = (b: number) => `${(denseBytes / b).toFixed(1)}×`;
  return [
    [c.name, 'float32 ONNX', String(denseBytes), '1.0×', pct(await acc(fixture(c.dense), c))],
    [c.name, "onnxruntime's QDQ ONNX", String(ortBytes), ratio(ortBytes), ''],
    [c.name, 'nnzip int8 QDQ .onnx', String(onnx.length), ratio(onnx.length), pct(await acc(g, c))],
    [c.name, 'nnzip int8 .nnz', String(nnz.length), ratio(nnz.length), pct(await acc(nnzToGraph(nnz, 'int8').graph, c))],
    [c.name, 'nnzip pruned + int8 .nnz', String(pruned.length), ratio(pruned.length), pct(prunedAcc)],
  ];
}

export async function quantization(args: string[]): Promise<void> {
  await withTrainingThreads(THREADS, () => quantizationTables(args));
}

async function quantizationTables(args: string[]): Promise<void> {
  const cases = CASES.filter((c) => !args.some((a) => CASES.some((k) => k.key === a)) || args.includes(c.key));
  const parts = ['fixed', 'int8', 'sizes'].filter((p) => !args.some((a) => ['fixed', 'int8', 'sizes'].includes(a)) || args.includes(p));
  const t0 = Date.now();
  for (const c of cases) {
    if (parts.includes('fixed')) {
      console.log(`\nDynamic fixed point (weights / activations bits), ${c.name}: test accuracy without and with ${TUNING} of fine-tuning\n`);
      console.log(formatTable(['model', 'bits (w / a)', 'no fine-tuning', 'fine-tuned', 'Δ vs float'], await fixedPoint(c, args.filter((a) => a.includes('/')))));
    }
    if (parts.includes('int8')) {
      console.log(`\nint8, ${c.name} (calibration: the first 1000 training images, as onnxruntime's quantize_static was given)\n`);
      console.log(formatTable(['model', 'what', 'accuracy', 'Δ'], await int8(c)));
    }
    if (parts.includes('sizes')) {
      console.log(`\nFile sizes, ${c.name}\n`);
      console.log(formatTable(['model', 'file', 'bytes', 'vs float', 'accuracy'], await sizes(c)));
    }
  }
  log(`quantization repro: ${((Date.now() - t0) / 60000).toFixed(1)} min`);
}
