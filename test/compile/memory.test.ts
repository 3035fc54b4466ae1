// The memory planner: offsets never overlap for buffers live at the same time,
// dead buffers are reused, reshapes share, elementwise steps write in place only
// when the input dies there, and scratch lives for its step only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignOffsets, ALIGN, type Interval } from '../../src/compile/memory.js';
import { planGraph } from '../../src/compile/plan.js';
import { Rng } from '../../src/ir/random.js';
import { GraphBuilder } from '../onnx/graph_builder.js';

function checkNoOverlap(items: Interval[], offsets: number[], total: number): void {
  for (let i = 0; i < items.length; i++) {
    assert.equal(offsets[i] % ALIGN, 0, `interval ${i} at ${offsets[i]} is not aligned`);
    assert.ok(offsets[i] + items[i].bytes <= total, `interval ${i} ends past the total`);
    for (let j = 0; j < i; j++) {
      const [a, b] = [items[i], items[j]];
      if (a.bytes === 0 || b.bytes === 0 || a.last < b.first || b.last < a.first) continue;
      const apart = offsets[i] + a.bytes <= offsets[j] || offsets[j] + b.bytes <= offsets[i];
      assert.ok(apart, `intervals ${i} ${JSON.stringify(a)}@${offsets[i]} and ${j} ${JSON.stringify(b)}@${offsets[j]} overlap`);
    }
  }
}

test('assignOffsets: seeded random lifetimes never overlap and stay near the live peak', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 20; trial++) {
    const items: Interval[] = Array.from({ length: 40 }, () => {
      const first = rng.int(30) - 1;
      return { bytes: 1 + rng.int(5000), first, last: first + rng.int(6) };
    });
    const { offsets, total } = assignOffsets(items);
    checkNoOverlap(items, offsets, total);
    let peak = 0;
    for (let t = -1; t < 40; t++) peak = Math.max(peak, items.filter((it) => it.first <= t && t <= it.last).reduce((s, it) => s + it.bytes, 0));
    const sum = items.reduce((s, it) => s + it.bytes, 0);
    assert.ok(total >= peak, `total ${total} below the live peak ${peak}`);
    assert.ok(total < sum, `no reuse at all: total ${total}, sum ${sum}`);
  }
});

test('assignOffsets: a chain reuses two slots; a buffer live across the chain keeps its own', () => {
  const chain: Interval[] = [0, 1, 2, 3, 4].map((i) => ({ bytes: 1000, first: i, last: i + 1 }));
  const { offsets, total } = assignOffsets([...chain, { bytes: 100, first: 0, last: 6 }]);
  assert.equal(new Set(offsets.slice(0, 5)).size, 2);
  assert.equal(total, 2 * 1024 + 128);
});

test('planMemory: reshapes share, a relu overwrites its dying input, a read-later input is kept, scratch is per step', () => {
  const b = new GraphBuilder(1);
  const x = b.input('x', ['N', 2, 8, 8]);
  const c = b.op1('Conv', [x, b.weight('w', [4, 2, 3, 3])], { pads: [1, 1, 1, 1] });
  const t = b.op1('Tanh', [c]); // c dies here: in place
  const f = b.op1('Flatten', [t]);
  const s = b.op1('Sigmoid', [f]); // f (alias of t) dies here: in place
  const keep = b.op1('LeakyRelu', [s]);
  const sum = b.op1('Add', [keep, s]); // s is read again: LeakyRelu must not overwrite it
  const plan = planGraph(b.build([sum], 17, 'N'), { inputShapes: { x: [2, 2, 8, 8] } });
  const buf = (v: string) => plan.values.get(v)!.buffer;
  assert.equal(buf(f), buf(t));
  assert.equal(buf(t), buf(c));
  assert.equal(buf(s), buf(t));
  assert.notEqual(buf(keep), buf(s));
  assert.equal(buf(sum), buf(keep), 'Add writes over its first input, which dies there');
  const scratch = plan.memory.buffers.filter((bf) => bf.role === 'scratch');
  assert.equal(scratch.length, 1);
  assert.deepEqual([scratch[0].first, scratch[0].last], [0, 0]);
  assert.equal(plan.steps[0].scratchAt, scratch[0].offset);
  const items = plan.memory.buffers.map((bf) => ({ bytes: bf.bytes, first: bf.first, last: bf.last }));
  checkNoOverlap(items, plan.memory.buffers.map((bf) => bf.offset), plan.memory.regionBytes);
});

test('planMemory: graph inputs and outputs are never written in place', () => {
  const b = new GraphBuilder(2);
  const x = b.input('x', ['N', 6]);
  const r = b.op1('Relu', [x]);
  const t = b.op1('Tanh', [r]);
  const plan = planGraph(b.build([r, t], 17, 'N'), { inputShapes: { x: [1, 6] } });
  const buf = (v: string) => plan.values.get(v)!.buffer;
  assert.notEqual(buf(r), buf(x));
  assert.notEqual(buf(t), buf(r));
  assert.equal(plan.memory.buffers[buf(x)].role, 'input');
  assert.equal(plan.memory.buffers[buf(t)].role, 'output');
  assert.equal(plan.memory.buffers[buf(t)].last, plan.steps.length);
});
