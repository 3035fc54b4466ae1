// `npm run repro -- search OUT [MODEL] [BUDGET]`: the co-design search on LeNet-5 / MNIST —
// the mix of every method (guided and random, the same budget) against each method
// alone (guided), same target and accuracy bound. Runs `nnzip search` per case into
// OUT/<case> (a case already there resumes, or is only read when finished) and prints
// one table: candidates meeting the goal, the smallest file within the loss bound and
// within twice it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { SearchState } from '../../src/search/search.js';
import { goalOf } from '../../src/search/search.js';
import { violation } from '../../src/search/targets.js';
import { formatBytes } from '../../src/ir/print.js';

const COMMON = ['--dataset', 'mnist', '--max-loss', '1', '--seed', '1', '--generation', '6', '--train', '5000',
  '--holdout', '1000', '--proxy-epochs', '1', '--proxy-steps', '30', '--latency', 'measured'];

/**
 * The mix aims at 8 KB; a method alone cannot reach it, so each aims at the smallest it
 * can reach on LeNet-5 (what `nnzip search` answers when asked for less): the same
 * pressure towards small files, compared at the same loss bound.
 */
const CASES: [string, string[], number][] = [
  ['guided', ['--strategy', 'guided', '--target', 'size=8KB'], 18],
  ['random', ['--strategy', 'random', '--target', 'size=8KB'], 18],
  ['only-prune', ['--strategy', 'guided', '--methods', 'prune', '--target', 'size=101KB'], 12],
  ['only-share', ['--strategy', 'guided', '--methods', 'share', '--target', 'size=100KB'], 12],
  ['only-binary', ['--strategy', 'guided', '--methods', 'binarize', '--target', 'size=58KB'], 12],
  ['only-filters', ['--strategy', 'guided', '--methods', 'filters', '--target', 'size=358KB'], 12],
];

const pct = (a: number) => `${(100 * a).toFixed(2)}%`;

/** The smallest result within a loss bound: size, latency, accuracy. */
function smallestWithin(s: SearchState, loss: number): string {
  const e = Object.values(s.results).filter((r) => s.baseline - r.accuracy <= loss + 1e-9).sort((a, b) => a.size - b.size)[0];
  return e ? `${formatBytes(e.size)}, ${e.latencyMs.toFixed(4)} ms, ${pct(e.accuracy)}` : '-';
}

/** One table row from a finished search's state. */
export function searchRow(name: string, s: SearchState): string {
  const results = Object.values(s.results);
  const goal = goalOf(s);
  const meets = results.filter((e) => violation(goal, e) === 0).length;
  return `| ${name} | ${results.length} | ${meets} | ${smallestWithin(s, s.maxLoss)} | ${smallestWithin(s, 2 * s.maxLoss)} | ${s.seconds.toFixed(0)} s |`;
}

export async function search(args: string[]): Promise<void> {
  const [out, model = 'fixtures/models/lenet5_dense.onnx', budget] = args;
  if (!out) throw new Error('usage: npm run repro -- search OUT [MODEL] [BUDGET]');
  const rows: string[] = [];
  for (const [name, extra, n] of CASES) {
    const dir = join(out, name);
    const code = await main(['search', model, ...COMMON, ...extra, '--budget', budget ?? String(n), '-o', dir]);
    if (code === 2) throw new Error(`search ${name} failed (exit 2)`);
    rows.push(searchRow(name, JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as SearchState));
  }
  console.log(`\n${model}, max loss 1 pp on the held-out slice (baseline in each state.json)`);
  console.log('| run | evaluated | meet the goal | smallest within the loss bound (size, latency, accuracy) | within twice the bound | time |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}
