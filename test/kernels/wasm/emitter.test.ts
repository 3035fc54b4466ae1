import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModuleBuilder, sleb, uleb } from '../../../src/kernels/wasm/emitter.js';
import { wasmFeatures } from '../../../src/kernels/wasm/features.js';
import { F32, I32, V128 } from '../../../src/kernels/wasm/opcodes.js';
import { WA } from '../../../src/kernels/wasm/wasm_api.js';

function instantiate(m: ModuleBuilder, memory?: unknown): Record<string, (...a: number[]) => number> {
  const bytes = m.build();
  assert.ok(WA.validate(bytes), 'module must validate');
  const mod = new WA.Module(bytes);
  return new WA.Instance(mod, memory ? { env: { memory } } : {}).exports as Record<string, (...a: number[]) => number>;
}

test('LEB128 matches the spec examples', () => {
  assert.deepEqual(uleb(0), [0x00]);
  assert.deepEqual(uleb(127), [0x7f]);
  assert.deepEqual(uleb(128), [0x80, 0x01]);
  assert.deepEqual(uleb(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(uleb(0xffffffff), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  assert.deepEqual(sleb(0), [0x00]);
  assert.deepEqual(sleb(-1), [0x7f]);
  assert.deepEqual(sleb(63), [0x3f]);
  assert.deepEqual(sleb(64), [0xc0, 0x00]);
  assert.deepEqual(sleb(-64), [0x40]);
  assert.deepEqual(sleb(-123456), [0xc0, 0xbb, 0x78]);
  assert.deepEqual(sleb(0x80000000), sleb(-0x80000000)); // i32 wrap
  assert.throws(() => uleb(-1));
  assert.throws(() => uleb(1.5));
});

test('control flow, locals and i32 arithmetic: sum of 0..n-1 with forUp', () => {
  const m = new ModuleBuilder();
  m.func('sum', [I32], [I32], (f) => {
    const [n] = f.params;
    const i = f.local(), s = f.local();
    f.forUp(i, 0, n, 1, () => { f.get(s).get(i).op('i32.add').set(s); });
    f.get(s);
  });
  m.func('pick', [I32], [I32], (f) => {
    f.get(f.params[0]).if(() => { f.i32(10); }, () => { f.i32(-20); }, I32);
  });
  m.func('firstOver', [I32], [I32], (f) => { // loop with br_if out of a block: first i with i*i > n
    const [n] = f.params;
    const i = f.local();
    f.block((done) => f.loop((top) => {
      f.get(i).get(i).op('i32.mul').get(n).op('i32.gt_s').brIf(done);
      f.addTo(i, 1).br(top);
    }));
    f.get(i);
  });
  const e = instantiate(m);
  assert.equal(e.sum(0), 0);
  assert.equal(e.sum(10), 45);
  assert.equal(e.pick(1), 10);
  assert.equal(e.pick(0), -20);
  assert.equal(e.firstOver(50), 8);
});

test('the name section names every function (exported or not), so profiles show kernel names', () => {
  const m = new ModuleBuilder();
  m.func(undefined, [], [I32], (f) => { f.i32(7); });
  m.func('seven', [], [I32], (f) => { f.i32(7); });
  const mod = new WA.Module(m.build());
  const [sec] = WA.Module.customSections(mod, 'name');
  const bytes = [...new Uint8Array(sec)];
  // subsection 1 (function names), size, vec of 2: (0 "internal0") (1 "seven")
  const body = [2, 0, 9, ...Buffer.from('internal0'), 1, 5, ...Buffer.from('seven')];
  assert.deepEqual(bytes, [1, body.length, ...body]);
});

test('memory ops with offsets, bulk memory and SIMD lanes on an imported memory', () => {
  const memory = new WA.Memory({ initial: 1 });
  const m = new ModuleBuilder();
  m.importMemory({ module: 'env', name: 'memory', initial: 1 });
  m.func('axpy4', [I32, I32, F32], [], (f) => { // y[0..3] += a * x[0..3]
    const [x, y, a] = f.params;
    f.get(y).get(y).mem('v128.load').get(x).mem('v128.load').get(a).op('f32x4.splat').op('f32x4.mul').op('f32x4.add');
    f.mem('v128.store');
  });
  m.func('lane2', [I32], [F32], (f) => { f.get(f.params[0]).mem('v128.load', 16).lane('f32x4.extract_lane', 2); });
  m.func('reverse', [I32], [], (f) => {
    const [p] = f.params;
    f.get(p).get(p).mem('v128.load').get(p).mem('v128.load').shuffle32(3, 2, 1, 0).mem('v128.store');
  });
  m.func('copy', [I32, I32, I32], [], (f) => { f.get(f.params[0]).get(f.params[1]).get(f.params[2]).memoryCopy(); });
  m.func('splatLoad', [I32], [F32], (f) => {
    f.get(f.params[0]).mem('v128.load32_splat', 8).lane('f32x4.extract_lane', 3);
  });
  const e = instantiate(m, memory);
  const mem = new Float32Array(memory.buffer);
  mem.set([1, 2, 3, 4], 0);
  mem.set([10, 20, 30, 40], 4);
  e.axpy4(0, 16, 0.5);
  assert.deepEqual([...mem.subarray(4, 8)], [10.5, 21, 31.5, 42]);
  assert.equal(e.lane2(0), 31.5);
  e.reverse(0);
  assert.deepEqual([...mem.subarray(0, 4)], [4, 3, 2, 1]);
  e.copy(64, 0, 16);
  assert.deepEqual([...mem.subarray(16, 20)], [4, 3, 2, 1]);
  assert.equal(e.splatLoad(0), 2);
});

test('the emitter refuses unknown instructions, bad lanes and branches to closed labels', () => {
  const m = new ModuleBuilder();
  assert.throws(() => m.func('x', [], [], (f) => f.op('i32.frobnicate')), /unknown instruction i32.frobnicate/);
  assert.throws(() => m.func('y', [V128], [F32], (f) => f.get(f.params[0]).lane('f32x4.extract_lane', 4)), /out of range/);
  assert.throws(() => m.func('z', [], [], (f) => {
    let outer: Parameters<typeof f.br>[0] | undefined;
    f.block((l) => { outer = l; });
    f.br(outer!);
  }), /not open/);
  assert.throws(() => new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initial: 1, shared: true }), /maximum/);
});

test('feature detection agrees with validation of relaxed-SIMD and shared-memory modules', () => {
  const f = wasmFeatures();
  assert.equal(f.simd, true, 'Node 20 has WebAssembly SIMD');
  const relaxed = new ModuleBuilder();
  relaxed.func('fma', [V128, V128, V128], [V128], (b) => { b.get(b.params[0]).get(b.params[1]).get(b.params[2]).op('f32x4.relaxed_madd'); });
  assert.equal(WA.validate(relaxed.build()), f.relaxedSimd);
  const shared = new ModuleBuilder().importMemory({ module: 'env', name: 'memory', initial: 1, maximum: 2, shared: true });
  assert.equal(WA.validate(shared.build()), f.threads);
  if (f.relaxedSimd) {
    relaxed.func('madd1', [F32, F32, F32], [F32], (b) => {
      b.get(b.params[0]).op('f32x4.splat').get(b.params[1]).op('f32x4.splat').get(b.params[2]).op('f32x4.splat');
      b.op('f32x4.relaxed_madd').lane('f32x4.extract_lane', 0);
    });
    const e = instantiate(relaxed);
    assert.equal(e.madd1(2, 3, 4), 10);
  }
});
