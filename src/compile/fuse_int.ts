// QDQ units into integer steps (what onnxruntime's QDQ transformer does): a conv
// or fc whose input is dequantized from int8 / uint8 (per tensor), whose weights
// are on an integer grid, and whose output (after a fused ReLU / Clip) is only
// quantized again, runs on the integer kernels from the quantized input to the
// quantized output; so do max / average pooling, reshapes and concats between a
// DequantizeLinear and a QuantizeLinear of the same parameters, and an Add of two
// dequantized tensors of the output's shape (rescaled; a ReLU / Clip after it
// becomes its bounds). The float values in between disappear, and DequantizeLinear steps nobody reads any more are
// dropped: a quantized graph runs integer-only from its first QuantizeLinear to
// its last DequantizeLinear. A unit the integer kernels cannot take stays float,
// its reason written on the step (describe() shows it). The one integer fusion of
// both targets: the C backend emits the same integer steps (backends/c/kernels/
// qlayer.ts); a kind it has no C kernel for yet (INT_KINDS) stays float there.
// For C, quantBoundary then takes the graph's inputs and outputs in 8-bit form.
import { cQConvPlanes } from './conv_layout.js';
import { findInt8Grid } from '../ir/int_grid.js';
import { addMultipliers, dequantizeValue, quantizeValue } from '../ir/quant.js';
import { broadcastStrides } from '../ir/util.js';
import type { QInType } from '../kernels/wasm/qgemm.js';
import { type FuseInput, sameParams, useCounts } from './fuse_base.js';
import { intLayer, type QOperand } from './int_layer.js';
import { chooseQConv, floatWinogradWins, qconvStep, qfcStep } from './lower_int.js';
import type {
  BinaryStep, ClampStep, ConvStep, FcStep, PlanStep, PlanTarget, PlanWeight, PoolStep, Quant8, QuantBoundary, QuantParams, QuantStep,
} from './plan_types.js';

/** The integer units each target has kernels for ('avg pool': a qpool averaging). */
const INT_KINDS: Record<PlanTarget, ReadonlySet<string>> = {
  wasm: new Set(['conv', 'fc', 'max pool', 'avg pool', 'add', 'concat']),
  c: new Set(['conv', 'fc', 'max pool', 'avg pool', 'global max pool', 'add', 'concat']),
};

export function fuseInt(f: FuseInput): void {
  const producer = new Map<string, PlanStep>();
  for (const s of f.steps) for (const o of s.outputs) producer.set(o, s);
  const uses = useCounts(f);
  const root = (v: string): string => {
    let r = v;
    for (let a = f.aliases.get(r); a !== undefined; a = f.aliases.get(r)) r = a;
    return r;
  };
  const dtype = (v: string) => f.types.get(v)?.dtype;
  /** The per-tensor DequantizeLinear of int8 / uint8 that `v` is (through reshapes). */
  const dq = (v: string): QuantStep | undefined => {
    const p = producer.get(root(v));
    const t = p && dtype(p.inputs[0]);
    return p?.kind === 'dequantize' && p.q.count === 1 && (t === 'int8' || t === 'uint8') ? p : undefined;
  };
  /** The per-tensor QuantizeLinear that is the only reader of `v`. */
  const soleQ = (v: string): QuantStep | undefined => {
    if (uses.get(v) !== 1 || f.outputs.includes(v)) return undefined;
    const q = f.steps.find((s): s is QuantStep => s.kind === 'quantize' && s.inputs[0] === v);
    return q && q.q.count === 1 ? q : undefined;
  };
  /** A float clamp step (ReLU, Clip) that is the only reader of `v`. */
  const soleClamp = (v: string): ClampStep | undefined => {
    if (uses.get(v) !== 1 || f.outputs.includes(v)) return undefined;
    return f.steps.find((s): s is ClampStep => s.kind === 'clamp' && s.inputs[0] === v);
  };
  const operand = (d: QuantStep): QOperand => ({ dtype: dtype(d.inputs[0]) as QInType, scale: d.q.scale[0], zero: d.q.zero[0] });
  const replace = new Map<PlanStep, PlanStep>(), drop = new Set<PlanStep>();
  const done = (s: PlanStep, by: PlanStep, q: QuantStep) => {
    if (f.target === 'c') by.scratch = by.kind === 'qconv' ? cQConvPlanes(by).bytes : 0; // C: no patches or panels; a conv sums one plane at a time
    replace.set(s, by);
    drop.add(q);
  };
  /** False (and the reason on the step) when the target has no integer kernel for this unit. */
  const can = (s: PlanStep, unit: string) => {
    if (INT_KINDS[f.target].has(unit)) return true;
    s.reason += `; float: the ${f.target.toUpperCase()} backend has no integer ${unit} kernel yet`;
    return false;
  };

  for (const s of f.steps) {
    if (s.kind === 'conv' || s.kind === 'fc') {
      const d = dq(s.inputs[0]), q = soleQ(s.outputs[0]);
      if (!d || !q) continue;
      const step = intStep(s, d, q, operand(d), dtype(q.outputs[0]), f);
      if (typeof step === 'string') s.reason += `; float: ${step}`;
      else done(s, step, q);
    } else if (s.kind === 'pool') {
      const d = dq(s.inputs[0]), q = soleQ(s.outputs[0]);
      if (!d || !q || !sameParams(d.q, q.q) || dtype(q.outputs[0]) !== dtype(d.inputs[0]) || !can(s, `${s.mode} pool`)) continue;
      done(s, poolStep(s, d, q, dtype(d.inputs[0]) as QInType), q);
    } else if (s.kind === 'globalpool' && s.mode === 'max') {
      // the same step on the 8-bit values (exact: dequantization is monotonic); WASM has no such kernel yet
      const d = dq(s.inputs[0]), q = soleQ(s.outputs[0]);
      if (!d || !q || !sameParams(d.q, q.q) || dtype(q.outputs[0]) !== dtype(d.inputs[0]) || !can(s, 'global max pool')) continue;
      done(s, { ...s, inputs: [d.inputs[0]], outputs: [...q.outputs], nodes: [...s.nodes, ...q.nodes], kernel: `${s.kernel} (8-bit)` }, q);
    } else if (s.kind === 'quantize') {
      // DQ → reshapes → Q of the same parameters: the same integers, seen with another shape
      const d = dq(s.inputs[0]);
      if (!d || !sameParams(d.q, s.q) || dtype(s.outputs[0]) !== dtype(d.inputs[0]) || f.outputs.includes(s.outputs[0])) continue;
      f.aliases.set(s.outputs[0], d.inputs[0]);
      drop.add(s);
    } else if (s.kind === 'binary' && s.fn === 'Add') {
      const [da, db] = [dq(s.a.value), dq(s.b.value)];
      const clamp = soleClamp(s.outputs[0]);
      const q = soleQ(clamp ? clamp.outputs[0] : s.outputs[0]);
      const t = da && dtype(da.inputs[0]), dense = broadcastStrides(s.shape, s.shape).join();
      if (!da || !db || !q || dtype(db.inputs[0]) !== t || dtype(q.outputs[0]) !== t || s.a.strides.join() !== dense || s.b.strides.join() !== dense) continue;
      const r = Math.max(da.q.scale[0], db.q.scale[0]) / q.q.scale[0];
      if (!(r < 2 ** 19)) { s.reason += `; float: the output scale is ${r.toExponential(1)} times finer than the inputs'`; continue; }
      if (!can(s, 'add')) continue;
      done(s, addStep(s, da, db, q, clamp, t as QInType), q);
      if (clamp) drop.add(clamp);
    } else if (s.kind === 'concat') {
      const q = soleQ(s.outputs[0]);
      const ds = s.inputs.map(dq);
      if (!q || ds.some((d) => !d || !sameParams(d.q, q.q) || dtype(d.inputs[0]) !== dtype(q.outputs[0])) || !can(s, 'concat')) continue;
      const ints = ds.map((d) => d!.inputs[0]);
      done(s, {
        ...s, inputs: ints, outputs: [...q.outputs], nodes: [...s.nodes, ...q.nodes], elemBytes: 1, kernel: 'concat int8 (copy)',
        parts: s.parts.map((p, i) => ({ ...p, value: ints[i] })),
      }, q);
    }
  }
  f.steps = f.steps.filter((s) => !drop.has(s)).map((s) => replace.get(s) ?? s);
  dropUnread(f);
}

/** The integer conv / fc of a float layer between `d` and `q`, or why not. */
function intStep(s: ConvStep | FcStep, d: QuantStep, q: QuantStep, input: QOperand, out: string | undefined, f: FuseInput): PlanStep | string {
  if (out !== 'int8' && out !== 'uint8' && out !== 'int16') return `the output is quantized to ${out}`;
  if (s.kind === 'fc' && s.transA) return 'transA has no integer kernel';
  const [rows, K] = s.kind === 'fc' ? [s.N, s.K] : [s.M, (s.C / s.group) * s.win.kh * s.win.kw];
  const grid = gridRows(s.weight, rows, K);
  if (typeof grid === 'string') return grid;
  const layer = intLayer({
    input, weight: grid, channels: rows, K, bias: s.bias && { float: s.bias },
    output: { dtype: out, scale: q.q.scale[0], zero: q.q.zero[0], clamp: s.clamp },
  });
  if (typeof layer === 'string') return layer;
  const choice = s.kind === 'conv' ? chooseQConv(s, layer, f.target, f.winograd) : undefined;
  const float = s.kind === 'conv' ? floatWinogradWins(s, choice!) : undefined;
  if (float) return float;
  const base = { name: s.name, op: s.op, nodes: [...s.nodes, ...q.nodes], inputs: [d.inputs[0]], outputs: [...q.outputs] };
  // the float step's split stands (threshold 0): the planner already weighed its flops
  const step = s.kind === 'fc' ? qfcStep(base, s.M, s.N, s.K, layer, s.split, 0) : qconvStep(base, s, layer, s.split, 0, choice);
  // an fc has no integer cost model yet: the float kernel's estimate stands as an upper bound
  return { ...step, estNs: choice?.estNs ?? s.estNs };
}

/** The weight's integers by output row ([rows × K]), checked against the values it runs with (a folded BatchNorm breaks the grid). */
function gridRows(w: PlanWeight, rows: number, K: number): { q: ArrayLike<number>; zero: ArrayLike<number>; scale: ArrayLike<number> } | string {
  // float weights without a format (a QDQ graph's folded DequantizeLinear): their int8 grid, if they are on one
  const found = w.format === undefined ? findInt8Grid(w.data, rows) : undefined;
  const g = found ? { kind: 'grid' as const, q: found.q, scale: found.scale, zero: undefined, axis: 0 } : w.format;
  if (g?.kind !== 'grid') return 'the weights are not on an integer grid (quantize them first)';
  if (g.scale.length !== 1 && (g.axis !== 0 || g.scale.length !== rows)) return `the weight scales run along axis ${g.axis}, not the output channels`;
  if (g.q.length !== rows * K) return 'the weight grid does not match the weights';
  const per = (a: ArrayLike<number>, r: number) => a[a.length === 1 ? 0 : r];
  const zero = g.zero ?? [0];
  for (let i = 0; i < g.q.length; i++) {
    const r = Math.floor(i / K);
    if (Math.fround(dequantizeValue(g.q[i], per(g.scale, r), per(zero, r))) !== w.data[i]) return `the weights no longer match their grid (${w.derived ?? 'changed'})`;
  }
  return { q: g.q, zero, scale: g.scale };
}

function poolStep(s: PoolStep, d: QuantStep, q: QuantStep, dtype: QInType): PlanStep {
  return {
    name: s.name, op: s.op, nodes: [...s.nodes, ...q.nodes], inputs: [d.inputs[0]], outputs: [...q.outputs],
    kernel: `${s.mode} pool ${dtype}`, reason: `${s.mode === 'max' ? 'separable, exact on the integers' : 'rounded half to even'}`,
    split: 1, scratch: s.W + 64, scratchAt: 0, // a row of the window's vertical maxima
    kind: 'qpool', mode: s.mode, dtype, N: s.N, C: s.C, H: s.H, W: s.W, OH: s.OH, OW: s.OW, win: s.win,
    countIncludePad: s.countIncludePad, outImageStride: s.outImageStride,
  };
}

/** The integer Add of two dequantized tensors, its output quantized (after a clamp, if any). */
function addStep(s: BinaryStep, da: QuantStep, db: QuantStep, q: QuantStep, clamp: ClampStep | undefined, dtype: QInType): PlanStep {
  const [sy, zy] = [q.q.scale[0], q.q.zero[0]];
  const m = addMultipliers(da.q.scale[0] / sy, db.q.scale[0] / sy);
  const lo = clamp && clamp.lo > -Infinity ? quantizeValue(clamp.lo, sy, zy, q.q.lo, q.q.hi) : q.q.lo;
  const hi = clamp && clamp.hi < Infinity ? quantizeValue(clamp.hi, sy, zy, q.q.lo, q.q.hi) : q.q.hi;
  return {
    name: s.name, op: s.op, nodes: [...s.nodes, ...(clamp?.nodes ?? []), ...q.nodes], inputs: [da.inputs[0], db.inputs[0]], outputs: [...q.outputs],
    kernel: `add ${dtype}${clamp ? ' + clamp' : ''}`, reason: 'rescaled in fixed point', split: 1, scratch: 64, scratchAt: 0,
    kind: 'qadd', n: s.shape.reduce((p, d) => p * d, 1), dtype, za: da.q.zero[0], zb: db.q.zero[0], zy, ...m, lo, hi,
  };
}

/** Drops (de)quantize steps whose outputs nobody reads any more (a reshape of a value is a reader only while it is read). */
function dropUnread(f: FuseInput): void {
  for (;;) {
    const live = new Set<string>([...f.outputs, ...f.steps.flatMap((s) => s.inputs)]);
    for (let grew = true; grew;) {
      grew = false;
      for (const [view, src] of f.aliases) if (live.has(view) && !live.has(src)) { live.add(src); grew = true; }
    }
    const dead = f.steps.filter((s) => (s.kind === 'dequantize' || s.kind === 'quantize') && !s.outputs.some((o) => live.has(o)));
    if (dead.length === 0) return;
    f.steps = f.steps.filter((s) => !dead.includes(s));
  }
}

/** One scale and zero point over a whole 8-bit tensor (int8 or uint8). */
function quant8(q: QuantParams): Quant8 | undefined {
  if (q.count !== 1 || q.hi - q.lo !== 255 || (q.lo !== -128 && q.lo !== 0)) return undefined;
  return { scale: q.scale[0], zero: q.zero[0], lo: q.lo, hi: q.hi };
}

/**
 * C target, after fuseInt: a graph input read only by a QuantizeLinear and an output
 * made by a DequantizeLinear are taken and given in their 8-bit form (f.boundary),
 * so an all-integer model has no float at all.
 */
export function quantBoundary(f: FuseInput): void {
  const uses = useCounts(f);
  const drop = new Set<PlanStep>();
  f.inputs.forEach((x, i) => {
    const s = uses.get(x) === 1 ? f.steps.find((t): t is QuantStep => t.kind === 'quantize' && t.inputs[0] === x) : undefined;
    const q = s && quant8(s.q);
    if (!s || !q) return;
    f.boundary.push({ value: s.outputs[0], graphValue: x, q });
    f.inputs[i] = s.outputs[0];
    drop.add(s);
  });
  f.outputs.forEach((y, i) => {
    const s = f.steps.find((t): t is QuantStep => t.kind === 'dequantize' && t.outputs[0] === y);
    const q = s && quant8(s.q);
    if (!s || !q || f.outputs.includes(s.inputs[0]) || f.inputs.includes(s.inputs[0])) return;
    f.boundary.push({ value: s.inputs[0], graphValue: y, q } satisfies QuantBoundary);
    f.outputs[i] = s.inputs[0];
    drop.add(s);
  });
  f.steps = f.steps.filter((s) => !drop.has(s));
}
