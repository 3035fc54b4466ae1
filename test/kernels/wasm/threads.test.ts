import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { NnzipError } from '../../../src/ir/errors.js';
import { Rng } from '../../../src/ir/random.js';
import { WasmArena } from '../../../src/kernels/wasm/arena.js';
import { WasmConv2d } from '../../../src/kernels/wasm/conv.js';
import type { Conv2dParams } from '../../../src/kernels/wasm/conv_params.js';
import { splitGemm, WasmGemm, type GemmArgs } from '../../../src/kernels/wasm/gemm.js';
import { BIAS } from '../../../src/kernels/wasm/gemm_codegen.js';
import { NodeThreadPool } from '../../../src/kernels/wasm/thread_pool_node.js';
import { ModuleBuilder } from '../../../src/kernels/wasm/emitter.js';
import { compileCached, memoryImport } from '../../../src/kernels/wasm/loader.js';
import { I32 } from '../../../src/kernels/wasm/opcodes.js';
import { CALL_WORDS } from '../../../src/kernels/wasm/thread_protocol.js';
import { poolRunner } from '../../../src/runtime/steps/env.js';
import { assertClose, rc, refGemm } from './helpers.js';

const arena = new WasmArena({ shared: true, maximumBytes: 1 << 26 });
const pool = new NodeThreadPool(arena, 2);
after(() => pool.close());

test('splitGemm covers every panel exactly once, along N or along M', () => {
  const base: GemmArgs = { pa: 1000, pb: 2000, c: 3000, ldc: 50, M: 20, N: 50, K: 7, bias: 4000, mode: BIAS.col, acc: 0, clamp: 0, lo: 0, hi: 0 };
  const alongN = splitGemm(base, { mr: 4, nr: 8 }, 2);
  assert.deepEqual(alongN.map((p) => p.N), [24, 26]);
  assert.deepEqual(alongN.map((p) => p.c), [3000, 3000 + 24 * 4]);
  assert.deepEqual(alongN.map((p) => p.pb), [2000, 2000 + 3 * 7 * 8 * 4]);
  assert.deepEqual(alongN.map((p) => p.bias), [4000, 4000 + 24 * 4]);
  const tall = splitGemm({ ...base, M: 100, N: 8, mode: BIAS.row }, { mr: 4, nr: 8 }, 3);
  assert.deepEqual(tall.map((p) => p.M), [32, 32, 36]);
  assert.deepEqual(tall.map((p) => p.c), [3000, 3000 + 32 * 50 * 4, 3000 + 64 * 50 * 4]);
  assert.deepEqual(tall.map((p) => p.bias), [4000, 4000 + 32 * 4, 4000 + 64 * 4]);
  const tiny = splitGemm({ ...base, M: 1, N: 3 }, { mr: 4, nr: 8 }, 2);
  assert.deepEqual(tiny.map((p) => p.N), [0, 3]);
});

test('2-thread gemm gives bit-identical results to 1 thread and matches the reference', () => {
  const rng = new Rng(51);
  const two = new WasmGemm({ threads: pool });
  const one = new WasmGemm();
  for (const [M, N, K] of [[64, 256, 64], [300, 10, 200], [7, 1000, 150], [128, 128, 300]]) {
    for (const opts of [{}, { bias: rng.floats(N), relu: true }, { bias: rng.floats(M), biasPer: 'row' as const, clip: [-1, 1] as [number, number] }]) {
      const a = rng.floats(M * K), b = rng.floats(K * N);
      const c2 = new Float32Array(M * N), c1 = new Float32Array(M * N), want = new Float32Array(M * N);
      two.sgemm(M, N, K, a, b, c2, opts);
      one.sgemm(M, N, K, a, b, c1, opts);
      refGemm(M, N, K, a, b, want, opts);
      assert.deepEqual(c2, c1, `2 threads differ from 1 thread at ${M}×${N}×${K}`);
      assertClose(c2, want, () => 1e-5 * K, `2-thread gemm ${M}×${N}×${K}`, rc(N));
    }
  }
});

test('2-thread convolution equals the 1-thread one: a batch split by images, one image by the GEMM, depthwise by channels', () => {
  const rng = new Rng(52);
  const cases: [Conv2dParams, number][] = [
    [{ C: 16, M: 32, kh: 3, kw: 3, pads: [1, 1, 1, 1] }, 2],
    [{ C: 16, M: 32, kh: 3, kw: 3, pads: [1, 1, 1, 1] }, 1],
    [{ C: 16, M: 32, kh: 3, kw: 3, pads: [1, 1, 1, 1], group: 2 }, 3],
    [{ C: 16, M: 64, kh: 1, kw: 1 }, 1],
    [{ C: 16, M: 16, kh: 3, kw: 3, pads: [1, 1, 1, 1], strides: [2, 2], group: 16 }, 2], // depthwise: channels split
  ];
  const two = new WasmGemm({ threads: pool }), one = new WasmGemm();
  for (const [p, N] of cases) {
    const Cg = p.C / (p.group ?? 1);
    const w = rng.floats(p.M * Cg * p.kh * p.kw), x = rng.floats(N * p.C * 14 * 14), bias = rng.floats(p.M);
    const y2 = new WasmConv2d(two, p, w, { bias, clamp: [0, Infinity] }).conv(N, 14, 14, x);
    const y1 = new WasmConv2d(one, p, w, { bias, clamp: [0, Infinity] }).conv(N, 14, 14, x);
    assert.deepEqual(y2, y1, `2-thread conv ${JSON.stringify(p)} N=${N} differs from 1 thread`);
  }
});

test('run and runDynamic execute every call exactly once, on the shared memory', () => {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(true));
  m.func('bump', [I32, I32], [], (f) => { // mem[addr] += by
    const [addr, by] = f.params;
    f.get(addr).get(addr).mem('i32.load').get(by).op('i32.add').mem('i32.store');
  });
  const mod = compileCached('test-bump:shared', () => m.build());
  pool.register('test-bump', mod);
  const mark = arena.used;
  const at = arena.alloc(300 * 4);
  const cells = () => new Int32Array(arena.memory.buffer, at, 300);
  cells().fill(0);
  pool.runDynamic(Array.from({ length: 300 }, (_, i) => ({ key: 'test-bump', fn: 'bump', args: [at + i * 4, i + 1] })));
  assert.deepEqual([...cells()], Array.from({ length: 300 }, (_, i) => i + 1));
  pool.run([[{ key: 'test-bump', fn: 'bump', args: [at, 5] }], [{ key: 'test-bump', fn: 'bump', args: [at + 4, 7] }, { key: 'test-bump', fn: 'bump', args: [at + 4, 1] }]]);
  assert.deepEqual([...cells().subarray(0, 2)], [6, 10]);
  // many back-to-back runs of varied sizes, mixed with static runs: every call lands exactly once
  const rng = new Rng(53);
  const want = new Int32Array(300);
  cells().fill(0);
  for (let r = 0; r < 400; r++) {
    const n = 1 + rng.int(60), base = rng.int(240);
    if (r % 7 === 3) {
      pool.run([[{ key: 'test-bump', fn: 'bump', args: [at + base * 4, 1] }], [{ key: 'test-bump', fn: 'bump', args: [at + (base + 1) * 4, 2] }]]);
      want[base] += 1; want[base + 1] += 2;
    } else {
      pool.runDynamic(Array.from({ length: n }, (_, i) => ({ key: 'test-bump', fn: 'bump', args: [at + ((base + i) % 300) * 4, 1] })));
      for (let i = 0; i < n; i++) want[(base + i) % 300] += 1;
    }
  }
  assert.deepEqual([...cells()], [...want]);
  assert.throws(() => pool.runDynamic([{ key: 'nope', fn: 'bump', args: [] }, { key: 'nope', fn: 'bump', args: [] }]), /not registered/);
  assert.throws(() => pool.runDynamic([{ key: 'test-bump', fn: 'nope', args: [] }, { key: 'test-bump', fn: 'nope', args: [] }]), /test-bump#nope was not registered/);
  // another module whose export has the same name: each key's calls reach its own module, on every thread
  const m10 = new ModuleBuilder();
  m10.importMemory(memoryImport(true));
  m10.func('bump', [I32, I32], [], (f) => { // mem[addr] += 10·by
    const [addr, by] = f.params;
    f.get(addr).get(addr).mem('i32.load').get(by).i32(10).op('i32.mul').op('i32.add').mem('i32.store');
  });
  pool.register('test-bump10', compileCached('test-bump10:shared', () => m10.build()));
  cells().fill(0);
  pool.runDynamic(Array.from({ length: 200 }, (_, i) => ({ key: i % 2 ? 'test-bump10' : 'test-bump', fn: 'bump', args: [at + i * 4, 1] })));
  assert.deepEqual([...cells().subarray(0, 200)], Array.from({ length: 200 }, (_, i) => (i % 2 ? 10 : 1)));
  arena.reset(mark);
});

test('poolRunner runs each part\'s calls once and in order, in rounds when the parts outgrow one dynamic run', () => {
  const m = new ModuleBuilder();
  m.importMemory(memoryImport(true));
  m.func('mix', [I32, I32, I32, I32], [], (f) => { // mem[addr] = mem[addr]·31 + v (order-dependent); two unused args
    const [addr, v] = f.params;
    f.get(addr).get(addr).mem('i32.load').i32(31).op('i32.mul').get(v).op('i32.add').mem('i32.store');
  });
  pool.register('test-mix', compileCached('test-mix:shared', () => m.build()));
  const mark = arena.used, at = arena.alloc(3 * 4), cells = () => new Int32Array(arena.memory.buffer, at, 3);
  for (const calls of [3, Math.ceil((2 * CALL_WORDS) / 6)]) { // one round; parts of 2·CALL_WORDS words each (several rounds)
    cells().fill(0);
    const parts = [0, 1, 2].map((p) => Array.from({ length: calls + p }, (_, i) => ({ key: 'test-mix', fn: 'mix', args: [at + p * 4, i * 7 + p, 0, 0] })));
    poolRunner(pool, parts)();
    const want = parts.map((l) => l.reduce((x, c) => (Math.imul(x, 31) + c.args[1]) | 0, 0));
    assert.deepEqual([...cells()], want, `${calls} calls per part`);
  }
  arena.reset(mark);
});

test('bad input: a pool needs a shared arena, and a gemm must use the pool\'s arena', () => {
  assert.throws(() => new NodeThreadPool(new WasmArena(), 2), (e: unknown) => e instanceof NnzipError && /shared: true/.test(e.message));
  assert.throws(() => new NodeThreadPool(arena, 0), /threads=0/);
  assert.throws(() => new WasmGemm({ threads: pool, arena: new WasmArena({ shared: true, maximumBytes: 1 << 20 }) }), /another arena/);
});
