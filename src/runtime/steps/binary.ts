// Add / Sub / Mul / Div with numpy broadcasting on float32, and a fused Relu / Clip:
// the WASM kernel (activation_codegen.ts) when both operands are in the arena with
// the output's shape; else one loop per output row (the operands' offsets from
// forEachRow), then the clamp kernel. A constant operand is read from its own array.
import type { BinaryOperand, BinaryStep } from '../../compile/plan_types.js';
import { broadcastStrides, forEachRow, lastStrides } from '../../ir/util.js';
import { at, constant, type BindEnv, type StepExecutor } from './env.js';

type Row = (y: Float32Array, o: number, a: Float32Array, ai: number, as: number, b: Float32Array, bi: number, bs: number, n: number) => void;

const ROWS: Record<BinaryStep['fn'], Row> = {
  Add: (y, o, a, ai, as, b, bi, bs, n) => { for (let i = 0; i < n; i++) y[o + i] = a[ai + i * as] + b[bi + i * bs]; },
  Sub: (y, o, a, ai, as, b, bi, bs, n) => { for (let i = 0; i < n; i++) y[o + i] = a[ai + i * as] - b[bi + i * bs]; },
  Mul: (y, o, a, ai, as, b, bi, bs, n) => { for (let i = 0; i < n; i++) y[o + i] = a[ai + i * as] * b[bi + i * bs]; },
  Div: (y, o, a, ai, as, b, bi, bs, n) => { for (let i = 0; i < n; i++) y[o + i] = a[ai + i * as] / b[bi + i * bs]; },
};

interface Operand { data?: Float32Array; off: number; strides: number[] }

function operand(env: BindEnv, o: BinaryOperand): Operand {
  const c = constant(env, o.value);
  return c ? { data: c.data as Float32Array, off: 0, strides: o.strides } : { off: at(env, o.value) >> 2, strides: o.strides };
}

export function bindBinary(s: BinaryStep, env: BindEnv): StepExecutor {
  const e = env.kernels.elementwise().exports, [lo, hi] = s.clamp ?? [-Infinity, Infinity];
  const a = operand(env, s.a), b = operand(env, s.b), y = at(env, s.outputs[0]);
  const total = s.shape.reduce((p, d) => p * d, 1), dense = broadcastStrides(s.shape, s.shape).join();
  if (!a.data && !b.data && a.strides.join() === dense && b.strides.join() === dense) {
    const kernel = e[KERNELS[s.fn]];
    return { run: () => kernel(a.off << 2, b.off << 2, y, total, lo, hi) };
  }
  const loop = rowLoop(s, env.views, a, b, y >> 2);
  return { run: s.clamp ? () => { loop(); e.clamp(y, y, total, lo, hi); } : loop };
}

const KERNELS = { Add: 'add', Sub: 'sub', Mul: 'mul', Div: 'div' } as const;

/** The step (without its clamp) as row loops over the arena's float view (ir/util.ts forEachRow); a constant operand from its own array. */
function rowLoop(s: BinaryStep, views: BindEnv['views'], a: Operand, b: Operand, y: number): () => void {
  const row = ROWS[s.fn], shape = s.shape, n = shape.length === 0 ? 1 : shape[shape.length - 1];
  const strides = [a.strides, b.strides], [sa, sb] = lastStrides(strides);
  return () => {
    const f = views.f32, fa = a.data ?? f, fb = b.data ?? f;
    forEachRow(shape, strides, (o, offs) => row(f, y + o, fa, a.off + offs[0], sa, fb, b.off + offs[1], sb, n));
  };
}
