// A quantized model stored and read back: the .nnz keeps the weights' grids (so the
// model reloads onto the integer kernels and gives the same outputs bit for bit), and
// the recipe's quantize stage after pruning keeps the pruned zeros on the grids.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compressGraph } from '../../../src/compress/pipeline.js';
import { quantizeGraph } from '../../../src/compress/quantize/ptq.js';
import { DEEP_COMPRESSION, QUANTIZE_DEFAULTS, type Recipe } from '../../../src/compress/recipe.js';
import { graphToNnz, nnzToGraph } from '../../../src/format/nnz.js';
import type { Graph } from '../../../src/ir/graph.js';
import { Rng } from '../../../src/ir/random.js';
import { f32 } from '../../../src/ir/tensor.js';
import { Session } from '../../../src/runtime/session.js';
import { smallNet, syntheticSet } from './helpers.js';

const FLOAT_LAYERS = new Set(['conv', 'fc']);

async function outputsAndKinds(g: Graph): Promise<{ y: Float32Array; kinds: string[] }> {
  const s = await Session.create(g, { batch: 3 });
  const y = s.run({ input: f32([3, 1, 8, 8], new Rng(5).floats(192, 0, 1)) })[g.outputs[0].name].data as Float32Array;
  const kinds = s.plan.steps.map((st) => st.kind);
  await s.dispose();
  return { y, kinds };
}

test('an int8 / fixed-point model written to .nnz reads back on its grids: integer-only, the same outputs bit for bit', async () => {
  for (const o of [{ scheme: 'int8', bits: 8 }, { scheme: 'fixed', bits: 6, actBits: 8 }] as const) {
    const q = quantizeGraph(smallNet(), o, syntheticSet(32)).graph;
    const file = graphToNnz(q);
    for (const w of ['conv1.weight', 'conv2.weight', 'fc.weight']) {
      const enc = file.sections.find((s) => s.kind === 'tensor' && s.name === w)?.encoding;
      assert.match(String(enc), /grid/, `${o.scheme}: ${w} stored as ${enc}`);
    }
    const back = nnzToGraph(file.bytes, 'q.nnz').graph;
    const [before, after] = [await outputsAndKinds(q), await outputsAndKinds(back)];
    assert.ok(!after.kinds.some((k) => FLOAT_LAYERS.has(k)), `${o.scheme}: float layers after reading back: ${after.kinds.join(' ')}`);
    assert.deepEqual(after.kinds, before.kinds);
    assert.deepEqual(after.y, before.y, `${o.scheme}: outputs changed through the .nnz`);
  }
});

test('the recipe quantize stage after pruning: zeros kept on the grids, the result runs on the integer kernels', async () => {
  const r: Recipe = structuredClone(DEEP_COMPRESSION);
  delete r.share;
  r.prune = { density: { conv: 0.5, fc: 0.3 }, schedule: 'oneshot', stages: 1, epochsPerStage: 0 };
  r.quantize = { ...QUANTIZE_DEFAULTS, samples: 24 };
  const out = compressGraph(smallNet(), { recipe: r, calibration: syntheticSet(24).data, seed: 1 });
  assert.deepEqual(out.stages.map((s) => s.name), ['prune', 'quantize']);
  const pruned = out.stages[0].graph, g = out.compressed;
  for (const w of ['conv2.weight', 'fc.weight']) {
    const [a, b] = [pruned.initializers.get(w)!.data as Float32Array, g.initializers.get(w)!.data as Float32Array];
    const zeros = a.reduce((n, v) => n + (v === 0 ? 1 : 0), 0);
    assert.ok(zeros > 0.4 * a.length, `${w}: ${zeros} zeros after pruning`);
    a.forEach((v, i) => { if (v === 0) assert.equal(b[i], 0, `${w}[${i}] pruned, ${b[i]} after quantizing`); });
    assert.equal(g.formats.get(w)?.kind, 'grid', `${w} is ${g.formats.get(w)?.kind}`);
  }
  const { kinds } = await outputsAndKinds(nnzToGraph(out.file.bytes, 'p.nnz').graph);
  assert.ok(kinds.includes('qconv') && kinds.includes('qfc') && !kinds.some((k) => FLOAT_LAYERS.has(k)), kinds.join(' '));
});
