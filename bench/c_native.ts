// Native speed of the C backend (`nnzip compile --target c`, built with
// gcc -O3 -march=native) on dense, pruned and pruned+shared models, against
// onnxruntime-node on the dense model and nnzip's WASM runtime, batch 1, 1 thread,
// one process, interleaved (bench/harness.ts). Each C build runs as a child
// process that keeps its inputs and answers "K" with K inferences, so process
// start-up is not timed (the pipe round trip is, spread over K runs). The pruned
// and shared weights come from one-shot pruning and k-means without fine-tuning
// (speed does not depend on accuracy), at the recipes' per-layer densities and bits.
// VGG-S also runs pattern-pruned (bench/pattern_model.ts: 8 patterns, connectivity
// 3.6, one-shot unless the repro's trained file exists): C's FKW kernel against
// nnzip WASM's pattern kernel on the same model; and that model with its FC layers
// pruned one-shot to the pruned variant's FC density ('pattern+fc pruned').
// The C builds are compiled with `optimize: 'time'` (whole padded planes: speed before RAM).
// Run: `npm run repro -- c-native [--models lenet300,lenet5,vggs] [--rounds 7]`; `--strided`: instead, the
// stride-2 pattern convs of ResNet's downsampling shapes (benchStrided).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileC } from '../src/compile/backends/c/index.js';
import { harnessSource } from '../src/compile/backends/c/harness.js';
import { buildNative } from '../src/compile/backends/c/toolchain.js';
import { compressGraph, stageGraph } from '../src/compress/pipeline.js';
import { parseRecipe, type Recipe } from '../src/compress/recipe.js';
import { batchImages, loadDataset, type DatasetName } from '../src/data/datasets.js';
import { graphToNnz } from '../src/format/nnz.js';
import { NnzipError } from '../src/ir/errors.js';
import type { Graph } from '../src/ir/graph.js';
import { formatBytes } from '../src/ir/print.js';
import { f32 } from '../src/ir/tensor.js';
import { Session } from '../src/runtime/session.js';
import { contender, measure, median, type Contender } from './harness.js';
import { foreignLoadLine, watchForeignLoad } from './harness_node.js';
import { formatRatio, formatSig, formatTable } from './table.js';
import { createOrtNodePeer } from './peers/ort_node.js';
import { patternVggs, stridedModel } from './pattern_model.js';
import { fixture, recipe } from './repro/common.js';

const NATIVE = ['-std=c99', '-O3', '-march=native', '-Wall', '-Wextra', '-Werror'];

interface Case { key: string; name: string; file: string; dataset: DatasetName; recipe: () => Recipe; pattern?: boolean }

export const CASES: Case[] = [
  { key: 'lenet300', name: 'LeNet-300-100', file: 'lenet300_dense.onnx', dataset: 'mnist', recipe: () => recipe('lenet300.yaml') },
  { key: 'lenet5', name: 'LeNet-5', file: 'lenet5_dense.onnx', dataset: 'mnist', recipe: () => recipe('lenet5.yaml') },
  {
    key: 'vggs', name: 'VGG-S', file: 'vggs_fmnist_dense.onnx', dataset: 'fashion-mnist', pattern: true,
    recipe: () => parseRecipe({
      name: 'vggs-c-bench', prune: { density: { conv: 0.35, fc: 0.05 }, schedule: 'oneshot' }, share: { bits: { conv: 8, fc: 5 } },
      layers: { 'features.0': { density: 0.65 } },
    }, 'vggs bench recipe'),
  },
];

/** A compiled model running in a child process: run(k) resolves after k inferences; `cpu` collects each call's CPU ms per inference. */
class NativeModel {
  private pending?: () => void;
  private buffered = '';
  private k = 1;
  readonly cpu: number[] = [];
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      this.buffered += d;
      for (let m = /done ([\d.]+)\n/.exec(this.buffered); m; m = /done ([\d.]+)\n/.exec(this.buffered)) {
        this.buffered = this.buffered.slice(m.index + m[0].length);
        this.cpu.push(Number(m[1]) / this.k);
        const p = this.pending;
        this.pending = undefined;
        p?.();
      }
    });
  }

  static start(graph: Graph, inputs: Float32Array, dir: string, name: string): NativeModel {
    const program = compileC(graph, { name, model: name, optimize: 'time' });
    writeFileSync(join(dir, `${name}.h`), program.header);
    writeFileSync(join(dir, `${name}.c`), program.source);
    writeFileSync(join(dir, 'main.c'), harnessSource(name));
    writeFileSync(join(dir, `${name}_in.bin`), new Uint8Array(inputs.buffer, inputs.byteOffset, inputs.byteLength));
    const exe = buildNative(dir, name, NATIVE, ['NNZ_SERVE'], 'serve');
    return new NativeModel(spawn(exe, [join(dir, `${name}_in.bin`), join(dir, `${name}_out.bin`)]));
  }

  run(k: number): Promise<void> {
    this.k = k;
    return new Promise((resolve) => {
      this.pending = resolve;
      this.child.stdin.write(`${k}\n`);
    });
  }

  stop(): void {
    this.child.stdin.end();
  }
}

interface Variant { label: string; graph: Graph; bytes: number }

/**
 * The pattern model with its fully connected layers pruned as well (one-shot, to the density the
 * case's recipe gives them; convs as in `patternVggs`): pattern pruning is for convs, and the
 * compressed model prunes the FC layers as Deep Compression does.
 */
function patternFcPruned(c: Case, pattern: Graph): Graph {
  const fc = c.recipe().prune!.density.fc;
  const r = compressGraph(pattern, { recipe: parseRecipe({ name: 'vggs-c-bench-fc', prune: { density: { conv: 1, fc }, schedule: 'oneshot' } }, 'fc prune') });
  return stageGraph(r, 'prune')!;
}

function variants(c: Case): Variant[] {
  const dense = fixture(c.file);
  const r = compressGraph(dense, { recipe: c.recipe() });
  const pruned = stageGraph(r, 'prune')!;
  const size = (g: Graph) => graphToNnz(g, { huffman: false }).bytes.length;
  const pattern = c.pattern ? patternVggs().graph : undefined;
  const patternFc = pattern && patternFcPruned(c, pattern);
  return [
    { label: 'dense', graph: dense, bytes: size(dense) },
    { label: 'pruned', graph: pruned, bytes: size(pruned) },
    { label: 'pruned+shared', graph: r.compressed, bytes: size(r.compressed) },
    ...(pattern ? [{ label: 'pattern', graph: pattern, bytes: size(pattern) }] : []),
    ...(patternFc ? [{ label: 'pattern+fc pruned', graph: patternFc, bytes: size(patternFc) }] : []),
  ];
}

const HEADER = ['model', 'ort-node dense', 'nnzip wasm dense', 'nnzip wasm compressed', 'nnzip wasm pattern', 'C dense', 'C pruned', 'C pruned+shared', 'C pattern',
  'C pattern+fc pruned', 'C compressed vs ort dense', 'C compressed vs wasm compressed', 'C pattern vs ort dense', 'C pattern+fc pruned vs ort dense',
  'C pattern vs wasm pattern', 'C dense vs ort dense'];

/** C inferences per timed call: enough that the pipe round trip (~50 µs) is a few percent. */
const K = 64;

/** A table row from ms per inference by contender name. */
function row(model: string, at: (k: string) => number | undefined): string[] {
  return [model, ...HEADER.slice(1, 10).map((h) => formatSig(at(h))),
    formatRatio(at('ort-node dense'), at('C pruned+shared')), formatRatio(at('nnzip wasm compressed'), at('C pruned+shared')),
    formatRatio(at('ort-node dense'), at('C pattern')), formatRatio(at('ort-node dense'), at('C pattern+fc pruned')),
    formatRatio(at('nnzip wasm pattern'), at('C pattern')), formatRatio(at('ort-node dense'), at('C dense'))];
}

/**
 * Wall time, and CPU time (this process's per call for the in-process contenders, the
 * child's own clock() for the C builds): under load from other processes the second
 * is what the code costs, the first includes waiting for a core.
 */
async function benchCase(c: Case, rounds: number, sizes: string[][]): Promise<{ wall: string[]; cpu: string[] }> {
  const vs = variants(c);
  const ds = loadDataset(c.dataset, 'test');
  const inputs = batchImages(ds, 0, 64);
  const dir = mkdtempSync(join(tmpdir(), 'nnzip-cbench-'));
  const natives = vs.map((v, i) => NativeModel.start(v.graph, inputs, dir, `${c.key}_${i}`));
  const feeds = Array.from({ length: 64 }, (_, i) => ({ [vs[0].graph.inputs[0].name]: f32([1, 1, 28, 28], inputs.slice(i * 784, (i + 1) * 784)) }));
  let n = 0;
  const next = () => feeds[n++ % feeds.length];
  const ort = await createOrtNodePeer(vs[0].graph, { threads: 1 });
  const wasmDense = await Session.create(vs[0].graph);
  const wasmComp = await Session.create(vs[2].graph);
  const wasmPattern = vs[3] && await Session.create(vs[3].graph);
  const contenders: Contender[] = [
    contender('ort-node dense', () => ort.run(next())),
    contender('nnzip wasm dense', () => wasmDense.run(next())),
    contender('nnzip wasm compressed', () => wasmComp.run(next())),
    ...(wasmPattern ? [contender('nnzip wasm pattern', () => wasmPattern.run(next()))] : []),
    ...natives.map((m, i) => contender(`C ${vs[i].label}`, () => m.run(K))),
  ];
  try {
    const timings = await measure(contenders, { rounds, pauseMs: 20 });
    const t = new Map(timings.map((x) => [x.name, x.name.startsWith('C ') ? x.ms / K : x.ms]));
    const cpu = new Map(timings.map((x, i) => [x.name, x.name.startsWith('C ') ? median(natives[i - (contenders.length - natives.length)].cpu) : median(x.cpu)]));
    for (const v of vs) {
      const p = compileC(v.graph, { name: 'm', optimize: 'time' });
      sizes.push([c.name, v.label, formatBytes(v.bytes), formatBytes(Buffer.byteLength(p.source) + Buffer.byteLength(p.header)), formatBytes(p.layers.reduce((s, l) => s + l.constBytes, 0))]);
    }
    return { wall: row(c.name, (k) => t.get(k)), cpu: row(c.name, (k) => cpu.get(k)) };
  } finally {
    natives.forEach((m) => m.stop());
    await ort.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Stride-2 pattern convs (ResNet's four downsampling shapes, bench/pattern_model.ts stridedModel): C's
 * FKW kernel on phase planes against C on the dense weights, nnzip WASM's pattern kernel and
 * onnxruntime-node on the dense weights; CPU ms per inference, medians of interleaved rounds.
 */
async function benchStrided(rounds: number): Promise<void> {
  const m = stridedModel(), pattern = m.graph, dense = m.dense!;
  const dir = mkdtempSync(join(tmpdir(), 'nnzip-cbench-'));
  const shape = pattern.inputs[0].shape as number[], x = f32(shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i)));
  const natives = [NativeModel.start(pattern, x.data as Float32Array, dir, 's2_pattern'), NativeModel.start(dense, x.data as Float32Array, dir, 's2_dense')];
  const ort = await createOrtNodePeer(dense, { threads: 1 }), wasm = await Session.create(pattern);
  const feeds = { [pattern.inputs[0].name]: x };
  try {
    const contenders = [contender('ort-node dense', () => ort.run(feeds)), contender('nnzip wasm pattern', () => wasm.run(feeds)),
      ...natives.map((c, i) => contender(i === 0 ? 'C pattern (phase planes)' : 'C dense', () => c.run(K)))];
    const timings = await measure(contenders, { rounds, pauseMs: 20 });
    const cpu = timings.map((t, i) => (i >= 2 ? median(natives[i - 2].cpu) : median(t.cpu)));
    console.log(`\nStride-2 3×3 convs of ResNet's downsampling shapes (random weights, 8 patterns at 3.6×), batch 1, 1 thread: CPU ms per inference (medians of ${rounds} rounds)\n`);
    console.log(formatTable(['contender', 'CPU ms', 'C pattern is'], timings.map((t, i) => [t.name, formatSig(cpu[i]), i === 2 ? '' : formatRatio(cpu[i], cpu[2])])));
  } finally {
    natives.forEach((m) => m.stop());
    await ort.dispose();
    await wasm.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function cNative(args: string[]): Promise<void> {
  let keys = CASES.map((c) => c.key), rounds = 7, strided = false;
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] === '--models') keys = (args[i + 1] ?? '').split(',');
    else if (args[i] === '--rounds') rounds = Number(args[i + 1]);
    else if (args[i] === '--strided') { strided = true; i--; }
    else throw new NnzipError(`c-native: unknown option ${args[i]}; use --models lenet300,lenet5,vggs, --rounds N and --strided`);
  }
  if (strided) return benchStrided(rounds);
  const cases = keys.map((k) => CASES.find((c) => c.key === k) ?? (() => { throw new NnzipError(`c-native: unknown model ${k}; known: ${CASES.map((c) => c.key).join(', ')}`); })());
  const foreign = watchForeignLoad();
  const rows: { wall: string[]; cpu: string[] }[] = [], sizes: string[][] = [];
  for (const c of cases) rows.push(await benchCase(c, rounds, sizes));
  console.log(`C backend, native (gcc ${NATIVE.join(' ')}), batch 1, 1 thread; ms per inference, median of ${rounds} interleaved rounds\n`);
  console.log(formatTable(HEADER, rows.map((r) => r.wall)));
  console.log('\nCPU ms per inference (medians; the process\'s CPU time for onnxruntime and WASM, the child\'s clock() for C): the same ratios without the waits for a core\n');
  console.log(formatTable(HEADER, rows.map((r) => r.cpu)));
  console.log('\nEmitted source vs model file (.nnz without Huffman coding; dense = float32 weights)\n');
  console.log(formatTable(['model', 'variant', '.nnz (no Huffman)', 'NAME.c + NAME.h', 'C constant arrays'], sizes));
  const load = foreignLoadLine(foreign());
  if (load) console.log(`\n${load}`);
}
