// Pruned models vs their dense originals, in nnzip and in onnxruntime-node, one
// process, interleaved (bench/harness.ts). The pruned weights come from one-shot
// magnitude pruning (+ 5-bit sharing): speed does not depend on fine-tuning.
// Run: `npm run bench` (included) or `node dist/bench/pruned.js`.
import { compressGraph } from '../src/compress/pipeline.js';
import { DEEP_COMPRESSION, type Recipe } from '../src/compress/recipe.js';
import { loadDataset } from '../src/data/datasets.js';
import type { Graph } from '../src/ir/graph.js';
import { f32 } from '../src/ir/tensor.js';
import { loadOnnxFile } from '../src/onnx/load.js';
import { Session } from '../src/runtime/session.js';
import { formatMs, formatRatio, formatTable, measure, type Contender } from './harness.js';
import { createOrtNodePeer } from './peers/ort_node.js';
import type { Feeds, Peer } from './peers/peer.js';

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
  return share ? r.compressed : r.pruned;
}

function feedsFor(graph: Graph, batch: number): Feeds {
  const ds = loadDataset('mnist', 'test');
  return { [graph.inputs[0].name]: f32([batch, 1, 28, 28], ds.images.slice(0, batch * 784)) };
}

async function sessionContender(name: string, graph: Graph, feeds: Feeds, kernels: 'auto' | 'dense'): Promise<[Contender, Session]> {
  const s = await Session.create(graph, { kernels, batch: feeds[graph.inputs[0].name].shape[0] });
  return [{ name, run: () => s.run(feeds) }, s];
}

export async function benchPruned(batches = [1, 64]): Promise<string> {
  const rows: string[][] = [];
  for (const c of CASES) {
    const dense = loadOnnxFile(new URL(`../../fixtures/models/${c.file}`, import.meta.url).pathname);
    const sparse = pruned(dense, c, false);
    const shared = pruned(dense, c, true);
    for (const batch of batches) {
      const feeds = feedsFor(dense, batch);
      const made: [Contender, Session][] = [
        await sessionContender('nnzip dense', dense, feeds, 'auto'),
        await sessionContender('nnzip pruned', sparse, feeds, 'auto'),
        await sessionContender('nnzip pruned+shared', shared, feeds, 'auto'),
      ];
      const peers: Peer[] = [await createOrtNodePeer(dense, { threads: 1 }), await createOrtNodePeer(sparse, { threads: 1 })];
      const contenders = [...made.map(([k]) => k), ...peers.map((p, i) => ({ name: i ? 'ort-node pruned' : 'ort-node dense', run: () => p.run(feeds) }))];
      const t = new Map((await measure(contenders, { rounds: 7, pauseMs: 30 })).map((x) => [x.name, x.ms]));
      for (const [, s] of made) await s.dispose();
      for (const p of peers) await p.dispose();
      const nd = t.get('nnzip dense')!;
      const np = t.get('nnzip pruned')!;
      const od = t.get('ort-node dense')!;
      rows.push([c.name, String(batch), formatMs(nd), formatMs(np), formatMs(t.get('nnzip pruned+shared')), formatMs(od), formatMs(t.get('ort-node pruned')), formatRatio(nd, np), formatRatio(od, np)]);
    }
  }
  return formatTable(
    ['model', 'batch', 'nnzip dense ms', 'nnzip pruned', 'nnzip pruned+shared', 'ort-node dense', 'ort-node pruned', 'speed-up vs nnzip dense', 'speed-up vs ort-node dense'],
    rows,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('Pruned vs dense (1 thread, ms per run, median of 7 interleaved rounds; densities as Han et al.)\n');
  console.log(await benchPruned());
}
