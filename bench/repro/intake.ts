// Intake without loss (issue 8 §1): models pruned, shared or quantized elsewhere,
// handed over as plain ONNX, compressed with no flag (lossless) and decompressed
// again: the .nnz size, whether every initializer came back bit for bit, and the
// MNIST / Fashion-MNIST accuracy of the original and of the round trip, image by image.
import { compressGraph } from '../../src/compress/pipeline.js';
import { LOSSLESS, parseRecipe } from '../../src/compress/recipe.js';
import { loadDataset, type DatasetName } from '../../src/data/datasets.js';
import { sessionAccuracy } from '../../src/eval/runners.js';
import { nnzToGraph } from '../../src/format/nnz.js';
import type { Graph } from '../../src/ir/graph.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { importOnnx } from '../../src/onnx/import.js';
import { formatTable } from '../../src/report/table.js';
import { model, pruned, quantized, shared } from '../../test/compress/foreign.js';
import { data, log, pct } from './common.js';

interface Case {
  what: string;
  dataset: DatasetName;
  /** The ONNX file as handed over. */
  make: () => Uint8Array;
  /** Also run `--no-finetune --recipe deep-compression` on it: what the default did before (re-prune, re-cluster, unmeasured). */
  contrast?: boolean;
}

const L300 = { fc1: 0.08, fc2: 0.09, fc3: 0.26 };
const L5 = { conv1: 0.66, conv2: 0.12, fc1: 0.08, fc2: 0.19 };

/** Deep Compression with fine-tuning (nnzip's own passes), then written out as a dense ONNX. */
function retrained(): Uint8Array {
  log('LeNet-300-100: pruning to 8/9/26% and 5-bit sharing with fine-tuning (about 5 minutes) ...');
  const recipe = parseRecipe({ layers: { fc1: { density: 0.08, bits: 5 }, fc2: { density: 0.09, bits: 5 }, fc3: { density: 0.26, bits: 5 } } }, 'retrained');
  return exportOnnx(compressGraph(model('lenet300_dense'), { recipe, data: data('mnist'), seed: 1 }).compressed);
}

const CASES: Case[] = [
  { what: 'LeNet-300-100 pruned 8/9/26%, 5-bit shared (one-shot)', dataset: 'mnist', make: () => exportOnnx(shared(pruned(model('lenet300_dense'), L300), 5)) },
  { what: 'LeNet-300-100 pruned 8/9/26%, 5-bit shared (fine-tuned)', dataset: 'mnist', make: retrained, contrast: true },
  { what: 'LeNet-5 pruned 66/12/8/19%', dataset: 'mnist', make: () => exportOnnx(pruned(model('lenet5_dense'), L5)) },
  { what: 'LeNet-5 int8 per channel (float32 scales)', dataset: 'mnist', make: () => exportOnnx(quantized(model('lenet5_dense'), { perChannel: true })) },
  { what: "LeNet-5 onnxruntime QDQ (fixture)", dataset: 'mnist', make: () => exportOnnx(model('lenet5_int8_qdq')) },
  { what: 'VGG-S dense float32 (fixture)', dataset: 'fashion-mnist', make: () => exportOnnx(model('vggs_fmnist_dense')) },
];

function sameInitializers(a: Graph, b: Graph): boolean {
  for (const [name, t] of a.initializers) {
    const u = b.initializers.get(name);
    if (!u || u.dtype !== t.dtype || u.shape.join() !== t.shape.join()) return false;
    const x = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const y = new Uint8Array(u.data.buffer, u.data.byteOffset, u.data.byteLength);
    if (x.some((v, i) => v !== y[i])) return false;
  }
  return a.initializers.size === b.initializers.size;
}

export async function intake(args: string[]): Promise<void> {
  const only = args[0];
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  for (const c of CASES.filter((c) => !only || c.what.toLowerCase().includes(only.toLowerCase()))) {
    const onnx = c.make();
    const given = importOnnx(onnx, { source: 'given.onnx' });
    const t0 = Date.now();
    const r = compressGraph(given, { recipe: LOSSLESS });
    const seconds = (Date.now() - t0) / 1000;
    const back = importOnnx(exportOnnx(nnzToGraph(r.file.bytes, 'given.nnz').graph), { source: 'back.onnx' });
    const test = loadDataset(c.dataset, 'test');
    const [a, b] = [await sessionAccuracy(given, test), await sessionAccuracy(back, test)];
    const same = a.predictions.every((p, i) => p === b.predictions[i]);
    const formats = r.intake.map((l) => `${l.layer} ${l.format?.kind ?? 'float'}${l.format?.kind === 'codebook' || l.format?.kind === 'grid' ? ` ${l.bits}b` : ''}`).join(', ');
    log(`${c.what}: ${r.file.bytes.length} bytes in ${seconds.toFixed(1)} s; ${formats}`);
    rows.push([c.what, onnx.length, r.file.bytes.length, `${(onnx.length / r.file.bytes.length).toFixed(1)}×`, sameInitializers(given, back) ? 'yes' : 'NO', pct(a.accuracy), pct(b.accuracy), same ? 'yes' : 'NO']);
    notes.push(`  ${c.what}: ${formats}`);
    if (c.contrast) {
      const old = compressGraph(given, { recipe: parseRecipe({}, 'deep-compression') });
      const acc = await sessionAccuracy(nnzToGraph(old.file.bytes, 'old.nnz').graph, test);
      rows.push([`  same, --recipe deep-compression --no-finetune`, onnx.length, old.file.bytes.length, `${(onnx.length / old.file.bytes.length).toFixed(1)}×`, 'NO', pct(a.accuracy), pct(acc.accuracy), '-']);
      notes.push(`  (deep-compression without data: ${old.unmeasured.map((x) => `${x.layer}: ${x.changes.join(', ')}`).join('; ')})`);
    }
  }
  console.log('\nLossless intake: `nnzip compress MODEL.onnx -o M.nnz` (no flag), then `decompress`; accuracy on the full test set (10,000 images)\n');
  console.log(formatTable(['model as handed over', 'ONNX bytes', '.nnz bytes', 'ratio', 'initializers identical', 'accuracy before', 'after', 'same prediction on every image'], rows));
  console.log('\nwhat each layer was found to be:\n' + notes.join('\n'));
}
