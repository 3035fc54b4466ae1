// The cost-model glue: which kernel runs a layer whose weights are stored
// compressed (graph.formats), from the calibrated model in kernels/wasm/sparse.ts,
// with the reason written out for describe(): `csr (density 8.1%, est 2.1 µs vs dense 9.8 µs)`.
// Also: when a step is worth splitting over threads.
import { MAX_CENTROIDS } from '../kernels/csr.js';
import type { ConvKernel } from '../kernels/wasm/conv.js';
import { convKernelCosts, cscZeroThreshold, fcKernelCosts, spmmWeightNs } from '../kernels/wasm/sparse.js';
import { sampleBands, sparseParts } from '../kernels/wasm/sparse_split.js';
import type { KernelsMode, PlanWeight } from './plan_types.js';

/**
 * Smallest step split over threads: 4 MFLOP (~0.25 ms of one thread's work). A hand-off
 * to a spinning worker takes ~1 µs, but between runs the worker sleeps and waking it
 * costs tens of µs on a quiet machine (hundreds on a busy one), so small steps stay on one thread.
 */
export const SPLIT_FLOPS = 1 << 22;

/** Threads a step of `flops` is split over: all of them from `minFlops` on, else 1. */
export function partsFor(flops: number, threads: number, minFlops = SPLIT_FLOPS): number {
  return threads > 1 && flops >= minFlops ? threads : 1;
}

export function formatUs(ns: number): string {
  const us = ns / 1000;
  return us >= 100 ? `${us.toFixed(0)} µs` : us >= 10 ? `${us.toFixed(1)} µs` : `${us.toFixed(2)} µs`;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;
}

/** Stored (non-zero) weights: pruned entries and zero centroids do not count. */
export function storedCount(w: PlanWeight): number {
  const f = w.format;
  let n = 0;
  if (f?.kind === 'codebook' && !w.derived) {
    const k = f.centroids.length;
    for (let i = 0; i < f.indices.length; i++) if (f.indices[i] < k && f.centroids[f.indices[i]] !== 0) n++;
    return n;
  }
  const d = w.data;
  for (let i = 0; i < d.length; i++) if (d[i] !== 0) n++;
  return n;
}

/** Whether the codebook kernel (uint8 codes) can run this weight as stored. */
export function codebookUsable(w: PlanWeight): boolean {
  return w.format?.kind === 'codebook' && !w.derived && w.format.centroids.length <= MAX_CENTROIDS;
}

function formatName(w: PlanWeight): string {
  if (w.format?.kind === 'grid') return `${w.format.bits}-bit grid decoded to f32`;
  if (w.format?.kind !== 'codebook') return 'sparse';
  return codebookUsable(w) ? `codebook ${w.format.centroids.length} centroids` : 'codebook decoded to f32 (over 256 centroids or transformed)';
}

export interface Decision<K extends string> {
  impl: K;
  reason: string;
  estNs?: number;
}

export type FcImpl = 'dense' | 'csr' | 'csc' | 'sparse-auto';

/**
 * Kernel for Y[batch×out] = X·Wᵀ. `inputZeros`: expected fraction of zero inputs
 * (about half after a ReLU), which the batch-1 CSC kernel skips.
 */
export function chooseFc(w: PlanWeight, out: number, inDim: number, batch: number, mode: KernelsMode, inputZeros: number): Decision<FcImpl> {
  if (!w.format) {
    const est = fcKernelCosts(out, inDim, out * inDim, batch).dense;
    return { impl: 'dense', reason: `weights stored dense, est ${formatUs(est)}`, estNs: est };
  }
  const nnz = storedCount(w);
  const density = out * inDim ? nnz / (out * inDim) : 0;
  const c = fcKernelCosts(out, inDim, nnz, batch, { inputZeros });
  const what = `${formatName(w)}, density ${pct(density)}`;
  if (mode === 'dense') {
    return { impl: 'dense', reason: `kernels: 'dense' forced (${what}; csr est ${formatUs(c.csr)}), est ${formatUs(c.dense)}`, estNs: c.dense };
  }
  const best = Math.min(c.csr, c.csc);
  if (c.dense < best) {
    return { impl: 'dense', reason: `${what}, est ${formatUs(c.dense)} vs csr ${formatUs(c.csr)}: dense wins`, estNs: c.dense };
  }
  if (batch <= 1 && cscZeroThreshold(out, inDim, nnz) < 1) {
    const from = cscZeroThreshold(out, inDim, nnz);
    return {
      impl: 'sparse-auto', estNs: best,
      reason: `${what}, est ${formatUs(best)} vs dense ${formatUs(c.dense)}; csr or csc per call (csc from ${pct(from)} zero inputs)`,
    };
  }
  const impl = c.csc < c.csr ? 'csc' : 'csr';
  return { impl, reason: `${what}, est ${formatUs(best)} vs dense ${formatUs(c.dense)}`, estNs: best };
}

/** Kernel for a conv whose dense kernel (by geometry) is `dense`; the cost is per image. */
export function chooseConv(w: PlanWeight, dense: ConvKernel, g: { Mg: number; K: number; group: number; pixels: number; N: number },
  mode: KernelsMode): Decision<ConvKernel | 'csr'> {
  const total = g.Mg * g.group * g.K;
  const nnz = w.format ? storedCount(w) : total;
  const c = convKernelCosts(g.Mg, g.K, Math.min(Math.round(nnz / g.group), g.Mg * g.K), g.pixels);
  const perCall = (ns: number) => ns * g.group * g.N;
  if (!w.format || dense === 'depthwise') {
    const why = dense === 'depthwise' ? `group = C = M = ${g.group}` : dense === 'pointwise' ? '1×1, stride 1, no pads: the input is the GEMM operand' : 'patches unfolded, then GEMM';
    const stored = w.format ? `; ${formatName(w)} weights run dense (no sparse depthwise kernel)` : '';
    const est = dense === 'depthwise' ? undefined : perCall(c.dense);
    return { impl: dense, reason: `${why}${stored}${est === undefined ? '' : `, est ${formatUs(est)}`}`, estNs: est };
  }
  const what = `${formatName(w)}, density ${pct(total ? nnz / total : 0)}`;
  if (mode === 'dense') {
    return { impl: dense, reason: `kernels: 'dense' forced (${what}; csr est ${formatUs(perCall(c.csr))}), est ${formatUs(perCall(c.dense))}`, estNs: perCall(c.dense) };
  }
  if (c.csr < c.dense) {
    return { impl: 'csr', reason: `${what}, est ${formatUs(perCall(c.csr))} vs dense ${formatUs(perCall(c.dense))}`, estNs: perCall(c.csr) };
  }
  return { impl: dense, reason: `${what}, est ${formatUs(perCall(c.dense))} vs csr ${formatUs(perCall(c.csr))}: dense wins`, estNs: perCall(c.dense) };
}

/**
 * How a sparse FC is shared out. Batch 1: rows of the weights. A batch: by samples
 * when the bands keep the spmm's 16-column tiles (batch 5, or 64 on 2 threads),
 * else by rows of the weights after Xᵀ on the calling thread, which pays later:
 * 0.9× at est 50 µs, 1.2× at 90, 1.4× at 190 (384², 512², 768² at 25%, batch 16, 2 threads).
 */
export function fcSplit(w: PlanWeight, out: number, inDim: number, batch: number, threads: number): { parts: number; by: 'samples' | 'rows' } {
  const est = fcKernelCosts(out, inDim, storedCount(w), batch).csr;
  const parts = sparseParts(est, threads);
  if (batch === 1 || parts === 1 || bandsKeepTiles(batch, sampleBands(batch, parts), parts)) return { parts, by: 'samples' };
  return { parts: sparseParts(est / 2, threads), by: 'rows' };
}

/** Whether the sample bands cost about what an even cut of the work would (narrow bands lose the 16-column tiles). */
function bandsKeepTiles(M: number, bands: [number, number][], parts: number): boolean {
  return Math.max(...bands.map(([n0, n1]) => spmmWeightNs(n1 - n0))) <= (1.25 * spmmWeightNs(M)) / parts;
}
