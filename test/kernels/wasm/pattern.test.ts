// The pattern conv kernel against the reference conv (src/ir/ref) on the decoded
// weights: every variant of the generated code (storage, layout, tiles at their
// edges, LRE, loop order, unrolling, pair groups, fused multiply-add when the engine
// has it), odd sizes, pads, threads; the pairing itself; every generated module validated.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { NnzipError } from '../../../src/ir/errors.js';
import { Rng } from '../../../src/ir/random.js';
import { WasmArena } from '../../../src/kernels/wasm/arena.js';
import { wasmFeatures } from '../../../src/kernels/wasm/features.js';
import { defaultPatternVariant, patternGeometry, WasmPatternConv } from '../../../src/kernels/wasm/pattern.js';
import { patternModule } from '../../../src/kernels/wasm/pattern_codegen.js';
import { MAX_PAIR_KINDS, PAIR_MIN_SHARED, pairKernels, passKinds } from '../../../src/kernels/wasm/pattern_pairs.js';
import { buildFkw, filterKernels } from '../../../src/format/fkw.js';
import { popcount, REMOVED_KERNEL } from '../../../src/ir/pattern.js';
import { planeFits } from '../../../src/kernels/wasm/pattern_plane_codegen.js';
import type { PatternVariant } from '../../../src/kernels/wasm/pattern_spec.js';
import { NodeThreadPool } from '../../../src/kernels/wasm/thread_pool_node.js';
import { patternWeight } from '../../ir/pattern_weights.js';
import { assertClose, nchw, refConv, refPool } from './helpers.js';

const WA = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
const shared = new WasmArena({ shared: true, maximumBytes: 1 << 28 });
const pool = new NodeThreadPool(shared, 2);
after(() => pool.close());

/** from, from + step, ... below to. */
const range = (from: number, to: number, step: number) => Array.from({ length: Math.ceil((to - from) / step) }, (_, i) => from + i * step);

const ROWS: PatternVariant = { storage: 'fkw', layout: 'rows', rows: 2, vecs: 2, lre: true, order: 'filter', unroll: 1 };
const PAIRS: PatternVariant = { storage: 'fkw', layout: 'pairs', rows: 4, vecs: 4, lre: false, order: 'filter', unroll: 1 };

/** Row tiles at and around the output's edges (1 row/vector, the whole width, one more than it has). */
function variants(OH: number, OW: number, plane: boolean): PatternVariant[] {
  const vtot = Math.ceil(OW / 4);
  const out: PatternVariant[] = [];
  for (const [rows, vecs] of [[1, 1], [2, 3], [OH, vtot], [OH + 1, vtot + 1], [3, 1]]) {
    for (const lre of [true, false]) out.push({ ...ROWS, rows, vecs, lre, order: rows === 3 ? 'tile' : 'filter', unroll: vecs === 3 ? 2 : 1 });
  }
  out.push({ ...ROWS, storage: 'csr', lre: false }, { ...ROWS, storage: 'csr', rows: 1, vecs: vtot + 2, lre: false, order: 'tile' });
  if (plane) for (const vecs of [1, 3, 8]) for (const unroll of [1, 2, 4] as const) out.push({ ...ROWS, layout: 'plane', rows: 1, vecs, lre: false, unroll });
  // pairs: groups of one filter (nothing pairs), a few, more than there are; 1 to 8 vectors a step
  if (plane) for (const [rows, vecs] of [[1, 4], [2, 1], [3, 3], [64, 8], [5, 2]]) out.push({ ...PAIRS, rows, vecs });
  return out;
}

/** Filter m with every kernel removed. */
function emptyFilter(w: Float32Array, assign: Uint8Array, C: number, m: number): void {
  w.fill(0, m * C * 9, (m + 1) * C * 9);
  assign.fill(REMOVED_KERNEL, m * C, (m + 1) * C);
}

function check(arena: WasmArena, C: number, M: number, H: number, W: number, pads: [number, number, number, number], K: number, N: number,
  variant: PatternVariant | undefined, o: { fma?: boolean; withPool?: boolean; seed?: number; stride?: number; emptyFilter?: number; clamp?: [number, number] | null } = {}): void {
  const { w, format } = patternWeight(o.seed ?? C * 131 + M, M, C, K, 0.35);
  if (o.emptyFilter !== undefined) emptyFilter(w, format.assign, C, o.emptyFilter);
  const r = new Rng(H * 7 + W);
  const x = r.floats(N * C * H * W, -1, 1), bias = r.floats(M, -0.5, 0.5);
  const clamp = o.clamp === undefined ? [0, 6] as [number, number] : o.clamp ?? undefined, S = o.stride ?? 1;
  const conv = new WasmPatternConv(arena, { C, M, H, W, pads, stride: S }, w, format, { bias, clamp, variant, fma: o.fma, pool: o.withPool ? pool : undefined });
  const got = conv.conv(N, x);
  const want = refConv({ C, M, kh: 3, kw: 3, pads, strides: [S, S] }, N, H, W, x, w, bias, clamp);
  const g = conv.geo;
  const what = `C ${C} M ${M} ${H}×${W} pads [${pads}] stride ${S} K ${K} N ${N} clamp ${clamp ?? 'none'} ${JSON.stringify(conv.variant)}${o.fma ? ' fma' : ''}${o.withPool ? ' 2 threads' : ''}`;
  assertClose(got, want, (e) => 1e-5 * (1 + Math.abs(e)) * C, what, nchw(M, g.OH, g.OW));
}

test('every variant matches the reference conv at the tile edges (odd sizes, pads 0–2, 1–12 patterns)', () => {
  const arena = new WasmArena({ maximumBytes: 1 << 28 });
  const cases: [number, number, number, number, [number, number, number, number], number][] = [
    [3, 5, 7, 9, [1, 1, 1, 1], 4], [8, 6, 14, 14, [1, 1, 1, 1], 8], [4, 4, 5, 6, [0, 0, 0, 0], 2], [5, 7, 1, 1, [1, 1, 1, 1], 1],
    [6, 3, 3, 13, [2, 1, 0, 1], 12], [2, 9, 6, 4, [1, 2, 1, 0], 3],
  ];
  for (const [C, M, H, W, pads, K] of cases) {
    const g = patternGeometry({ C, M, H, W, pads });
    for (const v of variants(g.OH, g.OW, planeFits(g))) check(arena, C, M, H, W, pads, K, 2, v);
    check(arena, C, M, H, W, pads, K, 1, undefined);
  }
});

test('the plane and pairs stores: whole planes as one run of vectors (rows crossed inside a vector) or row by row (under 4 wide, long periods), clamped below only (ReLU), both or not', () => {
  const arena = new WasmArena({ maximumBytes: 1 << 26 });
  const PLANE: PatternVariant = { ...ROWS, layout: 'plane', rows: 1, vecs: 3, lre: false };
  for (const [H, W] of [[3, 4], [5, 5], [7, 7], [4, 9], [6, 14], [2, 40], [2, 68], [4, 3]]) {
    for (const clamp of [[0, Infinity], null, [-0.2, 0.3]] as ([number, number] | null)[]) {
      for (const v of [PAIRS, { ...PAIRS, rows: 64, vecs: 1 }, PLANE]) check(arena, 3, 5, H, W, [1, 1, 1, 1], 4, 2, v, { clamp });
    }
  }
});

test('stride 2: the plane and pairs layouts on four phase planes match the reference conv (even and odd sizes, pads 0 or 1 above and left, threads)', () => {
  const arena = new WasmArena({ maximumBytes: 1 << 28 });
  const cases: [number, number, number, number, [number, number, number, number], number][] = [
    [8, 6, 14, 14, [1, 1, 1, 1], 8], [3, 5, 9, 7, [1, 1, 1, 1], 4], [4, 4, 15, 16, [1, 1, 1, 1], 3], [5, 7, 8, 6, [0, 0, 1, 1], 6],
    [6, 3, 7, 13, [1, 0, 0, 1], 2], [2, 9, 3, 3, [1, 1, 1, 1], 1], [5, 4, 1, 1, [1, 1, 1, 1], 2], [4, 6, 10, 21, [0, 1, 0, 0], 5],
  ];
  for (const [C, M, H, W, pads, K] of cases) {
    const g = patternGeometry({ C, M, H, W, pads, stride: 2 });
    assert.ok(planeFits(g), `${H}×${W} pads [${pads}]: the phase planes fit`);
    for (const v of variants(g.OH, g.OW, true).filter((v) => v.layout !== 'rows')) check(arena, C, M, H, W, pads, K, 2, v, { stride: 2 });
    check(arena, C, M, H, W, pads, K, 1, undefined, { stride: 2 });
    check(shared, C, M, H, W, pads, K, 3, undefined, { stride: 2, withPool: true });
    if (wasmFeatures().relaxedSimd) check(arena, C, M, H, W, pads, K, 2, undefined, { stride: 2, fma: true });
  }
  // fewer filters than threads: each thread pads the phase rows of its own output rows
  const { w, format } = patternWeight(5, 1, 6, 3, 0.35);
  const x = new Rng(3).floats(6 * 17 * 12, -1, 1);
  const make = (o: { parts?: number; pool?: NodeThreadPool }) => new WasmPatternConv(shared, { C: 6, M: 1, H: 17, W: 12, pads: [1, 1, 1, 1], stride: 2 }, w, format, { variant: PAIRS, ...o });
  assert.deepEqual(make({ pool }).conv(1, x), make({}).conv(1, x), 'output-row parts: bit-identical to one thread');
});

test('stride 2: what it cannot run is one clear error', () => {
  const arena = new WasmArena({ maximumBytes: 1 << 24 });
  const { w, format } = patternWeight(1, 4, 4, 2, 0.35);
  const make = (p: { pads?: [number, number, number, number]; stride?: number }, v?: PatternVariant, maxPool?: { H0: number; W0: number }) =>
    new WasmPatternConv(arena, { C: 4, M: 4, H: 8, W: 8, pads: p.pads ?? [1, 1, 1, 1], stride: p.stride }, w, format, { variant: v, maxPool });
  assert.throws(() => make({ stride: 3 }), /stride 3; the pattern kernel takes stride 1 or 2/);
  assert.throws(() => make({ stride: 2 }, ROWS), /the rows layout takes stride 1, not 2/);
  assert.throws(() => make({ stride: 2, pads: [2, 2, 2, 2] }), /stride 2 needs pads of at most 1 above and left/);
  assert.throws(() => make({ stride: 2 }, PAIRS, { H0: 16, W0: 16 }), /a fused max pool needs a stride-1 conv/);
});

test('fused multiply-add (relaxed SIMD) when the engine has it', { skip: !wasmFeatures().relaxedSimd && 'no relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)' }, () => {
  const arena = new WasmArena({ maximumBytes: 1 << 28 });
  for (const v of variants(7, 7, true)) check(arena, 8, 6, 7, 7, [1, 1, 1, 1], 4, 2, v, { fma: true });
});

test('the default variant: the pairs layout where the pads allow it, else row tiles', () => {
  assert.equal(defaultPatternVariant(patternGeometry({ C: 1, M: 1, H: 14, W: 14, pads: [1, 1, 1, 1] })).layout, 'pairs');
  // large planes: fewer filters per group (their accumulators stay under PAIRS_ACC_BYTES), the plane layout when not 2 fit
  const big = defaultPatternVariant(patternGeometry({ C: 1, M: 1, H: 56, W: 56, pads: [1, 1, 1, 1] }));
  assert.deepEqual([big.layout, big.rows], ['pairs', 20]);
  assert.equal(defaultPatternVariant(patternGeometry({ C: 1, M: 1, H: 224, W: 224, pads: [1, 1, 1, 1] })).layout, 'plane');
  assert.equal(defaultPatternVariant(patternGeometry({ C: 1, M: 1, H: 14, W: 14, pads: [0, 0, 0, 0] })).layout, 'rows');
  assert.equal(defaultPatternVariant(patternGeometry({ C: 1, M: 1, H: 14, W: 14, pads: [1, 2, 1, 0] })).layout, 'rows');
});

test('threads sharing one image: parts are contiguous blocks of output channels of about equal kernel counts (output rows only with fewer filters than parts), bit-identical to one thread', () => {
  const PLANE: PatternVariant = { ...ROWS, layout: 'plane', rows: 1, vecs: 4, lre: false };
  for (const v of [undefined, ROWS, PAIRS, { ...PAIRS, rows: 5 }, { ...PAIRS, rows: 24 }, PLANE]) {
    check(shared, 16, 24, 9, 11, [1, 1, 1, 1], 6, 3, v, { withPool: true });
    const { w, format } = patternWeight(3, 24, 16, 6, 0.3);
    const x = new Rng(5).floats(16 * 9 * 11, -1, 1);
    const make = (o: { parts?: number; pool?: NodeThreadPool }) => new WasmPatternConv(shared, { C: 16, M: 24, H: 9, W: 11, pads: [1, 1, 1, 1] }, w, format, { variant: v, ...o });
    const two = make({ pool }).conv(1, x);
    assert.deepEqual(two, make({ parts: 2 }).conv(1, x), 'bit-identical to one thread running the same parts: rows are split, never a sum');
    // one part: other pair groups, so other sums of the same products
    assertClose(two, make({}).conv(1, x), (e) => 1e-5 * (1 + Math.abs(e)), 'one part');
  }
  const { w, format } = patternWeight(4, 24, 16, 6, 0.3);
  const kernels = filterKernels(format, 24, 16), most = Math.max(...kernels), total = kernels.reduce((a, b) => a + b, 0);
  for (const variant of [ROWS, { ...PAIRS, rows: 5 }, { ...PAIRS, rows: 24 }, PLANE]) {
    for (const parts of [1, 2, 3, 24, 40]) {
      const conv = new WasmPatternConv(shared, { C: 16, M: 24, H: 9, W: 11, pads: [1, 1, 1, 1] }, w, format, { variant, parts });
      const fkw = conv.fkw, n = Math.min(parts, 24), what = `${JSON.stringify(variant)}, ${parts} parts`;
      assert.equal(fkw.parts.length - 1, n, what);
      let next = 0;
      for (let t = 0; t < n; t++) {
        const filters = Array.from(fkw.reorder.subarray(fkw.parts[t], fkw.parts[t + 1])).sort((a, b) => a - b);
        assert.deepEqual(filters, Array.from({ length: filters.length }, (_, i) => next + i), `${what}: part ${t} is the next block of output channels`);
        next += filters.length;
        const sum = filters.reduce((a, m) => a + kernels[m], 0);
        assert.ok(Math.abs(sum + filters.length - (total + 24) / n) <= 2 * (most + 1), `${what}: part ${t} has ${sum} of ${total} kernels`);
        const counts = filters.map((m) => kernels[m]);
        if (variant.layout !== 'pairs') assert.deepEqual(Array.from(fkw.reorder.subarray(fkw.parts[t], fkw.parts[t + 1]), (m) => kernels[m]), counts.sort((a, b) => b - a), 'FKR within the part');
      }
      if (variant.layout === 'pairs') {
        const starts = [...conv.pairs!.starts];
        for (const r of fkw.parts) assert.ok(starts.includes(r), `${what}: no group crosses a part`);
        starts.slice(1).forEach((r, i) => assert.ok(r > starts[i] && r - starts[i] <= variant.rows, `${what}: groups of 1..G rows`));
      }
      const split = conv.imageParts(), rows = conv.outputRanges(parts);
      if (variant.layout !== 'rows' && n < parts) assert.deepEqual(split, rows.map(([y0, y1]) => ({ r0: 0, r1: 24, y0, y1 })), what);
      else assert.deepEqual(split, Array.from({ length: n }, (_, t) => ({ r0: fkw.parts[t], r1: fkw.parts[t + 1], y0: 0, y1: 9 })), what);
      rows.forEach(([y0, y1], i) => { assert.ok(y1 > y0); if (i) assert.equal(y0, rows[i - 1][1]); });
    }
  }
  assert.throws(() => new WasmPatternConv(shared, { C: 16, M: 24, H: 9, W: 11, pads: [1, 1, 1, 1] }, w, format, { parts: 0 }), /parts=0/);
});

test('ranges of output rows, each padding its own rows into planes of its own (NaN elsewhere), give the whole plane\'s output bit for bit', () => {
  const arena = new WasmArena({ maximumBytes: 1 << 26 });
  const cases: [number, number, number, number][] = [[6, 9, 7, 7], [5, 8, 14, 14], [3, 5, 9, 13], [4, 3, 2, 5], [7, 6, 1, 6]];
  const variants: PatternVariant[] = [PAIRS, { ...PAIRS, rows: 3, vecs: 8 }, { ...PAIRS, rows: 64, vecs: 1 }, { ...ROWS, layout: 'plane', rows: 1, vecs: 3, lre: false, unroll: 2 }];
  for (const [C, M, H, W] of cases) {
    const { w, format } = patternWeight(C * 7 + H, M, C, 4, 0.4);
    const x = new Rng(H + W).floats(C * H * W, -1, 1), bias = new Rng(M).floats(M, -0.5, 0.5);
    for (const variant of variants) {
      const conv = new WasmPatternConv(arena, { C, M, H, W, pads: [1, 1, 1, 1] }, w, format, { bias, clamp: [-1, 1], variant });
      const whole = conv.conv(1, x), OH = conv.geo.OH;
      for (const parts of [2, 3, OH]) {
        const ranges = conv.outputRanges(parts), set = conv.padBytes + conv.accBytes;
        const mark = arena.used, xAt = arena.allocF32(x.length), yAt = arena.allocF32(whole.length), sets = arena.alloc(ranges.length * set);
        arena.f32(xAt, x.length).set(x);
        arena.f32(sets, (ranges.length * set) / 4).fill(NaN); // a valid output reading a row its part did not pad would be NaN
        ranges.forEach(([y0, y1], t) => {
          const e = conv.exports, at = sets + t * set;
          e.pad(xAt, at, 0, C, y0, y1);
          e.conv(...(conv.convCall(at, yAt, at + conv.padBytes, 0, M, y0, y1).args as Parameters<typeof e.conv>));
        });
        assert.deepEqual(arena.f32(yAt, whole.length).slice(), whole, `C ${C} M ${M} ${H}×${W} ${JSON.stringify(variant)}: ${ranges.length} parts ${JSON.stringify(ranges)}`);
        arena.reset(mark);
      }
    }
  }
});

test('touch reads one word of every 64-byte line of its range (their or)', () => {
  const arena = new WasmArena({ maximumBytes: 1 << 24 });
  const conv = new WasmPatternConv(arena, { C: 2, M: 2, H: 4, W: 4, pads: [1, 1, 1, 1] }, patternWeight(1, 2, 2, 1, 1).w, patternWeight(1, 2, 2, 1, 1).format);
  const at = arena.alloc(4096);
  const view = new Int32Array(arena.memory.buffer, at, 1024);
  view.fill(0);
  for (let line = 0; line < 64; line++) view[line * 16] = 1 << (line % 31);
  view[1] = 1 << 31; // not the line's first word: not read
  assert.equal(conv.exports.touch(at, 64 * 10), 0b1111111111);
  assert.equal(conv.exports.touch(at + 64, 64 * 2 + 1), 0b1110, 'a range ending inside a line reads that line too');
  assert.equal(conv.exports.touch(at, 0), 0);
});

test('pairs: every kernel runs once, in a pair sharing taps or alone; pair kinds are capped; init passes write each row once, first', () => {
  for (const [M, C, K, G, cut, empty] of [[24, 16, 6, 8, 0, -1], [9, 5, 3, 4, 0, -1], [40, 12, 20, 40, 0, -1], [3, 2, 1, 1, 0, -1], [24, 16, 6, 8, 11, 5], [40, 12, 20, 40, 17, 30]]) {
    const { w, format } = patternWeight(M + C, M, C, K, 0.5);
    if (empty >= 0) emptyFilter(w, format.assign, C, empty);
    const fkw = buildFkw(w, [M, C, 3, 3], format, cut ? { parts: [[0, cut], [cut, M]] } : {});
    const p = pairKernels(fkw, G), order = passKinds(p.kinds, K), groups = p.starts.length - 1;
    assert.deepEqual([...p.starts], cut ? [...range(0, cut, G), ...range(cut, M, G), M] : [...range(0, M, G), M], 'groups of G from each part\'s start');
    assert.ok(p.kinds.length <= MAX_PAIR_KINDS);
    let paired = 0, zeros = 0;
    const seen = new Set<string>();
    for (let g = 0; g < groups; g++) {
      let e = p.firstEntry[g];
      const written = new Set<number>();
      order.forEach(({ patterns, write }, kind) => {
        for (let n = 0; n < p.counts[g * order.length + kind]; n++, e++) {
          const [channel, a, b] = p.entries.subarray(3 * e, 3 * e + 3);
          const rows = patterns.length === 2 ? [a, b] : [a];
          if (patterns.length === 2) {
            paired += 2;
            assert.notEqual(a, b, 'two filters');
            assert.ok(popcount(fkw.masks[patterns[0]] & fkw.masks[patterns[1]]) >= PAIR_MIN_SHARED);
          }
          for (const r of rows) {
            assert.ok(p.starts[g] + r < p.starts[g + 1]);
            if (write) { assert.ok(!written.has(r), `row ${r} written by one init pass`); written.add(r); } else assert.ok(written.has(r), 'init passes run before a row is added to');
            if (!patterns.length) { zeros++; continue; }
            const key = `${p.starts[g] + r}:${channel}`;
            assert.ok(!seen.has(key), `kernel ${key} runs once`);
            seen.add(key);
          }
        }
      });
      assert.equal(written.size, p.starts[g + 1] - p.starts[g], 'every row of the group written by an init pass');
    }
    assert.equal(seen.size, fkw.offset[M], 'every kept kernel');
    assert.equal(paired, p.paired);
    if (empty >= 0) assert.ok(zeros >= 1, 'a row with no kernel: zeros stored');
    assert.equal(p.weights.length, fkw.weights.length, 'every weight once');
    if (G > 1 && M > 8) assert.ok(p.paired > fkw.offset[M] / 2, `most kernels pair (${p.paired} of ${fkw.offset[M]})`);
    if (G === 1) assert.equal(p.paired, 0, 'one filter per group: nothing pairs');
  }
  // many patterns: more pair kinds than code is generated for, the rest run alone (still the reference's output)
  const arena = new WasmArena({ maximumBytes: 1 << 26 });
  check(arena, 12, 40, 6, 6, [1, 1, 1, 1], 20, 1, { ...PAIRS, rows: 40 }, { seed: 2 });
  // a filter with no kernel: its output is the clamped bias
  for (const fma of wasmFeatures().relaxedSimd ? [false, true] : [false]) check(arena, 12, 40, 6, 6, [1, 1, 1, 1], 20, 2, { ...PAIRS, rows: 8 }, { seed: 3, emptyFilter: 9, fma });
});

test('a fused 2×2 max pool in the pad step equals the reference pool then conv (odd sizes, both layouts)', () => {
  const arena = new WasmArena({ maximumBytes: 1 << 26 });
  for (const [H0, W0] of [[14, 14], [15, 9], [7, 22]]) {
    const H = Math.floor(H0 / 2), W = Math.floor(W0 / 2), C = 5, M = 6;
    const { w, format } = patternWeight(H0, M, C, 3, 0.5);
    const x = new Rng(W0).floats(2 * C * H0 * W0, -1, 1);
    const pooled = refPool({ kind: 'max', kh: 2, kw: 2, strides: [2, 2] }, 2, C, H0, W0, x);
    const want = refConv({ C, M, kh: 3, kw: 3, pads: [1, 1, 1, 1] }, 2, H, W, pooled, w);
    for (const variant of [undefined, ROWS]) {
      const conv = new WasmPatternConv(arena, { C, M, H, W, pads: [1, 1, 1, 1] }, w, format, { variant, maxPool: { H0, W0 } });
      assertClose(conv.conv(2, x), want, (e) => 1e-5 * (1 + Math.abs(e)), `pool ${H0}×${W0} ${conv.variant.layout}`, nchw(M, H, W));
    }
  }
  assert.throws(() => new WasmPatternConv(arena, { C: 2, M: 2, H: 4, W: 4, pads: [1, 1, 1, 1] }, patternWeight(1, 2, 2, 1, 1).w, patternWeight(1, 2, 2, 1, 1).format,
    { maxPool: { H0: 10, W0: 8 } }), /a fused 2×2 pool of 10×8 gives 5×4, not the conv's 4×4/);
});

test('FKR off (filters in order) gives the same output', () => {
  const arena = new WasmArena({ maximumBytes: 1 << 26 });
  const { w, format } = patternWeight(8, 10, 7, 5, 0.4);
  const x = new Rng(9).floats(7 * 8 * 8, -1, 1);
  const a = new WasmPatternConv(arena, { C: 7, M: 10, H: 8, W: 8, pads: [1, 1, 1, 1] }, w, format).conv(1, x);
  const b = new WasmPatternConv(arena, { C: 7, M: 10, H: 8, W: 8, pads: [1, 1, 1, 1] }, w, format, { reorder: false }).conv(1, x);
  assert.deepEqual(b, a);
});

test('generated modules validate; bad input is one clear error', () => {
  const geo = patternGeometry({ C: 3, M: 2, H: 5, W: 5, pads: [1, 1, 1, 1] });
  for (const v of variants(5, 5, true)) {
    for (const fma of wasmFeatures().relaxedSimd ? [false, true] : [false]) assert.ok(WA.validate(patternModule({ geo, masks: [0b10111, 0b11010000], variant: v, pairKinds: v.layout === 'pairs' ? [[0, 0], [0, 1], [1, 1]] : undefined, fma, shared: false })));
  }
  const arena = new WasmArena({ maximumBytes: 1 << 24 });
  const { w, format } = patternWeight(1, 2, 3, 2, 0.5);
  const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof NnzipError && re.test((e as Error).message));
  bad(() => new WasmPatternConv(arena, { C: 3, M: 2, H: 5, W: 5, pads: [1, 1, 1, 1] }, w.subarray(1), format), /weights have 53 values, \[2,3,3,3\] needs 54/);
  bad(() => new WasmPatternConv(arena, { C: 3, M: 2, H: 5, W: 5, pads: [1, 1, 1, 1] }, w, format, { bias: new Float32Array(3) }), /bias has 3 values, needs M=2/);
  bad(() => new WasmPatternConv(arena, { C: 3, M: 2, H: 1, W: 1, pads: [0, 0, 0, 0] }, w, format), /smaller than the 3×3 window/);
  bad(() => new WasmPatternConv(arena, { C: 3, M: 2, H: 5, W: 5, pads: [0, 0, 0, 0] }, w, format, { variant: { ...ROWS, layout: 'plane' } }), /plane layout needs pads of 1/);
  bad(() => new WasmPatternConv(arena, { C: 3, M: 2, H: 5, W: 5, pads: [1, 0, 1, 0] }, w, format, { variant: PAIRS }), /pairs layout needs pads of 1/);
  bad(() => new WasmPatternConv(arena, { C: 3, M: 2, H: 5, W: 5, pads: [1, 1, 1, 1] }, w, format, { variant: { ...PAIRS, rows: 0 } }), /groups of 1 or more filters, not 0/);
  bad(() => new WasmPatternConv(arena, { C: 3, M: 2, H: 5, W: 5, pads: [1, 1, 1, 1] }, w, format).conv(1, new Float32Array(7)), /input has 7 values/);
});
