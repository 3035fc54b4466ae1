// XNOR-Net graphs in the runtime: a conv whose weight is stored binary or ternary and
// whose input is Sign(x) runs on the xnor-popcount kernel, the Sign costs nothing (the
// kernel binarizes while packing), and the outputs match the reference interpreter
// (float conv on ±1 inputs) at batch 1 and 3, through the .nnz file too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConvStep } from '../../src/compile/plan_types.js';
import { BINARIZE_DEFAULTS } from '../../src/compress/binary/settings.js';
import { compressGraph } from '../../src/compress/pipeline.js';
import { DEEP_COMPRESSION, type Recipe } from '../../src/compress/recipe.js';
import { nnzToGraph } from '../../src/format/nnz.js';
import { Rng } from '../../src/ir/random.js';
import { f32 } from '../../src/ir/tensor.js';
import { runReference } from '../../src/runtime/reference.js';
import { Session } from '../../src/runtime/session.js';
import { ArchBuilder } from '../../src/train/arch/builder.js';
import { compareOutputs } from './helpers.js';

/** conv1 (float) → relu → conv2 70→9 (XNOR) → relu → pool → conv3 9→5 (TWN, float inputs) → fc (float). */
function net() {
  const b = new ArchBuilder(7);
  let x = b.relu('r1', b.conv('conv1', 'input', 1, 70, 3, { pad: 1 }));
  x = b.maxPool('p1', b.relu('r2', b.conv('conv2', x, 70, 9, 3, { pad: 1 })), 2);
  x = b.relu('r3', b.conv('conv3', x, 9, 5, 3, { pad: 1 }));
  b.linear('fc', b.flatten('flat', x, 5 * 4 * 4), 5 * 4 * 4, 3, 'logits');
  return b.graph('xnor-net', [1, 8, 8], 'logits', 3);
}

function xnorRecipe(method: 'xnor'): Recipe {
  const r = structuredClone(DEEP_COMPRESSION);
  delete r.prune;
  delete r.share;
  r.binarize = { ...BINARIZE_DEFAULTS, method: { conv: method, fc: method }, epochs: 0 };
  r.layers = { conv3: { binary: 'twn' } };
  return r;
}

test('xnor convs run on the popcount kernel, Sign is free, outputs match the reference', async () => {
  const r = compressGraph(net(), { recipe: xnorRecipe('xnor'), seed: 1 });
  const g = nnzToGraph(r.file.bytes, 'x.nnz').graph;
  assert.equal(g.formats.get('conv2.weight')?.kind, 'binary');
  const rng = new Rng(3);
  for (const batch of [1, 3]) {
    const s = await Session.create(g, { batch });
    const convs = s.plan.steps.filter((st): st is ConvStep => st.kind === 'conv');
    // conv3 is ternary (TWN) on float inputs: not an xnor layer
    assert.deepEqual(convs.map((c) => c.impl === 'xnor'), [false, true, false], s.describe());
    assert.match(s.describe(), /xnor conv \(popcount\)/);
    assert.ok(!s.plan.steps.some((st) => st.op === 'Sign'), 'Sign is an alias of its input');
    const feeds = { input: f32([batch, 1, 8, 8], Array.from({ length: batch * 64 }, () => rng.uniform(-1, 1))) };
    compareOutputs(s.run(feeds), runReference(g, feeds), `batch ${batch}`, 1e-4);
  }
});
