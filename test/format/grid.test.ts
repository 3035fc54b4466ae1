// Grids: finding the exact integers and scales of weights another tool quantized,
// and the grid / sparse-grid encodings, checked against DequantizeLinear in ir/ref.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeNnz, encodeNnz, encodeNnzWithReport } from '../../src/format/container.js';
import { decodeTensorPayload, encodeTensorPayload } from '../../src/format/tensor_codec.js';
import { decodeGrid, exactGrid, gridOffsets, gridRange, type Grid } from '../../src/format/grid.js';
import { NnzipError } from '../../src/ir/errors.js';
import type { Node } from '../../src/ir/graph.js';
import { getRefKernel } from '../../src/ir/ref/index.js';
import { Tensor, f32 } from '../../src/ir/tensor.js';
import { bitsOf, rng, sparseWeights } from './rng.js';
import { quantizedWeights } from '../compress/foreign.js';

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  const x = bitsOf(a), y = bitsOf(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) assert.fail(`${what}: element ${i} is ${b[i]}, want ${a[i]}`);
}

function roundTrip(name: string, data: Float32Array, shape: number[], extra: { grid?: Grid; encoding?: 'grid' | 'sparse-grid' } = {}) {
  const bytes = encodeNnz({ graph: new Uint8Array(0), tensors: [{ name, tensor: f32(shape, data), ...extra }] });
  const t = decodeNnz(bytes, 'grid.nnz').tensors.get(name)!;
  sameBits(data, t.tensor.data as Float32Array, `${name} as ${t.encoding}`);
  return { bytes: bytes.length, t };
}

const r = rng(7);
const weights = (n: number, density = 1) => sparseWeights(r, n, density, 0.05);

test('exactGrid finds int8 per tensor, per output channel and along axis 1, float32 and float64 scales; decoding is bit-exact', () => {
  const shape = [50, 20, 5, 5];
  const w = weights(50 * 500);
  const cases: [string, Float32Array, number[], number, number][] = [
    ['per tensor', quantizedWeights(w, shape), shape, 1, 0],
    ['per channel', quantizedWeights(w, shape, { perChannel: true }), shape, 50, 0],
    ['4-bit per channel', quantizedWeights(w, shape, { perChannel: true, bits: 4 }), shape, 50, 0],
    ['float64 arithmetic', quantizedWeights(w, shape, { perChannel: true, double: true }), shape, 50, 0],
  ];
  // MatMul weights [in, out] quantized per output column: scales along axis 1
  const t = quantizedWeights(weights(64 * 30), [30, 64], { perChannel: true });
  const cols = new Float32Array(t.length);
  for (let i = 0; i < 30; i++) for (let j = 0; j < 64; j++) cols[j * 30 + i] = t[i * 64 + j];
  cases.push(['axis 1', cols, [64, 30], 30, 1]);
  for (const [what, data, sh, scales, axis] of cases) {
    const g = exactGrid(data, sh);
    assert.ok(g, `${what}: no grid found`);
    assert.equal(g.scale.length, scales, what);
    if (scales > 1) assert.equal(g.axis, axis, what);
    assert.equal(g.scale instanceof Float64Array, what === 'float64 arithmetic', `${what}: scale precision`);
    sameBits(data, decodeGrid(g, sh), what);
    assert.ok(gridRange(gridOffsets(g, sh)).levels <= (what.startsWith('4-bit') ? 15 : 255), `${what}: levels`);
  }
});

test('the grid decodes as DequantizeLinear does (ir/ref is the oracle), zero points included', () => {
  const q = Int32Array.from({ length: 60 }, () => Math.floor(r() * 256));
  const scale = Float32Array.from({ length: 3 }, () => Math.fround(0.001 + r() * 0.01));
  const zero = Int32Array.from([128, 120, 131]);
  const node: Node = { name: 'dq', op: 'DequantizeLinear', inputs: ['x', 's', 'z'], outputs: ['y'], attrs: { axis: 0 } };
  const [ref] = getRefKernel('DequantizeLinear')!(node, [
    new Tensor('uint8', [3, 20], Uint8Array.from(q)), new Tensor('float32', [3], scale), new Tensor('uint8', [3], Uint8Array.from(zero)),
  ]);
  const g: Grid = { q, scale, zero, axis: 0 };
  sameBits(ref.data as Float32Array, decodeGrid(g, [3, 20]), 'decodeGrid vs DequantizeLinear');
  for (const encoding of ['grid', 'sparse-grid'] as const) {
    const { t } = roundTrip('w', ref.data as Float32Array, [3, 20], { grid: g, encoding });
    assert.deepEqual([...t.grid!.q], [...q], `${encoding}: q`);
    assert.deepEqual([...t.grid!.zero!], [...zero], `${encoding}: zero points`);
  }
});

test('grids that are not int8: fixed point Q.7, a grid without ±1 steps, sparse, and tiny tensors', () => {
  const fixed = Float32Array.from(weights(1000), (v) => Math.round(v * 128) / 128 + 0); // + 0: no −0
  const g1 = exactGrid(fixed, [1000])!;
  assert.equal(g1.scale[0], 1 / 128, 'a power-of-two scale is found exactly');
  const odd = Float32Array.from({ length: 300 }, (_, i) => Math.fround((3 + 2 * (i % 7)) * 0.013));
  assert.ok(exactGrid(odd, [300]), 'values 3s, 5s, 7s ... (no ±1) are a grid');
  const sparse = quantizedWeights(weights(20000, 0.08), [100, 200], { perChannel: true });
  const { t } = roundTrip('pruned int8', sparse, [100, 200]);
  assert.equal(t.encoding, 'sparse-grid', 'a pruned int8 layer is stored as positions + integers');
  roundTrip('one', Float32Array.from([0.25]), [1]);
  roundTrip('zeros', new Float32Array(5), [5], { grid: { q: new Int32Array(5), scale: Float32Array.of(1), axis: 0 }, encoding: 'grid' });
});

test('weights that are not on a grid are left alone: random floats, −0, NaN, Inf, more than 16-bit ranges', () => {
  assert.equal(exactGrid(weights(1000), [1000]), undefined, 'random floats');
  assert.equal(exactGrid(weights(256 * 64), [256, 64]), undefined, 'random floats per channel');
  // DequantizeLinear never gives −0: a tensor holding one stays a codebook or float, bit for bit
  for (const bad of [-0, NaN, Infinity]) {
    const data = Float32Array.from([0.5, 1, bad]);
    assert.equal(exactGrid(data, [3]), undefined, `${bad}`);
    roundTrip(`with ${Object.is(bad, -0) ? '-0' : bad}`, data, [3]);
  }
  assert.equal(exactGrid(Float32Array.from([1, 70000]), [2]), undefined, 'over 65536 levels');
});

test('a per-channel int8 layer encodes to about 8 bits a weight; auto picks the grid over raw and codebooks', () => {
  const shape = [200, 400];
  const data = quantizedWeights(weights(80000), shape, { perChannel: true });
  const { sections } = encodeNnzWithReport({ graph: new Uint8Array(0), tensors: [{ name: 'fc1', tensor: f32(shape, data) }] });
  assert.equal(sections[0].encoding, 'grid');
  assert.ok(sections[0].bytes < 80000 + 200 * 4 + 100, `${sections[0].bytes} bytes`);
});

test('bad grids are refused with one clear error: disagreeing values, bad scales, corrupt blocks', () => {
  const data = Float32Array.from([0.5, 1, -0.5]);
  const grid = (g: Partial<Grid>): Grid => ({ q: Int32Array.from([1, 2, -1]), scale: Float32Array.of(0.5), axis: 0, ...g });
  const enc = (g: Grid) => encodeNnz({ graph: new Uint8Array(0), tensors: [{ name: 'w', tensor: f32([3], data), grid: g, encoding: 'grid' }] });
  assert.throws(() => enc(grid({ q: Int32Array.from([1, 2, 1]) })), /element 2 is -0\.5 but its grid integer 1 gives 0\.5/);
  assert.throws(() => enc(grid({ scale: Float32Array.of(0) })), /grid scale 0 must be finite and > 0/);
  assert.throws(() => enc(grid({ zero: Int32Array.of(1, 2) })), /2 zero points for 1 scales/);
  assert.throws(() => encodeNnz({ graph: new Uint8Array(0), tensors: [{ name: 'w', tensor: f32([1000], weights(1000)), encoding: 'grid' }] }), /not on a grid/);
  // payloads damaged behind a valid CRC: header is 5 bytes ("w", float32|grid, rank 1, dim 3), then the scale count
  const { payload } = encodeTensorPayload({ name: 'w', tensor: f32([3], data), grid: grid({}), encoding: 'grid' });
  const zeroScale = Uint8Array.from(payload);
  zeroScale.fill(0, 6, 10);
  zeroScale[10] &= 0xfe;
  assert.throws(() => decodeTensorPayload(zeroScale, 'bad.nnz'), /bad\.nnz.*grid scale 0 is not finite and > 0; the file is corrupt/);
  const twoScales = Uint8Array.from(payload);
  twoScales[5] = 2;
  assert.throws(() => decodeTensorPayload(twoScales, 'bad.nnz'), (e: unknown) => e instanceof NnzipError && /bad\.nnz.*corrupt/.test(e.message));
  const huge = Uint8Array.from(payload);
  huge[5] = 0xff; // a varint that does not end: thousands of scales claimed in a 20-byte payload
  assert.throws(() => decodeTensorPayload(huge, 'bad.nnz'), (e: unknown) => e instanceof NnzipError && /bad\.nnz/.test(e.message));
});
