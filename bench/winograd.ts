// Winograd per layer: every 3×3 stride-1 conv of VGG-S (batch 1 and 64) and SqueezeNet
// 1.1 (batch 1), on 1 and 2 threads: nnzip's own im2col against F(2,3), F(4,3), F(6,3),
// interleaved in one process (bench/harness.ts: warm-up, median of rounds), with what
// the cost model (compile/cost.ts chooseConv) picks and whether it was the fastest.
//   node dist/bench/winograd.js [--threads 1,2] [--rounds N] [--models vggs,squeezenet]
//   node dist/bench/winograd.js --calibrate     stage costs for kernels/wasm/winograd.ts WINOGRAD_COST
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { chooseConv } from '../src/compile/cost.js';
import { planGraph } from '../src/compile/plan.js';
import type { ConvStep } from '../src/compile/plan_types.js';
import { NnzipError } from '../src/ir/errors.js';
import { Rng } from '../src/ir/random.js';
import { loadOnnxFile } from '../src/onnx/load.js';
import { WasmArena } from '../src/kernels/wasm/arena.js';
import { WasmConv2d } from '../src/kernels/wasm/conv.js';
import { WasmGemm } from '../src/kernels/wasm/gemm.js';
import { NodeThreadPool } from '../src/kernels/wasm/thread_pool_node.js';
import { WasmWinograd } from '../src/kernels/wasm/winograd.js';
import { tileName, WINOGRAD_TILES, winogradApplies } from '../src/ir/winograd.js';
import { calibrate } from './winograd_calibrate.js';
import { contender, measure } from './harness.js';
import { watchForeignLoad } from './harness_node.js';
import { formatSig, formatTable } from './table.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/models/', import.meta.url));

const MODELS: Record<string, { name: string; file: string; image: number[]; batches: number[] }> = {
  vggs: { name: 'VGG-S', file: 'vggs_fmnist_dense.onnx', image: [1, 28, 28], batches: [1, 64] },
  squeezenet: { name: 'SqueezeNet', file: 'squeezenet1_1_random.onnx', image: [3, 224, 224], batches: [1] },
};

interface Layer { model: string; step: ConvStep }

/** The 3×3 stride-1 convs of a model, with their shapes at batch 1 (distinct shapes only). */
function layersOf(key: string): Layer[] {
  const spec = MODELS[key];
  const g = loadOnnxFile(FIXTURES + spec.file);
  const plan = planGraph(g, { inputShapes: { [g.inputs[0].name]: [1, ...spec.image] }, winograd: 'off' });
  const seen = new Set<string>();
  return plan.steps.filter((s): s is ConvStep => s.kind === 'conv' && winogradApplies(s.win, s.group)).filter((s) => {
    const k = `${s.C},${s.M},${s.H},${s.W},${s.win.padT}`;
    return !seen.has(k) && seen.add(k);
  }).map((step) => ({ model: spec.name, step }));
}

const TILE_LABELS = ['im2col', ...WINOGRAD_TILES.map(tileName)];

interface LayerRow { cells: string[]; right: boolean; f4: number; bigChannels: boolean }

/** Times im2col and the three tiles on one layer at batch N, side by side. */
async function timeLayer(l: Layer, N: number, gemm: WasmGemm, rounds: number): Promise<LayerRow> {
  const s = l.step, rng = new Rng(N * 1000 + s.C);
  const params = { C: s.C, M: s.M, kh: 3, kw: 3, pads: [s.win.padT, s.win.padL, s.win.padB, s.win.padR] as [number, number, number, number] };
  const w = rng.floats(s.M * s.C * 9, -0.1, 0.1), bias = rng.floats(s.M), clamp = [0, Infinity] as const;
  const ar = gemm.arena, mark = ar.used;
  try {
    const kernels = [new WasmConv2d(gemm, params, w, { bias, clamp, kernel: 'im2col' }), ...WINOGRAD_TILES.map((m) => new WasmWinograd(gemm, params, w, { m, bias, clamp }))];
    const x = ar.allocF32(N * s.C * s.H * s.W), y = ar.allocF32(N * s.M * s.OH * s.OW);
    ar.f32(x, N * s.C * s.H * s.W).set(rng.floats(N * s.C * s.H * s.W, 0, 1));
    const contenders = kernels.map((k, i) => contender(TILE_LABELS[i], () => k.run(N, s.H, s.W, x, y)));
    const t = (await measure(contenders, { rounds, warmupMs: 100 })).map((r) => r.ms);
    const d = chooseConv({ N, C: s.C, H: s.H, W: s.W, M: s.M, OH: s.OH, OW: s.OW, group: 1, win: s.win, weight: { name: 'w', data: w }, kernels: 'auto', winograd: 'auto' });
    const pick = d.impl === 'winograd' ? tileName(d.tile!) : 'im2col';
    const best = Math.min(...t), fastest = TILE_LABELS[t.indexOf(best)], picked = t[TILE_LABELS.indexOf(pick)];
    const right = picked <= 1.1 * best;
    const speed = (ms: number) => `${formatSig(ms)} (${(t[0] / ms).toFixed(2)}x)`;
    return {
      cells: [l.model, s.name, `${s.C}→${s.M}`, `${s.H}×${s.W}`, String(N), String(gemm.threads?.size ?? 1), formatSig(t[0]),
        ...t.slice(1).map(speed), pick, fastest, right ? 'yes' : `no (${(picked / best).toFixed(2)}x)`],
      right, f4: t[0] / t[2], bigChannels: s.C >= 64 && s.M >= 64,
    };
  } finally {
    ar.reset(mark);
  }
}

function parse(argv: string[]): { threads: number[]; rounds: number; models: string[]; calibrate: boolean } {
  const o = { threads: [1, 2], rounds: 7, models: Object.keys(MODELS), calibrate: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === '--calibrate') o.calibrate = true;
    else if (a === '--threads' && v) { o.threads = v.split(',').map(Number); i++; }
    else if (a === '--rounds' && v) { o.rounds = Number(v); i++; }
    else if (a === '--models' && v) { o.models = v.split(','); i++; }
    else throw new NnzipError(`bench/winograd: unknown option ${a}; see the header of bench/winograd.ts`);
  }
  for (const m of o.models) if (!MODELS[m]) throw new NnzipError(`bench/winograd: unknown model "${m}"; choose from ${Object.keys(MODELS).join(', ')}`);
  return o;
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  if (o.calibrate) { calibrate(); return; }
  const arena = new WasmArena({ shared: true, maximumBytes: 2 ** 31 });
  const pool = o.threads.includes(2) ? new NodeThreadPool(arena, 2) : undefined;
  const gemms = new Map(o.threads.map((t) => [t, new WasmGemm({ arena, threads: t > 1 ? pool : undefined })]));
  const rows: LayerRow[] = [];
  const foreign = watchForeignLoad(), load0 = loadavg()[0];
  try {
    for (const key of o.models) {
      for (const l of layersOf(key)) {
        for (const N of MODELS[key].batches) {
          for (const t of o.threads) {
            process.stderr.write(`bench/winograd: ${l.model} ${l.step.name} batch ${N}, ${t} thread(s)\n`);
            rows.push(await timeLayer(l, N, gemms.get(t)!, o.rounds));
          }
        }
      }
    }
  } finally {
    await pool?.close();
  }
  const header = ['model', 'layer', 'C→M', 'H×W', 'batch', 'threads', 'im2col ms', ...TILE_LABELS.slice(1).map((l) => `${l} ms (vs im2col)`), 'model picks', 'fastest', 'right?'];
  console.log(`\nWinograd per layer: ms per call (the batch), median of ${o.rounds} interleaved rounds; bias + ReLU fused; load ${load0.toFixed(1)} at start, ` +
    `other processes kept ${(foreign() ?? 0).toFixed(2)} of ${cpus().length} cores busy`);
  console.log(formatTable(header, rows.map((r) => r.cells)));
  const big = rows.filter((r) => r.bigChannels);
  console.log(`cost model right (within 10% of the fastest) on ${rows.filter((r) => r.right).length}/${rows.length} rows; ` +
    `F(4,3) vs im2col on ≥ 64-channel layers: ${big.map((r) => `${r.f4.toFixed(2)}x`).join(', ')}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(() => process.exit(0), (e) => {
    process.stderr.write(e instanceof NnzipError ? `nnzip: error: ${e.message}\n` : `${(e as Error).stack ?? e}\n`);
    process.exit(e instanceof NnzipError ? 2 : 1);
  });
}
