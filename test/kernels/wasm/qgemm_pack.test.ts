// packConv (B packed straight from an unpadded conv input) + the integer GEMM against the
// plain-TS reference (ir/ref im2col + qgemmRef) bit for bit: bands of output pixels that
// start and end mid-row, rows shorter and longer than a column group, strides, dilations,
// odd K, uint8 input, several register tiles; the int32 sums of exactly the band's columns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/ir/random.js';
import { im2col } from '../../../src/ir/ref/im2col.js';
import { qgemmRef } from '../../../src/ir/ref/qgemm_ref.js';
import { checkWindow2d, outHW } from '../../../src/ir/window.js';
import { epilogueBlock, packsFromImage, WasmQGemm } from '../../../src/kernels/wasm/qgemm.js';

interface Case {
  C: number; H: number; W: number; k: [number, number]; s?: [number, number]; d?: [number, number];
  /** Output pixels [P0, P0 + cols); default all. */
  band?: [number, number];
  uint8?: boolean;
}

function check(q: WasmQGemm, rng: Rng, c: Case, what: string): void {
  const win = checkWindow2d('test', { kh: c.k[0], kw: c.k[1], strides: c.s, dilations: c.d });
  assert.ok(packsFromImage(win));
  const [OH, OW] = outHW('test', c.H, c.W, win), P = OH * OW, K = c.C * c.k[0] * c.k[1], M = 7;
  const [P0, cols] = c.band ?? [0, P];
  const x = Uint8Array.from({ length: c.C * c.H * c.W }, () => rng.int(256));
  const w = Int8Array.from({ length: M * K }, () => rng.int(256) - 128);
  const ar = q.arena, mark = ar.used;
  try {
    const xAt = q.upload(x), pa = q.prepackA(w, M, K), pb = ar.alloc(q.packedBSize(K, cols) + 64), out = ar.alloc(M * cols * 4 + 64);
    const e = q.exports, ep = q.upload(epilogueBlock(undefined, true)); // int32 out
    const call = q.packConvCall(xAt, c.C, c.H, c.W, win, OW, P0, cols, pb, c.uint8 ?? false);
    e.packConv(...(call.args as number[]));
    q.gemmWith({ pa, pb, c: out, ldc: cols, M, N: cols, K, bias: 0, mult: 0, ep });
    const got = new Int32Array(ar.memory.buffer.slice(out, out + M * cols * 4));
    // the reference: the stored bytes read as int8 (or as x − 128 for uint8)
    const xs = Float64Array.from(x, (v) => (c.uint8 ? v - 128 : (v << 24) >> 24));
    const patches = new Float64Array(K * P);
    im2col(xs, 0, { C: c.C, H: c.H, W: c.W, OH, OW, win }, patches, 0);
    const want = new Int32Array(M * cols);
    qgemmRef({ M, N: cols, K, a: w, b: patches, bOff: P0, ldb: P, c: want });
    for (let i = 0; i < want.length; i++) {
      if (got[i] !== want[i]) assert.fail(`${what} ${JSON.stringify(c)}: at (row ${Math.floor(i / cols)}, col ${i % cols}) got ${got[i]}, expected ${want[i]}`);
    }
  } finally {
    ar.reset(mark);
  }
}

test('packConv + integer GEMM equal the reference im2col conv bit for bit (bands, strides, dilations, odd K, uint8, tiles)', () => {
  const rng = new Rng(21);
  const cases: Case[] = [
    { C: 1, H: 28, W: 28, k: [5, 5] }, // LeNet-5 conv1: rows of 24 (3 groups of 8)
    { C: 20, H: 12, W: 12, k: [5, 5] }, // conv2: rows of 8
    { C: 3, H: 9, W: 11, k: [3, 3] }, // rows of 9: groups across rows
    { C: 2, H: 7, W: 6, k: [3, 2], band: [5, 13] }, // a band starting and ending mid-row
    { C: 5, H: 10, W: 13, k: [3, 3], s: [2, 2] }, // strided: gathered lanes
    { C: 4, H: 11, W: 12, k: [3, 3], d: [2, 2], uint8: true },
    { C: 3, H: 5, W: 20, k: [1, 3], s: [1, 2], band: [3, 4] },
    { C: 1, H: 4, W: 4, k: [2, 2], uint8: true }, // K = 4, 9 pixels
    { C: 3, H: 6, W: 40, k: [3, 1] }, // odd K = 9, rows of 40
    { C: 7, H: 3, W: 3, k: [3, 3] }, // one pixel, odd K = 63
  ];
  for (const tile of [{ mr: 4, nr: 8, unroll: 1 }, { mr: 3, nr: 12, unroll: 2 }, { mr: 2, nr: 4, unroll: 1 }, { mr: 2, nr: 16, unroll: 1 }]) {
    const q = new WasmQGemm({ tile });
    for (const c of cases) check(q, rng, c, `tile ${tile.mr}×${tile.nr}`);
  }
});

test('packsFromImage: unpadded windows other than 1×1 only', () => {
  assert.equal(packsFromImage(checkWindow2d('t', { kh: 3, kw: 3, pads: [1, 1, 1, 1] })), false);
  assert.equal(packsFromImage(checkWindow2d('t', { kh: 3, kw: 3, pads: [0, 0, 0, 1] })), false);
  assert.equal(packsFromImage(checkWindow2d('t', { kh: 1, kw: 1 })), false);
  assert.equal(packsFromImage(checkWindow2d('t', { kh: 1, kw: 1, strides: [2, 2] })), true);
  assert.equal(packsFromImage(checkWindow2d('t', { kh: 5, kw: 5 })), true);
});
