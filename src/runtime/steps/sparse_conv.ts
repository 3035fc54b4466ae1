// Sparse convolution: per image and group, im2col (skipped for 1×1) then the CSR
// weights times the patch matrix, rows stored straight as NCHW output with the
// bias and clamp fused (helper-8's spmm); weights uploaded once, never densified.
import { isPointwise } from '../../compile/lower_layers.js';
import type { ConvStep } from '../../compile/plan_types.js';
import type { SparseConvLayer } from '../../kernels/wasm/sparse.js';
import { at, prepared, scratchAt, type BindEnv, type StepExecutor } from './env.js';
import { clampBounds, csrOf } from './fc.js';

export function bindSparseConv(s: ConvStep, env: BindEnv): StepExecutor {
  const k = env.kernels, win = s.win, G = s.group;
  const Cg = s.C / G, Mg = s.M / G, K = Cg * win.kh * win.kw;
  const layer: SparseConvLayer = prepared(env, s, 'csr', () => k.sparse.prepareConv(
    csrOf(s.weight, s.M, K, `node "${s.name}": weight "${s.weight.name}"`),
    {
      C: s.C, M: s.M, group: G, kh: win.kh, kw: win.kw, pads: [win.padT, win.padL, win.padB, win.padR],
      strides: [win.sh, win.sw], dilations: [win.dh, win.dw],
    },
    { bias: s.bias }));
  const clampAt = clampBounds(env, s, true);
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]), col = scratchAt(env, s);
  const w = layer.csr, e = w.exports, bias = layer.bias, direct = isPointwise(win);
  const { N, C, H, W, OH, OW } = s, P = OH * OW, os = s.outImageStride;
  return {
    run: () => {
      for (let n = 0; n < N; n++) {
        for (let g = 0; g < G; g++) {
          const xg = x + (n * C + g * Cg) * H * W * 4;
          if (!direct) e.im2col(xg, Cg, H, W, win.kh, win.kw, OH, OW, win.sh, win.sw, win.dh, win.dw, win.padT, win.padL, col);
          e.spmm(w.rowPtr + g * Mg * 4, w.colIdx, w.vals, w.table, direct ? xg : col, P, y + (n * os + g * Mg * P) * 4, P,
            bias && bias + g * Mg * 4, Mg, P, 0, clampAt);
        }
      }
    },
  };
}
