// Pattern-pruned convs through the C backend's FKW kernel (kernels/conv_pattern.ts)
// against nnzip's runtime at the edges: odd plane sizes, stride 1 with pad 1, no
// pads and asymmetric pads, 1, 3 and 8 patterns, removed kernels, a filter with no
// kernel left (its output is its bias), a max pool fused after one, stride 2 on phase
// planes (pads 1, TF "SAME", asymmetric), batch 1 and 2;
// built with gcc -std=c99 -O2 -Wall -Wextra -Werror, and on the Cortex-M4 under QEMU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph } from '../../../src/ir/graph.js';
import { REMOVED_KERNEL } from '../../../src/ir/pattern.js';
import { Rng } from '../../../src/ir/random.js';
import { f32 } from '../../../src/ir/tensor.js';
import { patternWeight } from '../../ir/pattern_weights.js';
import { GraphBuilder } from '../../onnx/graph_builder.js';
import { ARM_MISSING, assertAgrees, HAS_ARM, runC, runNnzip } from './helpers.js';

const RTOL = 1e-5;

/**
 * x [N, 5, 11, 9] → conv 5→6 pad 1 (3 patterns, filter 2 empty) + bias → relu → max pool 2×2
 * (fused) → conv 6→7 pads [0, 1, 2, 0] (8 patterns) → relu → conv 7→4 no pads (1 pattern) → Gemm → 10.
 */
function patternNet(): Graph {
  const b = new GraphBuilder(21);
  const x = b.input('x', ['N', 5, 11, 9]);
  const p1 = patternWeight(31, 6, 5, 3, 0.4), p2 = patternWeight(32, 7, 6, 8, 0.5), p3 = patternWeight(33, 4, 7, 1, 0.6);
  for (let c = 0; c < 5; c++) { // filter 2 loses every kernel
    p1.format.assign[2 * 5 + c] = REMOVED_KERNEL;
    p1.w.fill(0, (2 * 5 + c) * 9, (2 * 5 + c + 1) * 9);
  }
  b.constant('w1', f32([6, 5, 3, 3], p1.w));
  b.constant('w2', f32([7, 6, 3, 3], p2.w));
  b.constant('w3', f32([4, 7, 3, 3], p3.w));
  const c1 = b.op1('Relu', [b.op1('Conv', [x, 'w1', b.weight('b1', [6])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]);
  const p = b.op1('MaxPool', [c1], { kernel_shape: [2, 2], strides: [2, 2] });
  const c2 = b.op1('Relu', [b.op1('Conv', [p, 'w2', b.weight('b2', [7])], { kernel_shape: [3, 3], pads: [0, 1, 2, 0] })]);
  const c3 = b.op1('Conv', [c2, 'w3'], { kernel_shape: [3, 3] });
  const y = b.op1('Gemm', [b.op1('Flatten', [c3]), b.weight('w4', [10, 12]), b.weight('b4', [10])], { transB: 1 });
  const g = b.build([y], 17, 'N');
  g.formats.set('w1', p1.format);
  g.formats.set('w2', p2.format);
  g.formats.set('w3', p3.format);
  return g;
}

function samples(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.uniform(-1, 1));
}

const PER = 5 * 11 * 9;

test('C pattern convs (FKW blocks): odd planes, pad 1 / none / asymmetric, 1, 3 and 8 patterns, an empty filter, fused pool, batch 1 and 2', async () => {
  const g = patternNet();
  for (const batch of [1, 2]) {
    const xs = samples(PER * 6, 5);
    const c = runC(g, xs, { batch, optimize: 'time' });
    assertAgrees(c.outputs, await runNnzip(g, xs, [batch, 5, 11, 9]), RTOL, 10, `pattern net batch ${batch}`);
    const convs = c.program.layers.filter((l) => l.kernel.includes('pattern FKW'));
    assert.equal(convs.length, 3, c.program.layers.map((l) => l.kernel).join('\n'));
    assert.match(convs[0].kernel, /3 pattern blocks.*padded planes\) \+ max pool 2x2\/2$/, 'rows of 10 floats: one copy');
    assert.match(convs[1].kernel, /8 pattern blocks.*padded planes, 2 rows per line, shifted copies\)$/, 'a 4-wide plane is folded');
    assert.doesNotMatch(convs[2].kernel, /padded/, 'no pads: the kernel reads the input itself');
    assert.match(convs[0].weights, /^pattern FKW: 3 patterns, \d+ of 30 kernels kept, \d+ of 270 weights f32, channel index uint8_t, FKR row order$/);
  }
});

/**
 * x [N, 3, 16, 14] → dense conv 3→32 pad 1 → relu → pattern conv 32→32 pad 1 → relu → max pool 2×2 (the peak)
 * → pattern conv 32→96 pad 1 → relu → pattern conv 96→16 pad 1 → `pool` 2×2 → Gemm → 10.
 * optimize 'ram': the second conv is at the peak (in place), the third and fourth copy bands of padded rows
 * (or whole folded planes where they fit), the fourth's each pooled as made; 'time': whole planes, 16-float rows for the 14-wide ones,
 * 8-wide ones folded (not under an avg pool).
 */
function bandNet(pool: 'MaxPool' | 'AveragePool'): Graph {
  const b = new GraphBuilder(22);
  const x = b.input('x', ['N', 3, 16, 14]);
  const p2 = patternWeight(41, 32, 32, 8, 0.3), p3 = patternWeight(42, 96, 32, 8, 0.3), p4 = patternWeight(43, 16, 96, 4, 0.3);
  b.constant('w2', f32([32, 32, 3, 3], p2.w));
  b.constant('w3', f32([96, 32, 3, 3], p3.w));
  b.constant('w4', f32([16, 96, 3, 3], p4.w));
  const pad = { kernel_shape: [3, 3], pads: [1, 1, 1, 1] };
  const c1 = b.op1('Relu', [b.op1('Conv', [x, b.weight('w1', [32, 3, 3, 3]), b.weight('b1', [32])], pad)]);
  const c2 = b.op1('Relu', [b.op1('Conv', [c1, 'w2', b.weight('b2', [32])], pad)]);
  const p = b.op1('MaxPool', [c2], { kernel_shape: [2, 2], strides: [2, 2] });
  const c3 = b.op1('Relu', [b.op1('Conv', [p, 'w3', b.weight('b3', [96])], pad)]);
  const c4 = b.op1(pool, [b.op1('Conv', [c3, 'w4'], pad)], { kernel_shape: [2, 2], strides: [2, 2] });
  const y = b.op1('Gemm', [b.op1('Flatten', [c4]), b.weight('w5', [10, 16 * 4 * 3]), b.weight('b5', [10])], { transB: 1 });
  const g = b.build([y], 17, 'N');
  g.formats.set('w2', p2.format);
  g.formats.set('w3', p3.format);
  g.formats.set('w4', p4.format);
  return g;
}

test('C pattern convs by optimize: ram (in place at the peak, bands of padded rows pooled as made) and time (whole planes, aligned and folded rows), max and avg pool, batch 1 and 2', async () => {
  const per = 3 * 16 * 14;
  const kernels = (c: ReturnType<typeof runC>) => c.program.layers.filter((l) => l.kernel.startsWith('conv')).map((l) => l.kernel);
  for (const [pool, batch] of [['MaxPool', 1], ['AveragePool', 1], ['MaxPool', 2]] as const) {
    const g = bandNet(pool), xs = samples(per * 4, 7), what = `band net, ${pool}, batch ${batch}`;
    const want = await runNnzip(g, xs, [batch, 3, 16, 14]);
    const ram = runC(g, xs, { batch });
    assertAgrees(ram.outputs, want, RTOL, 10, `${what}, ram`);
    const k = kernels(ram), mode = pool === 'MaxPool' ? 'max' : 'avg';
    assert.match(k[1], /weight axpy.*\+ max pool 2x2\/2/, k.join('\n'));
    // batch 2 doubles the peak: the third conv's folded planes fit whole
    assert.match(k[2], batch === 1 ? /pattern FKW.*padded bands of 4 rows\)$/ : /pattern FKW.*padded planes, 2 rows per line\)$/, k.join('\n'));
    assert.match(k[3], new RegExp(`pattern FKW.*padded bands of ${batch === 1 ? 2 : 4} rows\\) \\+ ${mode} pool 2x2/2$`), k.join('\n'));
    const time = runC(g, xs, { batch, optimize: 'time' });
    assertAgrees(time.outputs, want, RTOL, 10, `${what}, time`);
    const t = kernels(time);
    assert.ok(t.every((s) => /pattern FKW.*padded planes/.test(s)), t.join('\n'));
    assert.match(t[3], pool === 'MaxPool' ? /2 rows per line, shifted copies/ : /planes\) \+ avg/, t.join('\n'));
    assert.match(t[0], /planes, shifted copies\)$/, 'rows of 16 floats: aligned copies');
    assert.ok(time.program.arenaBytes > ram.program.arenaBytes, `time ${time.program.arenaBytes} B vs ram ${ram.program.arenaBytes} B`);
  }
});

/**
 * Stride 2: x [N, 4, 13, 10] → conv 4→6 pads 1 (8 patterns) → relu → max pool 2×2 (not fused: the phase planes
 * take none) → conv 6→8 stride 1 pads 1 → conv 8→5 pads [0, 0, 1, 1] (TF "SAME", 3 patterns) → relu → conv 5→4 pads [2, 1, 0, 2]
 * (a pad of 2 above: not on phase planes, another C kernel) → Gemm → 10.
 */
function strideNet(): Graph {
  const b = new GraphBuilder(23);
  const x = b.input('x', ['N', 4, 13, 10]);
  const p1 = patternWeight(51, 6, 4, 8, 0.4), p2 = patternWeight(52, 8, 6, 4, 0.4), p3 = patternWeight(53, 5, 8, 3, 0.5), p4 = patternWeight(54, 4, 5, 2, 0.3);
  for (const [name, pw, shape] of [['w1', p1, [6, 4]], ['w2', p2, [8, 6]], ['w3', p3, [5, 8]], ['w4', p4, [4, 5]]] as const) b.constant(name, f32([...shape, 3, 3], pw.w));
  const s2 = (x: string, w: string, pads: number[], bias?: string) => b.op1('Conv', [x, w, ...(bias ? [b.weight(bias, [pads.length + 2])] : [])], { kernel_shape: [3, 3], strides: [2, 2], pads });
  const c1 = b.op1('Relu', [b.op1('Conv', [x, 'w1', b.weight('b1', [6])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })]); // 7×5
  const p = b.op1('MaxPool', [c1], { kernel_shape: [2, 2], strides: [1, 1] }); // 6×4
  const c2 = b.op1('Conv', [p, 'w2'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }); // 6×4
  const c3 = b.op1('Relu', [s2(c2, 'w3', [0, 0, 1, 1])]); // 3×2
  const c4 = s2(c3, 'w4', [2, 1, 0, 2]); // 2×2
  const y = b.op1('Gemm', [b.op1('Flatten', [c4]), b.weight('w5', [10, 16]), b.weight('b5', [10])], { transB: 1 });
  const g = b.build([y], 17, 'N');
  for (const [name, pw] of [['w1', p1], ['w2', p2], ['w3', p3], ['w4', p4]] as const) g.formats.set(name, pw.format);
  return g;
}

test('C pattern convs of stride 2 on phase planes: pads 1 and TF SAME, a pool after one (not fused), pads of 2 on another kernel, optimize time and ram, batch 1 and 2', async () => {
  const g = strideNet(), per = 4 * 13 * 10;
  for (const batch of [1, 2]) {
    const xs = samples(per * 4, 8), want = await runNnzip(g, xs, [batch, 4, 13, 10]);
    for (const optimize of ['time', 'ram'] as const) {
      const c = runC(g, xs, { batch, optimize });
      assertAgrees(c.outputs, want, RTOL, 10, `stride net batch ${batch}, ${optimize}`);
      const k = c.program.layers.map((l) => l.kernel);
      const s2 = k.filter((l) => l.startsWith('conv 3x3/2 pattern FKW'));
      if (optimize === 'time') assert.equal(s2.length, 2, k.join('\n'));
      assert.ok(k.some((l) => /^conv 3x3\/2 (?!pattern)/.test(l)), `the pads-2 conv on another kernel:\n${k.join('\n')}`);
      for (const l of s2) assert.match(l, /padded phase (planes|bands of \d+ rows)\)$/, k.join('\n'));
      assert.ok(k.some((l) => l.startsWith('max pool')), `the pool runs on its own:\n${k.join('\n')}`);
    }
  }
});

test('C pattern convs on the Cortex-M4 (QEMU mps2-an386): the same outputs as nnzip', { skip: HAS_ARM ? false : ARM_MISSING }, async () => {
  const g = patternNet(), xs = samples(PER * 3, 6);
  const c = runC(g, xs, { m4: true });
  assertAgrees(c.outputs, await runNnzip(g, xs, [1, 5, 11, 9]), RTOL, 10, 'pattern net on the Cortex-M4');
});
