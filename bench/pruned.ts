// Pruned models vs their dense originals, in nnzip and in onnxruntime-node, side by
// side in one process (bench/harness.ts). The pruned weights come from one-shot
// magnitude pruning (+ 5-bit sharing): speed does not depend on fine-tuning.
// Every thread count of a model and batch is timed in the same interleaved rounds
// (nnzip on its session's pool, ort-node with intraOpNumThreads), so the
// 1- vs 2-thread ratios come from one run.
// Run: `npm run bench` (included) or `node dist/bench/pruned.js [--threads 1,2]`.
import { fileURLToPath } from 'node:url';
import { compressGraph, stageGraph } from '../src/compress/pipeline.js';
import { DEEP_COMPRESSION, type Recipe } from '../src/compress/recipe.js';
import { loadDataset } from '../src/data/datasets.js';
import { NnzipError } from '../src/ir/errors.js';
import type { Graph } from '../src/ir/graph.js';
import { f32 } from '../src/ir/tensor.js';
import { loadOnnxFile } from '../src/onnx/load.js';
import { contender, measure, type Contender } from './harness.js';
import { foreignLoadLine, watchForeignLoad } from './harness_node.js';
import { createNnzipPeer } from './peers/nnzip.js';
import { createOrtNodePeer } from './peers/ort_node.js';
import type { Feeds, Peer } from './peers/peer.js';
import { formatSig, formatRatio, formatTable } from './table.js';

interface Case {
  name: string;
  file: string;
  /** Han et al.'s per-layer densities. */
  density: Record<string, number>;
}

const CASES: Case[] = [
  { name: 'LeNet-300-100', file: 'lenet300_dense.onnx', density: { fc1: 0.08, fc2: 0.09, fc3: 0.26 } },
  { name: 'LeNet-5', file: 'lenet5_dense.onnx', density: { conv1: 0.66, conv2: 0.12, fc1: 0.08, fc2: 0.19 } },
];

function pruned(graph: Graph, c: Case, share: boolean): Graph {
  const recipe: Recipe = structuredClone(DEEP_COMPRESSION);
  recipe.layers = Object.fromEntries(Object.entries(c.density).map(([k, density]) => [k, { density, bits: 5 }]));
  if (!share) delete recipe.share;
  const r = compressGraph(graph, { recipe });
  return share ? r.compressed : stageGraph(r, 'prune')!;
}

function feedsFor(graph: Graph, batch: number): Feeds {
  const ds = loadDataset('mnist', 'test');
  return { [graph.inputs[0].name]: f32([batch, 1, 28, 28], ds.images.slice(0, batch * 784)) };
}

const NNZIP = [['nnzip dense', 'dense'], ['nnzip pruned', 'sparse'], ['nnzip pruned+shared', 'shared']] as const;
const ORT = [['ort-node dense', 'dense'], ['ort-node pruned', 'sparse']] as const;
type Variant = (typeof NNZIP)[number][1];

/** A contender's name at a thread count: the 1-thread names are the table's column names. */
const named = (name: string, threads: number): string => (threads === 1 ? name : `${name} ×${threads}`);

interface Made { contenders: Contender[]; close: () => Promise<void> }

/** Every nnzip and ort-node contender of one model and batch at each thread count. */
async function contenders(graphs: Record<Variant, Graph>, feeds: Feeds, threadsList: number[]): Promise<Made> {
  const batch = Object.values(feeds)[0].shape[0];
  const peers: Peer[] = [];
  const out: Contender[] = [];
  for (const threads of threadsList) {
    for (const [create, variants] of [[createNnzipPeer, NNZIP], [createOrtNodePeer, ORT]] as const) {
      for (const [name, v] of variants) {
        const p = await create(graphs[v], { threads, batch });
        peers.push(p);
        out.push(contender(named(name, threads), () => p.run(feeds)));
      }
    }
  }
  const close = async () => {
    for (const p of peers) await p.dispose();
  };
  return { contenders: out, close };
}

export const PRUNED_HEADER = [
  'model', 'batch', 'threads', 'nnzip dense ms', 'nnzip pruned', 'nnzip pruned+shared', 'ort-node dense', 'ort-node pruned',
  'speed-up vs nnzip dense', 'speed-up vs ort-node dense', 'nnzip pruned vs 1 thread',
];

export async function benchPruned(batches = [1, 64], threadsList = [1, 2]): Promise<string> {
  const rows: string[][] = [];
  for (const c of CASES) {
    const dense = loadOnnxFile(new URL(`../../fixtures/models/${c.file}`, import.meta.url).pathname);
    const graphs: Record<Variant, Graph> = { dense, sparse: pruned(dense, c, false), shared: pruned(dense, c, true) };
    for (const batch of batches) {
      const feeds = feedsFor(dense, batch);
      const made = await contenders(graphs, feeds, threadsList);
      const t = new Map((await measure(made.contenders, { rounds: 7, pauseMs: 30 })).map((x) => [x.name, x.ms]));
      await made.close();
      for (const threads of threadsList) {
        const at = (name: string) => t.get(named(name, threads));
        const nd = at('nnzip dense'), np = at('nnzip pruned'), od = at('ort-node dense');
        rows.push([
          c.name, String(batch), String(threads), formatSig(nd), formatSig(np), formatSig(at('nnzip pruned+shared')), formatSig(od),
          formatSig(at('ort-node pruned')), formatRatio(nd, np), formatRatio(od, np), threads === 1 ? '-' : formatRatio(t.get('nnzip pruned'), np),
        ]);
      }
    }
  }
  return formatTable(PRUNED_HEADER, rows);
}

/** `--threads 1,2` (default both). */
export function parsePrunedArgs(argv: string[]): { threads: number[] } {
  let threads = [1, 2];
  for (let i = 0; i < argv.length; i++) {
    const [flag, v] = [argv[i], argv[i + 1]];
    if (flag !== '--threads') throw new NnzipError(`bench/pruned: unknown option ${flag}; use --threads 1,2`);
    if (!v || v.startsWith('--')) throw new NnzipError('bench/pruned: --threads needs a value, e.g. --threads 1,2');
    threads = v.split(',').map(Number);
    if (threads.length === 0 || threads.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) {
      throw new NnzipError(`bench/pruned: --threads ${v}; give thread counts from 1 to 64, comma-separated, e.g. 1,2`);
    }
    i++;
  }
  return { threads: [...new Set(threads)].sort((a, b) => a - b) };
}

async function main(): Promise<void> {
  const { threads } = parsePrunedArgs(process.argv.slice(2));
  const foreign = watchForeignLoad();
  console.log(`Pruned vs dense (threads ${threads.join(', ')}; ms per run, median of 7 interleaved rounds; densities as Han et al.)\n`);
  console.log(await benchPruned([1, 64], threads));
  const line = foreignLoadLine(foreign());
  if (line) console.log(`\n${line}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(() => process.exit(0), (e) => {
    process.stderr.write(e instanceof NnzipError ? `nnzip: error: ${e.message}\n` : `${(e as Error).stack ?? e}\n`);
    process.exit(e instanceof NnzipError ? e.exitCode : 1);
  });
}
