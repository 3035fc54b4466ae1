import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NnzipError } from '../../../src/ir/errors.js';
import { WasmArena } from '../../../src/kernels/wasm/arena.js';
import { PAGE } from '../../../src/kernels/wasm/wasm_api.js';

test('allocations are 64-byte aligned, never overlap, and reset frees back to a mark', () => {
  const a = new WasmArena();
  const x = a.alloc(10), y = a.alloc(1), z = a.allocF32(100);
  for (const off of [x, y, z]) assert.equal(off % 64, 0);
  assert.ok(x > 0, 'offset 0 stays unused');
  assert.ok(y >= x + 10 && z >= y + 1);
  const mark = a.used;
  const t = a.alloc(1000);
  a.reset(mark);
  assert.equal(a.alloc(1000), t, 'the space after the mark is reused');
});

test('the memory grows on demand and views see the data after growth', () => {
  const a = new WasmArena({ initialBytes: PAGE });
  const x = a.allocF32(4);
  a.f32(x, 4).set([1, 2, 3, 4]);
  const big = a.alloc(3 * PAGE);
  assert.ok(a.memory.buffer.byteLength >= big + 3 * PAGE);
  assert.deepEqual([...a.f32(x, 4)], [1, 2, 3, 4]);
});

test('bad input: over the maximum, or a bad size, fails with a clear message', () => {
  const a = new WasmArena({ maximumBytes: 2 * PAGE });
  assert.throws(() => a.alloc(5 * PAGE), (e: unknown) => e instanceof NnzipError && /over its maximum/.test(e.message));
  assert.throws(() => a.alloc(-1), /bad allocation size/);
  assert.throws(() => new WasmArena({ initialBytes: 4 * PAGE, maximumBytes: PAGE }), (e: unknown) => e instanceof NnzipError);
});
