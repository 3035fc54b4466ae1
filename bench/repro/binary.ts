// Binary and ternary networks (issue 11): LeNet-5 on MNIST binarized by each method
// (BWN, TWN, TTQ, XNOR-Net) through the fine-tuning engine, the accuracy of the
// written file as the runtime runs it, its size; then the speed of the xnor-popcount
// conv on VGG-S's 64→64 (14×14) and 128→128 (7×7) 3×3 layers next to nnzip's own f32
// conv and onnxruntime on the same shapes, in one run.
// Run: npm run repro -- binary [speed|xnor|addsub|accuracy] [epochs=N] [steps=N per epoch] [methods=bwn,twn,...] [model=lenet5|vggs] [seed=N]
//   [distill=A] (knowledge distillation from the float model, weight A, T 4) [bn=refold] (train.batchnorm)
import { BINARIZE_DEFAULTS, type BinaryMethod } from '../../src/compress/binary/settings.js';
import { compressGraph } from '../../src/compress/pipeline.js';
import { DEEP_COMPRESSION, DISTILL_DEFAULTS, type Recipe } from '../../src/compress/recipe.js';
import { nnzToGraph } from '../../src/format/nnz.js';
import { detectLevels, outputAxis, signRows } from '../../src/ir/binary.js';
import { Rng } from '../../src/ir/random.js';
import { WasmConv2d } from '../../src/kernels/wasm/conv.js';
import { WasmGemm } from '../../src/kernels/wasm/gemm.js';
import { WasmWinograd } from '../../src/kernels/wasm/winograd.js';
import type { WinogradTile } from '../../src/ir/winograd.js';
import { WasmXnor } from '../../src/kernels/wasm/xnor.js';
import { WasmArena } from '../../src/kernels/wasm/arena.js';
import { ModuleBuilder } from '../../src/kernels/wasm/emitter.js';
import { compileCached, instantiate, memoryImport } from '../../src/kernels/wasm/loader.js';
import { I32, I64, V128 } from '../../src/kernels/wasm/opcodes.js';
import { emitTileLoop } from '../../src/kernels/wasm/xnor_fast_codegen.js';
import { formatTable } from '../../src/report/table.js';
import { Session } from '../../src/runtime/session.js';
import type { Graph } from '../../src/ir/graph.js';
import { opContender } from '../compare.js';
import { contender, measure, median, type Contender } from '../harness.js';
import { foreignLoadLine, watchForeignLoad } from '../harness_node.js';
import { createNnzipPeer } from '../peers/nnzip.js';
import { createOrtNodePeer } from '../peers/ort_node.js';
import type { Peer } from '../peers/peer.js';
import { f32 } from '../../src/ir/tensor.js';
import { opData, type OpTask } from '../op.js';
import { accuracy, data, fixture, log, pct } from './common.js';
import { addsubTable } from './binary_addsub.js';

type Conv = Extract<OpTask, { kind: 'conv' }>;

const MODELS = {
  lenet5: { name: 'LeNet-5', file: 'lenet5_dense.onnx', dataset: 'mnist' as const, lr: 0.01 },
  vggs: { name: 'VGG-S', file: 'vggs_fmnist_dense.onnx', dataset: 'fashion-mnist' as const, lr: 0.01 },
};

/** How the fine-tuning trains, beyond the recipe's defaults (repro options distill= and bn=). */
interface TrainExtras { distill?: number; batchnorm?: 'refold' }

function binarizeRecipe(method: BinaryMethod, epochs: number, lr: number, extras: TrainExtras = {}): Recipe {
  const r = structuredClone(DEEP_COMPRESSION);
  delete r.prune;
  delete r.share;
  r.name = `binarize-${method}`;
  r.binarize = { ...BINARIZE_DEFAULTS, method: { conv: method, fc: method }, epochs };
  r.train = { ...r.train, lr };
  if (extras.distill !== undefined) r.train.distill = { ...DISTILL_DEFAULTS, alpha: extras.distill };
  if (extras.batchnorm) r.train.batchnorm = extras.batchnorm;
  return r;
}

async function accuracyTable(modelKey: keyof typeof MODELS, methods: BinaryMethod[], epochs: number, steps?: number, seed = 1, extras: TrainExtras = {}): Promise<void> {
  const m = MODELS[modelKey];
  const graph = fixture(m.file);
  const d = data(m.dataset);
  const base = await accuracy(graph, m.dataset);
  const rows: (string | number)[][] = [[m.name, 'float (original)', pct(base), '', '', '']];
  for (const method of methods) {
    const t0 = Date.now();
    let last = 0;
    const r = compressGraph(graph, {
      recipe: binarizeRecipe(method, epochs, m.lr, extras), data: d, seed, maxStepsPerEpoch: steps,
      onProgress: (stage, p) => {
        if (Date.now() - last > 20000) { last = Date.now(); log(`${m.name} ${method} epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)}`); }
      },
    });
    const decoded = nnzToGraph(r.file.bytes, `${m.name} ${method}`).graph;
    const acc = await accuracy(decoded, m.dataset);
    // the binarized layers alone (found from their values: the file may store a ternary layer as a
    // codebook or sparse section when that is smaller): their float32 bytes over their sections' bytes
    const bin = r.layers.flatMap((l) => {
      const t = r.compressed.initializers.get(l.weight)!;
      const levels = t.dtype === 'float32' ? detectLevels(t.data as Float32Array, t.shape, outputAxis(l.node)) : undefined;
      return levels ? [{ w: l.weight, kind: levels.kind, stored: r.compressed.formats.get(l.weight)?.kind ?? 'float' }] : [];
    });
    const before = bin.reduce((s, b) => s + 4 * graph.initializers.get(b.w)!.size, 0);
    const after = bin.reduce((s, b) => s + (r.file.sections.find((x) => x.name === b.w)?.bytes ?? 0), 0);
    const kinds = bin.map((b) => (b.kind === b.stored ? b.kind : `${b.kind} as ${b.stored}`)).join(', ');
    rows.push([m.name, method, pct(acc), `${(before / after).toFixed(1)}× (${bin.length} layers: ${kinds})`, `${(r.originalBytes / r.file.bytes.length).toFixed(1)}×`, r.file.bytes.length]);
    log(`${m.name} ${method} (seed ${seed}; binarized: ${bin.map((b) => b.w).join(', ')}): ${pct(acc)} after ${epochs} epochs, ${((Date.now() - t0) / 60000).toFixed(1)} min`);
  }
  const length = steps ? `${epochs} epoch(s) of at most ${steps} steps` : `${epochs} epochs`;
  const how = [extras.distill !== undefined ? `distilled from the float model, α ${extras.distill} T ${DISTILL_DEFAULTS.temperature}` : '', extras.batchnorm ? 'BatchNorm refold' : ''].filter(Boolean).join(', ');
  console.log(`\n${m.name} (${m.dataset}), binarized by each method and fine-tuned ${length} (SGD lr ${m.lr}, batch 64, cosine${how ? `; ${how}` : ''}; seed ${seed}); first and last layers float;`);
  console.log('accuracy of the written .nnz as nnzip\'s runtime runs it, on the full 10,000-image test set\n');
  console.log(formatTable(['model', 'method', 'accuracy', 'binarized layers: ratio', 'whole file: ratio', 'file bytes'], rows));
}

/** Random binary weights (α per output channel) and the xnor layer on them. */
function xnorPeer(t: Conv): Contender {
  const xnor = new WasmXnor();
  const rng = new Rng(11), K = t.C * t.kh * t.kw;
  const w = new Float32Array(t.M * K);
  for (let m = 0; m < t.M; m++) { const a = rng.uniform(0.01, 0.1); for (let k = 0; k < K; k++) w[m * K + k] = rng.next() < 0.5 ? a : -a; }
  const rows = signRows(w, t.M, K);
  if (typeof rows === 'string') throw new Error(rows);
  const p = t.pad;
  const layer = xnor.prepareConv(rows, { C: t.C, M: t.M, kh: t.kh, kw: t.kw, pads: [p, p, p, p], strides: [t.stride, t.stride] },
    { bias: new Float32Array(t.M), clamp: [0, Infinity] });
  const d = opData(t), ar = xnor.arena;
  const x = ar.allocF32(d.x.length), OH = (t.H + 2 * p - t.kh) / t.stride + 1, OW = (t.W + 2 * p - t.kw) / t.stride + 1;
  const y = ar.allocF32(t.N * t.M * OH * OW), scratch = ar.alloc(xnor.convScratchBytes(layer, t.H, t.W));
  ar.f32(x, d.x.length).set(d.x);
  // the calls made once, as the runtime binds them (convAt assembles them on every call: ~10 µs of JS at batch 1)
  const run = xnor.runner(layer, xnor.grid(layer, t.H, t.W).Wp, xnor.convCalls(layer, t.N, t.H, t.W, x, y, scratch));
  return contender('nnzip-xnor', run);
}

/**
 * The xnor kernel's inner loop alone (the bound of this code generator): xnor_fast_codegen.ts emitTileLoop itself, tiles
 * of 8 rows (4 on the integer unit, 4 on the vector unit) over 2 pixels, as many as the conv walks (a last tile of 4
 * counted as half of one of 8), weights and window in cache; no packing, gathering, border classes, widening or epilogue.
 * One module per window length (the cache key names it).
 */
function loopPeer(t: Conv): Contender {
  const words = t.kh * t.kw * Math.ceil(t.C / 64), m = new ModuleBuilder();
  m.importMemory(memoryImport(false));
  m.func('f', [I32, I32, I32], [I64], (f) => {
    const [win, wts, reps] = f.params, r = f.local(), tot = f.local(I64), v = f.local(V128);
    const regs = {
      q: f.local(), wq: f.local(), qEnd: f.local(), s: [f.local(I64), f.local(I64)], wv: f.local(I64), sv: [f.local(V128), f.local(V128)],
      wv2: [f.local(V128), f.local(V128)], acc: Array.from({ length: 4 }, () => f.local(I64)), vacc: Array.from({ length: 4 }, () => f.local(V128)),
    };
    f.get(win).i32(16 * words).op('i32.add').set(regs.qEnd);
    f.f32x4(0).set(v);
    f.forUp(r, 0, reps, 1, () => {
      for (const a of regs.acc) f.i64(0).set(a);
      for (const a of regs.vacc) f.f32x4(0).set(a);
      f.get(win).set(regs.q).get(wts).set(regs.wq);
      emitTileLoop(f, regs, words, true);
      // keep the counts live
      for (const a of regs.acc) f.get(tot).get(a).op('i64.add').set(tot);
      for (const a of regs.vacc) f.get(v).get(a).op('v128.xor').set(v);
    });
    f.get(tot).get(v).lane('i32x4.extract_lane', 0).op('i64.extend_i32_u').op('i64.add');
  });
  const arena = new WasmArena({ maximumBytes: 1 << 24 }), e = instantiate<{ f(win: number, wts: number, reps: number): bigint }>(compileCached(`bench:xnor-loop8:${words}`, () => m.build()), arena);
  const win = arena.alloc(16 * words), wts = arena.alloc(64 * words);
  new Uint8Array(arena.memory.buffer, win, 16 * words).fill(0x5a);
  new Uint8Array(arena.memory.buffer, wts, 64 * words).fill(0xc3);
  const OH = (t.H + 2 * t.pad - t.kh) / t.stride + 1, OW = (t.W + 2 * t.pad - t.kw) / t.stride + 1;
  const reps = (t.N * OH * OW * Math.ceil(t.M / 8)) / 2; // per pair of pixels, per tile of 8 rows
  return contender('xor+popcnt loop alone (bound)', () => e.f(win, wts, reps));
}

/** nnzip's f32 conv on the same shape: im2col + packed GEMM, or Winograd F(m,3). */
function f32Peer(t: Conv, gemm: WasmGemm, m?: WinogradTile): Contender {
  const d = opData(t), p = t.pad;
  const params = { C: t.C, M: t.M, kh: t.kh, kw: t.kw, pads: [p, p, p, p] as const, strides: [t.stride, t.stride] as [number, number] };
  const bias = new Float32Array(t.M), clamp = [0, Infinity] as const;
  const conv = m ? new WasmWinograd(gemm, params, d.w, { m, bias, clamp }) : new WasmConv2d(gemm, params, d.w, { kernel: 'im2col', bias, clamp });
  const ar = gemm.arena, OH = (t.H + 2 * p - t.kh) / t.stride + 1, OW = (t.W + 2 * p - t.kw) / t.stride + 1;
  const x = ar.allocF32(d.x.length), y = ar.allocF32(t.N * t.M * OH * OW);
  ar.f32(x, d.x.length).set(d.x);
  return contender(m ? `nnzip f32 winograd F(${m},3)` : 'nnzip f32 im2col+gemm', () => conv.run(t.N, t.H, t.W, x, y));
}

const SPEED_TASKS: Conv[] = [
  { kind: 'conv', N: 1, C: 64, H: 14, W: 14, M: 64, kh: 3, kw: 3, pad: 1, stride: 1 }, // VGG-S conv4 (node_Conv_99)
  { kind: 'conv', N: 1, C: 128, H: 7, W: 7, M: 128, kh: 3, kw: 3, pad: 1, stride: 1 }, // VGG-S conv6 (node_Conv_103)
  { kind: 'conv', N: 16, C: 64, H: 14, W: 14, M: 64, kh: 3, kw: 3, pad: 1, stride: 1 },
  { kind: 'conv', N: 16, C: 128, H: 7, W: 7, M: 128, kh: 3, kw: 3, pad: 1, stride: 1 },
];

/**
 * Per layer, one thread, one run: the xnor conv (input packing included) next to each of
 * nnzip's f32 kernels for the shape (im2col + GEMM and the three Winograd tiles, all with
 * bias and ReLU fused) and onnxruntime-node's f32 conv; CPU time, median of 9 interleaved rounds.
 */
async function speedTable(): Promise<void> {
  console.log('\nxnor-popcount conv (binary weights and activations, input packing included) vs the f32 kernels on the same shape, 1 thread.');
  console.log('Theoretical, per instruction: one i64 xor + popcnt + add covers 64 multiply-adds where f32x4 mul + add covers 4 (16×);');
  console.log('Winograd F(m,3) does 2.25× (m=2), 4× (m=4), 5.06× (m=6) fewer multiplies than the direct conv, so its bound is 16× / that.');
  console.log('"xor+popcnt loop alone" is the kernel\'s inner loop with the same popcount count and nothing else: the bound of the kernel as V8 compiles it.');
  for (const t of SPEED_TASKS) {
    const gemm = new WasmGemm();
    const peers = [f32Peer(t, gemm), ...([2, 4, 6] as const).map((m) => f32Peer(t, gemm, m)), xnorPeer(t), loopPeer(t), await opContender('ort-node', t, 1)];
    const load = watchForeignLoad();
    const r = await measure(peers, { rounds: 9, warmupMs: 800, minSampleMs: 40, pauseMs: 20 });
    const foreign = load();
    for (const c of peers) await c.close?.();
    const cpu = r.map((x) => median(x.cpu)), xn = cpu[peers.length - 3];
    const macs = t.N * t.M * t.C * t.kh * t.kw * t.H * t.W;
    console.log(`\n${t.C}→${t.M} 3×3, ${t.H}×${t.W}, batch ${t.N} (${(macs / 1e6).toFixed(1)} M multiply-adds)`);
    console.log(formatTable(['kernel', 'ms', 'CPU ms', 'G multiply-adds/s (CPU)', 'xnor is × faster (CPU)'],
      r.map((x, i) => [x.name, x.ms.toPrecision(3), cpu[i].toPrecision(3), (macs / cpu[i] / 1e6).toFixed(1), x.name === 'nnzip-xnor' ? '-' : `${(cpu[i] / xn).toFixed(2)}×`])));
    const line = foreignLoadLine(foreign);
    if (line) console.log(line);
  }
}

/** The conv and fc kernels nnzip's plan picks for a graph at this batch, counted: `conv winograd F(4,3)×4, xnor conv (popcount)×1`. */
async function layerKernels(g: Graph, batch: number): Promise<string> {
  const s = await Session.create(g, { batch, threads: 1 });
  const counts = new Map<string, number>();
  for (const st of s.plan.steps) if (st.kind === 'conv' || st.kind === 'fc') counts.set(st.kernel, (counts.get(st.kernel) ?? 0) + 1);
  await s.dispose();
  return [...counts].map(([k, n]) => `${k}×${n}`).join(', ');
}

/**
 * VGG-S end to end at batch 1 and 16, one thread: the float model on nnzip and onnxruntime-node,
 * its XNOR form (conv2..conv6 binary on Sign(x), fc1 binary weights, conv1 and the last FC float;
 * binarized without training: speed does not depend on the values) on nnzip and, exported as float
 * ±α weights, on onnxruntime-node.
 */
async function endToEnd(): Promise<void> {
  const float = fixture('vggs_fmnist_dense.onnx');
  const xnor = compressGraph(float, { recipe: binarizeRecipe('xnor', 0, 0.01), seed: 1 }).compressed;
  const rng = new Rng(5);
  for (const batch of [1, 16]) {
    const peers: [string, Peer][] = [
      ['nnzip f32', await createNnzipPeer(float, { threads: 1, batch })],
      ['nnzip xnor', await createNnzipPeer(xnor, { threads: 1, batch })],
      ['ort-node f32', await createOrtNodePeer(float, { threads: 1, spinning: false })],
      ['ort-node xnor graph (float ±α)', await createOrtNodePeer(xnor, { threads: 1, spinning: false })],
    ];
    const feeds = { [float.inputs[0].name]: f32([batch, 1, 28, 28], Array.from({ length: batch * 784 }, () => rng.next())) };
    const load = watchForeignLoad();
    const t = await measure(peers.map(([name, p]) => contender(name, () => p.run(feeds))), { rounds: 9, warmupMs: 1500, minSampleMs: 60, pauseMs: 40 });
    const foreign = load();
    for (const [, p] of peers) await p.dispose();
    const cpu = t.map((x) => median(x.cpu));
    for (const [name, g] of [['nnzip f32', float], ['nnzip xnor', xnor]] as const) console.log(`${name} kernels, batch ${batch}: ${await layerKernels(g, batch)}`);
    console.log(`\nVGG-S (Fashion-MNIST shapes) end to end, batch ${batch}, 1 thread: median of 9 interleaved rounds`);
    console.log(formatTable(['runtime', 'ms/batch', 'CPU ms/batch', 'speed-up vs nnzip f32 (CPU)', 'vs ort-node f32 (CPU)', 'cores busy'],
      t.map((x, i) => [x.name, x.ms.toPrecision(3), cpu[i].toPrecision(3), `${(cpu[0] / cpu[i]).toFixed(2)}×`, `${(cpu[2] / cpu[i]).toFixed(2)}×`, x.cores.toFixed(2)])));
    const line = foreignLoadLine(foreign);
    if (line) console.log(line);
  }
}

export async function binary(args: string[]): Promise<void> {
  const opt = (k: string) => args.find((a) => a.startsWith(`${k}=`))?.slice(k.length + 1);
  const part = args.find((a) => a === 'speed' || a === 'accuracy' || a === 'addsub' || a === 'xnor');
  if (part === 'addsub') return addsubTable();
  if (part === 'xnor') { await speedTable(); return endToEnd(); }
  const epochs = Number(opt('epochs') ?? 3);
  const steps = opt('steps') === undefined ? undefined : Number(opt('steps'));
  const methods = (opt('methods') ?? 'bwn,twn,ttq,xnor').split(',') as BinaryMethod[];
  const model = (opt('model') ?? 'lenet5') as keyof typeof MODELS;
  if (!MODELS[model]) throw new Error(`repro binary: model=${model}: choose ${Object.keys(MODELS).join(' or ')}`);
  if (part !== 'accuracy') {
    await speedTable();
    await addsubTable();
    await endToEnd();
  }
  const distill = opt('distill') === undefined ? undefined : Number(opt('distill'));
  if (distill !== undefined && !(distill > 0 && distill <= 1)) throw new Error(`repro binary: distill=${opt('distill')}: give the teacher's weight in (0, 1]`);
  const bn = opt('bn');
  if (bn !== undefined && bn !== 'refold') throw new Error(`repro binary: bn=${bn}: the only choice is bn=refold`);
  if (part !== 'speed') await accuracyTable(model, methods, epochs, steps, Number(opt('seed') ?? 1), { distill, batchnorm: bn });
}
