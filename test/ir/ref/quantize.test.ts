// QuantizeLinear / DequantizeLinear as the ONNX spec states: round half to even, saturate, per axis.
import { test } from 'node:test';
import { f32, fromNumbers } from '../../../src/ir/tensor.js';
import { run1, rand, assertClose, assertExact, assertBadInput, Rng } from './helpers.js';
import { roundHalfEven } from '../../../src/ir/quant.js';

test('roundHalfEven: ties go to the even neighbour', () => {
  const cases: [number, number][] = [[0.5, 0], [1.5, 2], [2.5, 2], [-0.5, -0], [-1.5, -2], [-2.5, -2], [2.4999, 2], [2.5001, 3], [-2.6, -3]];
  for (const [v, r] of cases) if (roundHalfEven(v) !== r) throw new Error(`roundHalfEven(${v}) = ${roundHalfEven(v)}, expected ${r}`);
});

test('QuantizeLinear: per tensor, uint8 default, int8 zero point, ties, saturation', () => {
  const x = f32([8], [0, 1, 2.5, 3.5, -1, 1000, -1000, 0.75]);
  // scale 0.5: x/s = 0, 2, 5, 7, -2, 2000, -2000, 1.5
  assertExact(run1('QuantizeLinear', [x, f32([], [0.5])]), 'uint8', [8], [0, 2, 5, 7, 0, 255, 0, 2]);
  assertExact(run1('QuantizeLinear', [x, f32([], [0.5]), fromNumbers('int8', [], [-3])]), 'int8', [8], [-3, -1, 2, 4, -5, 127, -128, -1]);
  assertExact(run1('QuantizeLinear', [f32([4], [0.25, 0.75, -0.25, -0.75]), f32([1], [0.5]), fromNumbers('uint8', [1], [128])]), 'uint8', [4], [128, 130, 128, 126]);
});

test('QuantizeLinear / DequantizeLinear: per axis (axis 0 and default axis 1)', () => {
  const x = f32([2, 3], [1, 2, 3, -1, -2, -3]);
  const s = f32([2], [1, 0.5]);
  const z = fromNumbers('int8', [2], [0, 10]);
  const q = run1('QuantizeLinear', [x, s, z], { axis: 0 });
  assertExact(q, 'int8', [2, 3], [1, 2, 3, 8, 6, 4]);
  assertClose(run1('DequantizeLinear', [q, s, z], { axis: 0 }), x);
  const s3 = f32([3], [1, 2, 4]);
  assertExact(run1('QuantizeLinear', [x, s3, fromNumbers('uint8', [3], [0, 1, 2])]), 'uint8', [2, 3], [1, 2, 3, 0, 0, 1]);
});

test('DequantizeLinear: int8/uint8/int32, without zero point', () => {
  assertClose(run1('DequantizeLinear', [fromNumbers('uint8', [3], [0, 128, 255]), f32([], [0.1]), fromNumbers('uint8', [], [128])]), { shape: [3], data: [-12.8, 0, 12.7] });
  assertClose(run1('DequantizeLinear', [fromNumbers('int32', [2], [1000, -7]), f32([], [0.001])]), { shape: [2], data: [1, -0.007] });
  assertClose(run1('DequantizeLinear', [fromNumbers('int8', [2], [-128, 127]), f32([], [2])]), { shape: [2], data: [-256, 254] });
});

test('Quantize → Dequantize error is at most half a step (random, per channel)', () => {
  const rng = new Rng(80);
  const x = rand(rng, [4, 3, 5], -2, 2);
  const s = f32([3], [0.01, 0.02, 0.05]);
  const z = fromNumbers('int8', [3], [0, 0, 0]);
  const back = run1('DequantizeLinear', [run1('QuantizeLinear', [x, s, z]), s, z]);
  for (let i = 0; i < x.size; i++) {
    const step = s.data[Math.floor(i / 5) % 3];
    const clipped = Math.max(-128 * step, Math.min(127 * step, x.data[i]));
    if (Math.abs(Number(back.data[i]) - clipped) > step / 2 + 1e-6) throw new Error(`element ${i}: ${x.data[i]} → ${back.data[i]} (step ${step})`);
  }
});

test('QuantizeLinear / DequantizeLinear: bad input', () => {
  const x = f32([2, 3]);
  assertBadInput(() => run1('QuantizeLinear', [x, f32([2], [1, 1])]), /per-axis scale has 2 values but input \[2,3\] has 3 along axis 1/);
  // int32 is nnzip's wide fixed point (an output QuantizeLinear may hold it); int64 is no quantized type
  assertBadInput(() => run1('QuantizeLinear', [x, f32([], [1]), fromNumbers('int64', [], [0])]), /zero point dtype int64 is not supported/);
  assertBadInput(() => run1('DequantizeLinear', [fromNumbers('int32', [1], [1]), f32([], [1]), fromNumbers('int32', [], [3])]), /int32 input needs a zero point of 0/);
  assertBadInput(() => run1('DequantizeLinear', [x, f32([], [1])]), /x must be int8/);
  assertBadInput(() => run1('QuantizeLinear', [x, f32([3], [1, 1, 1]), fromNumbers('int8', [2], [0, 0])]), /zero point shape \[2\] must equal the scale shape \[3\]/);
});
