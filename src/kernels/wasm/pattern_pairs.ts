// The pattern conv's 'pairs' layout (plane padding, pattern_plane_codegen.ts emitPairs):
// the FKW rows in groups of G filters, each group's accumulator planes together; within
// a group, two kernels on the same input channel (of two filters) run as one pass over
// the plane, every input vector both read loaded once. A lone kernel costs 1.25 loads
// per multiply-add (its 4 taps and the accumulator, per 4 products), a pair sharing its
// 4 taps 0.75 (3 taps: 0.875): under the machine's 2 loads per cycle at its peak of 2
// multiply-adds per cycle (a pair's pass alone runs at ~94% of that peak, a lone
// kernel's at ~70%). Kernels pair greedily by shared taps (at least
// PAIR_MIN_SHARED); each group's passes run pair kind by pair kind (then the lone
// kernels pattern by pattern), so one group's accumulation order is fixed whatever
// threads share the groups out (results are bit-exact across splits). A group first
// runs its init passes, which write their rows' accumulators instead of adding to
// them: one per row (a lone kernel of it, else a pair of two rows not yet written, else
// a pass storing zeros), so no pass fills every accumulator with the bias beforehand
// (the store adds it).
import { maskTaps, popcount } from '../../ir/pattern.js';
import type { Fkw } from '../../format/fkw.js';

/** Two kernels pair when their patterns share at least this many taps (the centre and one more). */
export const PAIR_MIN_SHARED = 2;

/** Pair kinds a module is generated for at most (the most frequent; the rest run as lone kernels). */
export const MAX_PAIR_KINDS = 40;

/** One pass of a group: its input channel, its rows' positions in the group, their weights. */
interface Pass { channel: number; rows: [number, number]; weights: number[] }

/** A kept kernel: its FKW row, pattern, input channel and first weight. */
interface Kernel { row: number; pattern: number; channel: number; weight: number }

export interface PairsLayout {
  /** First FKW row of each group (groups + 1 entries, the last M): each part's rows (fkw.parts) in groups of G from its start. */
  starts: Int32Array;
  /** Pattern pairs [p, q] (p ≤ q) with generated code, in the order every group runs them; then the K lone kinds. */
  kinds: [number, number][];
  /** Per group: passes per kind of passKinds (init passes write their rows' accumulators: every row of the group exactly once). */
  counts: Int32Array;
  /** Per group: its first entry (3 i32 each: channel, first and second row of the group, 0 for a lone kernel). */
  firstEntry: Int32Array;
  /** Per group: its first weight. */
  firstWeight: Int32Array;
  /** 3 per pass: input channel, the two rows' positions within their group. */
  entries: Int32Array;
  weights: Float32Array;
  /** Kernels that run in pairs (for tests and notes). */
  paired: number;
}

/** A kind of pass: its kernels' patterns (two: a pair, one: a lone kernel, none: zeros stored) and whether it writes the accumulators (init) or adds to them. */
export interface PassKind { patterns: number[]; write: boolean }

/** The pass kinds every group runs, in order (its counts' order): init passes (pairs, lone kernels, zeros), then the adding ones (pairs, lone kernels). */
export function passKinds(pairKinds: readonly (readonly [number, number])[], K: number): PassKind[] {
  const patterns = [...pairKinds.map(([a, b]) => [a, b]), ...Array.from({ length: K }, (_, p) => [p])];
  return [...patterns.map((pats) => ({ patterns: pats, write: true })), { patterns: [], write: true }, ...patterns.map((pats) => ({ patterns: pats, write: false }))];
}

/** The kernels of FKW row r. */
function rowKernels(fkw: Fkw, r: number): Kernel[] {
  const K = fkw.masks.length, out: Kernel[] = [];
  let k = fkw.offset[r], w = fkw.weightOffset[r];
  for (let p = 0; p < K; p++) {
    for (let j = 0; j < fkw.stride[r * K + p]; j++, k++) {
      out.push({ row: r, pattern: p, channel: fkw.index[k], weight: w });
      w += popcount(fkw.masks[p]);
    }
  }
  return out;
}

/** The first row of each group of up to G rows, each part (first rows `parts`, M last) in groups from its start; M last. */
export function groupStarts(parts: ArrayLike<number>, G: number): Int32Array {
  const starts: number[] = [];
  for (let t = 0; t + 1 < parts.length; t++) for (let r = parts[t]; r < parts[t + 1]; r += G) starts.push(r);
  starts.push(parts[parts.length - 1]);
  return Int32Array.from(starts);
}

/** Pairs the kernels of FKW rows in groups of up to G within each part (see the header). */
export function pairKernels(fkw: Fkw, G: number): PairsLayout {
  const K = fkw.masks.length, starts = groupStarts(fkw.parts, G), groups = starts.length - 1;
  type Pair = [Kernel, Kernel];
  const taps = (p: number) => maskTaps(fkw.masks[p]).length;
  const perGroup: { pairs: Pair[]; lone: Kernel[] }[] = [];
  for (let g = 0; g < groups; g++) {
    const byChannel = new Map<number, Kernel[]>();
    for (let r = starts[g]; r < starts[g + 1]; r++) {
      for (const k of rowKernels(fkw, r)) {
        const list = byChannel.get(k.channel) ?? [];
        list.push(k);
        byChannel.set(k.channel, list);
      }
    }
    const pairs: Pair[] = [], lone: Kernel[] = [];
    for (const [, ks] of [...byChannel].sort((a, b) => a[0] - b[0])) {
      const candidates: [number, number, number][] = [];
      for (let i = 0; i < ks.length; i++) {
        for (let j = i + 1; j < ks.length; j++) {
          const shared = popcount(fkw.masks[ks[i].pattern] & fkw.masks[ks[j].pattern]);
          if (shared >= PAIR_MIN_SHARED) candidates.push([shared, i, j]);
        }
      }
      candidates.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
      const used = new Set<number>();
      for (const [, i, j] of candidates) {
        if (used.has(i) || used.has(j)) continue;
        used.add(i).add(j);
        const [a, b] = ks[i].pattern <= ks[j].pattern ? [ks[i], ks[j]] : [ks[j], ks[i]];
        pairs.push([a, b]);
      }
      ks.forEach((k, i) => { if (!used.has(i)) lone.push(k); });
    }
    perGroup.push({ pairs, lone });
  }
  // the most frequent pair kinds get code; pairs of the others run as two lone kernels
  const freq = new Map<number, number>();
  for (const { pairs } of perGroup) for (const [a, b] of pairs) freq.set(a.pattern * K + b.pattern, (freq.get(a.pattern * K + b.pattern) ?? 0) + 1);
  const kept = new Set([...freq].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, MAX_PAIR_KINDS).map(([k]) => k));
  const kinds = [...kept].sort((a, b) => a - b).map((k) => [Math.floor(k / K), k % K] as [number, number]);
  const kindOf = new Map(kinds.map(([p, q], i) => [p * K + q, i]));
  const NK = kinds.length + K, order = passKinds(kinds, K);
  const counts = new Int32Array(groups * order.length), firstEntry = new Int32Array(groups), firstWeight = new Int32Array(groups);
  const entries: number[] = [], weights: number[] = [];
  let paired = 0;
  perGroup.forEach(({ pairs, lone }, g) => {
    const passes: Pass[][] = Array.from({ length: NK }, () => []);
    const w = (k: Kernel) => Array.from(fkw.weights.subarray(k.weight, k.weight + taps(k.pattern)));
    for (const [a, b] of pairs) {
      const kind = kindOf.get(a.pattern * K + b.pattern);
      if (kind === undefined) { lone.push(a, b); continue; }
      passes[kind].push({ channel: a.channel, rows: [a.row - starts[g], b.row - starts[g]], weights: [...w(a), ...w(b)] });
    }
    for (const k of lone) passes[kinds.length + k.pattern].push({ channel: k.channel, rows: [k.row - starts[g], 0], weights: w(k) });
    const init = initPasses(passes, kinds.length, starts[g + 1] - starts[g]);
    firstEntry[g] = entries.length / 3;
    firstWeight[g] = weights.length;
    [...init, ...passes].forEach((list, kind) => {
      // channel order within a kind: neighbouring passes read neighbouring planes
      list.sort((x, y) => x.channel - y.channel || x.rows[0] - y.rows[0]);
      counts[g * order.length + kind] = list.length;
      for (const p of list) {
        entries.push(p.channel, ...p.rows);
        weights.push(...p.weights);
        if (order[kind].patterns.length === 2) paired += 2;
      }
    });
  });
  return { starts, kinds, counts, firstEntry, firstWeight, entries: Int32Array.from(entries), weights: Float32Array.from(weights), paired };
}

/**
 * Takes one init pass per row of a group (`rows` rows) out of its passes per kind (P pair kinds, then
 * one lone kind per pattern), as passKinds' init lists (with the zeros last): a lone kernel of the row
 * where it has one, else a pair of two rows neither written yet (greedily, then rematched along paths
 * r–s, s–t, t–u where s and t were one init pair: r–s and t–u become two), else zeros stored.
 */
function initPasses(passes: Pass[][], P: number, rows: number): Pass[][] {
  const init = new Set<Pass>(), writer = new Map<number, Pass>();
  const pairs = passes.slice(0, P).flat(), isPair = new Set(pairs), byRow = new Map<number, Pass[]>();
  for (const p of pairs) for (const r of p.rows) byRow.set(r, byRow.get(r) ?? []).get(r)!.push(p);
  const other = (p: Pass, r: number) => (p.rows[0] === r ? p.rows[1] : p.rows[0]);
  const take = (p: Pass, rs: readonly number[]) => { init.add(p); for (const r of rs) writer.set(r, p); };
  for (const p of passes.slice(P).flat()) if (!writer.has(p.rows[0])) take(p, [p.rows[0]]);
  for (const p of pairs) if (!writer.has(p.rows[0]) && !writer.has(p.rows[1])) take(p, p.rows);
  /** r–s–t–u: s and t written by one pair, u by none; r–s and t–u take its place. */
  const rematch = (r: number) => {
    for (const p1 of byRow.get(r) ?? []) {
      const s = other(p1, r), m = writer.get(s);
      if (!m || !isPair.has(m) || init.has(p1)) continue;
      const t = other(m, s);
      const p2 = (byRow.get(t) ?? []).find((q) => !init.has(q) && !writer.has(other(q, t)) && other(q, t) !== r);
      if (!p2) continue;
      init.delete(m);
      take(p1, p1.rows);
      take(p2, p2.rows);
      return;
    }
  };
  for (let r = 0; r < rows; r++) if (!writer.has(r)) rematch(r);
  const out = passes.map((list) => list.filter((p) => init.has(p)));
  passes.forEach((list, k) => { passes[k] = list.filter((p) => !init.has(p)); });
  out.push(Array.from({ length: rows }, (_, r) => r).filter((r) => !writer.has(r)).map((r) => ({ channel: 0, rows: [r, 0], weights: [] })));
  return out;
}
