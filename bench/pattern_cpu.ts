// Whole VGG-S, 1 thread, the bar on a shared machine: nnzip on the pattern
// model (bench/pattern_model.ts) and on the dense ONNX, and onnxruntime-node and -web on the
// dense ONNX, interleaved in one process; each figure is the process's CPU time per
// run (worker threads included), the fastest of the rounds, beside the fastest wall
// time. A run descheduled by another process costs wall time but no CPU time, so on a
// loaded machine these are the comparable figures (npm run bench's medians are wall time).
// "nnzip pattern tuned": the same model with every pattern layer auto-tuned for this batch and thread
// count at session creation (patterns.tune; the tuning time is printed).
// --resnet18: ResNet-18 at 224×224 instead (pattern_model.ts resnet18Model: random weights, its 3×3
// convs projected one-shot; the dense peers run the same graph unprojected), THREADS 1 or 2.
// --patterns: the co-design curve instead: the dense VGG-S projected one-shot onto K = 4, 6, 8, 12
// patterns at connectivity 3.6, and 8 patterns at 2 and 5 (every layer the same rate), each model's
// run on nnzip (untuned) against onnxruntime-node on the dense model, batch 1, 1 thread.
// Run: node dist/bench/pattern_cpu.js [BATCH] [MODEL.nnz]   (default 1; the model: bench/pattern_model.ts patternVggs)
//      node dist/bench/pattern_cpu.js --resnet18 [THREADS]
//      node dist/bench/pattern_cpu.js --patterns
import { convWeights, patternVggs, DENSE_VGGS, resnet18Model } from './pattern_model.js';
import { createNnzipPeer } from './peers/nnzip.js';
import { createOrtNodePeer } from './peers/ort_node.js';
import { createOrtWebPeer } from './peers/ort_web.js';
import { loadOnnxFile } from '../src/onnx/load.js';
import { f32 } from '../src/ir/tensor.js';
import { Rng } from '../src/ir/random.js';
import { compressGraph } from '../src/compress/pipeline.js';
import { PATTERN } from '../src/compress/recipe.js';
import { formatRatio, formatTable } from './table.js';
const resnet = process.argv[2] === '--resnet18', curve = process.argv[2] === '--patterns';
const batch = resnet || curve ? 1 : Number(process.argv[2] ?? 1), threads = resnet ? Number(process.argv[3] ?? 1) : 1;
if (!(Number.isInteger(batch) && batch >= 1) || !(threads === 1 || threads === 2)) {
  console.error('nnzip: error: pattern_cpu takes [BATCH ≥ 1] [MODEL.nnz], --resnet18 [THREADS 1 or 2], or --patterns');
  process.exit(2);
}
type Peer = Awaited<ReturnType<typeof createNnzipPeer>>;
const r18 = resnet ? resnet18Model() : undefined;
const dense = r18?.dense ?? loadOnnxFile(DENSE_VGGS);
/** (--patterns) The pattern counts K and connectivity rates of the curve. */
const CURVE: [number, number][] = [[4, 3.6], [6, 3.6], [8, 3.6], [12, 3.6], [8, 2], [8, 5]];
const curveModels = curve ? CURVE.map(([patterns, connectivity]) => compressGraph(dense, { recipe: { ...PATTERN, pattern: { ...PATTERN.pattern!, patterns, connectivity } } }).compressed) : [];
const model = r18 ?? (curve ? { graph: curveModels[0], source: 'the dense VGG-S projected one-shot (no retraining)' } : patternVggs(process.argv[3]));
console.log(`model: ${model.source}; ${threads} thread(s)`);
let tuneMs = 0;
const peers: (readonly [string, Peer])[] = [];
if (curve) {
  for (const [i, [K, rate]] of CURVE.entries()) peers.push([`nnzip K=${K} ×${rate}`, await createNnzipPeer(curveModels[i], { threads, batch })]);
  peers.push(['ort-node dense', await createOrtNodePeer(DENSE_VGGS, { threads, spinning: false })]);
} else {
  // the untuned session first: it plans at creation, before the tuner fills the (per-process) cache
  const untuned = await createNnzipPeer(model.graph, { threads, batch });
  const t0 = performance.now();
  const tunedPeer = await createNnzipPeer(model.graph, { threads, batch, patterns: { tune: true } });
  tuneMs = performance.now() - t0;
  peers.push(
    ['nnzip pattern', untuned],
    ['nnzip dense', await createNnzipPeer(dense, { threads, batch })],
    ['ort-node dense', await createOrtNodePeer(r18 ? dense : DENSE_VGGS, { threads, spinning: false })],
    ['nnzip pattern tuned', tunedPeer],
    ['ort-web dense', await createOrtWebPeer(r18 ? dense : DENSE_VGGS, { threads, spinning: false })],
  );
}
const input = model.graph.inputs[0];
const shape = input.shape.map((d) => (typeof d === 'number' ? d : batch));
const feeds = { [input.name]: f32(shape, new Rng(3).floats(shape.reduce((a, b) => a * b, 1), 0, 1)) };
const reps = batch === 1 && !resnet ? 10 : 1, rounds = batch === 1 && !resnet ? 40 : 12, WARM_MS = 2000;
const best = peers.map(() => Infinity), wall = peers.map(() => Infinity);
// warm-up: V8 moves each generated kernel to optimized code after enough calls (ResNet-18's
// first 20 runs on nnzip took 30 ms a run, then 19), so each peer runs at least WARM_MS first
for (const [, p] of peers) for (let i = 0, t0 = performance.now(); i < 3 || performance.now() - t0 < WARM_MS; i++) await p.run(feeds);
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < peers.length; k++) {
    const i = (k + r) % peers.length, p = peers[i][1];
    const c0 = process.cpuUsage(), w0 = performance.now();
    for (let n = 0; n < reps; n++) await p.run(feeds);
    const c = process.cpuUsage(c0);
    best[i] = Math.min(best[i], (c.user + c.system) / 1000 / reps);
    wall[i] = Math.min(wall[i], (performance.now() - w0) / reps);
  }
}
peers.forEach(([name], i) => console.log(`${name}: CPU ${best[i].toFixed(3)} ms, wall (fastest) ${wall[i].toFixed(3)} ms per run of batch ${batch}`));
// one thread: CPU time (the comparable figure on a shared machine); more: wall time (the CPU time sums the threads')
const [measure, t] = threads === 1 ? ['CPU', best] : ['wall', wall];
if (curve) {
  const ort = t[CURVE.length], w = curveModels.map((g) => convWeights(dense, g));
  console.log(`\nVGG-S projected one-shot, batch 1, 1 thread, ms of CPU per run (fastest of ${rounds} rounds); onnxruntime-node dense ${ort.toFixed(3)} ms\n`);
  console.log(formatTable(['K', 'connectivity', 'conv weights', 'nnzip ms', 'speed-up over ort-node dense'], CURVE.map(([K, rate], i) =>
    [String(K), `${rate}×`, `${w[i].kept} (${(w[i].dense / w[i].kept).toFixed(2)}× fewer)`, t[i].toFixed(3), formatRatio(ort, t[i])])));
} else {
  console.log(`nnzip pattern / ort-node dense (${measure}): ${(t[0] / t[2]).toFixed(3)}; tuned: ${(t[3] / t[2]).toFixed(3)} (session with patterns.tune created in ${Math.round(tuneMs)} ms); / ort-web dense: ${(t[0] / t[4]).toFixed(3)}`);
}
for (const [, p] of peers) await p.dispose();
process.exit(0);
