// 8-bit layers for the C target: a quantized (QDQ) graph runs on integers instead
// of float kernels between QuantizeLinear / DequantizeLinear pairs. Over the
// lowered steps, before the Q→DQ pairs are fused into float steps:
//   DQ(xq) → conv / fc (int8 weights) → Q   becomes one 8-bit layer xq → yq,
//   DQ(xq) → max pool → Q (same scale)      becomes a max pool on xq,
//   DQ(xq) → reshape → Q (same scale)        becomes a reshape of xq,
// and a graph input read only by a Q (an output made by a DQ) is taken (given) in
// its 8-bit form (plan.boundary). Steps left without readers are dropped.
import { findInt8Grid } from '../ir/int_grid.js';
import type { ConvStep, FcStep, PlanStep, Quant8, QuantBoundary, QuantParams, QuantStep } from './plan_types.js';

/** What the pass reads and rewrites (compile/fuse.ts's FuseInput). */
export interface Int8Scope {
  steps: PlanStep[];
  aliases: Map<string, string>;
  inputs: string[];
  outputs: string[];
  boundary: QuantBoundary[];
}

/** One scale and zero point over a whole 8-bit tensor (int8 or uint8). */
function quant8(q: QuantParams): Quant8 | undefined {
  if (q.count !== 1 || q.hi - q.lo !== 255 || (q.lo !== -128 && q.lo !== 0)) return undefined;
  return { scale: q.scale[0], zero: q.zero[0], lo: q.lo, hi: q.hi };
}

function same(a: Quant8, b: Quant8): boolean {
  return a.scale === b.scale && a.zero === b.zero && a.lo === b.lo;
}

class Int8Rewrite {
  private readonly drop = new Set<PlanStep>();

  constructor(private readonly f: Int8Scope) {}

  private root(v: string): string {
    let r = v;
    for (let a = this.f.aliases.get(r); a !== undefined; a = this.f.aliases.get(r)) r = a;
    return r;
  }

  private live(): PlanStep[] {
    return this.f.steps.filter((s) => !this.drop.has(s));
  }

  /** `v` and the reshapes of it (values whose alias chain passes through v). */
  private views(v: string): Set<string> {
    const names = new Set([v]);
    for (const a of this.f.aliases.keys()) {
      for (let r = this.f.aliases.get(a); r !== undefined; r = this.f.aliases.get(r)) if (r === v) names.add(a);
    }
    return names;
  }

  /** The steps reading `v` (directly or through a reshape of it); undefined when it is a graph output. */
  private readers(v: string): PlanStep[] | undefined {
    const names = this.views(v);
    if ([...names].some((n) => this.f.outputs.includes(n))) return undefined;
    return this.live().filter((s) => s.inputs.some((i) => names.has(i)));
  }

  /** The DequantizeLinear (8-bit, per tensor) whose output `v` is, through reshapes. */
  private dequantOf(v: string): { step: QuantStep; q: Quant8 } | undefined {
    const r = this.root(v);
    const step = this.live().find((s): s is QuantStep => s.kind === 'dequantize' && s.outputs[0] === r);
    const q = step && quant8(step.q);
    return step && q ? { step, q } : undefined;
  }

  /** The QuantizeLinear (8-bit, per tensor) that is the only reader of `v`. */
  private soleQuantReader(v: string): { step: QuantStep; q: Quant8 } | undefined {
    const rs = this.readers(v);
    if (!rs || rs.length !== 1 || rs[0].kind !== 'quantize' || rs[0].inputs[0] !== v) return undefined;
    const q = quant8(rs[0].q);
    return q ? { step: rs[0], q } : undefined;
  }

  private absorbQuant(s: PlanStep, input: QuantStep, q: QuantStep): void {
    s.inputs[0] = input.inputs[0];
    s.outputs = [...q.outputs];
    s.nodes.push(...q.nodes);
    this.drop.add(q);
  }

  /** conv / fc with int8-grid weights between a DQ and a Q. */
  layer(s: ConvStep | FcStep): void {
    // a grid format (fixed point, e.g. the intake of this very model) is found again from the values
    if (s.quant || (s.weight.format && s.weight.format.kind !== 'grid')) return;
    const d = this.dequantOf(s.inputs[0]);
    const q = this.soleQuantReader(s.outputs[0]);
    if (!d || !q) return;
    const rows = s.kind === 'fc' ? s.N : s.M;
    const grid = findInt8Grid(s.weight.data, rows);
    if (!grid) return;
    s.quant = { input: d.q, output: q.q, q: grid.q, scale: grid.scale };
    if (s.kind === 'conv') Object.assign(s, { cKernel: undefined, scratch: 0 }); // 8-bit convs sum per pixel, without scratch
    s.kernel = `8-bit ${s.kind === 'fc' ? 'fc' : 'conv'} (int8 weights, int32 sums)`;
    s.reason = `QDQ around it; weights on an int8 grid (${grid.scale.length === 1 ? 'per tensor' : 'per channel'})`;
    this.absorbQuant(s, d.step, q.step);
  }

  /** A max pool keeps the order of values, so it runs on the 8-bit values when the scale does not change. */
  pool(s: PlanStep): void {
    if (!((s.kind === 'pool' || s.kind === 'globalpool') && s.mode === 'max')) return;
    const d = this.dequantOf(s.inputs[0]);
    const q = this.soleQuantReader(s.outputs[0]);
    if (!d || !q || !same(d.q, q.q)) return;
    s.kernel = '8-bit max pool';
    this.absorbQuant(s, d.step, q.step);
  }

  /** Q(DQ(xq)) with one scale is xq itself (seen through a reshape). */
  identity(s: PlanStep): void {
    if (s.kind !== 'quantize') return;
    const q = quant8(s.q);
    const d = this.dequantOf(s.inputs[0]);
    if (!q || !d || !same(d.q, q)) return;
    this.f.aliases.set(s.outputs[0], d.step.inputs[0]);
    this.drop.add(s);
  }

  /** Inputs read only by a Q, outputs made by a DQ: the caller gives and takes the 8-bit values. */
  boundary(): QuantBoundary[] {
    const out: QuantBoundary[] = [];
    this.f.inputs.forEach((x, i) => {
      const rs = this.readers(x);
      const s = rs?.length === 1 ? rs[0] : undefined;
      const q = s?.kind === 'quantize' && s.inputs[0] === x ? quant8(s.q) : undefined;
      if (!s || !q) return;
      out.push({ value: s.outputs[0], graphValue: x, q });
      this.f.inputs[i] = s.outputs[0];
      this.drop.add(s);
    });
    this.f.outputs.forEach((y, i) => {
      const s = this.live().find((t) => t.kind === 'dequantize' && t.outputs[0] === y) as QuantStep | undefined;
      const q = s && quant8(s.q);
      if (!s || !q || this.f.inputs.includes(s.inputs[0]) || this.f.outputs.includes(s.inputs[0])) return;
      out.push({ value: s.inputs[0], graphValue: y, q });
      this.f.outputs[i] = s.inputs[0];
    });
    return out;
  }

  /** Drops steps whose outputs nobody reads (the DQ steps the 8-bit layers bypass). */
  prune(): void {
    for (let changed = true; changed;) {
      changed = false;
      for (const s of this.live()) {
        if (s.outputs.some((o) => this.readers(o)?.length !== 0)) continue;
        this.drop.add(s);
        changed = true;
      }
    }
    this.f.steps = this.live();
  }
}

/** The fusion pass (compile/fuse.ts, target 'c'); records the 8-bit inputs and outputs in f.boundary. */
export function fuseInt8(f: Int8Scope): void {
  const r = new Int8Rewrite(f);
  for (const s of f.steps) r.identity(s);
  for (const s of f.steps) if (s.kind === 'conv' || s.kind === 'fc') r.layer(s);
  for (const s of f.steps) r.pool(s);
  f.boundary = r.boundary();
  r.prune();
}
