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
// Run: node dist/bench/pattern_cpu.js [BATCH] [MODEL.nnz]   (default 1; the model: bench/pattern_model.ts patternVggs)
//      node dist/bench/pattern_cpu.js --resnet18 [THREADS]
import { patternVggs, DENSE_VGGS, resnet18Model } from './pattern_model.js';
import { createNnzipPeer } from './peers/nnzip.js';
import { createOrtNodePeer } from './peers/ort_node.js';
import { createOrtWebPeer } from './peers/ort_web.js';
import { loadOnnxFile } from '../src/onnx/load.js';
import { f32 } from '../src/ir/tensor.js';
import { Rng } from '../src/ir/random.js';
const resnet = process.argv[2] === '--resnet18';
const batch = resnet ? 1 : Number(process.argv[2] ?? 1), threads = resnet ? Number(process.argv[3] ?? 1) : 1;
if (!(Number.isInteger(batch) && batch >= 1) || !(threads === 1 || threads === 2)) {
  console.error('nnzip: error: pattern_cpu takes [BATCH ≥ 1] [MODEL.nnz], or --resnet18 [THREADS 1 or 2]');
  process.exit(2);
}
const r18 = resnet ? resnet18Model() : undefined;
const model = r18 ?? patternVggs(process.argv[3]);
const dense = r18?.dense ?? loadOnnxFile(DENSE_VGGS);
console.log(`model: ${model.source}; ${threads} thread(s)`);
// the untuned session first: it plans at creation, before the tuner fills the (per-process) cache
const untuned = await createNnzipPeer(model.graph, { threads, batch });
const t0 = performance.now();
const tunedPeer = await createNnzipPeer(model.graph, { threads, batch, patterns: { tune: true } });
const tuneMs = performance.now() - t0;
const peers = [
  ['nnzip pattern', untuned],
  ['nnzip dense', await createNnzipPeer(dense, { threads, batch })],
  ['ort-node dense', await createOrtNodePeer(r18 ? dense : DENSE_VGGS, { threads, spinning: false })],
  ['nnzip pattern tuned', tunedPeer],
  ['ort-web dense', await createOrtWebPeer(r18 ? dense : DENSE_VGGS, { threads, spinning: false })],
] as const;
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
console.log(`nnzip pattern / ort-node dense (${measure}): ${(t[0] / t[2]).toFixed(3)}; tuned: ${(t[3] / t[2]).toFixed(3)} (session with patterns.tune created in ${Math.round(tuneMs)} ms); / ort-web dense: ${(t[0] / t[4]).toFixed(3)}`);
for (const [, p] of peers) await p.dispose();
process.exit(0);
