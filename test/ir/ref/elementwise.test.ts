// Elementwise reference kernels: broadcasting, integer semantics, activations, Clip.
import { test } from 'node:test';
import { f32, i64, Tensor, fromNumbers } from '../../../src/ir/tensor.js';
import { run1, rand, assertClose, assertExact, assertBadInput, Rng } from './helpers.js';

test('Add/Sub/Mul/Div: numpy broadcasting against an index formula', () => {
  const rng = new Rng(20);
  const shapes: [number[], number[]][] = [
    [[2, 3, 4, 5], [1, 3, 1, 1]],
    [[2, 3, 4, 5], [5]],
    [[4, 1], [1, 6]],
    [[3, 1, 5], [2, 1, 1, 1]],
    [[], [3, 2]],
    [[7], [7]],
  ];
  const ops: Record<string, (a: number, b: number) => number> = {
    Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Div: (a, b) => a / b,
  };
  for (const [as, bs] of shapes) {
    const a = rand(rng, as);
    const b = rand(rng, bs, 0.5, 2);
    const rank = Math.max(as.length, bs.length);
    const pad = (s: number[]) => [...new Array(rank - s.length).fill(1), ...s];
    const [pa, pb] = [pad(as), pad(bs)];
    const out = pa.map((d, i) => Math.max(d, pb[i]));
    const n = out.reduce((p, d) => p * d, 1);
    for (const [op, fn] of Object.entries(ops)) {
      const exp = new Float64Array(n);
      for (let f = 0; f < n; f++) {
        let r = f;
        let ai = 0, bi = 0, am = 1, bm = 1;
        for (let d = rank - 1; d >= 0; d--) {
          const i = r % out[d];
          r = Math.floor(r / out[d]);
          ai += (pa[d] === 1 ? 0 : i) * am; am *= pa[d];
          bi += (pb[d] === 1 ? 0 : i) * bm; bm *= pb[d];
        }
        exp[f] = Math.fround(fn(a.data[ai], b.data[bi]));
      }
      assertClose(run1(op, [a, b]), { shape: out, data: exp }, 1e-7, `${op} [${as}] with [${bs}]`);
    }
  }
});

test('Add/Sub/Mul/Div: integer dtypes wrap and truncate like C', () => {
  const a = fromNumbers('int32', [4], [7, -7, 2147483647, 100000]);
  const b = fromNumbers('int32', [4], [2, 2, 1, 100000]);
  assertExact(run1('Div', [a, b]), 'int32', [4], [3, -3, 2147483647, 1]);
  assertExact(run1('Add', [a, b]), 'int32', [4], [9, -5, -2147483648, 200000]);
  assertExact(run1('Mul', [a, b]), 'int32', [4], [14, -14, 2147483647, 1410065408]);
  const c = fromNumbers('int8', [2], [127, -128]);
  assertExact(run1('Add', [c, fromNumbers('int8', [1], [1])]), 'int8', [2], [-128, -127]);
  const big = i64([3], [9007199254740993n, -7, 5]);
  assertExact(run1('Mul', [big, i64([], [2])]), 'int64', [3], [18014398509481986n, -14n, 10n]);
  assertExact(run1('Div', [big, i64([], [-2])]), 'int64', [3], [-4503599627370496n, 3n, -2n]);
  assertExact(run1('Sub', [i64([2], [1, 2]), i64([2, 1], [10, 20])]), 'int64', [2, 2], [-9n, -8n, -19n, -18n]);
});

test('binary ops: bad input', () => {
  assertBadInput(() => run1('Add', [f32([2, 3]), f32([4])]), /\[2,3\] and \[4\] cannot be broadcast/);
  assertBadInput(() => run1('Mul', [f32([2]), fromNumbers('int32', [2], [1, 2])]), /different dtypes \(float32 and int32\)/);
  assertBadInput(() => run1('Div', [fromNumbers('int32', [2], [1, 2]), fromNumbers('int32', [2], [1, 0])]), /integer division by zero/);
  assertBadInput(() => run1('Div', [i64([1], [1]), i64([1], [0])]), /integer division by zero/);
  assertBadInput(() => run1('Add', [f32([2])]), /input 1 \(B\) is missing/);
});

test('Relu, LeakyRelu, Sigmoid, Tanh', () => {
  const x = f32([6], [-3, -0.5, 0, 0.5, 3, -1000]);
  assertClose(run1('Relu', [x]), { shape: [6], data: [0, 0, 0, 0.5, 3, 0] });
  assertClose(run1('LeakyRelu', [x], { alpha: 0.1 }), { shape: [6], data: [-0.3, -0.05, 0, 0.5, 3, -100] });
  assertClose(run1('LeakyRelu', [x]), { shape: [6], data: [-0.03, -0.005, 0, 0.5, 3, -10] });
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  assertClose(run1('Sigmoid', [x]), { shape: [6], data: [sig(-3), sig(-0.5), 0.5, sig(0.5), sig(3), 0] });
  assertClose(run1('Sigmoid', [f32([2], [1000, -1000])]), { shape: [2], data: [1, 0] });
  assertClose(run1('Tanh', [x]), { shape: [6], data: [Math.tanh(-3), Math.tanh(-0.5), 0, Math.tanh(0.5), Math.tanh(3), -1] });
  assertExact(run1('Relu', [fromNumbers('int8', [3], [-5, 0, 5])]), 'int8', [3], [0, 0, 5]);
  assertExact(run1('Relu', [i64([2], [-5, 5])]), 'int64', [2], [0n, 5n]);
  assertBadInput(() => run1('Sigmoid', [fromNumbers('int32', [1], [1])]), /int32; the op takes float32 or float64/);
});

test('Clip: min/max inputs (each optional), attribute form, integers', () => {
  const x = f32([5], [-2, -0.5, 0.5, 3, 7]);
  assertClose(run1('Clip', [x, f32([], [0]), f32([], [6])]), { shape: [5], data: [0, 0, 0.5, 3, 6] });
  assertClose(run1('Clip', [x, undefined, f32([], [1])]), { shape: [5], data: [-2, -0.5, 0.5, 1, 1] });
  assertClose(run1('Clip', [x, f32([1], [0])]), { shape: [5], data: [0, 0, 0.5, 3, 7] });
  assertClose(run1('Clip', [x]), { shape: [5], data: [-2, -0.5, 0.5, 3, 7] });
  assertClose(run1('Clip', [x], { min: -1, max: 1 }), { shape: [5], data: [-1, -0.5, 0.5, 1, 1] });
  assertExact(run1('Clip', [fromNumbers('int32', [3], [-9, 4, 9]), fromNumbers('int32', [], [0]), fromNumbers('int32', [], [5])]), 'int32', [3], [0, 4, 5]);
  assertExact(run1('Clip', [i64([3], [-9, 4, 9]), i64([], [0]), i64([], [5])]), 'int64', [3], [0n, 4n, 5n]);
  assertBadInput(() => run1('Clip', [x, f32([2], [0, 1])]), /min must be a scalar/);
  assertBadInput(() => run1('Clip', [x, fromNumbers('int32', [], [0])]), /min is int32 but the input is float32/);
});

test('elementwise ops keep float64', () => {
  const x = new Tensor('float64', [2], Float64Array.from([0.1, -0.2]));
  const y = run1('Add', [x, x]);
  assertExact(y, 'float64', [2], [0.2, -0.4]);
});
