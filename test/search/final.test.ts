// The final front: the best proxy results fine-tuned fully, scored on the test set,
// the winner's recipe re-run by compress reproducing its point, resumable; the
// front as the report's HTML chart.
import assert from 'node:assert/strict';
import test from 'node:test';
import { parse as parseYaml, stringify } from 'yaml';
import { compressGraph } from '../../src/compress/pipeline.js';
import { parseRecipe, recipeDocument } from '../../src/compress/recipe.js';
import { loadDataset } from '../../src/data/datasets.js';
import { sessionAccuracy } from '../../src/eval/runners.js';
import { nnzToGraph } from '../../src/format/nnz.js';
import { makeProblem } from '../../src/search/evaluate.js';
import { finalPoints, finalRecipe, fineTuneFront } from '../../src/search/final.js';
import { InProcessQueue } from '../../src/search/queue.js';
import { goalOf, newState, runSearch, summarize, type FinalSpec, type SearchState } from '../../src/search/search.js';
import { parseTarget } from '../../src/search/targets.js';
import type { Evaluation } from '../../src/search/evaluate.js';
import { reportHtml } from '../../src/report/html.js';
import { parseReportInput } from '../../src/report/report_inputs.js';
import { tinyMnist, TINY_SPEC } from './tiny.js';

test('the best proxy results fine-tuned fully: test-set figures next to the proxy, the recipe reproduces the point, a rerun resumes', async () => {
  const p = await makeProblem(tinyMnist(), { ...TINY_SPEC, source: 'tiny.onnx' });
  const s = await newState({ problem: p, problemId: 'tiny', strategy: 'random', seed: 5, target: parseTarget('size=4KB'), maxLoss: 0.05, generationSize: 4 });
  await runSearch(p, s, { queue: new InProcessQueue(p), budget: { candidates: 4 }, save: () => {} });
  const spec: FinalSpec = { epochs: 1, steps: 3, points: 1 };
  let saves = 0;
  const fin = (await fineTuneFront(p, s, spec, () => saves++))!;
  assert.deepEqual(fin.hashes, finalPoints(goalOf(s), Object.values(s.results), 1));
  assert.equal(Object.keys(fin.results).length + Object.keys(fin.failed).length, 1);
  assert.equal(fin.baseline, (await sessionAccuracy(p.graph, loadDataset('mnist', 'test'))).accuracy);
  // the point as compress runs the recipe (YAML round trip): the whole training set, the test set, --seed, --max-steps, its metadata
  const h = Object.keys(fin.results)[0];
  const recipe = parseRecipe(parseYaml(stringify(recipeDocument(finalRecipe(p, s, h)))), 'winner.yaml');
  assert.equal(recipe.prune?.epochsPerStage ?? recipe.share?.epochs ?? recipe.quantize?.epochs ?? recipe.filters?.epochs ?? recipe.binarize?.epochs ?? 1, 1);
  const data = { train: loadDataset('mnist', 'train'), test: loadDataset('mnist', 'test') };
  const r = compressGraph(p.graph, { recipe, data, seed: TINY_SPEC.seed, maxStepsPerEpoch: 3, meta: { source: 'tiny.onnx', recipe: recipe.name } });
  const accuracy = (await sessionAccuracy(nnzToGraph(r.file.bytes, 'x.nnz', { maxElements: Infinity }).graph, data.test)).accuracy;
  assert.deepEqual([r.file.bytes.length, accuracy], [fin.results[h].size, fin.results[h].accuracy]);
  // a rerun with the same spec fine-tunes nothing again
  const before = saves;
  await fineTuneFront(p, s, spec, () => saves++);
  assert.equal(saves, before);
  // the summary: the final front with each point's proxy result; the winner judged on the final runs
  const sum = summarize(JSON.parse(JSON.stringify(s)) as SearchState);
  assert.equal(sum.final!.finished, Object.keys(fin.results).length);
  assert.ok(sum.final!.front.length >= 1 && sum.final!.front.every((e) => fin.results[e.hash] !== undefined && e.proxy.hash === e.hash));
  assert.ok([sum.winner, sum.closest].some((e) => e && fin.results[e.hash]));
  // the report reads front.json and draws it with its charting
  const input = parseReportInput(JSON.stringify({ kind: 'search-front', ...sum }), 'front.json');
  const html = await reportHtml([input], 'test');
  assert.match(html, /<section id="search">[\s\S]*<figure class="chart" id="search-front"><svg/);
  for (const e of sum.final!.front) assert.match(html, new RegExp(`<td>${e.hash}</td>`));
  assert.throws(() => parseReportInput(JSON.stringify({ kind: 'search-front', target: sum.target, maxLoss: 0.01, baseline: 0.9, front: [{ hash: 'a' }] }), 'f.json'),
    /^NnzipError: f\.json: front\[0\] needs hash, size, latencyMs and accuracy$/);
});

test('final points: the best ranked and the smallest within the loss bound, in turn; within the bound first when the target is missed', () => {
  const ev = (hash: string, size: number, accuracy: number): Evaluation => ({ hash, size, latencyMs: 1, accuracy, seconds: 0 });
  // baseline 0.99, 1 pp allowed, target 8 KB: nothing meets it; a and b are near misses (small, just over the loss)
  const goal = { target: parseTarget('size=8KB'), maxLoss: 0.01, baseline: 0.99 };
  const all = [ev('a', 9000, 0.978), ev('b', 9500, 0.979), ev('c', 20000, 0.985), ev('d', 30000, 0.99), ev('e', 25000, 0.95)];
  assert.deepEqual(finalPoints(goal, all, 1), ['c']);
  assert.deepEqual(finalPoints(goal, all, 3), ['c', 'b', 'd']); // b misses by less than a (ranked by how far)
  // a point meets the goal: the best ranked first
  const met = [...all, ev('f', 8000, 0.982)];
  assert.deepEqual(finalPoints(goal, met, 2), ['f', 'b']);
  // nothing within the loss bound: the ranked order alone
  assert.deepEqual(finalPoints(goal, [ev('a', 9000, 0.9), ev('b', 7000, 0.8)], 2), ['a', 'b']);
  assert.deepEqual(finalPoints(goal, [], 2), []);
});
