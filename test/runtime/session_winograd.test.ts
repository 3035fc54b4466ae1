// Winograd in sessions: 3×3 stride-1 convs (pads 0 and 1, bias, fused ReLU, a folded
// BatchNorm, an output written into a concat) run on each tile when forced, on what
// the cost model picks when 'auto', never when 'off', and match the reference
// runtime on 1 thread and on 2 (every step split); describe() says which tile and
// why; a pruned layer keeps its sparse kernel where that is faster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvStep } from '../../src/compile/plan_types.js';
import type { Graph } from '../../src/ir/graph.js';
import { NnzipError } from '../../src/ir/errors.js';
import { Session, type SessionOptions } from '../../src/runtime/session.js';
import { GraphBuilder } from '../onnx/graph_builder.js';
import { checkAgainstReference } from './helpers.js';

/** Conv chains with the fusions and layouts a Winograd step must keep. */
function net(): Graph {
  const b = new GraphBuilder(12);
  const x = b.input('x', ['N', 3, 13, 11]);
  const c1 = b.op1('Relu', [b.op1('Conv', [x, b.weight('w1', [16, 3, 3, 3]), b.weight('b1', [16])], { pads: [1, 1, 1, 1] })]);
  const bn = b.op1('BatchNormalization', [b.op1('Conv', [c1, b.weight('w2', [9, 16, 3, 3])]), b.weight('s', [9], 1, 0.5),
    b.weight('t', [9]), b.weight('mu', [9]), b.weight('var', [9], 1, 0.5)]);
  const c3 = b.op1('Conv', [bn, b.weight('w3', [5, 9, 3, 3])], { pads: [0, 1, 2, 0] });
  const side = b.op1('Conv', [bn, b.weight('w4', [4, 9, 1, 2])]); // not Winograd: 1×2
  return b.build([b.op1('Concat', [c3, side], { axis: 1 })], 17, 'N');
}

function convs(s: Session): ConvStep[] {
  return s.plan.steps.filter((st): st is ConvStep => st.kind === 'conv');
}

test('each tile forced, and auto, match the reference at batch 1, 2 and 5 on 1 and 2 threads', async () => {
  for (const winograd of [2, 4, 6, 'on', 'auto'] as const) {
    const opts: SessionOptions = { winograd };
    const s = await checkAgainstReference(net(), [1, 2, 5], `winograd ${winograd}`, opts, 2e-4);
    const kinds = convs(s).map((c) => (c.impl === 'winograd' ? `F(${c.tile},3)` : c.impl));
    if (typeof winograd === 'number') assert.deepEqual(kinds, [`F(${winograd},3)`, `F(${winograd},3)`, `F(${winograd},3)`, 'im2col']);
    if (winograd === 'on') assert.ok(kinds.slice(0, 3).every((k) => k.startsWith('F(')), kinds.join());
    await s.dispose();
  }
});

test("describe() names the tile and the estimates; winograd: 'off' never plans it", async () => {
  const s = await Session.create(net(), { winograd: 4, batch: 2 });
  const text = s.describe();
  assert.match(text, /winograd 4;/);
  assert.match(text, /conv winograd F\(4,3\) \+ relu .*winograd: 4 forced; F\(4,3\) tiles, est [\d.]+ µs vs /);
  assert.match(text, /conv winograd F\(4,3\) \+ batchnorm folded/);
  await s.dispose();
  const off = await Session.create(net(), { winograd: 'off' });
  assert.ok(convs(off).every((c) => c.impl !== 'winograd'));
  assert.doesNotMatch(off.describe(), /conv winograd/);
  await off.dispose();
});

/** One 3×3 64→64 conv on 14×14 whose weights are stored sparse at `density`. */
function pruned(density: number): Graph {
  const b = new GraphBuilder(13);
  const x = b.input('x', ['N', 64, 14, 14]);
  const y = b.op1('Conv', [x, b.weight('w', [64, 64, 3, 3])], { pads: [1, 1, 1, 1] });
  const g = b.build([y], 17, 'N');
  const w = g.initializers.get('w')!.data as Float32Array;
  for (let i = 0; i < w.length; i++) if ((i * 2654435761) % 1000 >= density * 1000) w[i] = 0;
  g.formats.set('w', { kind: 'sparse' });
  return g;
}

test('a pruned 3×3 conv keeps the sparse kernel when it is faster, takes Winograd when the weights are dense enough', async () => {
  // at 3% the kept taps also fit a few 3×3 patterns: the pattern kernel is left out to compare CSR with Winograd
  const sparse = await checkAgainstReference(pruned(0.03), [1, 2], 'pruned 3%', { patterns: { use: 'never' } }, 1e-4);
  assert.equal(convs(sparse)[0].impl, 'csr');
  assert.match(convs(sparse)[0].reason, /F\(4,3\) [\d.]+ µs/);
  await sparse.dispose();
  const crowded = await checkAgainstReference(pruned(0.7), [1, 2], 'pruned 70%', {}, 1e-4);
  assert.equal(convs(crowded)[0].impl, 'winograd');
  assert.match(convs(crowded)[0].reason, /^sparse, density 70%; F\(\d,3\) tiles, .* csr [\d.]+ µs/);
  await crowded.dispose();
});

test('bad winograd option: one line naming it and the choices', async () => {
  const g = net();
  for (const bad of [3, 'yes', 0]) {
    await assert.rejects(Session.create(g, { winograd: bad as never }),
      (e: unknown) => e instanceof NnzipError && /^session: winograd=.*; use 'auto', 'off', 'on' or a tile 2, 4, 6/.test(e.message));
  }
});
