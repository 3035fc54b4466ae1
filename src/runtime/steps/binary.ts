// Add / Sub / Mul / Div with numpy broadcasting on float32: a plain loop when
// both operands have the output's shape, else one loop per output row with the
// operand offsets advanced by an odometer over the outer dims (no allocation).
// A constant operand is read from its own array.
import type { BinaryOperand, BinaryStep } from '../../compile/plan_types.js';
import { stridesOf } from '../../ir/util.js';
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
  const row = ROWS[s.fn], views = env.views, shape = s.shape, rank = shape.length;
  const a = operand(env, s.a), b = operand(env, s.b), y = at(env, s.outputs[0]) >> 2;
  const total = shape.reduce((p, d) => p * d, 1);
  const dense = stridesOf(shape).join();
  if (a.strides.join() === dense && b.strides.join() === dense) {
    return { run: () => { const f = views.f32; row(f, y, a.data ?? f, a.off, 1, b.data ?? f, b.off, 1, total); } };
  }
  const n = rank === 0 ? 1 : shape[rank - 1];
  const sa = rank === 0 ? 0 : a.strides[rank - 1], sb = rank === 0 ? 0 : b.strides[rank - 1];
  const rows = n === 0 ? 0 : total / n;
  const idx = new Int32Array(Math.max(rank - 1, 1));
  return {
    run: () => {
      const f = views.f32, fa = a.data ?? f, fb = b.data ?? f;
      idx.fill(0);
      let oa = a.off, ob = b.off;
      for (let r = 0; r < rows; r++) {
        row(f, y + r * n, fa, oa, sa, fb, ob, sb, n);
        for (let d = rank - 2; d >= 0; d--) {
          idx[d]++;
          oa += a.strides[d];
          ob += b.strides[d];
          if (idx[d] < shape[d]) break;
          oa -= a.strides[d] * shape[d];
          ob -= b.strides[d] * shape[d];
          idx[d] = 0;
        }
      }
    },
  };
}
