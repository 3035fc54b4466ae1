// The pattern stage end to end on a tiny conv net: which layers it takes, the
// bad recipes it refuses before any training, one-shot and ADMM runs that leave
// every target in its patterns (zeros kept by the masks through retraining),
// and the file that stores them as patterns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compressGraph } from '../../../src/compress/pipeline.js';
import { PATTERN, parseRecipe, type Recipe } from '../../../src/compress/recipe.js';
import { nnzToGraph } from '../../../src/format/nnz.js';
import { NnzipError } from '../../../src/ir/errors.js';
import type { Graph } from '../../../src/ir/graph.js';
import { checkPatternFormat, patternCounts } from '../../../src/ir/pattern.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { patternNet, tinyData } from '../../train/tiny.js';
import { checkAgainstReference } from '../../runtime/helpers.js';

const net = patternNet;

function recipe(over: object = {}): Recipe {
  return parseRecipe({ pattern: { patterns: 4, connectivity: 2, admm: null, epochs: 0 }, ...over }, 'test', PATTERN);
}

const isError = (re: RegExp) => (e: unknown) => e instanceof NnzipError && re.test((e as Error).message);

test('one-shot, no data: the 3×3 convs with ≥ 4 input channels become patterns, stored as patterns', () => {
  const g = net();
  const r = compressGraph(g, { recipe: recipe() });
  const out = r.compressed;
  assert.equal(out.formats.get('conv1.weight'), undefined, 'one input channel: left dense');
  for (const name of ['conv2.weight', 'conv3.weight']) {
    const f = out.formats.get(name);
    assert.equal(f?.kind, 'pattern', name);
    if (f?.kind !== 'pattern') return;
    const t = out.initializers.get(name)!;
    checkPatternFormat(t.data as Float32Array, t.shape, f, name);
    assert.equal(f.masks.length, 4);
    assert.equal(patternCounts(f).kept, Math.round((t.shape[0] * t.shape[1]) / 2));
  }
  const back = nnzToGraph(r.file.bytes, 'tiny.nnz').graph;
  assert.equal(back.formats.get('conv3.weight')?.kind, 'pattern');
  assert.deepEqual(back.initializers.get('conv3.weight')!.data, out.initializers.get('conv3.weight')!.data);
});

test('patterns and winograd in one recipe: a layer stored as patterns is never also stored as transforms', async () => {
  const r = compressGraph(net(), { recipe: recipe({ winograd: { tile: 4 } }) });
  const kinds = (g: Graph) => Object.fromEntries(['conv1.weight', 'conv2.weight', 'conv3.weight'].map((w) => [w, g.formats.get(w)?.kind]));
  const want = { 'conv1.weight': 'winograd', 'conv2.weight': 'pattern', 'conv3.weight': 'pattern' };
  assert.deepEqual(kinds(r.compressed), want, 'conv1 (left dense by the patterns) transformed, the pattern layers kept as patterns');
  const encodings = Object.fromEntries(r.file.sections.filter((s) => s.name?.endsWith('.weight')).map((s) => [s.name, s.encoding]));
  assert.deepEqual([encodings['conv1.weight'], encodings['conv2.weight'], encodings['conv3.weight']], ['winograd', 'pattern', 'pattern']);
  const back = nnzToGraph(r.file.bytes, 'both.nnz').graph;
  assert.deepEqual(kinds(back), want);
  const s = await checkAgainstReference(back, [1, 2], 'patterns + winograd', { patterns: { use: 'always' } }, 1e-4);
  const impls = s.plan.steps.flatMap((st) => (st.kind === 'conv' ? [st.impl] : []));
  assert.deepEqual(impls.slice(1), ['pattern', 'pattern'], `conv kernels: ${impls.join(', ')}`);
  await s.dispose();
});

test('the recipe can name layers: K and connectivity per layer; a non-3×3 layer is refused with the layers that qualify', () => {
  const r = compressGraph(net(), { recipe: recipe({ layers: { conv1: { patterns: 2, connectivity: 1 }, conv3: { patterns: 6 } } }) });
  const f1 = r.compressed.formats.get('conv1.weight'), f3 = r.compressed.formats.get('conv3.weight');
  assert.ok(f1?.kind === 'pattern' && f1.masks.length === 2, 'named conv1 is taken despite one input channel');
  assert.ok(f3?.kind === 'pattern' && f3.masks.length === 6);
  assert.throws(() => compressGraph(net(), { recipe: recipe({ layers: { fc: { patterns: 4 } } }) }),
    isError(/layer fc \(Gemm \[4,72\]\) cannot take patterns: they apply to 3×3 convs with group 1; layers that qualify: conv1, conv2, conv3/));
  // no layer to prune: every qualifying one skipped, or a model without 3×3 convs
  assert.throws(() => compressGraph(net(), { recipe: recipe({ layers: { conv1: { skip: true }, conv2: { skip: true }, conv3: { skip: true } } }) }),
    isError(/the pattern stage has no layer to prune: patterns apply to 3×3 convs with group 1 and, unless the recipe names the layer, at least pattern.minChannels = \d+ input channels; skipped or below it: conv1 \(1 input channels\), conv2 \(\d+ input channels\), conv3/));
});

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

test('a recipe file with a pattern section runs patterns only, unless it names other stages', () => {
  const file = parseRecipe(parseYaml(readFileSync(`${ROOT}recipes/vggs_pattern.yaml`, 'utf8')), 'vggs_pattern.yaml');
  assert.equal(file.prune, undefined, 'no magnitude pruning after the patterns');
  assert.equal(file.share, undefined);
  assert.deepEqual([file.pattern?.patterns, file.pattern?.connectivity, file.pattern?.admm?.rounds, file.layers['features.17'].connectivity], [8, 3.6, 4, 4.5]);
  const both = parseRecipe({ pattern: { patterns: 4 }, share: { bits: { conv: 6 } } }, 'r');
  assert.equal(both.share?.bits.conv, 6);
  assert.equal(both.prune, undefined);
  assert.ok(parseRecipe({ prune: { density: { fc: 0.2 } } }, 'r').share, 'without patterns the base stays Deep Compression');
});

test('bad pattern settings fail before any training, with one clear line', () => {
  assert.throws(() => recipe({ pattern: { patterns: 57 } }), isError(/test: pattern.patterns 57 must be an integer in \[1, 56\]/));
  assert.throws(() => recipe({ pattern: { patterns: 0 } }), isError(/pattern.patterns 0/));
  assert.throws(() => recipe({ pattern: { connectivity: 0.5 } }), isError(/pattern.connectivity 0.5/));
  assert.throws(() => recipe({ layers: { conv2: { patterns: 99 } } }), isError(/layers.conv2.patterns 99/));
  let trained = false;
  const data = { train: tinyData(64, 1), test: tinyData(32, 2) };
  const r = recipe({ pattern: { connectivity: 9 }, layers: {} });
  assert.throws(() => compressGraph(net(), { recipe: r, data, onProgress: () => { trained = true; } }),
    isError(/layer conv2: connectivity 9 keeps 4 kernels, fewer than its 8 filters, so it would remove every kernel of a filter; use a rate of at most 4/));
  assert.equal(trained, false);
});

test('ADMM then masked retraining: every target stays in its patterns, the accuracy is measured', () => {
  const data = { train: tinyData(256, 1), test: tinyData(64, 2) };
  const r = recipe({ pattern: { admm: { rounds: 2, epochsPerRound: 1, rho: 0.01, rhoGrowth: 2 }, epochs: 1 } });
  const out = compressGraph(net(), { recipe: r, data, seed: 1, maxStepsPerEpoch: 4 });
  const stage = out.stages.find((s) => s.name === 'pattern')!;
  assert.ok(stage.accuracy !== undefined && stage.details.projected !== undefined);
  for (const name of ['conv2.weight', 'conv3.weight']) {
    const f = out.compressed.formats.get(name), t = out.compressed.initializers.get(name)!;
    assert.ok(f?.kind === 'pattern');
    if (f?.kind === 'pattern') checkPatternFormat(t.data as Float32Array, t.shape, f, name);
  }
});

test('co-design: K and connectivity per layer from the compiler-measured time or the stored bytes against a target', () => {
  const tight = compressGraph(net(), { recipe: recipe({ pattern: { codesign: { sizeBytes: 450, patterns: [4, 8], connectivity: [1, 2, 4] } } }) });
  const note = tight.notes.find((n) => n.startsWith('co-design'))!;
  assert.match(note, /^co-design: target 450 bytes, (\d+) bytes; conv2 K=\d+ ×\d, conv3 K=\d+ ×\d$/);
  const stored = ['conv2.weight', 'conv3.weight'].reduce((s, w) => {
    const f = tight.compressed.formats.get(w);
    return s + (f?.kind === 'pattern' ? 4 * patternCounts(f).weights + patternCounts(f).kept : 0);
  }, 0);
  assert.ok(stored <= 450, `stored ${stored} bytes`);
  const loose = compressGraph(net(), { recipe: recipe({ pattern: { codesign: { sizeBytes: 1e6, patterns: [4, 8], connectivity: [1, 2, 4] } } }) });
  assert.match(loose.notes[0], /conv2 K=8 ×1, conv3 K=8 ×1/, 'a loose target keeps the least compressed choice');
  const fast = compressGraph(net(), { recipe: recipe({ pattern: { codesign: { latencyUs: 0.001, patterns: [4], connectivity: [1, 4] } } }) });
  assert.match(fast.notes[0], /^co-design: target 0.001 µs, [\d.]+ µs measured \(NOT met: the most compressed candidates are not enough\); conv2 K=4 ×\d, conv3 K=4 ×\d$/);
  assert.throws(() => recipe({ pattern: { codesign: { latencyUs: 5, sizeBytes: 5 } } }), isError(/pattern.codesign: give one target, latencyUs or sizeBytes/));
});
