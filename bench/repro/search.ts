// `npm run repro -- search OUT [MODEL] [BUDGET]`: the co-design search on LeNet-5 / MNIST —
// the mix of every method (guided and random, the same budget) against each method
// alone (guided), same target and accuracy bound. Runs `nnzip search` per case into
// OUT/<case> (a case already there resumes, or is only read when finished) and prints
// one table: candidates meeting the goal, the best of them, the smallest file within
// the loss bound.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { SearchState } from '../../src/search/search.js';
import { goalOf } from '../../src/search/search.js';
import { violation } from '../../src/search/targets.js';
import { formatBytes } from '../../src/ir/print.js';

const COMMON = ['--dataset', 'mnist', '--target', 'size=8KB', '--max-loss', '1', '--seed', '1', '--generation', '6', '--train', '5000',
  '--holdout', '1000', '--proxy-epochs', '1', '--proxy-steps', '30', '--latency', 'measured'];

const CASES: [string, string[], number][] = [
  ['guided', ['--strategy', 'guided'], 18],
  ['random', ['--strategy', 'random'], 18],
  ['only-prune', ['--strategy', 'guided', '--methods', 'prune'], 12],
  ['only-share', ['--strategy', 'guided', '--methods', 'share'], 12],
  ['only-binary', ['--strategy', 'guided', '--methods', 'binary'], 12],
  ['only-filters', ['--strategy', 'guided', '--methods', 'filters'], 12],
];

const pct = (a: number) => `${(100 * a).toFixed(2)}%`;

/** One table row from a finished search's state. */
export function searchRow(name: string, s: SearchState): string {
  const results = Object.values(s.results);
  const goal = goalOf(s);
  const meets = results.filter((e) => violation(goal, e) === 0).sort((a, b) => b.accuracy - a.accuracy || a.size - b.size);
  const inLoss = results.filter((e) => s.baseline - e.accuracy <= s.maxLoss).sort((a, b) => a.size - b.size);
  const best = meets[0] ? `${formatBytes(meets[0].size)} ${meets[0].latencyMs.toFixed(4)} ms ${pct(meets[0].accuracy)}` : '-';
  const small = inLoss[0] ? `${formatBytes(inLoss[0].size)} ${inLoss[0].latencyMs.toFixed(4)} ms ${pct(inLoss[0].accuracy)}` : '-';
  const fastest = inLoss.length ? Math.min(...inLoss.map((e) => e.latencyMs)).toFixed(4) : '-';
  return `| ${name} | ${results.length} | ${meets.length} | ${best} | ${small} | ${fastest} ms | ${s.seconds.toFixed(0)} s |`;
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
  console.log(`\n${model}, target size=8KB, max loss 1 pp on the held-out slice (baseline in each state.json)`);
  console.log('| run | evaluated | meet the goal | best meeting it (size, latency, accuracy) | smallest within the loss bound | fastest within it | time |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}
