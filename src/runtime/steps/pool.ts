// Pooling: windowed max / average on the WebAssembly kernel (average divisors as
// per-row and per-column reciprocal tables, uploaded once per shape), and the
// global reductions over each plane in JS (one pass over the data).
import type { GlobalPoolStep, PoolStep } from '../../compile/plan_types.js';
import { axisInverses, poolPadded } from '../../kernels/wasm/pool.js';
import { POOL_EXPORTS } from '../../kernels/wasm/pool_codegen.js';
import { share, type PoolCall } from '../../kernels/wasm/thread_pool.js';
import { at, poolRunner, prepared, scratchAt, type BindEnv, type StepExecutor } from './env.js';

export function bindPool(s: PoolStep, env: BindEnv): StepExecutor {
  const k = env.kernels, w = s.win;
  const kern = k.pool2d({ kind: s.mode, kh: w.kh, kw: w.kw, sh: w.sh, sw: w.sw, dh: w.dh, dw: w.dw });
  const { N, C, H, W, OH, OW } = s;
  const tables = s.mode === 'avg'
    ? prepared(env, s, `inverses ${H}x${W}`, () => ({
      h: k.upload(axisInverses(OH, H, w.kh, w.padT, w.padB, w.sh, w.dh, s.countIncludePad)),
      w: k.upload(axisInverses(OW, W, w.kw, w.padL, w.padR, w.sw, w.dw, s.countIncludePad)),
    }))
    : { h: 0, w: 0 };
  const { PH, PW } = poolPadded(s);
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]), os = s.outImageStride;
  const planeBytes = Math.floor(s.scratch / s.split);
  /** Channels [c0, c1) of image n (or all N·C planes at once when the output is contiguous). */
  const args = (n: number, c0: number, c1: number, pbuf: number): number[] => [
    x + (n * C + c0) * H * W * 4, y + (n * os + c0 * OH * OW) * 4, c1 - c0, H, W, OH, OW, pbuf, PH, PW, w.padT, w.padL, tables.h, tables.w,
  ];
  const calls = (c0: number, c1: number, pbuf: number): number[][] =>
    os === C * OH * OW && c0 === 0 && c1 === C
      ? [args(0, 0, C, pbuf).map((v, i) => (i === 2 ? N * C : v))]
      : Array.from({ length: N }, (_, n) => args(n, c0, c1, pbuf));
  if (s.split > 1 && env.pool) {
    const parts: PoolCall[][] = [];
    for (let t = 0; t < s.split; t++) {
      const [c0, c1] = share(C, s.split, t);
      const list = c1 > c0 ? calls(c0, c1, scratchAt(env, s) + t * planeBytes) : [];
      parts.push(list.map((a) => ({ key: kern.key, fn: POOL_EXPORTS.pool, args: a })));
    }
    return { run: poolRunner(env.pool, parts) };
  }
  const e = kern.exports.pool as (...a: number[]) => void;
  const list = calls(0, C, scratchAt(env, s));
  if (list.length === 1) {
    const [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13] = list[0];
    return { run: () => e(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13) };
  }
  return { run: () => { for (const a of list) e(...a); } };
}

export function bindGlobalPool(s: GlobalPoolStep, env: BindEnv): StepExecutor {
  const views = env.views, { planes, size } = s;
  const x = at(env, s.inputs[0]) >> 2, y = at(env, s.outputs[0]) >> 2;
  if (s.mode === 'avg') {
    return {
      run: () => {
        const f = views.f32;
        for (let p = 0, i = x; p < planes; p++) {
          let acc = 0;
          for (const end = i + size; i < end; i++) acc += f[i];
          f[y + p] = acc / size;
        }
      },
    };
  }
  return {
    run: () => {
      const f = views.f32;
      for (let p = 0, i = x; p < planes; p++) {
        let acc = -Infinity;
        for (const end = i + size; i < end; i++) if (f[i] > acc) acc = f[i];
        f[y + p] = acc;
      }
    },
  };
}
