// Winograd convs through the C backend (kernels/conv_winograd.ts) against nnzip's
// runtime: weights stored as their F(2,3) and F(4,3) transforms (the .nnz 'winograd'
// format) run from the stored filters at their tile; a dense 3×3 layer runs on
// tiles only when asked (winograd 'on' or a tile), else as one 9-tap pattern. Odd planes whose last row and
// column of tiles are partial, pad 1, no pads and asymmetric pads, bias and ReLU,
// a pool after a Winograd layer (not fused), batch 1 and 2; gcc strict flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph } from '../../../src/ir/graph.js';
import { Rng } from '../../../src/ir/random.js';
import { transformFilters, type WinogradTile } from '../../../src/ir/winograd.js';
import { GraphBuilder } from '../../onnx/graph_builder.js';
import { ARM_MISSING, assertAgrees, HAS_ARM, runC, runNnzip } from './helpers.js';

const RTOL = 1e-5;

function store(g: Graph, name: string, tile: WinogradTile): void {
  const w = g.initializers.get(name)!;
  g.formats.set(name, { kind: 'winograd', tile, transformed: transformFilters(w.data as Float32Array, w.shape[0], w.shape[1], tile) });
}

/** x [N, 3, 11, 9] → conv 3→8 pad 1 (F(4,3) stored) → relu → max pool → conv 8→6 pads [0,1,2,0] (F(2,3) stored) → conv 6→4 (dense) → Gemm 10. */
function winogradNet(): Graph {
  const b = new GraphBuilder(41);
  const x = b.input('x', ['N', 3, 11, 9]);
  const c1 = b.op1('Relu', [b.op1('Conv', [x, b.weight('w1', [8, 3, 3, 3]), b.weight('b1', [8])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]);
  const p = b.op1('MaxPool', [c1], { kernel_shape: [2, 2], strides: [2, 2] });
  const c2 = b.op1('Relu', [b.op1('Conv', [p, b.weight('w2', [6, 8, 3, 3]), b.weight('b2', [6])], { kernel_shape: [3, 3], pads: [0, 1, 2, 0] })]);
  const c3 = b.op1('Conv', [c2, b.weight('w3', [4, 6, 3, 3])], { kernel_shape: [3, 3] });
  const y = b.op1('Gemm', [b.op1('Flatten', [c3]), b.weight('w4', [10, 12]), b.weight('b4', [10])], { transB: 1 });
  const g = b.build([y], 17, 'N');
  store(g, 'w1', 4);
  store(g, 'w2', 2);
  return g;
}

const samples = (n: number, seed: number) => { const r = new Rng(seed); return Float32Array.from({ length: n }, () => r.uniform(-1, 1)); };
const PER = 3 * 11 * 9;

test('C Winograd: stored F(4,3) / F(2,3) filters run at their tile, partial tiles, pads 1 / asymmetric, batch 1 and 2; dense layers only when asked', async () => {
  const g = winogradNet();
  for (const batch of [1, 2]) {
    const xs = samples(PER * 4, 3);
    const c = runC(g, xs, { batch });
    assertAgrees(c.outputs, await runNnzip(g, xs, [batch, 3, 11, 9]), RTOL, 10, `winograd net batch ${batch}`);
    const k = c.program.layers.map((l) => `${l.kernel} | ${l.weights}`);
    assert.match(k[0], /^conv 3x3\/1 Winograd F\(4,3\) \(3×3 tiles.*\| winograd F\(4,3\): 864 transformed f32, as the model stores them$/, k.join('\n'));
    assert.match(k.find((l) => l.includes('F(2,3)'))!, /Winograd F\(2,3\) \(3×2 tiles.*as the model stores them$/, k.join('\n'));
    assert.ok(k.some((l) => l.startsWith('conv 3x3/1 pattern FKW (1 pattern blocks')), `the dense conv runs directly (one 9-tap pattern) under 'auto':\n${k.join('\n')}`);
  }
  for (const winograd of ['on', 4, 'off'] as const) {
    const xs = samples(PER * 3, 4);
    const c = runC(g, xs, { winograd });
    assertAgrees(c.outputs, await runNnzip(g, xs, [1, 3, 11, 9]), RTOL, 10, `winograd ${winograd}`);
    const wino = c.program.layers.filter((l) => l.kernel.includes('Winograd'));
    assert.equal(wino.length, winograd === 'off' ? 0 : 3, `winograd ${winograd}: ${c.program.layers.map((l) => l.kernel).join('; ')}`);
    if (winograd === 4) assert.ok(wino.every((l) => l.kernel.includes('F(4,3)')) && /transformed at compile time/.test(wino[1].weights), wino.map((l) => l.weights).join('; '));
  }
});

test('C Winograd on the Cortex-M4 (QEMU mps2-an386): the same outputs as nnzip', { skip: HAS_ARM ? false : ARM_MISSING }, async () => {
  const g = winogradNet(), xs = samples(PER * 3, 5);
  const c = runC(g, xs, { m4: true });
  assertAgrees(c.outputs, await runNnzip(g, xs, [1, 3, 11, 9]), RTOL, 10, 'winograd net on the Cortex-M4');
});
