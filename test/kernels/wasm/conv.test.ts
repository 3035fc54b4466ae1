import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../../src/ir/errors.js';
import { Rng } from '../../../src/ir/random.js';
import { denseConvKernel, WasmConv2d, type ConvKernel } from '../../../src/kernels/wasm/conv.js';
import { checkConv, type Conv2dParams } from '../../../src/kernels/wasm/conv_params.js';
import { WasmGemm } from '../../../src/kernels/wasm/gemm.js';
import { assertClose, nchw, refConv } from './helpers.js';

interface Case { p: Conv2dParams; N: number; H: number; W: number }

const CASES: Case[] = [
  { p: { C: 3, M: 5, kh: 3, kw: 3 }, N: 2, H: 7, W: 9 },
  { p: { C: 4, M: 6, kh: 3, kw: 2, pads: [1, 0, 2, 1], strides: [2, 1], dilations: [1, 2] }, N: 1, H: 9, W: 8 },
  { p: { C: 6, M: 4, kh: 3, kw: 3, pads: [1, 1, 1, 1], group: 2 }, N: 2, H: 5, W: 5 },
  { p: { C: 6, M: 12, kh: 3, kw: 3, pads: [1, 1, 1, 1], group: 6 }, N: 1, H: 6, W: 5 }, // depthwise with multiplier 2: im2col
  { p: { C: 8, M: 8, kh: 3, kw: 3, pads: [1, 1, 1, 1], group: 8 }, N: 2, H: 9, W: 11 },
  { p: { C: 8, M: 8, kh: 3, kw: 3, pads: [1, 1, 1, 1], strides: [2, 2], group: 8 }, N: 2, H: 9, W: 13 },
  { p: { C: 5, M: 5, kh: 5, kw: 3, pads: [2, 1, 0, 1], strides: [3, 3], dilations: [2, 1], group: 5 }, N: 1, H: 17, W: 19 },
  { p: { C: 3, M: 3, kh: 1, kw: 4, strides: [1, 4], group: 3 }, N: 1, H: 3, W: 21 },
  { p: { C: 5, M: 7, kh: 1, kw: 1 }, N: 3, H: 6, W: 7 },
  { p: { C: 4, M: 9, kh: 1, kw: 1, strides: [2, 2] }, N: 1, H: 7, W: 7 },
  { p: { C: 20, M: 50, kh: 5, kw: 5 }, N: 2, H: 12, W: 12 }, // LeNet-5 conv2
  { p: { C: 1, M: 2, kh: 4, kw: 4, pads: [3, 3, 3, 3] }, N: 1, H: 2, W: 3 }, // window larger than the input
];

const CLAMPS: (readonly [number, number] | undefined)[] = [undefined, [0, Infinity], [-0.3, 0.2]];

function run(g: WasmGemm, rng: Rng, c: Case, kernel?: ConvKernel): void {
  const Cg = c.p.C / (c.p.group ?? 1);
  const w = rng.floats(c.p.M * Cg * c.p.kh * c.p.kw), x = rng.floats(c.N * c.p.C * c.H * c.W);
  for (const clamp of CLAMPS) {
    for (const withBias of [false, true]) {
      const bias = withBias ? rng.floats(c.p.M) : undefined;
      const conv = new WasmConv2d(g, c.p, w, { bias, clamp, kernel });
      const got = conv.conv(c.N, c.H, c.W, x);
      const want = refConv(c.p, c.N, c.H, c.W, x, w, bias, clamp);
      const [, M, OH, OW] = conv.outShape(c.N, c.H, c.W);
      const K = Cg * c.p.kh * c.p.kw;
      assertClose(got, want, (e) => 1e-5 * K * (1 + Math.abs(e)),
        `conv(${conv.kernel}) ${JSON.stringify(c.p)} N=${c.N} ${c.H}×${c.W} clamp=${clamp} bias=${withBias}`, nchw(M, OH, OW));
    }
  }
}

test('conv matches the reference: pads, strides, dilations, groups, depthwise, pointwise, bias, relu, clip', () => {
  const rng = new Rng(11);
  const g = new WasmGemm();
  for (const c of CASES) run(g, rng, c);
});

test('every kernel that applies gives the same answer (forced im2col for depthwise and 1×1)', () => {
  const rng = new Rng(12);
  const g = new WasmGemm({ variant: { mr: 3, nr: 12, kc: 8, mc: 6 } });
  for (const c of CASES) {
    run(g, rng, c, 'im2col');
    if (kernelFor(c.p) === 'pointwise') run(g, rng, c, 'pointwise');
  }
});

/** The dense kernel the parameters' geometry picks. */
function kernelFor(p: Conv2dParams): ConvKernel {
  const { group, win } = checkConv('conv', p);
  return denseConvKernel(p.C, p.M, group, win);
}

test('kernel choice follows the geometry', () => {
  assert.equal(kernelFor({ C: 8, M: 8, kh: 3, kw: 3, group: 8 }), 'depthwise');
  assert.equal(kernelFor({ C: 8, M: 16, kh: 3, kw: 3, group: 8 }), 'im2col');
  assert.equal(kernelFor({ C: 8, M: 16, kh: 1, kw: 1 }), 'pointwise');
  assert.equal(kernelFor({ C: 8, M: 16, kh: 1, kw: 1, pads: [1, 0, 0, 0] }), 'im2col');
  assert.equal(kernelFor({ C: 1, M: 1, kh: 3, kw: 3, group: 1 }), 'im2col');
});

test('bad input: groups, weights, bias, input size and windows that do not fit throw NnzipError', () => {
  const g = new WasmGemm();
  const isErr = (re: RegExp) => (e: unknown) => e instanceof NnzipError && re.test(e.message);
  assert.throws(() => new WasmConv2d(g, { C: 6, M: 4, kh: 3, kw: 3, group: 4 }, new Float32Array(0)), isErr(/group=4 does not divide 6 input channels/));
  assert.throws(() => new WasmConv2d(g, { C: 2, M: 4, kh: 3, kw: 3 }, new Float32Array(10)), isErr(/weights have 10 values, \[4,2,3,3\] needs 72/));
  assert.throws(() => new WasmConv2d(g, { C: 1, M: 2, kh: 1, kw: 1 }, new Float32Array(2), { bias: new Float32Array(3) }), isErr(/bias has 3 values/));
  assert.throws(() => new WasmConv2d(g, { C: 1, M: 1, kh: 0, kw: 1 }, new Float32Array(0)), isErr(/kernel_shape/));
  assert.throws(() => new WasmConv2d(g, { C: 1, M: 1, kh: 1, kw: 1, strides: [0, 1] }, new Float32Array(1)), isErr(/strides/));
  const conv = new WasmConv2d(g, { C: 1, M: 1, kh: 5, kw: 5 }, new Float32Array(25));
  assert.throws(() => conv.conv(1, 3, 3, new Float32Array(9)), isErr(/5×5 window .* does not fit the 3×3 input/));
  assert.throws(() => conv.conv(1, 6, 6, new Float32Array(35)), isErr(/input has 35 values, \[1,1,6,6\] needs 36/));
  assert.throws(() => new WasmConv2d(g, { C: 2, M: 2, kh: 3, kw: 3 }, new Float32Array(36), { kernel: 'depthwise' }), isErr(/depthwise kernel needs group = C = M/));
});
