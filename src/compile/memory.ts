// Memory planning: every value computed at run time gets a buffer; reshapes share
// their source's buffer, concat inputs written in place live inside the concat's,
// and an elementwise step may overwrite an input read for the last time. Buffers
// (and each step's scratch) are live from their first writer to their last reader;
// offsets in one region are assigned greedily by size (largest first, into the
// tightest gap among buffers live at the same time), so dead buffers are reused.
// The C target packs tighter (4-byte alignment, no vector tails).
import type { ValueType } from '../ir/ops.js';
import { DTYPE_BYTES, sizeOf } from '../ir/tensor.js';
import type { View } from './concat_inplace.js';
import type { BufferRole, MemoryPlan, PlanBuffer, PlanStep, PlanValue } from './plan_types.js';

/** Buffers start on a cache line; each gets at least 16 bytes of room past its end for vector tails. */
export const ALIGN = 64;
const TAIL = 16;

/** How buffers are laid out in the region: start alignment and bytes kept free past each end. */
export interface RegionLayout {
  align: number;
  tail: number;
}

export const WASM_REGION: RegionLayout = { align: ALIGN, tail: TAIL };
/** C kernels read no vectors past a buffer's end; 4 bytes align float and int32. */
export const C_REGION: RegionLayout = { align: 4, tail: 0 };

export interface Interval {
  bytes: number;
  first: number;
  last: number;
}

/** Offsets for intervals so that no two live at the same time overlap; returns the offsets and the total size. */
export function assignOffsets(items: readonly Interval[], layout: RegionLayout = WASM_REGION): { offsets: number[]; total: number } {
  const size = (b: number) => Math.ceil((b + layout.tail) / layout.align) * layout.align;
  const order = items.map((_, i) => i).sort((a, b) => items[b].bytes - items[a].bytes || items[a].first - items[b].first);
  const placed: { off: number; end: number; first: number; last: number }[] = [];
  const offsets = new Array<number>(items.length).fill(0);
  let total = 0;
  for (const i of order) {
    const it = items[i];
    if (it.bytes === 0) continue;
    const need = size(it.bytes);
    const live = placed.filter((p) => p.first <= it.last && it.first <= p.last).sort((a, b) => a.off - b.off);
    let best = -1, bestGap = Infinity, cursor = 0;
    for (const p of live) {
      const gap = p.off - cursor;
      if (gap >= need && gap < bestGap) { best = cursor; bestGap = gap; }
      cursor = Math.max(cursor, p.end);
    }
    if (best < 0) best = cursor;
    placed.push({ off: best, end: best + need, first: it.first, last: it.last });
    offsets[i] = best;
    total = Math.max(total, best + need);
  }
  return { offsets, total };
}

export interface MemoryInput {
  steps: PlanStep[];
  aliases: ReadonlyMap<string, string>;
  views: ReadonlyMap<string, View>;
  types: ReadonlyMap<string, ValueType>;
  /** Fed graph inputs and graph outputs. */
  inputs: readonly string[];
  outputs: readonly string[];
  layout?: RegionLayout;
}

/** Steps that may write their output over input 0 (same size, elementwise or row-local). */
const IN_PLACE = new Set(['clamp', 'unary', 'affine', 'fakequant', 'softmax', 'binary']);

class Builder {
  readonly values = new Map<string, PlanValue>();
  readonly buffers: PlanBuffer[] = [];
  private readonly def = new Map<string, number>();
  private readonly last = new Map<string, number>(); // per alias root

  constructor(private readonly m: MemoryInput) {
    m.inputs.forEach((v) => this.def.set(v, -1));
    m.steps.forEach((s, i) => s.outputs.forEach((v) => this.def.set(v, i)));
    const touch = (v: string, i: number) => { const r = this.root(v); this.last.set(r, Math.max(this.last.get(r) ?? -1, i)); };
    m.steps.forEach((s, i) => s.inputs.forEach((v) => touch(v, i)));
    m.outputs.forEach((v) => touch(v, m.steps.length));
  }

  root(v: string): string {
    let r = v;
    for (let a = this.m.aliases.get(r); a !== undefined; a = this.m.aliases.get(r)) r = a;
    return r;
  }

  value(name: string): PlanValue {
    const known = this.values.get(name);
    if (known) return known;
    const t = this.m.types.get(name);
    if (!t) throw new Error(`planner: value "${name}" has no type`);
    const bytes = sizeOf(t.shape) * DTYPE_BYTES[t.dtype];
    const v: PlanValue = { name, dtype: t.dtype, shape: [...t.shape], bytes, buffer: -1, offset: 0 };
    if (t.value && !this.m.inputs.includes(name)) v.const = t.value;
    this.values.set(name, v);
    return v;
  }

  newBuffer(bytes: number, role: BufferRole): PlanBuffer {
    const b: PlanBuffer = { id: this.buffers.length, bytes, role, first: Infinity, last: -Infinity, offset: 0, values: [] };
    this.buffers.push(b);
    return b;
  }

  put(v: PlanValue, b: PlanBuffer, offset: number): void {
    v.buffer = b.id;
    v.offset = offset;
    b.values.push(v.name);
    const d = this.def.get(this.root(v.name)) ?? -1;
    b.first = Math.min(b.first, d);
    b.last = Math.max(b.last, d, this.last.get(this.root(v.name)) ?? d);
    if (this.m.outputs.includes(v.name)) b.role = 'output';
  }

  /** A buffer for a value written by step i (or a graph input, i = -1). */
  place(name: string, i: number): void {
    const v = this.value(name);
    if (v.const || v.buffer >= 0) return;
    const view = this.m.views.get(name);
    if (view) {
      const into = this.value(view.into);
      if (into.buffer < 0) this.put(into, this.newBuffer(into.bytes, 'intermediate'), 0);
      this.put(v, this.buffers[into.buffer], view.offset);
      return;
    }
    const reuse = i >= 0 ? this.inPlaceBuffer(this.m.steps[i], i, v) : undefined;
    this.put(v, reuse ?? this.newBuffer(v.bytes, i < 0 ? 'input' : 'intermediate'), 0);
  }

  /** The buffer of an input the step reads for the last time, when it may write over it. */
  private inPlaceBuffer(s: PlanStep, i: number, out: PlanValue): PlanBuffer | undefined {
    if (!IN_PLACE.has(s.kind)) return undefined;
    if (s.kind === 'binary' && [s.a, s.b].some((o) => o.value === s.inputs[0] && o.strides.some((st, d) => st === 0 && s.shape[d] > 1))) return undefined;
    const rootX = this.root(s.inputs[0]); // a reshape's buffer is its source's (aliases are placed at the end)
    const x = this.values.get(rootX);
    if (!x || x.buffer < 0 || x.offset !== 0 || x.bytes !== out.bytes) return undefined;
    const b = this.buffers[x.buffer];
    // not a concat's buffer (its slices are other values), and nothing in it is read after this step
    if (b.role !== 'intermediate' || b.bytes !== x.bytes || b.values.some((n) => this.m.views.has(n))) return undefined;
    return b.last === i ? b : undefined;
  }

  /** Aliases take their root's buffer and offset. */
  resolveAliases(): void {
    for (const name of this.m.aliases.keys()) {
      const v = this.value(name);
      const r = this.value(this.root(name));
      if (r.const) { v.const = r.const; continue; }
      if (r.buffer < 0) continue;
      this.put(v, this.buffers[r.buffer], r.offset);
    }
  }
}

export function planMemory(m: MemoryInput): { values: Map<string, PlanValue>; memory: MemoryPlan } {
  const b = new Builder(m);
  m.inputs.forEach((v) => b.place(v, -1));
  m.steps.forEach((s, i) => {
    s.inputs.forEach((v) => b.value(v));
    s.outputs.forEach((v) => b.place(v, i));
  });
  b.resolveAliases();
  m.outputs.forEach((v) => b.value(v));
  const scratch = m.steps.map((s) => (s.scratch > 0 ? b.newBuffer(s.scratch, 'scratch') : undefined));
  scratch.forEach((buf, i) => { if (buf) { buf.first = i; buf.last = i; } });
  const { offsets, total } = assignOffsets(b.buffers, m.layout);
  b.buffers.forEach((buf, i) => (buf.offset = offsets[i]));
  m.steps.forEach((s, i) => (s.scratchAt = scratch[i]?.offset ?? 0));
  let intermediateBytes = 0;
  for (const s of m.steps) for (const o of s.outputs) if (!m.outputs.includes(o)) intermediateBytes += b.value(o).bytes;
  return {
    values: b.values,
    memory: {
      buffers: b.buffers, regionBytes: total, intermediateBytes,
      scratchBytes: Math.max(0, ...m.steps.map((s) => s.scratch)),
    },
  };
}
