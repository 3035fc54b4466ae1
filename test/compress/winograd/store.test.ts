// Winograd-transformed filters stored in the .nnz on request: the recipe's winograd
// stage marks the dense 3×3 stride-1 convs, the 'winograd' encoding stores U bit for
// bit and gives the filters back, and a session runs the stored transform.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compressGraph } from '../../../src/compress/pipeline.js';
import { parseRecipe } from '../../../src/compress/recipe.js';
import { graphToNnz, nnzToGraph } from '../../../src/format/nnz.js';
import { encodeTensorPayload } from '../../../src/format/tensor_codec.js';
import { NnzipError } from '../../../src/ir/errors.js';
import type { Graph } from '../../../src/ir/graph.js';
import { f32 } from '../../../src/ir/tensor.js';
import { recoverFilters, transformFilters, WINOGRAD_TILES } from '../../../src/ir/winograd.js';
import { Session } from '../../../src/runtime/session.js';
import { GraphBuilder } from '../../onnx/graph_builder.js';
import { checkAgainstReference } from '../../runtime/helpers.js';

/** A 3×3 conv (Winograd), a strided 3×3 one and a pruned 3×3 one (not: its zeros follow a 3×3 pattern, kept as such), a 1×1 one (not). */
function net(): Graph {
  const b = new GraphBuilder(31);
  const x = b.input('x', ['N', 4, 10, 10]);
  const a = b.op1('Relu', [b.op1('Conv', [x, b.weight('a.weight', [8, 4, 3, 3]), b.weight('a.bias', [8])], { pads: [1, 1, 1, 1] })]);
  const s = b.op1('Conv', [a, b.weight('s.weight', [8, 8, 3, 3])], { strides: [2, 2], pads: [1, 1, 1, 1] });
  const p = b.op1('Conv', [s, b.weight('p.weight', [6, 8, 3, 3])]);
  const g = b.build([b.op1('Conv', [p, b.weight('o.weight', [2, 6, 1, 1])])], 17, 'N');
  const w = g.initializers.get('p.weight')!.data as Float32Array;
  for (let i = 0; i < w.length; i += 3) w[i] = 0;
  g.formats.set('p.weight', { kind: 'sparse' });
  return g;
}

test('the filters come back from every tile\'s transform within float rounding', () => {
  const w = f32([5, 3, 3, 3], Array.from({ length: 135 }, (_, i) => Math.sin(i))).data as Float32Array;
  for (const m of WINOGRAD_TILES) {
    const back = recoverFilters(transformFilters(w, 5, 3, m), 5, 3, m);
    back.forEach((v, i) => assert.ok(Math.abs(v - w[i]) < 1e-6, `F(${m},3) element ${i}: ${v} vs ${w[i]}`));
  }
});

test('recipe winograd: dense 3×3 stride-1 convs stored transformed, decoded bit for bit, run as stored', async () => {
  const recipe = parseRecipe({ prune: null, share: null, winograd: { tile: 4 } }, 'test recipe');
  const r = compressGraph(net(), { recipe });
  assert.deepEqual([...r.compressed.formats].map(([n, f]) => [n, f.kind]).sort(), [['a.weight', 'winograd'], ['p.weight', 'pattern']]);
  const stored = r.compressed.formats.get('a.weight')!;
  assert.ok(stored.kind === 'winograd' && stored.tile === 4 && stored.transformed.length === 36 * 8 * 4);
  const section = r.file.sections.find((s) => s.name === 'a.weight')!;
  assert.ok(section.bytes > 4 * 36 * 8 * 4, `the transform is stored whole: ${section.bytes} bytes`);
  const back = nnzToGraph(r.file.bytes, 'test.nnz').graph;
  const f = back.formats.get('a.weight')!;
  assert.ok(f.kind === 'winograd' && f.tile === 4);
  assert.deepEqual(f.transformed, stored.transformed);
  const w0 = r.compressed.initializers.get('a.weight')!.data as Float32Array, w1 = back.initializers.get('a.weight')!.data as Float32Array;
  w1.forEach((v, i) => assert.ok(Math.abs(v - w0[i]) < 1e-6, `a.weight[${i}]: ${v} vs ${w0[i]}`));
  const s = await checkAgainstReference(back, [1, 2], 'stored transform', { winograd: 4 }, 1e-4);
  const conv = s.plan.steps.find((st) => st.name === 'Conv_0')!;
  assert.match(conv.reason, /F\(4,3\) tiles, filters stored transformed/);
  await s.dispose();
  const other = await Session.create(back, { winograd: 2 }); // another tile transforms the decoded filters itself
  assert.doesNotMatch(other.plan.steps[0].reason, /stored transformed/);
  await other.dispose();
});

test('bad input: a recipe tile, and a transform that does not fit its filter', () => {
  assert.throws(() => parseRecipe({ winograd: { tile: 3 } }, 'r.yaml'), (e: unknown) => e instanceof NnzipError && /r\.yaml: winograd\.tile 3 must be one of 2, 4, 6/.test(e.message));
  const g = net();
  g.formats.set('o.weight', { kind: 'winograd', tile: 2, transformed: new Float32Array(16 * 12) });
  assert.throws(() => graphToNnz(g), /needs a \[M,C,3,3\] filter/);
  const t = f32([2, 1, 3, 3], new Array(18).fill(1));
  assert.throws(() => encodeTensorPayload({ name: 'w', tensor: t, winograd: { tile: 4, transformed: new Float32Array(5) } }), /36·M·C values/);
});
