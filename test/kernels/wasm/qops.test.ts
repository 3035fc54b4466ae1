// The integer element and pooling kernels against the references, bit for bit:
// QuantizeLinear / DequantizeLinear (ir/ref/quantize.ts arithmetic) at lengths
// around the vector width, and int8 / uint8 max pooling (ir/ref/pool.ts) with pads,
// strides, dilations, ceil mode and the 2×2 stride-2 vector path; the integer Add.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addMultipliers, addValue, dequantizeValue, quantizeValue } from '../../../src/ir/quant.js';
import { Rng } from '../../../src/ir/random.js';
import { maxPool2d } from '../../../src/ir/ref/pool.js';
import { checkWindow2d, outHW } from '../../../src/ir/window.js';
import { WasmArena } from '../../../src/kernels/wasm/arena.js';
import { instantiate } from '../../../src/kernels/wasm/loader.js';
import { qopsModule, QOPS_SCRATCH, type QopsExports } from '../../../src/kernels/wasm/qops_codegen.js';
import { WA } from '../../../src/kernels/wasm/wasm_api.js';

function setup(): { ar: WasmArena; k: QopsExports } {
  const bytes = qopsModule(false);
  assert.ok(WA.validate(bytes));
  const ar = new WasmArena();
  return { ar, k: instantiate<QopsExports>(new WA.Module(bytes), ar) };
}

test('quantize8 / dequantize8 match QuantizeLinear / DequantizeLinear at every length around the vectors, int8 and uint8', () => {
  const { ar, k } = setup(), rng = new Rng(1);
  for (const n of [1, 3, 4, 5, 15, 16, 17, 33, 100]) {
    for (const [lo, hi, zero] of [[-128, 127, -5], [0, 255, 130], [-128, 40, 3], [0, 127, 0]]) {
      const scale = 0.013 + 0.01 * rng.next();
      const x = Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? (zero + 0.5 + i) * scale : rng.uniform(-3, 3))); // ties
      const xa = ar.allocF32(n), ya = ar.alloc(n), guard = ar.alloc(64), sc = ar.alloc(QOPS_SCRATCH);
      ar.f32(xa, n).set(x);
      new Uint8Array(ar.memory.buffer, guard, 64).fill(0xee);
      k.quantize8(xa, ya, n, scale, zero, lo, hi, sc);
      const got = lo >= 0 ? new Uint8Array(ar.memory.buffer, ya, n) : new Int8Array(ar.memory.buffer, ya, n);
      x.forEach((v, i) => assert.equal(got[i], quantizeValue(v, Math.fround(scale), zero, lo, hi), `quantize n=${n} [${lo},${hi}] at ${i}: ${v}`));
      assert.ok(new Uint8Array(ar.memory.buffer, guard, 64).every((b) => b === 0xee), 'nothing written past n');
      const fa = ar.allocF32(n + 4);
      ar.f32(fa, n + 4).fill(-7);
      k.dequantize8(ya, fa, n, scale, zero, lo >= 0 ? 1 : 0, sc);
      const back = ar.f32(fa, n + 4);
      got.forEach((q, i) => assert.equal(back[i], Math.fround(dequantizeValue(q, Math.fround(scale), zero)), `dequantize at ${i}`));
      assert.deepEqual([...back.subarray(n)], [-7, -7, -7, -7], 'nothing written past n');
    }
  }
});

test('maxpool8 matches the reference max pool on int8 and uint8', () => {
  const { ar, k } = setup(), rng = new Rng(2);
  const cases = [
    { H: 24, W: 24, p: { kh: 2, kw: 2, strides: [2, 2] } }, { H: 9, W: 37, p: { kh: 2, kw: 2, strides: [2, 2] } },
    { H: 13, W: 13, p: { kh: 3, kw: 3, strides: [2, 2] }, ceil: true }, { H: 10, W: 7, p: { kh: 3, kw: 2, strides: [3, 2], pads: [1, 0, 2, 1] }, ceil: true },
    { H: 11, W: 11, p: { kh: 3, kw: 3, strides: [2, 2], dilations: [2, 2], pads: [2, 2, 2, 2] } }, { H: 1, W: 6, p: { kh: 1, kw: 2, strides: [1, 2], pads: [0, 0, 0, 1] }, ceil: true },
  ];
  for (const c of cases) {
    for (const signed of [true, false]) {
      const win = checkWindow2d('test', c.p);
      const [OH, OW] = outHW('test', c.H, c.W, win, c.ceil ?? false);
      const planes = 3, n = planes * c.H * c.W;
      const x = signed ? Int8Array.from({ length: n }, () => rng.int(256) - 128) : Uint8Array.from({ length: n }, () => rng.int(256));
      const want = new Int32Array(planes * OH * OW);
      maxPool2d({ planes, H: c.H, W: c.W, OH, OW, win }, x, want);
      const xa = ar.alloc(n), ya = ar.alloc(want.length), row = ar.alloc(c.W + 64);
      new Uint8Array(ar.memory.buffer, xa, n).set(new Uint8Array(x.buffer));
      const fn = signed ? k.maxpool8s : k.maxpool8u;
      fn(xa, ya, planes, c.H, c.W, OH, OW, win.kh, win.kw, win.sh, win.sw, win.dh, win.dw, win.padT, win.padL, row);
      const got = signed ? new Int8Array(ar.memory.buffer, ya, want.length) : new Uint8Array(ar.memory.buffer, ya, want.length);
      want.forEach((v, i) => assert.equal(got[i], v, `${JSON.stringify(c)} ${signed ? 'int8' : 'uint8'} at ${i}`));
    }
  }
});

test('add8 matches the integer addition (ir/quant.ts addValue) and stays within one step of the float rescale', () => {
  const { ar, k } = setup(), rng = new Rng(3);
  for (const n of [1, 15, 16, 17, 50]) {
    for (const unsigned of [false, true]) {
      const [lo, hi] = unsigned ? [0, 255] : [-128, 127];
      const [sa, sb, sy] = [0.02 + 0.02 * rng.next(), 0.05 * rng.next() + 0.01, 0.04];
      const [za, zb, zy] = unsigned ? [120, 131, 90] : [-5, 12, -30];
      const m = addMultipliers(sa / sy, sb / sy);
      const ints = () => Uint8Array.from({ length: n }, () => rng.int(256));
      const [a, b] = [ints(), ints()];
      const [pa, pb, py, guard, sc] = [ar.alloc(n), ar.alloc(n), ar.alloc(n), ar.alloc(64), ar.alloc(QOPS_SCRATCH)];
      new Uint8Array(ar.memory.buffer, pa, n).set(a);
      new Uint8Array(ar.memory.buffer, pb, n).set(b);
      new Uint8Array(ar.memory.buffer, guard, 64).fill(0xee);
      k.add8(pa, pb, py, n, za, zb, m.ma, m.mb, m.shift, zy, lo + 2, hi - 3, unsigned ? 1 : 0, sc);
      const view = (p: number) => (unsigned ? new Uint8Array(ar.memory.buffer, p, n) : new Int8Array(ar.memory.buffer, p, n));
      const [va, vb, vy] = [view(pa), view(pb), view(py)];
      for (let i = 0; i < n; i++) {
        const want = addValue(va[i] - za, vb[i] - zb, m, zy, lo + 2, hi - 3);
        assert.equal(vy[i], want, `add8 n=${n} ${unsigned ? 'uint8' : 'int8'} at ${i}`);
        const exact = Math.min(hi - 3, Math.max(lo + 2, Math.round((sa * (va[i] - za) + sb * (vb[i] - zb)) / sy) + zy));
        assert.ok(Math.abs(vy[i] - exact) <= 1, `add8 at ${i}: ${vy[i]} vs the float rescale ${exact}`);
      }
      assert.ok(new Uint8Array(ar.memory.buffer, guard, 64).every((v) => v === 0xee), 'nothing written past n');
    }
  }
});

test('add8 does not wrap at the extreme offsets (±255 on both operands, the largest multipliers and shift)', () => {
  const { ar, k } = setup();
  for (const r of [1.999 * 2 ** -10, 1.999 * 2 ** -9, 0.999, 1.999, 2 ** 18 * 1.9]) {
    const m = addMultipliers(r, r);
    assert.ok(m.ma < 2 ** 21 && m.shift >= 1 && m.shift <= 30, `multipliers ${JSON.stringify(m)} for ${r}`);
    const n = 16, [pa, pb, py, sc] = [ar.alloc(n), ar.alloc(n), ar.alloc(n), ar.alloc(QOPS_SCRATCH)];
    const a = Int8Array.from({ length: n }, (_, i) => (i % 2 ? 127 : -128));
    new Int8Array(ar.memory.buffer, pa, n).set(a);
    new Int8Array(ar.memory.buffer, pb, n).set(a);
    for (const z of [-128, 127]) {
      k.add8(pa, pb, py, n, z, z, m.ma, m.mb, m.shift, 0, -128, 127, 0, sc);
      const y = new Int8Array(ar.memory.buffer, py, n);
      a.forEach((v, i) => assert.equal(y[i], addValue(v - z, v - z, m, 0, -128, 127), `r=${r} z=${z} at ${i}`));
    }
  }
  assert.throws(() => addMultipliers(2 ** 19, 1), /< 2\^19/);
});
