// Fully connected steps: the dense packed GEMM (weights packed once as B panels,
// the activations packed as A per call, bias + clamp in the epilogue), and the
// sparse CSR / CSC kernels running the compressed weights as stored.
import type { FcStep, PlanStep, PlanWeight } from '../../compile/plan_types.js';
import { codebookUsable } from '../../compile/cost.js';
import { csrFromCodebook, csrFromDense, type CsrMatrix } from '../../kernels/sparse_format.js';
import { gemmArgs, splitGemm } from '../../kernels/wasm/gemm.js';
import type { SparseFcLayer } from '../../kernels/wasm/sparse.js';
import { at, poolRunner, prepared, scratchAt, type BindEnv, type StepExecutor } from './env.js';

/** The CSR matrix of a weight in [rows × cols] layout: codebook codes when the kernel can take them, else f32 values. */
export function csrOf(w: PlanWeight, rows: number, cols: number, where: string): CsrMatrix {
  if (codebookUsable(w) && w.format?.kind === 'codebook') return csrFromCodebook(w.format.centroids, w.format.indices, rows, cols, where);
  return csrFromDense(w.data, rows, cols, where);
}

/** Clamp bounds in the arena (the spmm and depthwise kernels read them from memory); 0 = none unless `always`. */
export function clampBounds(env: BindEnv, s: PlanStep & { clamp?: [number, number] }, always = false): number {
  const c = s.clamp ?? (always ? [-Infinity, Infinity] : undefined);
  if (!c) return 0;
  return prepared(env, s, `clamp ${c[0]},${c[1]}`, () => env.kernels.upload(Float32Array.of(c[0], c[1])));
}

export function bindDenseFc(s: FcStep, env: BindEnv): StepExecutor {
  const k = env.kernels, gemm = k.gemm, e = gemm.exports;
  const w = prepared(env, s, 'dense', () => ({
    b: gemm.prepackB(s.weight.data, s.K, s.N, true).offset, bias: s.bias ? k.upload(s.bias) : 0,
  }));
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]), pa = scratchAt(env, s);
  const { M, N, K } = s, transA = s.transA ? 1 : 0, lda = s.transA ? M : K;
  const g = gemmArgs(M, N, K, pa, w.b, y, { bias: w.bias, biasPer: 'col', clamp: s.clamp });
  if (s.split > 1 && env.pool) {
    const parts = splitGemm(g, gemm.variant, s.split).map((part, t) => [gemm.call(part, t)]);
    const runParts = poolRunner(env.pool, parts);
    return { run: () => { e.packA(x, lda, transA, M, K, pa); runParts(); } };
  }
  const gs = k.gemmScratch;
  return {
    run: () => {
      e.packA(x, lda, transA, M, K, pa);
      e.gemm(g.pa, g.pb, g.c, g.ldc, g.M, g.N, g.K, g.bias, g.mode, 0, g.clamp, g.lo, g.hi, gs);
    },
  };
}

export function bindSparseFc(s: FcStep, env: BindEnv): StepExecutor {
  const k = env.kernels;
  const batch1 = s.impl === 'sparse-auto' ? 'auto' : s.impl === 'csc' ? 'csc' : 'csr';
  const layer: SparseFcLayer = prepared(env, s, `sparse ${batch1}`, () =>
    k.sparse.prepareFc(csrOf(s.weight, s.N, s.K, `node "${s.name}": weight "${s.weight.name}"`), { bias: s.bias, batch1 }));
  const x = at(env, s.inputs[0]), y = at(env, s.outputs[0]);
  const [lo, hi] = s.clamp ?? [-Infinity, Infinity];
  const { csr, csc, bias } = layer;
  const e = csr.exports;
  if (s.M > 1) {
    const xt = scratchAt(env, s), clampAt = clampBounds(env, s, true);
    const { M, N, K } = s;
    return {
      run: () => {
        e.transpose(x, M, K, xt);
        e.spmm(csr.rowPtr, csr.colIdx, csr.vals, csr.table, xt, M, y, N, bias, N, M, 1, clampAt);
      },
    };
  }
  const runCsr = () => e.spmv(csr.rowPtr, csr.colIdx, csr.vals, csr.table, x, y, bias, layer.out, lo, hi);
  if (!csc) return { run: runCsr };
  const t = csc.exports;
  const runCsc = () => t.spmvT(csc.rowPtr, csc.colIdx, csc.vals, csc.table, x, y, bias, layer.in, layer.out, lo, hi);
  if (layer.batch1 === 'csc') return { run: runCsc };
  const from = layer.cscFromZeros, inDim = layer.in;
  return { run: () => (e.zeros(x, inDim) >= from ? runCsc() : runCsr()) };
}
