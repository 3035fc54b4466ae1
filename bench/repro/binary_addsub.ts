// The add/subtract kernel (binary / ternary weights on float inputs: BWN, TWN, TTQ) on
// the layers BWN binarizes in LeNet-5 and VGG-S, next to nnzip's own f32 kernels for
// the same shape (im2col + GEMM, Winograd F(2,3) / F(4,3); dense GEMM for the FCs),
// one thread, CPU time, median of interleaved rounds; and which kernel the planner
// picks for the layer (it must take add/subtract only where it is the fastest).
import { chooseConv, chooseFc } from '../../src/compile/cost.js';
import { signRows } from '../../src/ir/binary.js';
import { Rng } from '../../src/ir/random.js';
import { tileName } from '../../src/ir/winograd.js';
import { WasmAddSub } from '../../src/kernels/wasm/addsub.js';
import { WasmConv2d } from '../../src/kernels/wasm/conv.js';
import { gemmArgs, WasmGemm } from '../../src/kernels/wasm/gemm.js';
import { WasmWinograd } from '../../src/kernels/wasm/winograd.js';
import { checkWindow2d } from '../../src/ir/window.js';
import { formatTable } from '../../src/report/table.js';
import { contender, measure, median, type Contender } from '../harness.js';
import { foreignLoadLine, watchForeignLoad } from '../harness_node.js';
import { BINARIZE_DEFAULTS } from '../../src/compress/binary/settings.js';
import { compressGraph } from '../../src/compress/pipeline.js';
import { DEEP_COMPRESSION } from '../../src/compress/recipe.js';
import { nnzToGraph } from '../../src/format/nnz.js';
import { f32 } from '../../src/ir/tensor.js';
import { Session } from '../../src/runtime/session.js';
import { createOrtNodePeer } from '../peers/ort_node.js';
import { fixture } from './common.js';

interface Layer { model: string; name: string; N: number; C: number; M: number; H: number; k: number; pad: number }

const CONVS: Omit<Layer, 'N'>[] = [
  { model: 'LeNet-5', name: 'conv2 20→50 5×5, 12×12', C: 20, M: 50, H: 12, k: 5, pad: 0 },
  { model: 'VGG-S', name: 'conv2 32→32 3×3, 28×28', C: 32, M: 32, H: 28, k: 3, pad: 1 },
  { model: 'VGG-S', name: 'conv3 32→64 3×3, 14×14', C: 32, M: 64, H: 14, k: 3, pad: 1 },
  { model: 'VGG-S', name: 'conv4 64→64 3×3, 14×14', C: 64, M: 64, H: 14, k: 3, pad: 1 },
  { model: 'VGG-S', name: 'conv5 64→128 3×3, 7×7', C: 64, M: 128, H: 7, k: 3, pad: 1 },
  { model: 'VGG-S', name: 'conv6 128→128 3×3, 7×7', C: 128, M: 128, H: 7, k: 3, pad: 1 },
];
const FCS = [
  { model: 'LeNet-5', name: 'fc1 800→500', K: 800, M: 500 },
  { model: 'VGG-S', name: 'fc1 1152→256', K: 1152, M: 256 },
];

/** Weights of M rows: ±α per row (binary), or with about a third zeros (ternary). */
function signWeights(M: number, K: number, ternary: boolean): Float32Array {
  const rng = new Rng(11), w = new Float32Array(M * K);
  for (let m = 0; m < M; m++) {
    const a = rng.uniform(0.01, 0.1);
    for (let k = 0; k < K; k++) { const r = rng.next(); w[m * K + k] = ternary && r < 0.33 ? 0 : r < 0.66 ? a : -a; }
  }
  return w;
}

function rowsOf(w: Float32Array, M: number, K: number) {
  const r = signRows(w, M, K);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

function convContenders(t: Layer, gemm: WasmGemm): { peers: Contender[]; pick: string } {
  const ar = gemm.arena, K = t.C * t.k * t.k, OH = t.H + 2 * t.pad - t.k + 1, p = t.pad;
  const params = { C: t.C, M: t.M, kh: t.k, kw: t.k, pads: [p, p, p, p] as const, strides: [1, 1] as const };
  const bias = new Float32Array(t.M), clamp = [0, Infinity] as const, w = signWeights(t.M, K, false);
  const x = ar.allocF32(t.N * t.C * t.H * t.H), y = ar.allocF32(t.N * t.M * OH * OH);
  ar.f32(x, t.N * t.C * t.H * t.H).set(new Rng(1).floats(t.N * t.C * t.H * t.H));
  const im = new WasmConv2d(gemm, params, w, { kernel: 'im2col', bias, clamp });
  const peers = [contender('f32 im2col+gemm', () => im.run(t.N, t.H, t.H, x, y))];
  if (t.k === 3) for (const m of [2, 4] as const) { const wg = new WasmWinograd(gemm, params, w, { m, bias, clamp }); peers.push(contender(`f32 winograd ${tileName(m)}`, () => wg.run(t.N, t.H, t.H, x, y))); }
  const as = new WasmAddSub({ arena: ar });
  for (const ternary of [false, true]) {
    const l = as.prepare(rowsOf(signWeights(t.M, K, ternary), t.M, K), t.M, K, { bias, clamp }, params), sc = ar.alloc(as.convScratchBytes(l, t.H, t.H));
    peers.push(contender(`add/subtract ${ternary ? 'ternary' : 'binary'}`, () => as.convAt(l, t.N, t.H, t.H, x, y, sc)));
  }
  const win = checkWindow2d('bench', params);
  const d = chooseConv({ N: t.N, C: t.C, H: t.H, W: t.H, M: t.M, OH, OW: OH, group: 1, win, weight: { name: 'w', data: w, format: { kind: 'binary', axis: 0 } }, kernels: 'auto', winograd: 'auto' });
  return { peers, pick: d.impl === 'winograd' ? tileName(d.tile!) : d.impl };
}

function fcContenders(f: (typeof FCS)[number], B: number, gemm: WasmGemm): { peers: Contender[]; pick: string } {
  const ar = gemm.arena, { K, M } = f, w = signWeights(M, K, false);
  const x = ar.allocF32(B * K), y = ar.allocF32(B * M);
  ar.f32(x, B * K).set(new Rng(1).floats(B * K));
  const pb = gemm.prepackB(w, K, M, true).offset, pa = ar.alloc(gemm.packedASize(B, K) + 64), gs = ar.alloc(gemm.scratchBytes());
  const g = gemmArgs(B, M, K, pa, pb, y, { clamp: [0, Infinity] }), e = gemm.exports;
  const peers = [contender('f32 gemm (packed weights)', () => { e.packA(x, K, 0, B, K, pa); e.gemm(g.pa, g.pb, g.c, g.ldc, g.M, g.N, g.K, g.bias, g.mode, 0, g.clamp, g.lo, g.hi, gs); })];
  const as = new WasmAddSub({ arena: ar });
  for (const ternary of [false, true]) {
    const l = as.prepare(rowsOf(signWeights(M, K, ternary), M, K), M, K, { clamp: [0, Infinity] }), sc = ar.alloc(as.fcScratchBytes(l, B));
    peers.push(contender(`add/subtract ${ternary ? 'ternary' : 'binary'}`, () => as.fcAt(l, B, x, y, sc)));
  }
  return { peers, pick: chooseFc({ name: 'w', data: w, format: { kind: 'binary', axis: 0 } }, M, K, B, 'auto', 0, 'binary').impl };
}

/** One row per layer and batch: CPU µs of each kernel, add/subtract's speed-up over im2col / the best f32, the planner's pick. */
export async function addsubTable(): Promise<void> {
  console.log('\nadd/subtract kernel (binary / ternary weights on float inputs, BWN/TWN/TTQ) vs nnzip f32 on the same shapes, 1 thread, CPU µs, median of 9 interleaved rounds');
  const rows: (string | number)[][] = [];
  const load = watchForeignLoad();
  const run = async (what: string, batch: number, made: { peers: Contender[]; pick: string }) => {
    const r = await measure(made.peers, { rounds: 9, warmupMs: 400, minSampleMs: 30, pauseMs: 10 });
    const cpu = r.map((x) => median(x.cpu) * 1000), n = made.peers.length, bin = cpu[n - 2], f32 = cpu.slice(0, n - 2);
    const best = Math.min(...f32), bestName = made.peers[f32.indexOf(best)].name;
    rows.push([what, batch, made.peers.map((p, i) => `${p.name.replace('f32 ', '')} ${cpu[i].toFixed(1)}`).slice(0, n - 2).join(', '), bin.toFixed(1), cpu[n - 1].toFixed(1),
      `${(f32[0] / bin).toFixed(2)}×`, `${(best / bin).toFixed(2)}× (${bestName.replace('f32 ', '')})`, made.pick]);
  };
  for (const batch of [1, 16]) {
    for (const c of CONVS) { const gemm = new WasmGemm(); await run(`${c.model} ${c.name}`, batch, convContenders({ ...c, N: batch }, gemm)); }
    for (const f of FCS) { const gemm = new WasmGemm(); await run(`${f.model} ${f.name}`, batch, fcContenders(f, batch, gemm)); }
  }
  console.log(formatTable(['layer', 'batch', 'f32 kernels CPU µs', 'add/sub binary µs', 'add/sub ternary µs', 'binary vs im2col/gemm', 'binary vs best f32', 'planner picks'], rows));
  const line = foreignLoadLine(load());
  if (line) console.log(line);
  await addsubEndToEnd();
}

/**
 * Whole models, BWN (binarized without training: speed does not depend on the values), read back
 * from their .nnz, one thread: nnzip as planned (add/subtract where the cost model picks it) vs
 * nnzip on its f32 kernels only (kernels: 'dense', the same ±α values) and onnxruntime-node.
 */
export async function addsubEndToEnd(): Promise<void> {
  for (const [name, file] of [['LeNet-5', 'lenet5_dense.onnx'], ['VGG-S', 'vggs_fmnist_dense.onnx']] as const) {
    const r = structuredClone(DEEP_COMPRESSION);
    delete r.prune;
    delete r.share;
    r.binarize = { ...BINARIZE_DEFAULTS, method: { conv: 'bwn', fc: 'bwn' }, epochs: 0 };
    const g = nnzToGraph(compressGraph(fixture(file), { recipe: r, seed: 1 }).file.bytes, `${name} bwn`).graph;
    const rng = new Rng(5), shape = g.inputs[0].shape.slice(1) as number[];
    for (const batch of [1, 16]) {
      const planned = await Session.create(g, { batch, threads: 1 }), dense = await Session.create(g, { batch, threads: 1, kernels: 'dense' });
      const ort = await createOrtNodePeer(g, { threads: 1, spinning: false });
      const size = batch * shape.reduce((a, b) => a * b, 1);
      const feeds = { [g.inputs[0].name]: f32([batch, ...shape], Array.from({ length: size }, () => rng.next())) };
      const load = watchForeignLoad();
      const t = await measure([contender('nnzip (add/subtract where planned)', () => planned.run(feeds)), contender("nnzip f32 kernels (kernels: 'dense')", () => dense.run(feeds)),
        contender('ort-node f32', () => ort.run(feeds))], { rounds: 9, warmupMs: 800, minSampleMs: 40, pauseMs: 20 });
      const foreign = load();
      const picks = planned.plan.steps.flatMap((st) => (st.kind === 'conv' || st.kind === 'fc' ? [st.kernel.replace(/ \(.*/, '')] : [])).join(', ');
      await planned.dispose(); await dense.dispose(); await ort.dispose();
      const cpu = t.map((x) => median(x.cpu) * 1000);
      console.log(`\n${name} BWN end to end, batch ${batch}, 1 thread (layers: ${picks})`);
      console.log(formatTable(['runtime', 'CPU µs/batch', 'vs nnzip f32 kernels', 'vs ort-node'], t.map((x, i) => [x.name, cpu[i].toFixed(1), `${(cpu[1] / cpu[i]).toFixed(2)}×`, `${(cpu[2] / cpu[i]).toFixed(2)}×`])));
      const line = foreignLoadLine(foreign);
      if (line) console.log(line);
    }
  }
}
