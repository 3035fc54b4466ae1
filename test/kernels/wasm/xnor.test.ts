// The binary kernels (xnor.ts) bit for bit against their oracle (ir/ref/binary_layer.ts)
// at the edges: channels around 64 (and 1, 3, 130), odd sizes, stride 2, dilation,
// asymmetric padding, output channels not a multiple of the tile, zero inputs, binary /
// ternary and symmetric / asymmetric levels, a fused input affine and clamp; the oracle
// against the float reference conv on the decoded weights; every module variant validated.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../../src/ir/errors.js';
import { Rng } from '../../../src/ir/random.js';
import { signRows, type SignRows } from '../../../src/ir/binary.js';
import { binaryConvRef, binaryFcRef, inputSign, type InputAffine } from '../../../src/ir/ref/binary_layer.js';
import { getRefKernel } from '../../../src/ir/ref/index.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { convSizes, type Conv2dParams } from '../../../src/kernels/wasm/conv_params.js';
import { WasmXnor } from '../../../src/kernels/wasm/xnor.js';
import { xnorVariantKey, xnorWindowBytes } from '../../../src/kernels/wasm/xnor_codegen.js';
import { xnorModule } from '../../../src/kernels/wasm/xnor_module.js';

const WA = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;

type Kind = 'binary' | 'ternary';

/** Weight values [rows × cols] with per-row levels: symmetric (BWN/TWN) or not (TTQ-like). */
function levelWeights(rng: Rng, rows: number, cols: number, kind: Kind, asym: boolean): Float32Array {
  const w = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const p = Math.fround(rng.uniform(0.1, 2)), n = asym ? Math.fround(rng.uniform(0.1, 2)) : p;
    for (let c = 0; c < cols; c++) {
      const u = rng.next();
      w[r * cols + c] = kind === 'ternary' && u < 0.4 ? 0 : u < 0.7 ? p : -n;
    }
  }
  return w;
}

/** Inputs with a fraction of exact zeros (they count nothing, as padding; a window without any takes the fast path). */
function inputs(rng: Rng, n: number, zeros = 0.1): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.next() < zeros ? 0 : rng.uniform(-1, 1) || 0.5));
}

function rowsOf(w: Float32Array, rows: number, cols: number): SignRows {
  const r = signRows(w, rows, cols);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

function affine(rng: Rng, C: number): InputAffine {
  return { scale: Float32Array.from({ length: C }, () => rng.uniform(-2, 2)), shift: Float32Array.from({ length: C }, () => rng.uniform(-0.3, 0.3)) };
}

function assertSame(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) assert.fail(`${what}: index ${i}: got ${got[i]}, want ${want[i]}`);
}

const xnor = new WasmXnor();

/** Fused activations: none, ReLU, a Clip with both bounds, an upper bound only (the kernel skips an infinite bound). */
const CLAMPS: ([number, number] | undefined)[] = [undefined, [0, Infinity], [-1.5, 2.5], [-Infinity, 1]];

interface ConvCase { C: number; M: number; H: number; W: number; k: [number, number]; pads?: [number, number, number, number]; strides?: [number, number]; dilations?: [number, number] }

const CONV_CASES: ConvCase[] = [
  { C: 64, M: 8, H: 7, W: 7, k: [3, 3], pads: [1, 1, 1, 1] },
  { C: 63, M: 5, H: 5, W: 9, k: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] },
  { C: 65, M: 7, H: 6, W: 5, k: [3, 3], pads: [0, 2, 1, 0] },
  { C: 130, M: 4, H: 4, W: 4, k: [3, 3], pads: [1, 1, 1, 1] },
  { C: 1, M: 3, H: 9, W: 8, k: [5, 5], pads: [2, 2, 2, 2], strides: [2, 1] },
  { C: 3, M: 6, H: 11, W: 10, k: [3, 3], pads: [2, 2, 2, 2], dilations: [2, 2] },
  { C: 20, M: 9, H: 12, W: 12, k: [5, 5] },
  { C: 33, M: 1, H: 3, W: 3, k: [1, 1] },
  { C: 64, M: 4, H: 1, W: 1, k: [3, 3], pads: [1, 1, 1, 1] },
];

test('xnor conv: bit for bit the oracle at channel, size, stride, dilation and padding edges', () => {
  const rng = new Rng(11);
  for (const cs of CONV_CASES) {
    for (const [kind, asym, zeros] of [['binary', false, 0], ['ternary', false, 0], ['binary', true, 0], ['ternary', true, 0],
      ['binary', false, 0.1], ['ternary', true, 0.02]] as [Kind, boolean, number][]) {
      const p: Conv2dParams = { C: cs.C, M: cs.M, kh: cs.k[0], kw: cs.k[1], pads: cs.pads, strides: cs.strides, dilations: cs.dilations };
      const s = convSizes(p, cs.H, cs.W, 'test');
      const K = cs.C * cs.k[0] * cs.k[1];
      const w = rowsOf(levelWeights(rng, cs.M, K, kind, asym), cs.M, K);
      const N = 2, x = inputs(rng, N * cs.C * cs.H * cs.W, zeros);
      const bias = Float32Array.from({ length: cs.M }, () => rng.uniform(-3, 3));
      const pre = rng.next() < 0.5 ? affine(rng, cs.C) : undefined;
      const clamp = CLAMPS[rng.int(CLAMPS.length)];
      const layer = xnor.prepareConv(w, p, { bias, clamp, pre });
      const got = xnor.conv(layer, N, cs.H, cs.W, x);
      const want = binaryConvRef(x, N, cs.C, cs.H, cs.W, cs.M, s.win, s.OH, s.OW, w, { bias, clamp }, pre);
      assertSame(got, want, `conv C=${cs.C} M=${cs.M} ${cs.H}×${cs.W} k${cs.k} pads ${cs.pads} strides ${cs.strides} dil ${cs.dilations} ${kind}${asym ? ' asym' : ''}${pre ? ' affine' : ''} clamp ${clamp} zeros ${zeros}`);
    }
  }
});

test('xnor fc: bit for bit the oracle for K around 64, batches 1 and 3, output channels off the tile', () => {
  const rng = new Rng(12);
  for (const K of [1, 3, 4, 5, 63, 64, 65, 128, 130, 800]) {
    for (const [kind, asym] of [['binary', false], ['ternary', true], ['binary', true], ['ternary', false]] as [Kind, boolean][]) {
      for (const batch of [1, 3]) {
        const M = 1 + rng.int(10);
        const w = rowsOf(levelWeights(rng, M, K, kind, asym), M, K);
        const x = inputs(rng, batch * K, batch === 1 ? 0 : 0.05);
        const bias = Float32Array.from({ length: M }, () => rng.uniform(-1, 1));
        const pre = K > 4 ? affine(rng, K) : undefined;
        const clamp = CLAMPS[rng.int(CLAMPS.length)];
        const layer = xnor.prepareFc(w, M, K, { bias, pre, clamp });
        assertSame(xnor.fc(layer, batch, x), binaryFcRef(x, batch, K, M, w, { bias, clamp }, pre), `fc K=${K} M=${M} batch ${batch} ${kind}${asym ? ' asym' : ''} clamp ${clamp}`);
      }
    }
  }
});

test('xnor conv calls over parts: each part gathers its windows into its own buffer inside the scratch', () => {
  const rng = new Rng(14);
  const p: Conv2dParams = { C: 70, M: 6, kh: 3, kw: 3, pads: [1, 1, 1, 1] };
  const layer = xnor.prepareConv(rowsOf(levelWeights(rng, 6, 70 * 9, 'binary', false), 6, 70 * 9), p);
  const winBytes = xnorWindowBytes(layer.shape), scratch = 1 << 20;
  for (const [N, parts] of [[1, 2], [3, 2], [1, 3], [4, 3]]) {
    const end = scratch + xnor.convScratchBytes(layer, 9, 8, N, parts);
    for (const round of xnor.convCalls(layer, N, 9, 8, 0, 0, scratch, parts)) {
      const wins = round.map((calls) => [...new Set(calls.filter((c) => c.fn === 'conv').map((c) => c.args[20]))]);
      for (const w of wins) assert.ok(w.length <= 1 && w.every((o) => o >= scratch && o + winBytes <= end), `N=${N} parts=${parts}: windows ${w} in [${scratch}, ${end})`);
      const starts = wins.flat().sort((a, b) => a - b);
      for (let i = 1; i < starts.length; i++) assert.ok(starts[i] - starts[i - 1] >= winBytes, `N=${N} parts=${parts}: parts' windows overlap (${starts})`);
    }
  }
});

test('the oracle is the float conv on the decoded weights and sign(x)', () => {
  const rng = new Rng(13);
  const C = 5, M = 3, H = 6, W = 7;
  for (const kind of ['binary', 'ternary'] as Kind[]) {
    const wv = levelWeights(rng, M, C * 9, kind, true);
    const w = rowsOf(wv, M, C * 9);
    const x = inputs(rng, C * H * W);
    const p: Conv2dParams = { C, M, kh: 3, kw: 3, pads: [1, 0, 1, 2], strides: [2, 1] };
    const s = convSizes(p, H, W, 'test');
    const signs = Float32Array.from(x, (v) => inputSign(v, 0));
    const node = { name: 'c', op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { kernel_shape: [3, 3], pads: [1, 0, 1, 2], strides: [2, 1] } };
    const [ref] = getRefKernel('Conv')!(node, [new Tensor('float32', [1, C, H, W], signs), new Tensor('float32', [M, C, 3, 3], wv)]);
    const got = binaryConvRef(x, 1, C, H, W, M, s.win, s.OH, s.OW, w);
    const want = ref.data as Float32Array;
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `${kind} ${i}: ${got[i]} vs ${want[i]}`);
  }
});

test('every xnor module variant validates; bad input names the option', () => {
  for (const [kh, kw, Wp, Cw] of [[1, 1, 1, 13], [3, 3, 16, 1], [5, 5, 9, 2], [1, 7, 30, 1]]) {
    for (const ternary of [false, true]) for (const asym of [false, true]) for (const shared of [false, true]) {
      const v = { kh, kw, dh: 1, dw: 2, sw: 1, Wp, Cw, ternary, asym, shared, wholeTiles: shared };
      assert.ok(WA.validate(xnorModule(v)), xnorVariantKey(v));
    }
  }
  const w = rowsOf(new Float32Array([1, -1, 1, -1]), 2, 2);
  assert.throws(() => xnor.prepareFc(w, 3, 2), (e: Error) => e instanceof NnzipError && /4 weights, the layer needs 3·2·1/.test(e.message));
  assert.throws(() => xnor.prepareFc(w, 2, 2, { bias: new Float32Array(3) }), /bias has 3 values, needs 2/);
  assert.throws(() => xnor.prepareConv(rowsOf(new Float32Array(8).fill(1), 2, 4), { C: 4, M: 2, kh: 1, kw: 1, group: 2 }), /group=2/);
  const l = xnor.prepareFc(w, 2, 2);
  assert.throws(() => xnor.fc(l, 2, new Float32Array(3)), /x has 3 values, \[2,2\] needs 4/);
});
