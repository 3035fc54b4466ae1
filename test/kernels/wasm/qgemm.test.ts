// The integer GEMM against the plain-TS integer reference (ir/ref/qgemm_ref.ts),
// bit for bit, at tile edges: every output type, bias and multipliers per row and
// per column, int8 and uint8 operands, and accumulators near the int32 limits.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { intRange, requantMultipliers } from '../../../src/ir/quant.js';
import { Rng } from '../../../src/ir/random.js';
import { qgemmRef } from '../../../src/ir/ref/qgemm_ref.js';
import { WasmArena } from '../../../src/kernels/wasm/arena.js';
import { epilogueBlock, splitQGemm, WasmQGemm, type QEpilogue, type QGemmArgs, type QInType } from '../../../src/kernels/wasm/qgemm.js';
import { NodeThreadPool } from '../../../src/kernels/wasm/thread_pool_node.js';
import { qgemmModule } from '../../../src/kernels/wasm/qgemm_codegen.js';
import { WA } from '../../../src/kernels/wasm/wasm_api.js';
import { edgeSizes } from './helpers.js';

// mr 4 and 8 pack A four rows at a time (8: two such groups per panel); the others row by row
const TILES = [{ mr: 4, nr: 8, unroll: 1 }, { mr: 3, nr: 12, unroll: 2 }, { mr: 5, nr: 4, unroll: 3 }, { mr: 2, nr: 16, unroll: 1 }, { mr: 1, nr: 4, unroll: 2 }, { mr: 8, nr: 4, unroll: 1 }];

function ints(rng: Rng, n: number, type: QInType, lo = type === 'int8' ? -128 : 0, hi = type === 'int8' ? 127 : 255): Int8Array | Uint8Array {
  const out = type === 'int8' ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + rng.int(hi - lo + 1);
  return out;
}

interface Case {
  M: number; N: number; K: number;
  aType?: QInType; bType?: QInType; transB?: boolean; perRow?: boolean; bias?: boolean;
  out?: QEpilogue['out'] | 'int32';
  /** Requantization scales (0.5..1.5)·scale instead of ones fitted to K. */
  scale?: number;
}

/** Checks one case; returns the requantization shift it used (0: none). */
function check(g: WasmQGemm, rng: Rng, c: Case): number {
  const { M, N, K } = c, aType = c.aType ?? 'int8', bType = c.bType ?? 'int8', out = c.out ?? 'int8';
  const a = ints(rng, M * K, aType), b = ints(rng, K * N, bType);
  const channels = c.perRow ? M : N;
  const spread = Math.round(4000 * Math.sqrt(K + 1)); // about the accumulators' own spread
  const bias = c.bias ? Int32Array.from({ length: channels }, () => rng.int(2 * spread + 1) - spread) : undefined;
  let epilogue: QEpilogue | undefined;
  if (out !== 'int32') {
    const [lo, hi] = out === 'int16' ? intRange(16, true) : intRange(8, out === 'int8');
    // scales that map a typical accumulator (~128·128·√K) onto a few hundred levels, per channel
    const scales = Array.from({ length: channels }, () => (0.5 + rng.next()) * (c.scale ?? 1 / (40 * Math.sqrt(K + 1))));
    const { mult, shift } = requantMultipliers(scales);
    const zero = out === 'uint8' ? 100 + rng.int(50) : rng.int(40) - 20;
    epilogue = { mult, shift, zero, lo: lo + rng.int(3), hi: hi - rng.int(3), out };
  }
  const got = g.qgemm(M, N, K, a, b, { transB: c.transB, bias, perRow: c.perRow, epilogue });
  const want = new (got.constructor as Int32ArrayConstructor)(M * N);
  qgemmRef({
    M, N, K, a, aZero: aType === 'uint8' ? 128 : 0, b, bZero: bType === 'uint8' ? 128 : 0, transB: c.transB,
    bias, biasPer: c.perRow ? 'row' : 'col', c: want,
    requant: epilogue && { ...epilogue, per: c.perRow ? 'row' : 'col' },
  });
  if (out !== 'int32' && M * N >= 64) {
    const distinct = new Set(got).size;
    assert.ok(distinct > 8, `qgemm ${M}×${N}×${K}: only ${distinct} distinct outputs (the test scales saturate)`);
  }
  const what = `qgemm ${M}×${N}×${K} ${JSON.stringify({ ...c, M: undefined, N: undefined, K: undefined })} tile ${g.variant.mr}×${g.variant.nr}`;
  for (let i = 0; i < M * N; i++) {
    if (got[i] !== want[i]) assert.fail(`${what}: at (row ${Math.floor(i / N)}, col ${i % N}) got ${got[i]}, expected ${want[i]}`);
  }
  return epilogue?.shift ?? 0;
}

test('qgemm module validates for every tile', () => {
  for (const t of TILES) assert.ok(WA.validate(qgemmModule({ ...t, shared: false })));
});

test('qgemm matches the integer reference bit for bit at tile edges (M, N around the tile; K odd, even, around the 8-wide pack)', () => {
  const rng = new Rng(1);
  for (const tile of TILES) {
    const g = new WasmQGemm({ tile });
    for (const M of edgeSizes(tile.mr)) for (const N of edgeSizes(tile.nr)) for (const K of [1, 2, 7, 8, 9, 17]) check(g, rng, { M, N, K, bias: true });
  }
});

test('qgemm output types, operand types, bias and multipliers per row or per column', () => {
  const rng = new Rng(2);
  const mixes: Omit<Case, 'M' | 'N' | 'K'>[] = [
    { out: 'int32' }, { out: 'int32', bias: true, perRow: true }, { out: 'int16' }, { out: 'uint8' }, { out: 'int8', perRow: true },
    { aType: 'uint8' }, { bType: 'uint8', out: 'uint8' }, { aType: 'uint8', bType: 'uint8', transB: true, bias: true },
    { transB: true, perRow: true, bias: true, out: 'int16' }, { transB: true },
  ];
  for (const tile of TILES.slice(0, 3)) {
    const g = new WasmQGemm({ tile });
    for (const o of mixes) for (const [M, N, K] of [[2 * tile.mr + 3, 2 * tile.nr + 3, 33], [tile.mr, tile.nr, 2], [1, 1, 1], [7, 50, 800]]) check(g, rng, { M, N, K, ...o });
  }
});

test('qgemm requantization with shifts on both sides of 32 (the 64-bit shift and the high-word path)', () => {
  const rng = new Rng(4), shifts = new Set<number>();
  for (const tile of TILES.slice(0, 2)) {
    const g = new WasmQGemm({ tile });
    for (const scale of [3, 1, 0.6, 0.4, 0.3, 0.2, 0.12, 0.07, 1e-2, 2e-3]) {
      for (const [M, N, K] of [[tile.mr + 1, tile.nr + 3, 2], [2 * tile.mr, 2 * tile.nr - 1, 3]]) {
        shifts.add(check(g, rng, { M, N, K, out: 'int16', bias: true, scale, perRow: K === 3, aType: K === 3 ? 'uint8' : 'int8' }));
      }
    }
  }
  const seen = [...shifts].sort((a, b) => a - b);
  assert.ok(shifts.has(31) && shifts.has(32) && seen[0] < 31 && seen[seen.length - 1] > 32, `shifts covered: ${seen.join(', ')}`);
});

test('qgemm: accumulators near the int32 limit and a full int8 range stay exact; K = 0 gives the bias', () => {
  const g = new WasmQGemm();
  // 131071 products of −128·−128 = 2^31 − 2^14: the largest sum below 2^31 of one sign
  const K = 131071, a = new Int8Array(K).fill(-128), b = new Int8Array(K).fill(-128);
  assert.equal(g.qgemm(1, 1, K, a, b)[0], K * 16384);
  const rng = new Rng(3);
  check(g, rng, { M: 9, N: 13, K: 4000, out: 'int32', bias: true });
  const bias = Int32Array.from([5, -7, 9]);
  assert.deepEqual([...g.qgemm(1, 3, 0, new Int8Array(0), new Int8Array(0), { bias })], [5, -7, 9]);
});

test('splitQGemm covers every panel once, along N or along M, offsetting bias and multipliers with the channels', () => {
  const base: QGemmArgs = { pa: 1000, pb: 2000, c: 3000, ldc: 50, M: 20, N: 50, K: 7, bias: 4000, mult: 5000, ep: 6000 };
  const wide = splitQGemm(base, { mr: 4, nr: 8 }, 2, 1);
  assert.deepEqual(wide.map((p) => [p.N, p.M, p.c, p.pb, p.pa, p.bias, p.mult]), [[24, 20, 3000, 2000, 1000, 4000, 5000], [26, 20, 3024, 2000 + 3 * 4 * 8 * 4, 1000, 4096, 5096]]);
  const tall = splitQGemm({ ...base, M: 100, N: 8 }, { mr: 4, nr: 8 }, 3, 2, true);
  assert.deepEqual(tall.map((p) => [p.M, p.c, p.pa, p.bias, p.mult]), [[32, 3000, 1000, 4000, 5000], [32, 3000 + 32 * 50 * 2, 1000 + 8 * 4 * 4 * 4, 4128, 5128], [36, 3000 + 64 * 100, 1000 + 16 * 4 * 4 * 4, 4256, 5256]]);
  assert.deepEqual(splitQGemm({ ...base, M: 100, N: 8, bias: 0, mult: 0 }, { mr: 4, nr: 8 }, 2, 1).map((p) => [p.bias, p.mult]), [[0, 0], [0, 0]]);
  assert.deepEqual(splitQGemm({ ...base, M: 1, N: 3 }, { mr: 4, nr: 8 }, 2, 1).map((p) => p.N), [0, 3]);
});

const shared = new WasmArena({ shared: true, maximumBytes: 1 << 26 });
const pool = new NodeThreadPool(shared, 2);
after(() => pool.close());

test('qgemm run() on 2 threads (dynamic chunks along M or N) is bit for bit the 1-thread driver', () => {
  const rng = new Rng(5), two = new WasmQGemm({ threads: pool });
  const cases: [number, number, number, boolean, QEpilogue['out'] | 'int32'][] = [
    [256, 256, 256, false, 'int8'], [37, 300, 45, true, 'uint8'], [300, 13, 33, true, 'int16'], [61, 70, 9, false, 'int32'], [3, 5, 4, false, 'int8'],
  ];
  for (const [M, N, K, perRow, out] of cases) {
    const channels = perRow ? M : N, eb = { int8: 1, uint8: 1, int16: 2, int32: 4 }[out];
    const mark = shared.used;
    const pa = two.prepackA(ints(rng, M * K, 'int8'), M, K), pb = two.prepackB(ints(rng, N * K, 'uint8'), K, N, true);
    const scales = Array.from({ length: channels }, () => (0.5 + rng.next()) / (40 * Math.sqrt(K + 1)));
    const { mult, shift } = requantMultipliers(scales);
    const e: QEpilogue | undefined = out === 'int32' ? undefined : { mult, shift, zero: out === 'uint8' ? 120 : 3, lo: out === 'int16' ? -32768 : out === 'uint8' ? 0 : -128, hi: out === 'int16' ? 32767 : out === 'uint8' ? 255 : 127, out };
    const g = {
      pa, pb, c: shared.alloc(M * N * eb), ldc: N, M, N, K, bias: two.upload(Int32Array.from({ length: channels }, () => rng.int(20001) - 10000)),
      mult: e ? two.upload(e.mult) : 0, ep: two.upload(epilogueBlock(e, perRow)),
    };
    const bytes = () => new Uint8Array(shared.memory.buffer, g.c, M * N * eb).slice();
    two.gemmWith(g);
    const want = bytes();
    new Uint8Array(shared.memory.buffer, g.c, M * N * eb).fill(0x5a);
    two.run(g, perRow, eb);
    const got = bytes();
    assert.ok(new Set(want).size > 4, `${M}×${N}×${K}: a degenerate output`);
    for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) assert.fail(`${M}×${N}×${K} ${out} perRow ${perRow}: byte ${i} got ${got[i]}, expected ${want[i]}`);
    shared.reset(mark);
  }
});
