// C literals read back exactly: every float32 written by cFloat parses (as C does,
// to the nearest float32) to the same bits; integers are valid for their type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cFloat, cIdent, cInt } from '../../../src/compile/backends/c/writer.js';
import { compileC } from '../../../src/compile/backends/c/index.js';
import { GraphBuilder } from '../../onnx/graph_builder.js';
import { Rng } from '../../../src/ir/random.js';

/** What a C compiler makes of a float literal: the nearest float32 of its decimal value. */
function parseC(lit: string): number {
  assert.match(lit, /^-?(\d+\.\d*|\d+)(e-?\d+)?f$/, `not a C float literal: ${lit}`);
  assert.ok(/[.e]/.test(lit), `${lit} would be an integer constant`);
  return Math.fround(Number(lit.slice(0, -1)));
}

test('cFloat: seeded random floats of every magnitude, denormals and integers round-trip in the fewest digits', () => {
  const rng = new Rng(9);
  const bits = new Uint32Array(1), f = new Float32Array(bits.buffer);
  for (let i = 0; i < 20000; i++) {
    bits[0] = rng.int(0xff000000); // any sign, exponent below Inf/NaN
    if (!Number.isFinite(f[0]) || f[0] === 0) continue;
    assert.equal(parseC(cFloat(f[0])), f[0], `bits ${bits[0].toString(16)}`);
  }
  for (const v of [1, -3, 0.25, 1e-45, 3.4028234663852886e38, 16777216, 0.1]) assert.equal(parseC(cFloat(v)), Math.fround(v));
  assert.equal(cFloat(0.25), '0.25f');
  assert.equal(cFloat(3), '3.0f');
  assert.equal(cFloat(-0), '-0.0f');
  assert.equal(cFloat(Infinity), 'HUGE_VALF');
  assert.equal(cFloat(NaN), 'NAN');
});

test('cInt and cIdent', () => {
  assert.equal(cInt(-128), '(-128)');
  assert.equal(cInt(-2147483648), '(-2147483647 - 1)');
  assert.equal(cInt(4294967295), '4294967295u');
  assert.equal(cIdent('conv2d_1/Conv:0'), 'conv2d_1_Conv_0');
  assert.equal(cIdent('123abc'), 'v123abc');
});

test('a layer whose weight array has more lines than a call takes arguments is emitted (VGG / ResNet-sized layers)', () => {
  const b = new GraphBuilder(3);
  const x = b.input('x', [1, 2048]);
  const g = b.build([b.op1('Gemm', [x, b.weight('w', [1024, 2048]), b.weight('bias', [1024])], { transB: 1 })], 17);
  const p = compileC(g, { name: 'big' });
  const lines = p.source.split('\n').length;
  assert.ok(lines > 200_000, `${lines} lines`);
  assert.match(p.source, /static const float \w+\[2097152\] = \{/);
});
