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

test('freed blocks are reused zeroed, merge with their neighbours, and a free block at the top lowers it', () => {
  const a = new WasmArena();
  const x = a.alloc(100), y = a.alloc(100), z = a.alloc(100);
  const top = a.used;
  new Uint8Array(a.memory.buffer, y, 100).fill(7);
  a.free(y, 100);
  assert.equal(a.alloc(50), y, 'the freed block takes an allocation that fits');
  assert.ok(new Uint8Array(a.memory.buffer, y, 50).every((v) => v === 0), 'reused memory is zeroed');
  assert.equal(a.used, top, 'no new memory was taken');
  a.free(y, 50);
  a.free(x, 100);
  assert.equal(a.alloc(250), x, 'x and y merged into one block');
  a.free(x, 250);
  a.free(z, 100);
  assert.equal(a.used, 64, 'everything freed: the bump pointer is back at the start');
  const w = a.alloc(300);
  assert.ok(new Uint8Array(a.memory.buffer, w, 300).every((v) => v === 0), 'memory given back to the bump pointer is zeroed when taken again');
  a.free(w, 300);
  assert.throws(() => a.free(z, 100), /not a block/);
  const p = a.alloc(10), q = a.alloc(10);
  a.free(p, 10);
  assert.throws(() => a.free(p, 10), /freed twice/);
  a.reset(p);
  assert.equal(a.alloc(10), p, 'reset drops freed blocks above the mark');
  assert.ok(q > p);
});

test('alloc-free cycles of one size keep the arena the size of one set', () => {
  const a = new WasmArena();
  a.alloc(8); // a block that stays
  const sizes = [1000, 5000, 64, 300000];
  const take = () => sizes.map((n) => [a.alloc(n), n] as const);
  for (const [at, n] of take()) a.free(at, n);
  const high = a.memory.buffer.byteLength;
  for (let round = 0; round < 20; round++) {
    const blocks = take();
    for (const [at, n] of blocks.reverse()) a.free(at, n);
  }
  assert.equal(a.memory.buffer.byteLength, high);
});
