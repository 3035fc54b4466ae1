import assert from 'node:assert/strict';
import test from 'node:test';
import { parse as parseYaml, stringify } from 'yaml';
import { compressGraph } from '../../src/compress/pipeline.js';
import { nnzToGraph } from '../../src/format/nnz.js';
import { parseRecipe, recipeDocument, settingsFor, type Recipe } from '../../src/compress/recipe.js';
import { compressibleLayers } from '../../src/compress/layers.js';
import { compileC } from '../../src/compile/backends/c/index.js';
import { hasTool } from '../../src/compile/backends/c/toolchain.js';
import { evaluateCandidate, flashOf, makeProblem, type Evaluation, type Problem } from '../../src/search/evaluate.js';
import { InProcessQueue, type CandidateQueue, type Job, type Outcome } from '../../src/search/queue.js';
import { newState, runSearch, summarize, upgradePrior, type SearchState } from '../../src/search/search.js';
import { candidateHash, candidateRecipe, FLOAT_BITS, GENES, repair, SHARE_MAX_STEP, searchSpace, type Candidate, type LayerChoice, type PatternChoice, type Values } from '../../src/search/space.js';
import { proposeGuided, proposeRandom, type Proposal } from '../../src/search/strategy.js';
import { computePrior, moveOf, unchanged, withMove, type Move, type Prior } from '../../src/search/prior.js';
import { paretoFront, parseTarget, rank } from '../../src/search/targets.js';
import { tinyMnist, TINY_SPEC } from './tiny.js';
import { toGraph } from '../../src/runtime/session.js';
import { readFileSync } from 'node:fs';

const vggs = () => toGraph(new Uint8Array(readFileSync(new URL('../../../fixtures/models/vggs_fmnist_dense.onnx', import.meta.url))));

/** A layer choice: no patterns, left float unless `quant` bits are given (a quantized candidate). */
const L = (density: number, values: Values, filters: number, quant = FLOAT_BITS, pattern: PatternChoice = 'none'): LayerChoice => ({ density, values, filters, pattern, quant });

let problem: Promise<Problem> | undefined;
const tiny = () => (problem ??= makeProblem(tinyMnist(), TINY_SPEC));

const mixed: (p: Problem) => Candidate = (p) => ({
  layers: [L(0.5, 'q4', p.space.layers[0].filters.at(-1)!, 6), L(0.2, 'q3', 1, FLOAT_BITS)],
  winograd: 0,
  quantize: 'int8',
});

test('the space of a conv + fc model: filters only where the layer can be thinned, Winograd for the 3×3 conv', async () => {
  const p = await tiny();
  assert.deepEqual(p.space.layers.map((l) => [l.name, l.filters.length > 1]), [['conv1', true], ['fc1', false]]);
  assert.deepEqual(p.space.winograd, [0, 2, 4]);
  assert.deepEqual(p.space.quantize, [undefined, 'int8', 'fixed']);
  assert.deepEqual(p.space.layers.map((l) => l.quant), [[32, 8, 6, 4], [32, 8, 6, 4]]);
  // patterns on the 3×3 conv only: none, then K/rate of the pattern stage's co-design candidates; one input channel: rate 1 only
  assert.deepEqual([p.space.layers[0].pattern, p.space.layers[1].pattern], [['none', '12/1', '8/1', '6/1', '4/1'], ['none']]);
  const wide = searchSpace(vggs(), ['pattern']).layers.map((l) => l.pattern.length);
  assert.deepEqual(wide, [5, 25, 25, 25, 25, 25, 1, 1]); // >= 32 inputs (16 after filters): every rate up to 6; fc: none
});

test('a candidate is a recipe that compress reproduces: YAML round trip, same file, same accuracy', async () => {
  const p = await tiny();
  const c = mixed(p);
  const e = await evaluateCandidate(p, c);
  const recipe = candidateRecipe(p.space, c, p.spec.proxy);
  const back = parseRecipe(parseYaml(stringify(recipeDocument(recipe))), 'winner.yaml');
  assert.deepEqual(back, recipe);
  const again = compressGraph(p.graph, { recipe: back, data: p.data, seed: p.spec.seed, maxStepsPerEpoch: p.spec.proxy.maxSteps });
  assert.equal(again.file.bytes.length, e.size);
  assert.equal(again.stages.map((s) => s.name).join(','), 'filters,prune,share,quantize');
  assert.ok(e.size < 0.5 * 4 * (4 * 9 + 4 + 196 * 10 + 10), `size ${e.size}`);
  assert.ok(e.accuracy > 0 && e.accuracy <= 1 && e.latencyMs > 0);
});

test('a layer left unchanged by a candidate gets no kind default of the base recipe (compress reads the YAML the same)', async () => {
  const p = await tiny();
  const c: Candidate = { layers: [L(0.5, 'q4', 1), L(1, 'f32', 1)], winograd: 0 };
  const recipe = parseRecipe(parseYaml(stringify(recipeDocument(candidateRecipe(p.space, c, p.spec.proxy)))), 'winner.yaml');
  const [conv1, fc1] = compressibleLayers(p.graph);
  assert.deepEqual([settingsFor(recipe, conv1).density, settingsFor(recipe, conv1).bits], [0.5, 4]);
  assert.deepEqual([settingsFor(recipe, fc1).density, settingsFor(recipe, fc1).bits], [1, 32]);
});

test('a candidate that shares layers caps the centroid fine-tune by its largest cluster (share.maxStep), at the proxy\'s lr otherwise', async () => {
  const p = await tiny();
  const recipe = (c: Candidate) => parseRecipe(parseYaml(stringify(recipeDocument(candidateRecipe(p.space, c, p.spec.proxy)))), 'winner.yaml');
  for (const layers of [[L(1, 'q4', 1), L(0.2, 'q5', 1)], [L(0.5, 'q4', 0.5), L(1, 'q3', 1)], [L(0.5, 'q4', 1), L(0.2, 'q5', 1)]]) {
    const r = recipe({ layers, winograd: 0 });
    assert.deepEqual([r.share?.maxStep, r.share?.lr, r.train.lr], [SHARE_MAX_STEP, undefined, p.spec.proxy.lr], JSON.stringify(layers));
  }
  assert.equal(recipe({ layers: [L(1, 'f32', 1), L(0.5, 'f32', 1)], winograd: 0 }).share, undefined, 'no sharing');
});

test('patterns, per-layer quantization bits and float layers: the recipe says them, the file holds them', async () => {
  const p = await tiny();
  // conv1: 6 patterns, all kernels kept, int8 weights at 6 bits; fc1: pruned to 0.2, left float
  const c: Candidate = { layers: [L(1, 'f32', 1, 6, '6/1'), L(0.2, 'f32', 1, FLOAT_BITS)], winograd: 0, quantize: 'int8' };
  const recipe = candidateRecipe(p.space, c, p.spec.proxy);
  assert.deepEqual(parseRecipe(parseYaml(stringify(recipeDocument(recipe))), 'winner.yaml'), recipe);
  assert.deepEqual(recipe.layers, { conv1: { patterns: 6, connectivity: 1, quantize: 6 }, fc1: { density: 0.2, quantize: 'float' } });
  assert.equal(recipe.pattern!.admm, undefined); // a proxy projects without ADMM, and the YAML keeps it so
  const r = compressGraph(p.graph, { recipe, data: p.data, seed: p.spec.seed, maxStepsPerEpoch: p.spec.proxy.maxSteps });
  assert.equal(r.stages.map((s) => s.name).join(','), 'pattern,prune,quantize');
  const g = nnzToGraph(r.file.bytes, 'candidate', { maxElements: Infinity }).graph;
  const conv = g.formats.get('conv1.weight'), w = g.initializers.get('conv1.weight')!.data as Float32Array;
  assert.equal(conv?.kind === 'grid' && conv.bits, 6);
  for (let k = 0; k < w.length; k += 9) assert.ok(w.subarray(k, k + 9).filter((v) => v !== 0).length <= 4, `kernel ${k / 9} is no pattern`);
  assert.notEqual(g.formats.get('fc1.weight')?.kind, 'grid');
  const fc = g.initializers.get('fc1.weight')!.data as Float32Array;
  assert.ok(Math.abs(fc.filter((v) => v !== 0).length / fc.length - 0.2) < 0.01);
  // repair: a patterned layer is not pruned or shared; bits mean something only when quantized; a quantized model quantizes a layer
  const loose: Candidate = { layers: [L(0.5, 'q4', 1, 4, '6/1'), L(1, 'f32', 1, 6)], winograd: 0 };
  assert.deepEqual(repair(loose).layers, [L(1, 'f32', 1, FLOAT_BITS, '6/1'), L(1, 'f32', 1)]);
  assert.deepEqual(repair({ layers: [L(1, 'f32', 1), L(1, 'f32', 1)], winograd: 0, quantize: 'fixed' }).layers.map((l) => l.quant), [8, 8]);
  // bad input: a layer's bits, in one line
  assert.throws(() => parseRecipe({ quantize: {}, layers: { conv1: { quantize: 'half' } } }, 'r.yaml'), /^NnzipError: r\.yaml: layers\.conv1\.quantize \(bits, or float\) "half" must be an integer in \[2, 16\]$/);
  const int12 = structuredClone(recipe) as Recipe;
  int12.layers.conv1 = { quantize: 12 };
  delete int12.pattern; // conv1 no longer named for patterns: the stage would have no layer
  assert.throws(() => compressGraph(p.graph, { recipe: int12, data: p.data, seed: 1, maxStepsPerEpoch: 1 }), /layer conv1: bits=12: int8 weights take 2\.\.8 bits/);
});

test('flash: the C build of a candidate, measured with the Cortex-M4 toolchain when it is installed', async () => {
  const p = await tiny();
  const f = flashOf(p.graph);
  const constBytes = compileC(p.graph, { name: 'model' }).layers.reduce((n, l) => n + l.constBytes, 0);
  assert.equal(f.flashSource, hasTool('arm-none-eabi-gcc') ? 'cortex-m4' : 'const-arrays');
  // the weights are float32 constants: at least 4 bytes each, and code on top when built
  assert.ok(constBytes >= 4 * (36 + 1960) && f.flash! >= constBytes, `flash ${f.flash}, arrays ${constBytes}`);
});

test('repair: a recipe runs sharing or binarization, so the minority kind of layers goes back to float', () => {
  const c: Candidate = { layers: [L(1, 'bwn', 1), L(1, 'q4', 1), L(1, 'twn', 1)], winograd: 0 };
  assert.deepEqual(repair(c).layers.map((l) => l.values), ['bwn', 'f32', 'twn']);
  assert.equal(repair({ ...c, quantize: 'int8' }).quantize, undefined);
  assert.equal(candidateHash(c), candidateHash(structuredClone(c)));
});

const ev = (hash: string, size: number, latencyMs: number, accuracy: number): Evaluation => ({ hash, size, latencyMs, accuracy, seconds: 0 });

test('Pareto front and ranking against a goal', () => {
  const all = [ev('a', 100, 1, 0.9), ev('b', 50, 1, 0.9), ev('c', 50, 2, 0.95), ev('d', 20, 3, 0.5), ev('e', 60, 3, 0.8)];
  assert.deepEqual(paretoFront(all).map((e) => e.hash), ['d', 'b', 'c']);
  const goal = { target: parseTarget('size=55B'), maxLoss: 0.1, baseline: 0.98 };
  // meeting: b (0.9 ≥ 0.88) and c; c is more accurate; d meets size but loses 48 pp; a is over size
  assert.deepEqual(rank(goal, all).map((e) => e.hash).slice(0, 2), ['c', 'b']);
});

test('targets: units, and bad input in one line', () => {
  assert.equal(parseTarget('size=20KB').limit, 20480);
  assert.equal(parseTarget('latency=500us').limit, 0.5);
  assert.equal(parseTarget('flash=64KB').limit, 65536);
  assert.throws(() => parseTarget('speed=2x'), /unknown target kind "speed"; use size, latency, flash/);
  assert.throws(() => parseTarget('size=-3KB'), /KIND=VALUE/);
  assert.throws(() => parseTarget('latency=2KB'), /latency is in ms/);
});

/** A synthetic prior: conv1 loses 2 pp per density step, fc1 0.1 pp; the saving is the weights removed. */
function syntheticPrior(p: Problem): Prior {
  const total = p.space.layers.reduce((s, l) => s + l.weights, 0);
  const moves: Move[] = p.space.layers.flatMap((l, layer) => l.density.slice(1).map((d, k) =>
    ({ layer, gene: 'density' as const, option: k + 1, drop: (layer === 0 ? 0.02 : 0.001) * (k + 1), gain: (1 - d) * l.weights / total })));
  return { kind: 'size', moves, seconds: 0 };
}

async function proposal(p: Problem, generation: number, history: Proposal['history'] = []): Promise<Proposal> {
  return { space: p.space, prior: syntheticPrior(p), goal: { target: parseTarget('size=1KB'), maxLoss: 0.02, baseline: p.baseline }, history, seen: new Set(), generation, count: 6, seed: 5 };
}

test('strategies: the same inputs propose the same candidates, never one already seen', async () => {
  const p = await tiny();
  for (const propose of [proposeRandom, proposeGuided]) {
    const a = propose(await proposal(p, 0));
    assert.deepEqual(propose(await proposal(p, 0)), a);
    assert.equal(new Set(a.map(candidateHash)).size, a.length);
    const seen = await proposal(p, 0);
    seen.seen = new Set(a.map(candidateHash));
    assert.ok(propose(seen).every((c) => !seen.seen.has(candidateHash(c))));
  }
  // a space restricted to filters: fc1 has no choice left, and mutations still find conv1
  const only = { ...(await proposal(p, 1)), space: searchSpace(p.graph, ['filters']) };
  only.history = [{ candidate: { layers: [L(1, 'f32', 1), L(1, 'f32', 1)], winograd: 0 }, result: ev('h', 9000, 1, 0.9) }];
  only.seen = new Set([candidateHash(only.history[0].candidate)]);
  const next = proposeGuided(only);
  assert.ok(next.length >= 1 && next.every((c) => c.layers[1].filters === 1 && c.layers[1].density === 1 && c.layers[0].filters < 1));
  // the greedy start follows the prior: fc1 (flat) is pruned at least as far as conv1 (steep), and
  // each start spends at most its budget (maxLoss/4 · 2^(8t/n) for attempt t), the smallest first
  const pr = await proposal(p, 0);
  const g = proposeGuided(pr);
  assert.ok(g.every((c) => c.layers[1].density <= c.layers[0].density));
  const spent = (c: Candidate) => c.layers.reduce((s, ch, i) => s + (moveOf(pr.prior, i, 'density', p.space.layers[i].density.indexOf(ch.density))?.drop ?? NaN), 0);
  assert.ok(spent(g[0]) <= 0.005 + 1e-12, `first start spent ${spent(g[0])}`);
  assert.deepEqual(g[0].layers.map((l) => l.density), [1, 0.05]); // fc1 alone fits 0.5 pp: pruned to its last density
  assert.ok(g.some((c) => c.layers[0].density < 1)); // larger budgets reach conv1
  assert.ok(g.every((c) => spent(c) <= 0.005 * 2 ** 16));
  // with the unchanged model's figure known, each start stops once its savings reach the target
  // (8,000 of 10,000 B: 20%; fc1 at 0.5 saves 49%), later ones at tighter targets (0.8^k of it: 36, 49, 67, 74, 79%)
  const tp: Proposal = { ...pr, prior: { ...pr.prior, figure: 10000 }, goal: { ...pr.goal, target: parseTarget('size=8000B') } };
  assert.deepEqual(proposeGuided(tp).slice(0, 4).map((c) => c.layers.map((l) => l.density)), [[1, 0.5], [1, 0.3], [1, 0.2], [1, 0.1]]);
  // thinning conv1's filters also shrinks fc1's inputs: its saving (60% here) is not conv1's own
  // part of the file, which its own moves tell (at most 95% of its weights): the start goes on to fc1
  const thin: Move = { layer: 0, gene: 'filters', option: 1, drop: 0, gain: 0.6 };
  const tf: Proposal = { ...tp, prior: { ...tp.prior, moves: [...tp.prior.moves, thin] } };
  const first = proposeGuided(tf)[0];
  assert.deepEqual([first.layers[0].filters, first.layers[1].density], [p.space.layers[0].filters[1], 0.5]);
});

test('the prior: every single move measured alone, without fine-tuning, as compress writes it', async () => {
  const p = await tiny();
  const prior = await computePrior(p, 'size');
  const want = p.space.layers.flatMap((l, layer) => GENES.flatMap((gene) => l[gene].slice(1).map((_, k) => `${layer}/${gene}/${k + 1}`)));
  const got = prior.moves.map((m) => `${m.layer}/${m.gene}/${m.option}`);
  // every option of every gene is a move except quant bits without a scheme (withMove adds int8), all of them present
  assert.deepEqual(got, want);
  const bwn = prior.moves.find((m) => m.layer === 1 && m.gene === 'values' && p.space.layers[1].values[m.option] === 'bwn')!;
  const c = withMove(p.space, unchanged(p.space), 1, 'values', bwn.option);
  const bytes = compressGraph(p.graph, { recipe: candidateRecipe(p.space, c, { ...p.spec.proxy, epochs: 0 }), seed: p.spec.seed, calibration: p.data.train }).file.bytes;
  const base = compressGraph(p.graph, { recipe: candidateRecipe(p.space, unchanged(p.space), p.spec.proxy), seed: p.spec.seed }).file.bytes;
  assert.ok(Math.abs(bwn.gain - (1 - bytes.length / base.length)) < 1e-12);
  assert.equal(prior.figure, base.length, 'the gains are parts of the unchanged file');
  // a state saved before the prior kept its figure gets it on resume, its moves kept
  const old = { strategy: 'guided', target: parseTarget('size=1KB'), prior: { kind: 'size', moves: prior.moves, seconds: 1 } } as unknown as SearchState;
  await upgradePrior(p, old);
  assert.deepEqual(old.prior, { ...prior, seconds: 1 });
  assert.ok(bwn.gain > 0.5, `binary fc1 saves most of the file: ${bwn.gain}`);
  assert.ok(prior.moves.every((m) => Number.isFinite(m.drop) && m.drop <= 1 && m.drop >= -1));
  // more compression on one gene saves more: density options are ordered
  const dens = prior.moves.filter((m) => m.layer === 1 && m.gene === 'density').map((m) => m.gain);
  assert.ok(dens.every((g, i) => i === 0 || g >= dens[i - 1] - 1e-3), `${dens}`);
});

/** A queue that dies after `n` outcomes, as a killed process would. */
class Dying implements CandidateQueue {
  evaluated: string[] = [];
  constructor(private readonly inner: CandidateQueue, private n: number) {}
  async evaluate(jobs: Job[], done: (o: Outcome) => void): Promise<void> {
    await this.inner.evaluate(jobs, (o) => {
      if (this.n-- <= 0) throw new Error('killed');
      this.evaluated.push(o.hash);
      done(o);
    });
  }
  async close(): Promise<void> {}
}

const strip = (s: SearchState) => ({ ...s, seconds: 0, prior: { ...s.prior, seconds: 0 }, results: Object.fromEntries(Object.entries(s.results).map(([h, e]) => [h, { ...e, seconds: 0 }])) });

test('the state saved after each candidate resumes a killed search: same results, nothing evaluated twice', async () => {
  const p = await tiny();
  const start = () => newState({ problem: p, problemId: 'tiny', strategy: 'guided', seed: 3, target: parseTarget('size=2KB'), maxLoss: 0.05, generationSize: 3 });
  const whole = await runSearch(p, await start(), { queue: new InProcessQueue(p), budget: { candidates: 7 }, save: () => {} });
  let saved = '';
  const dying = new Dying(new InProcessQueue(p), 4);
  await assert.rejects(runSearch(p, await start(), { queue: dying, budget: { candidates: 7 }, save: (s) => (saved = JSON.stringify(s)) }), /killed/);
  const resumed = JSON.parse(saved) as SearchState;
  assert.equal(Object.keys(resumed.results).length, 4);
  const rest = new Dying(new InProcessQueue(p), Infinity);
  const done = await runSearch(p, resumed, { queue: rest, budget: { candidates: 7 }, save: () => {} });
  assert.deepEqual(strip(done), strip(whole));
  assert.equal(new Set([...dying.evaluated, ...rest.evaluated]).size, dying.evaluated.length + rest.evaluated.length);
  assert.equal(Object.keys(done.results).length + Object.keys(done.failed).length, 7);
  const sum = summarize(done);
  assert.ok(sum.front.length >= 1 && sum.front.every((e) => done.results[e.hash]));
});
